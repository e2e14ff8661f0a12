"""Helpers shared by the benchmarks: a throwaway database, child processes, memory, timing."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def postgres_server() -> str:
    """The PostgreSQL server to bench on: DATABASE_URL's server if it is PostgreSQL, else local."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = os.environ.get("MUSICREC_BENCH_SERVER", DEFAULT_SERVER)
    return url


@contextlib.contextmanager
def throwaway_database() -> Iterator[str]:
    """A new database on the server, dropped afterwards whatever happens. Never an existing one."""
    import psycopg

    server = postgres_server()
    name = f"musicrec_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = urlunsplit(urlsplit(server)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def child_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MUSICREC_"))}
    env.update(
        DATABASE_URL=database_url,
        MUSICREC_DATA_DIR=str(data_dir),
        MUSICREC_STATIC_ROOT=str(data_dir / "static"),
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench-" + secrets.token_hex(24),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="musicrec.settings",
        OPENBLAS_NUM_THREADS="1",
        MUSICREC_THROTTLE_ANON="100000000/minute",
        MUSICREC_THROTTLE_USER="100000000/minute",
        MUSICREC_LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPO),
    )
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def run_json(args: list[str], env: dict[str, str], *, timeout: float = 1800) -> dict:
    """Run a child (python args...) and parse the last stdout line as JSON; raise on failure."""
    result = subprocess.run(
        [PYTHON, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr[-4000:]}"
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def manage(args: list[str], env: dict[str, str], *, timeout: float = 1800) -> dict:
    return run_json(["manage.py", *args], env, timeout=timeout)


class PeakMemory:
    """Samples the RSS of a process tree every 20 ms; .peak_mb after stop()."""

    def __init__(self, pid: int):
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                total = self.process.memory_info().rss + sum(
                    child.memory_info().rss for child in self.process.children(recursive=True)
                )
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            time.sleep(0.02)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def timed_child(
    args: list[str], env: dict[str, str], *, timeout: float = 3600
) -> tuple[float, float, str]:
    """Run a child process: (wall seconds, peak MB of its tree, stdout)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [PYTHON, *args], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    memory = PeakMemory(process.pid)
    stdout, stderr = process.communicate(timeout=timeout)
    seconds = time.perf_counter() - started
    peak = memory.stop()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{stderr[-4000:]}")
    return seconds, peak, stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
