"""Row 5: hostile requests. Content decides an upload; names never reach the file system; the
right 4xx otherwise, with nothing written; no one reads or changes another user's data."""

import http.client
import json
import re
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from catalog.models import Track
from listening.models import Feedback, ListeningEvent
from listening.services import ListenInput, listens_record
from tests.factories import StaffFactory, TrackFactory, UserFactory
from tests.helpers import audio
from tests.helpers.deployment import token_for

BOUNDARY = "musicrecHostileBoundary7f3a"
STORED_NAME = re.compile(r"^audio/[0-9a-f]{2}/[0-9a-f]{32}\.(flac|wav|ogg|mp3|aiff)$")


def multipart(filename: bytes, payload: bytes, content_type: bytes = b"audio/flac") -> bytes:
    """A multipart body with the file name exactly as given (no client escaping)."""
    return (
        f"--{BOUNDARY}\r\n".encode()
        + b'Content-Disposition: form-data; name="audio"; filename="' + filename + b'"\r\n'
        + b"Content-Type: " + content_type + b"\r\n\r\n"
        + payload
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )  # fmt: skip


def post_raw(client, body: bytes):
    return client.generic(
        "POST", "/api/tracks/", body, content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )


def files_under(root) -> set[Path]:
    return {p for p in Path(root).rglob("*") if p.is_file()} if Path(root).exists() else set()


def everything_written() -> set[Path]:
    """Every file in the data folder but the compiled-code cache (numba's, written by the first
    analysis in a process)."""
    cache = Path(settings.DATA_DIR) / "cache"
    return {p for p in files_under(settings.DATA_DIR) if not p.is_relative_to(cache)}


HOSTILE_NAMES = [
    b"../../../../etc/passwd.flac",
    b"..\\..\\..\\windows\\win.ini.flac",
    b"/etc/cron.d/musicrec.flac",
    b"bell\x07esc\x1b[31mred\x7fdel\x01soh.flac",
    b"nul\x00byte.flac",
    "\u202eright-to-left\u200boverride.flac".encode(),
    b"x" * 300 + b".flac",
    b".htaccess",
    b"CON.flac",
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=range(len(HOSTILE_NAMES)))
def test_a_valid_file_with_a_hostile_name_is_stored_under_a_generated_name(client, name):
    client.force_login(StaffFactory())
    data = audio.encode(audio.click_track(90 + 7 * HOSTILE_NAMES.index(name), seconds=6), "FLAC")
    before = everything_written()
    response = post_raw(client, multipart(name, data))
    assert response.status_code == 201, response.content[:300]
    track = Track.objects.get(pk=response.json()["id"])
    assert STORED_NAME.match(track.audio.name), track.audio.name
    stored = Path(track.audio.path).resolve()
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert everything_written() - before == {stored}  # one new file, and it is that one
    assert track.title, "a title is always given"
    assert len(track.title) <= 255
    assert not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in track.title), track.title
    assert "/" not in track.title


@pytest.mark.django_db(transaction=True)
def test_an_empty_file_name_is_a_form_without_a_file(client):
    # filename="" is how a browser sends "no file chosen": a field error, nothing written
    client.force_login(StaffFactory())
    before = everything_written()
    response = post_raw(client, multipart(b"", audio.encode(audio.click_track(99), "FLAC")))
    assert response.status_code == 400
    assert "audio" in response.json()
    assert Track.objects.count() == 0
    assert everything_written() == before


@pytest.mark.django_db(transaction=True)
def test_the_content_decides_whatever_the_claimed_type(client):
    client.force_login(StaffFactory())
    music = audio.encode(audio.click_track(120, seconds=6), "FLAC")
    accepted = post_raw(client, multipart(b"page.html", music, b"text/html"))
    assert accepted.status_code == 201
    assert accepted.json()["analysis"]["status"] == "done"
    before = everything_written()
    html = b"<!doctype html><script>alert(1)</script>" * 100
    refused = post_raw(client, multipart(b"song.flac", html, b"audio/flac"))
    assert (refused.status_code, refused.json()["error_code"]) == (400, "unsupported_format")
    assert Track.objects.count() == 1
    assert everything_written() == before


# --- the size limit, through gunicorn (the test client always sends a true Content-Length) ---


def send(url: str, headers: dict, body: bytes, *, declared: int | None, chunked: bool = False):
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest("POST", "/api/tracks/")
        for key, value in headers.items():
            connection.putheader(key, value)
        connection.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
            connection.endheaders()
            for start in range(0, len(body), 65536):
                piece = body[start : start + 65536]
                connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            connection.send(b"0\r\n\r\n")
        else:
            connection.putheader("Content-Length", str(declared))
            connection.endheaders()
            connection.send(body[:declared])  # a server must not read past what was declared
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_one_byte_over_the_limit_is_refused_however_the_length_is_sent(stack, measure):
    headers = token_for(StaffFactory())
    server = stack.server(MUSICREC_MAX_UPLOAD_MB="1")
    limit = 1024 * 1024
    wav = audio.encode(audio.tone(seconds=6, level=0.2), "WAV")
    over = wav + b"\0" * (limit + 1 - len(wav))
    body = multipart(b"big.wav", over, b"audio/wav")
    before = everything_written()

    # a truthful Content-Length: the handler stops writing at the limit
    status, answer = send(server.url, headers, body, declared=len(body))
    assert (status, answer["error_code"]) == (413, "too_large")
    # no Content-Length (chunked): 411, nothing read into a file
    status, answer = send(server.url, headers, body, declared=None, chunked=True)
    assert (status, answer["error_code"]) == (411, "length_required")
    # a Content-Length that claims less than is sent: only that much is read, the multipart
    # is cut short and refused
    status, _ = send(server.url, headers, body, declared=limit // 2)
    assert status == 400
    assert Track.objects.count() == 0
    assert everything_written() == before
    # and at the limit exactly, through the same server, it is accepted
    at_limit = multipart(b"fits.wav", over[:-1], b"audio/wav")
    assert send(server.url, headers, at_limit, declared=len(at_limit))[0] == 201


# --- other users' data -------------------------------------------------------------------


@pytest.fixture
def two_listeners(db):
    owner, other = UserFactory(username="owner-of-the-data"), UserFactory(username="the-other")
    tracks = TrackFactory.create_batch(3)
    listens_record(user=owner, source="api", listens=[
        ListenInput(track_id=t.pk, completed=True, client_event_id=f"own-{t.pk}") for t in tracks
    ])  # fmt: skip
    feedback = Feedback.objects.create(user=owner, track=tracks[0], kind="like")
    return owner, other, tracks, feedback


def test_another_users_ids_on_every_personal_endpoint(client, two_listeners):
    owner, other, tracks, feedback = two_listeners
    event = ListeningEvent.objects.filter(user=owner).first()
    client.force_login(other)
    answers = {
        "listens": client.get("/api/listens/"),
        "listen patch": client.patch(
            f"/api/listens/{event.pk}/", {"excluded": True}, content_type="application/json"
        ),
        "feedback": client.get("/api/feedback/"),
        "feedback delete": client.delete(f"/api/feedback/{feedback.pk}/"),
        "recommendations": client.get(f"/api/recommendations/?user={owner.pk}&user_id={owner.pk}"),
        "shelves": client.get(f"/api/recommendations/because-you-listened/?user={owner.pk}"),
        "history": client.get(f"/history/?user={owner.pk}"),
        "history action": client.post("/history/action/", {"event": event.pk, "action": "exclude"}),
    }
    assert answers["listens"].json()["results"] == []
    assert answers["feedback"].json()["results"] == []
    assert answers["listen patch"].status_code == 404
    assert answers["feedback delete"].status_code == 404
    assert answers["recommendations"].json()["user_id"] == other.pk
    assert answers["history action"].status_code == 302
    # nothing of the owner's changed...
    event.refresh_from_db()
    assert event.excluded is False
    assert Feedback.objects.filter(pk=feedback.pk).exists()
    # ...and nothing of theirs appears anywhere in the other user's answers
    for what, response in answers.items():
        assert response.status_code < 500, what
        text = response.content.decode()
        assert "owner-of-the-data" not in text, what
        assert f"own-{tracks[0].pk}" not in text, what
    assert f'value="{event.pk}"' not in answers["history"].content.decode()


PERSONAL = [
    ("get", "/api/listens/"),
    ("post", "/api/listens/"),
    ("patch", "/api/listens/1/"),
    ("get", "/api/feedback/"),
    ("post", "/api/feedback/"),
    ("delete", "/api/feedback/1/"),
    ("get", "/api/recommendations/"),
    ("get", "/api/recommendations/because-you-listened/"),
    ("post", "/api/tracks/"),
    ("get", "/api/models/"),
    ("post", "/api/retrain/"),
]


@pytest.mark.parametrize(("method", "url"), PERSONAL)
def test_no_credentials_is_refused_and_writes_nothing(client, two_listeners, method, url):
    before = (ListeningEvent.objects.count(), Feedback.objects.count(), Track.objects.count())
    response = getattr(client, method)(url, {}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert "detail" in response.json()
    assert (ListeningEvent.objects.count(), Feedback.objects.count(),
            Track.objects.count()) == before  # fmt: skip


@pytest.mark.parametrize("url", ["/for-you/", "/history/"])
def test_personal_pages_send_the_anonymous_to_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(settings.LOGIN_URL)


def test_a_session_post_without_a_csrf_token_is_refused(two_listeners):
    owner, _, tracks, _ = two_listeners
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    event = ListeningEvent.objects.filter(user=owner).first()
    before = (ListeningEvent.objects.count(), Feedback.objects.count())
    listen = client.post("/api/listens/", {"track_id": tracks[1].pk},
                         content_type="application/json")  # fmt: skip
    feedback = client.post("/api/feedback/", {"track_id": tracks[2].pk, "kind": "dislike"},
                           content_type="application/json")  # fmt: skip
    page = client.post("/history/action/", {"event": event.pk, "action": "exclude"})
    assert (listen.status_code, feedback.status_code, page.status_code) == (403, 403, 403)
    assert "CSRF" in listen.json()["detail"]
    assert (ListeningEvent.objects.count(), Feedback.objects.count()) == before
    event.refresh_from_db()
    assert event.excluded is False
    # a token client has no session to ride on: no CSRF token needed, and it works
    token_client = Client(enforce_csrf_checks=True, headers=token_for(owner))
    assert token_client.post("/api/listens/", {"track_id": tracks[1].pk},
                             content_type="application/json").status_code == 201  # fmt: skip
