"""Loaded by pytest with `-p tests.environment`, before Django's settings are imported.

It decides which real services this run has, and points the settings at private test copies:

- PostgreSQL: DATABASE_URL if set, else MUSICREC_TEST_DATABASE_URL (default the machine's local
  server). pytest-django creates its own `test_<name>` database there. If the server does not
  answer, the run falls back to SQLite and tests marked `postgres` skip.
- Redis: a database number of its own (MUSICREC_TEST_REDIS_URL, default db 15 on the local
  server), flushed at the start of the run so throttle counters, caches and stray Celery messages
  never leak between runs or into a developer's own processes.
- Chromium: /usr/bin/chromium (or MUSICREC_CHROMIUM).
- Spark: pyspark importable and a Java on PATH or JAVA_HOME.
- Uploaded audio and model files go to a temporary MUSICREC_DATA_DIR.

With MUSICREC_REQUIRE_SERVICES=1 a missing service fails the tests that need it instead.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/musicrec"
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
DEFAULT_CHROMIUM = "/usr/bin/chromium"

REQUIRE_SERVICES = os.environ.get("MUSICREC_REQUIRE_SERVICES", "") == "1"

# service name -> None when available, else the reason it is not
unavailable: dict[str, str | None] = {}
# what the run uses, for the header line and for tests that start their own processes
resolved: dict[str, str] = {}


def _probe_postgres(url: str) -> str | None:
    import psycopg

    parts = urlsplit(url)
    # Probe the maintenance database: the named one may not exist yet (pytest-django makes
    # test_<name> from the server, not from the named database).
    probe_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(probe_url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means "not usable here"
        return f"PostgreSQL at {parts.hostname}:{parts.port or 5432} unreachable ({exc})"
    return None


def _probe_redis(url: str) -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.flushdb()
        client.close()
    except Exception as exc:
        return f"Redis at {url} unreachable ({exc})"
    return None


def _probe_spark() -> str | None:
    """pyspark installed (requirements-spark.txt) and a Java to run it (.ci/run installs both)."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("pyarrow") is None:
        return "pyspark or pyarrow not installed (pip install -r requirements-spark.txt)"
    home = os.environ.get("JAVA_HOME")
    if not (
        os.access(os.path.join(home, "bin", "java"), os.X_OK) if home else shutil.which("java")
    ):
        return "no Java for Spark (apt-get install openjdk-17-jre-headless)"
    return None


def _test_redis_url() -> str:
    explicit = os.environ.get("MUSICREC_TEST_REDIS_URL")
    if explicit:
        return explicit
    base = os.environ.get("REDIS_URL")
    if not base:
        return DEFAULT_TEST_REDIS_URL
    # Same server as the developer's, but database 15, never theirs.
    return urlunsplit(urlsplit(base)._replace(path="/15"))


def _configure() -> None:
    database_url = os.environ.get("DATABASE_URL") or os.environ.get(
        "MUSICREC_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL
    )
    if database_url.startswith(("postgres://", "postgresql://")):
        reason = _probe_postgres(database_url)
    else:
        reason = "DATABASE_URL is not PostgreSQL"
    unavailable["postgres"] = reason
    if reason is None:
        os.environ["DATABASE_URL"] = database_url
        resolved["database"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
        resolved["database"] = "sqlite (in memory)"

    redis_url = _test_redis_url()
    reason = _probe_redis(redis_url)
    unavailable["redis"] = reason
    if reason is None:
        os.environ["REDIS_URL"] = redis_url
        resolved["redis"] = redis_url
    else:
        os.environ.pop("REDIS_URL", None)
        resolved["redis"] = "none (tasks inline, local-memory cache)"

    chromium = os.environ.get("MUSICREC_CHROMIUM", DEFAULT_CHROMIUM)
    unavailable["browser"] = (
        None if Path(chromium).exists() else f"Chromium not found at {chromium}"
    )
    resolved["chromium"] = chromium

    unavailable["spark"] = _probe_spark()

    data_dir = tempfile.mkdtemp(prefix="musicrec-test-data-")
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    os.environ["MUSICREC_DATA_DIR"] = data_dir
    os.environ["MUSICREC_STATIC_ROOT"] = os.path.join(data_dir, "static")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-" + "x" * 40)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


_configure()


def pytest_report_header(config) -> list[str]:
    lines = [f"musicrec: database={resolved['database']} redis={resolved['redis']}"]
    for name, reason in unavailable.items():
        if reason:
            action = "FAIL" if REQUIRE_SERVICES else "skip"
            lines.append(f"musicrec: {name} tests will {action}: {reason}")
    return lines
