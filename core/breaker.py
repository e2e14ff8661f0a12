"""Circuit breakers for the services a request depends on (Redis as cache and as broker).

After a failure, a breaker stays open for its back-off: callers skip the service at once
instead of each waiting out a timeout, so a hung Redis costs one short timeout per process per
back-off, not one per call. Per process; shared by its threads.
"""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger(__name__)


class Breaker:
    def __init__(self, name: str, backoff_seconds: float):
        self.name = name
        self.backoff_seconds = backoff_seconds
        self._open_until = 0.0
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        """True while the service failed within the last back-off."""
        return time.monotonic() < self._open_until

    def trip(self, error: BaseException | str) -> None:
        """Record a failure: skip the service for the back-off from now."""
        with self._lock:
            was_open = self.is_open
            self._open_until = time.monotonic() + self.backoff_seconds
        if not was_open:
            logger.warning(
                "%s failed (%s); skipped for %.0f s", self.name, error, self.backoff_seconds
            )

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0


CACHE = Breaker("the cache's Redis", 15.0)
BROKER = Breaker("the broker", 15.0)
