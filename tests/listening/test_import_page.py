"""/import/: a signed-in listener uploads a history file into their own history only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from listening.models import ImportBatch, ListeningEvent
from tests.factories import UserFactory
from tests.helpers import history_files as files

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _run_after_commit(monkeypatch):
    # a test's transaction never commits: send the task at once (inline in these tests)
    from listening.services import uploads

    monkeypatch.setattr(uploads, "enqueue_on_commit", lambda task, *args: task.delay(*args))


def upload(client, name: str, content: bytes):
    return client.post("/import/", {"history": SimpleUploadedFile(name, content)})


def test_a_spotify_file_lands_in_the_uploaders_history_with_a_report(client, settings):
    ana, bo = UserFactory(username="ana"), UserFactory(username="bo")
    client.force_login(ana)
    entries, expected, left_out = files.spotify_extended()
    response = upload(client, "Streaming_History_Audio_2024.json", json.dumps(entries).encode())
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response.url == f"/import/{batch.pk}/"
    page = client.get(response.url).content.decode()  # tasks run inline in these tests
    assert "Report" in page
    assert (batch.user, batch.file_format) == (ana, "spotify")
    batch.refresh_from_db()
    assert (batch.status, batch.imported, batch.left_out) == ("done", len(expected), left_out)
    assert ListeningEvent.objects.filter(user=ana).count() == len(expected)
    assert not ListeningEvent.objects.filter(user=bo).exists()
    assert not (Path(settings.DATA_DIR) / "imports" / batch.upload).exists()  # read, then gone
    client.force_login(bo)
    assert client.get(f"/import/{batch.pk}/").status_code == 404  # another listener's import


def test_our_csv_naming_someone_else_still_goes_into_the_uploaders_history(client):
    ana, bo = UserFactory(username="ana"), UserFactory(username="bo")
    client.force_login(ana)
    text = "user,artist,track,plays\nbo,Radiohead,Creep,4\n"
    upload(client, "totals.csv", text.encode())
    assert ListeningEvent.objects.get().user == ana
    assert not ListeningEvent.objects.filter(user=bo).exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"just some words\n", "cannot be imported"),
        ("empty.json", b"", "empty"),
        ("photo.zip", files.zipped("photo.jpg", "JPEG"), "no Spotify streaming history"),
        ("weird.json", b'{"hello": "world"}', "neither a Spotify"),
    ],
)
def test_wrong_or_unreadable_files_get_a_clear_message_and_store_nothing(
    client, name, content, message
):
    client.force_login(UserFactory())
    response = upload(client, name, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ImportBatch.objects.count() == 0
    assert ListeningEvent.objects.count() == 0


def test_a_file_over_the_limit_is_refused(client, settings):
    settings.MAX_UPLOAD_MB = 0
    client.force_login(UserFactory())
    listens, _ = files.listenbrainz()
    response = upload(client, "listens.jsonl", files.as_json_lines(listens).encode())
    assert "larger than 0 MB" in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_a_cut_short_json_fails_in_the_task_and_stores_nothing(client):
    client.force_login(UserFactory())
    entries, _, _ = files.spotify_extended()
    response = upload(
        client, "Streaming_History_Audio_2024.json", json.dumps(entries)[:-30].encode()
    )
    page = client.get(response.url).content.decode()
    assert "could not be imported" in page
    assert "not valid JSON" in page
    assert ListeningEvent.objects.count() == 0


def test_the_page_needs_a_listener_and_shows_the_scrobbling_set_up(client):
    assert client.get("/import/").status_code == 302  # to the login page
    client.force_login(UserFactory())
    page = client.get("/import/").content.decode()
    assert "http://testserver" in page
    from rest_framework.authtoken.models import Token

    assert Token.objects.get().key in page
