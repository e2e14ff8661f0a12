"""Imports whose run died (worker killed, machine lost) never stay `running`: the sweep resumes an
upload's exactly, an upload that keeps dying ends `failed` after MAX_ATTEMPTS runs with the
reason, a command's run ends `failed` (interrupted), and a run in progress is left alone
(docs/listening.md)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from core import locks
from listening.models import ImportBatch, ListeningEvent
from listening.services import uploads
from listening.services.imports import MAX_ATTEMPTS, listens_import
from listening.tasks import sweep_stuck_imports
from tests.factories import UserFactory
from tests.helpers import history_files as files

pytestmark = pytest.mark.django_db(transaction=True)

LISTENS = 30
STORED_BEFORE_THE_KILL = 12
START = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def lost_message(monkeypatch):
    """/import/ accepts the file; its first message is the one the dead worker had taken."""
    monkeypatch.setattr(uploads, "enqueue_on_commit", lambda task, *args: None)


def listens(count: int) -> list[dict]:
    return [
        {"listened_at": int((START + timedelta(minutes=3 * n)).timestamp()),
         "track_metadata": {"artist_name": f"Band {n % 4}", "track_name": f"Song {n % 7}"}}
        for n in range(count)
    ]  # fmt: skip


def upload(client, user, count: int = LISTENS) -> ImportBatch:
    client.force_login(user)
    body = files.as_json_lines(listens(count)).encode()
    history = SimpleUploadedFile("listens.jsonl", body)
    assert client.post("/import/", {"history": history}).status_code == 302
    return ImportBatch.objects.get(user=user)


def upload_path(settings, batch: ImportBatch) -> Path:
    return Path(settings.DATA_DIR) / "imports" / batch.upload


def killed_midway(batch: ImportBatch, tmp_path: Path, attempts: int = 1) -> None:
    """The state a run killed midway leaves: `running`, its attempt counted, the first rows of
    the file stored under this batch, the uploaded file still there."""
    part = tmp_path / "first-rows.jsonl"
    part.write_text(files.as_json_lines(listens(LISTENS)[:STORED_BEFORE_THE_KILL]))
    listens_import(path=part, user=batch.user.username, create_missing=True, batch=batch)
    ImportBatch.objects.filter(pk=batch.pk).update(status="running", attempts=attempts)


def test_an_upload_left_running_is_resumed_by_the_sweep_and_counted_once(
    client, lost_message, settings, tmp_path
):
    ana = UserFactory(username="ana")
    batch = upload(client, ana)
    killed_midway(batch, tmp_path)
    assert ListeningEvent.objects.filter(user=ana).count() == STORED_BEFORE_THE_KILL

    assert sweep_stuck_imports() == 1  # not waiting for the broker's visibility timeout
    batch.refresh_from_db()
    assert (batch.status, batch.attempts, batch.failure) == ("done", 2, "")
    assert ListeningEvent.objects.filter(user=ana).count() == LISTENS
    assert ListeningEvent.objects.filter(import_batch=batch).count() == LISTENS
    # the report counts the whole file as this upload's, whichever run stored it
    assert (batch.imported, batch.unchanged, batch.rows) == (LISTENS, 0, LISTENS)
    assert not upload_path(settings, batch).exists()
    assert sweep_stuck_imports() == 0


def test_an_upload_that_keeps_dying_ends_failed_with_the_reason(
    client, lost_message, settings, tmp_path
):
    ana = UserFactory(username="ana")
    batch = upload(client, ana)
    killed_midway(batch, tmp_path, attempts=MAX_ATTEMPTS)

    assert sweep_stuck_imports() == 1
    batch.refresh_from_db()
    assert batch.status == "failed"
    assert f"stopped without finishing {MAX_ATTEMPTS} times" in batch.failure
    # no fourth run: what the earlier runs stored stays, nothing more
    assert ListeningEvent.objects.filter(user=ana).count() == STORED_BEFORE_THE_KILL
    assert not upload_path(settings, batch).exists()
    assert "stopped without finishing" in client.get(f"/import/{batch.pk}/").content.decode()
    assert sweep_stuck_imports() == 0


def test_a_command_run_left_running_ends_failed_as_interrupted():
    batch = ImportBatch.objects.create(file_name="history.csv", status="running")
    assert sweep_stuck_imports() == 0
    batch.refresh_from_db()
    assert batch.status == "failed"
    assert "interrupted" in batch.failure


def test_the_sweep_leaves_a_running_import_alone_while_it_holds_the_lock(
    client, lost_message, tmp_path
):
    batch = upload(client, UserFactory(username="ana"))
    killed_midway(batch, tmp_path)
    held, release = threading.Event(), threading.Event()

    def running_import():  # another process's import: its own connection holds the lock
        try:
            with locks.hold(locks.LISTEN_IMPORT):
                held.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=running_import)
    thread.start()
    try:
        assert held.wait(30)
        assert sweep_stuck_imports() == 0
        assert ImportBatch.objects.get(pk=batch.pk).status == "running"
    finally:
        release.set()
        thread.join(30)
    assert sweep_stuck_imports() == 1
    assert ImportBatch.objects.get(pk=batch.pk).status == "done"


def test_a_second_delivery_of_a_finished_upload_changes_nothing(client, lost_message, tmp_path):
    ana = UserFactory(username="ana")
    batch = upload(client, ana)
    assert uploads.history_upload_run(batch_id=batch.pk) == f"{LISTENS} imported"
    before = ImportBatch.objects.values().get(pk=batch.pk)
    assert uploads.history_upload_run(batch_id=batch.pk) == "nothing to do"
    # a delivery that saw it unfinished, then waited for the lock while the other one ended
    stale = ImportBatch.objects.get(pk=batch.pk)
    stale.status = "running"
    assert listens_import(path=tmp_path / "gone.jsonl", user="ana", batch=stale) is None
    assert ImportBatch.objects.values().get(pk=batch.pk) == before
    assert ListeningEvent.objects.filter(user=ana).count() == LISTENS


def test_an_upload_over_its_time_limit_fails_saying_so(client, lost_message, settings, monkeypatch):
    class TimeLimit(Exception):
        pass

    def slow(**kwargs):
        raise TimeLimit

    batch = upload(client, UserFactory(username="ana"))
    monkeypatch.setattr(uploads, "listens_import", slow)
    assert uploads.history_upload_run(batch_id=batch.pk, timeout_errors=(TimeLimit,)) == "failed"
    batch.refresh_from_db()
    assert batch.status == "failed"
    assert "longer than its time limit" in batch.failure
    assert not upload_path(settings, batch).exists()
