"""Start real Celery worker processes for tests, against the test run's Redis and database."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """A URL for the database pytest-django created, so another process sees committed rows."""
    params = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("worker processes need PostgreSQL: an in-memory SQLite is not shared")
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


def service_env(**overrides: str) -> dict[str, str]:
    """Environment for a child process that shares this test run's services and data folder."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "musicrec.settings"
    env["MUSICREC_DATA_DIR"] = str(settings.DATA_DIR)
    env["PYTHONPATH"] = str(REPO)
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = test_database_url()
    env.update(overrides)
    return env


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log_path: Path
    extra: dict = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def child_pids(self) -> list[int]:
        import psutil

        return [child.pid for child in psutil.Process(self.process.pid).children(recursive=True)]

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children)."""
        import psutil

        if self.process.poll() is not None:
            return
        children = psutil.Process(self.process.pid).children(recursive=True)
        self.process.kill()
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        self.process.wait(timeout=10)


def start_worker(
    log_dir: Path,
    *,
    name: str = "worker",
    concurrency: int = 1,
    env: dict[str, str] | None = None,
    ready_timeout: float = 240,  # a ceiling on the ready event; load can need minutes
) -> WorkerProcess:
    """Start `celery worker` (prefork pool) with the test-only tasks, and wait until it is ready."""
    log_path = log_dir / f"{name}.log"
    command = [
        sys.executable, "-m", "celery", "-A", "musicrec", "worker",
        "--pool", "prefork", "--concurrency", str(concurrency),
        "--include", "tests.worker_tasks",
        "--hostname", f"{name}@%h", "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    handle = log_path.open("ab")
    process = subprocess.Popen(
        command, cwd=REPO, env=env or service_env(), stdout=handle, stderr=subprocess.STDOUT
    )
    worker = WorkerProcess(process=process, log_path=log_path)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited with {process.returncode}:\n{worker.log()}")
        if " ready." in worker.log():
            return worker
        time.sleep(0.2)
    worker.kill()
    raise RuntimeError(f"worker not ready after {ready_timeout}s:\n{worker.log()}")


def wait_for(predicate, *, timeout: float, interval: float = 0.2, message: str = "condition"):
    """Poll until predicate() is truthy; return its value or fail with `message`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)
