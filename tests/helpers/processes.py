"""Run manage.py and servers in child processes with a controlled environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]

# A child inherits none of the test run's configuration unless a test passes it on purpose.
_CONFIGURATION = ("DATABASE_URL", "REDIS_URL", "DJANGO_", "MUSICREC_")


def clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CONFIGURATION)}
    env["PYTHONPATH"] = str(REPO)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, *, timeout: float = 60, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            # any answer will do: a server behind HTTPS redirects plain requests
            return requests.get(url, timeout=5, allow_redirects=False)
        except requests.RequestException as exc:
            last_error = exc
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout}s: {last_error}")
