"""Workers that die in the middle of an uploaded history's import (docs/listening.md): the import
completes exactly, either from the message the pool hands back (a killed child) or from the
import sweep (the whole worker lost, the message held by Redis until its visibility timeout)."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from listening.models import ImportBatch, ListeningEvent
from listening.services import uploads
from tests.factories import UserFactory
from tests.helpers import history_files as files
from tests.helpers.worker import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

LISTENS = 40_000
START = datetime(2023, 1, 1, tzinfo=UTC)


@pytest.fixture
def accepted(monkeypatch, stack):
    """An accepted upload (ana's 40,000 listens of 2,000 new tracks) whose message the test
    sends itself, to the stack's broker."""
    monkeypatch.setattr(uploads, "enqueue_on_commit", lambda task, *args: None)
    ana = UserFactory(username="ana")
    body = files.as_json_lines(
        [{"listened_at": int((START + timedelta(minutes=n)).timestamp()),
          "track_metadata": {"artist_name": f"Band {n % 200}", "track_name": f"Song {n % 2000}"}}
         for n in range(LISTENS)]
    ).encode()  # fmt: skip
    batch = uploads.history_upload_accept(user=ana, uploaded=SimpleUploadedFile("lb.jsonl", body))
    stack.send("listening.import_history_upload", batch.pk)
    return batch


def stored(batch: ImportBatch) -> int:
    return ListeningEvent.objects.filter(import_batch=batch).count()


def finished(batch: ImportBatch) -> ImportBatch | None:
    batch.refresh_from_db()
    return batch if batch.status in ("done", "failed") else None


def assert_exact(batch: ImportBatch) -> None:
    assert (batch.status, batch.attempts, batch.failure) == ("done", 2, "")
    assert ListeningEvent.objects.filter(user__username="ana").count() == LISTENS
    assert (batch.imported, batch.unchanged, batch.rows) == (LISTENS, 0, LISTENS)


def test_a_child_killed_mid_import_is_redelivered_and_completes_exactly(stack, accepted, measure):
    worker = stack.worker()
    part = wait_for(lambda: stored(accepted), timeout=120, interval=0.02, message="first rows")
    [child] = worker.child_pids()
    os.kill(child, signal.SIGKILL)
    killed = time.monotonic()
    batch = wait_for(lambda: finished(accepted), timeout=240, message="the redelivered import")
    measure(stored_when_killed=part, kill_to_done_seconds=time.monotonic() - killed)
    assert part < LISTENS
    assert_exact(batch)


def test_a_whole_worker_lost_mid_import_is_resumed_by_the_sweep(stack, accepted, measure):
    first = stack.worker("first")
    part = wait_for(lambda: stored(accepted), timeout=120, interval=0.02, message="first rows")
    first.kill()  # main process and pool: the message stays unacknowledged in Redis (4,200 s)
    killed = time.monotonic()
    assert ImportBatch.objects.get(pk=accepted.pk).status == "running"
    stack.worker("second")
    stack.send("listening.sweep_stuck_imports")  # what beat sends every 2 minutes
    batch = wait_for(lambda: finished(accepted), timeout=240, message="the resumed import")
    measure(stored_when_killed=part, kill_to_done_seconds=time.monotonic() - killed)
    assert part < LISTENS
    assert_exact(batch)
