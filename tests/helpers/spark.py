"""A private Spark standalone cluster for the tests: one master and one worker on 127.0.0.1, free
ports, started from the installed pyspark (its `bin/spark-class`) and stopped by their own
process ids, like tests/helpers/services.py does for Redis and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.helpers.processes import free_port

# spark-defaults.conf for the test JVMs; the master and worker: short-lived, small, serial GC
SPARK_TEST_CONF = Path(__file__).with_name("spark-conf")
SHORT_JVM = "-XX:+UseSerialGC"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


class SparkCluster:
    """`spark-class ...deploy.master.Master` and `...deploy.worker.Worker`, in the foreground."""

    def __init__(self, folder: Path, *, cores: int = 2, memory: str = "1g"):
        self.folder = folder
        self.cores, self.memory = cores, memory
        self.port, self.ui_port = free_port(), free_port()
        self.worker_port, self.worker_ui_port = free_port(), free_port()
        self.processes: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"spark://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SPARK_HOME=str(spark_home()),
            SPARK_LOCAL_IP="127.0.0.1",
            SPARK_LOG_DIR=str(self.folder / "logs"),
            SPARK_WORKER_DIR=str(self.folder / "work"),
            PYSPARK_PYTHON=sys.executable,
            SPARK_CONF_DIR=str(SPARK_TEST_CONF),
            SPARK_DAEMON_JAVA_OPTS=SHORT_JVM,
            SPARK_DAEMON_MEMORY="256m",
        )
        return env

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [str(spark_home() / "bin" / "spark-class"), *args],
            env=self._env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def state(self) -> dict:
        """The master's own view (its web UI's /json): workers, applications."""
        return requests.get(f"http://127.0.0.1:{self.ui_port}/json/", timeout=5).json()

    def _wait(self, what: str, ready, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if any(p.poll() is not None for p in self.processes):
                raise RuntimeError(f"spark {what}: a process exited; see {self.folder}/*.log")
            try:
                if ready():
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"spark {what} not ready after {timeout}s; see {self.folder}")
            time.sleep(0.2)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._spawn("master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                    "--port", str(self.port), "--webui-port", str(self.ui_port))  # fmt: skip
        self._wait("master", lambda: self.state()["status"] == "ALIVE")
        self._spawn("worker", "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                    "--port", str(self.worker_port), "--webui-port", str(self.worker_ui_port),
                    "--cores", str(self.cores), "--memory", self.memory,
                    "--work-dir", str(self.folder / "work"), self.url)  # fmt: skip
        self._wait("worker", lambda: any(w["state"] == "ALIVE" for w in self.state()["workers"]))

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.processes.clear()

    def __enter__(self) -> SparkCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
