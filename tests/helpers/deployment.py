"""A deployment for fault tests: real gunicorn, Celery workers and manage.py processes on the
test database and a private Redis, with fake external decoders on their PATH."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

from tests.helpers.processes import REPO, free_port, wait_http
from tests.helpers.processes import manage as run_manage
from tests.helpers.services import PrivateRedis
from tests.helpers.worker import service_env, start_worker

# Programs that decode audio: none may ever run on an upload (docs/api.md, "Upload outcomes").
DECODERS = ("ffmpeg", "ffprobe", "avconv", "sox", "flac", "lame", "mpg123", "oggdec", "opusdec",
            "gst-launch-1.0", "afconvert")  # fmt: skip


@dataclass
class Server:
    process: subprocess.Popen
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def worker_pids(self) -> list[int]:
        return [c.pid for c in psutil.Process(self.process.pid).children(recursive=True)]


@dataclass
class Stack:
    folder: Path
    redis: PrivateRedis
    env: dict[str, str]
    started: list = field(default_factory=list)

    def with_env(self, **overrides: str) -> dict[str, str]:
        return {**self.env, **overrides}

    def worker(self, name: str = "worker", concurrency: int = 1, **overrides: str):
        worker = start_worker(
            self.folder, name=name, concurrency=concurrency, env=self.with_env(**overrides)
        )
        self.started.append(worker)
        return worker

    def server(self, workers: int = 2, **overrides: str) -> Server:
        port = free_port()
        log = (self.folder / f"gunicorn-{port}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "musicrec.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--timeout", "60", "--graceful-timeout", "5"],
            cwd=REPO, env=self.with_env(**overrides), stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        server = Server(process, f"http://127.0.0.1:{port}")
        self.started.append(server)
        wait_http(f"{server.url}/api/health/", process=process)
        return server

    def manage(self, *args: str, timeout: float = 300, **overrides: str):
        return run_manage(*args, env=self.with_env(**overrides), timeout=timeout)

    def spawn(self, *args: str, **overrides: str) -> subprocess.Popen:
        """Start manage.py without waiting for it (commands that must run at the same moment);
        `finish()` collects it."""
        return subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=REPO, env=self.with_env(**overrides),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def send(self, task_name: str, *args) -> None:
        """Send a task message as beat or another process would, from a producer of our own."""
        from celery import Celery

        producer = Celery("reliability-producer", broker=self.redis.url(), set_as_current=False)
        producer.conf.update(task_serializer="json", accept_content=["json"])
        try:
            producer.send_task(task_name, args=list(args))
        finally:
            producer.close()

    def decoders_started(self) -> list[str]:
        marker = self.folder / "decoders-started.log"
        return marker.read_text().splitlines() if marker.exists() else []

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()


class PeakRss:
    """Samples the resident memory of each process under `root` (not their sum) every 20 ms."""

    def __init__(self, root_pid: int):
        self.root = psutil.Process(root_pid)
        self.peak_mb = 0.0
        self.children_seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                for process in self.root.children(recursive=True):
                    self.children_seen.add(process.name())
                    self.peak_mb = max(self.peak_mb, process.memory_info().rss / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.02)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


def finish(process: subprocess.Popen, timeout: float = 300) -> subprocess.CompletedProcess:
    out, err = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def last_json(result: subprocess.CompletedProcess) -> dict:
    """The JSON object a `--json` command prints last."""
    lines = result.stdout.strip().splitlines()
    assert lines, f"exit {result.returncode}, no JSON: {result.stderr[-2000:]}"
    return json.loads(lines[-1])


def token_for(user) -> dict[str, str]:
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    return {"Authorization": f"Token {token.key}"}


def get_json(url: str, **kwargs) -> tuple[int, dict]:
    response = requests.get(url, timeout=kwargs.pop("timeout", 10), **kwargs)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {}


def make_stack(folder: Path, redis: PrivateRedis) -> Stack:
    """Processes share the test run's database and data folder; broker and cache are `redis`."""
    bin_dir = folder / "fake-bin"
    bin_dir.mkdir()
    marker = folder / "decoders-started.log"
    for name in DECODERS:
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\necho "$0 $*" >> "{marker}"\nexit 1\n')
        script.chmod(0o755)
    env = service_env(
        REDIS_URL=redis.url(),
        DJANGO_DEBUG="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        OPENBLAS_NUM_THREADS="1",
        MUSICREC_LOG_LEVEL="INFO",
    )
    return Stack(folder=folder, redis=redis, env=env)
