"""A small threaded HTTP load client: fixed concurrency, for a fixed time or request count."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    payload_total: int = 0  # sum of what `count` extracted from the responses

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run(
    request: Callable[[requests.Session, int, int], requests.Response],
    *,
    concurrency: int,
    seconds: float | None = None,
    per_client: int | None = None,
    count: Callable[[requests.Response], int] | None = None,
) -> LoadResult:
    """`request(session, client, n)` sends the n-th request of a client. Stops after `seconds`
    (all clients) or `per_client` requests each. Only 127.0.0.1 is ever targeted by callers."""
    result = LoadResult()
    lock = threading.Lock()
    deadline = [0.0]

    def client(number: int) -> None:
        session = requests.Session()
        n = 0
        while True:
            if per_client is not None and n >= per_client:
                break
            if seconds is not None and time.perf_counter() >= deadline[0]:
                break
            started = time.perf_counter()
            response = request(session, number, n)
            elapsed = (time.perf_counter() - started) * 1000
            extracted = count(response) if count and response.ok else 0
            with lock:
                result.latencies_ms.append(elapsed)
                result.statuses[response.status_code] = (
                    result.statuses.get(response.status_code, 0) + 1
                )
                result.payload_total += extracted
            n += 1
        session.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    started = time.perf_counter()
    deadline[0] = started + (seconds or 0)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result
