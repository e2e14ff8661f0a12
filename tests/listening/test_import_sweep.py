"""The sweep for uploads left `pending` (the broker was down when /import/ queued them), as the
catalogue's sweep does for tracks: re-sent once stuck, never re-sent while fresh, and an upload
whose file is gone ends `failed` with a reason."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from listening.models import ImportBatch, ListeningEvent
from listening.services import uploads
from listening.tasks import sweep_stuck_imports
from tests.factories import UserFactory
from tests.helpers import history_files as files

pytestmark = pytest.mark.django_db

LATER = timedelta(minutes=2)


@pytest.fixture
def lost_message(monkeypatch):
    """/import/ accepts the file, but its task message never reaches the broker."""
    monkeypatch.setattr(uploads, "enqueue_on_commit", lambda task, *args: None)


def upload_spotify(client, user) -> ImportBatch:
    client.force_login(user)
    entries, expected, _ = files.spotify_extended()
    history = SimpleUploadedFile("Streaming_History_Audio_2024.json", json.dumps(entries).encode())
    assert client.post("/import/", {"history": history}).status_code == 302
    batch = ImportBatch.objects.get(user=user)
    batch.expected = len(expected)
    return batch


def backdate(batch: ImportBatch) -> None:
    ImportBatch.objects.filter(pk=batch.pk).update(queued_at=timezone.now() - timedelta(hours=1))


def test_a_stuck_upload_is_sent_again_once_and_completes(client, lost_message):
    ana = UserFactory(username="ana")
    batch = upload_spotify(client, ana)
    assert ImportBatch.objects.get(pk=batch.pk).status == "pending"
    assert uploads.history_uploads_requeue_stuck(pending_after=LATER) == 0  # still fresh
    assert ImportBatch.objects.get(pk=batch.pk).status == "pending"

    backdate(batch)
    assert uploads.history_uploads_requeue_stuck(pending_after=LATER) == 1  # inline in tests
    batch.refresh_from_db()
    assert batch.status == "done"
    assert batch.imported == batch.expected
    assert ListeningEvent.objects.filter(user=ana).count() == batch.expected
    assert uploads.history_uploads_requeue_stuck(pending_after=LATER) == 0  # done: left alone
    page = client.get(f"/import/{batch.pk}/").content.decode()
    assert "Report" in page


def test_the_sweep_task_leaves_fresh_and_finished_imports_alone(client, lost_message):
    fresh = upload_spotify(client, UserFactory(username="fresh"))
    finished = upload_spotify(client, UserFactory(username="finished"))
    backdate(finished)
    ImportBatch.objects.filter(pk=finished.pk).update(status="done")
    assert sweep_stuck_imports() == 0
    assert ImportBatch.objects.get(pk=fresh.pk).status == "pending"
    assert ListeningEvent.objects.count() == 0


def test_a_stuck_upload_whose_file_is_gone_fails_with_a_reason(client, lost_message, settings):
    batch = upload_spotify(client, UserFactory())
    (Path(settings.DATA_DIR) / "imports" / batch.upload).unlink()
    backdate(batch)
    assert uploads.history_uploads_requeue_stuck(pending_after=LATER) == 0
    batch.refresh_from_db()
    assert batch.status == "failed"
    assert "upload it again" in batch.failure
    assert batch.finished_at is not None
    assert ListeningEvent.objects.count() == 0


def test_the_import_sweep_is_scheduled_in_the_database():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="listening.sweep_stuck_imports")
    assert task.enabled
    assert task.interval is not None
    assert task.expire_seconds
