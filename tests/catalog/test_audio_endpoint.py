"""GET /api/tracks/{id}/audio/: the stored bytes, with Range support for seeking."""

from pathlib import Path

import pytest

from catalog.streaming import parse_range
from tests.factories import TrackFactory

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_whole_file_with_type_length_and_validators(client, imported_track):
    track = imported_track()
    data = Path(track.audio.path).read_bytes()
    response = client.get(f"/api/tracks/{track.pk}/audio/")
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/flac"
    assert response["Accept-Ranges"] == "bytes"
    assert int(response["Content-Length"]) == len(data)
    assert body(response) == data
    assert response["ETag"] == f'"{track.sha256}"'


def test_byte_range_is_206_with_exactly_those_bytes(client, imported_track):
    track = imported_track()
    data = Path(track.audio.path).read_bytes()
    response = client.get(f"/api/tracks/{track.pk}/audio/", HTTP_RANGE="bytes=100-299")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-299/{len(data)}"
    assert body(response) == data[100:300]

    tail = client.get(f"/api/tracks/{track.pk}/audio/", HTTP_RANGE="bytes=-50")
    assert tail.status_code == 206
    assert body(tail) == data[-50:]

    open_ended = client.get(f"/api/tracks/{track.pk}/audio/", HTTP_RANGE=f"bytes={len(data) - 10}-")
    assert body(open_ended) == data[-10:]


def test_range_past_the_end_is_416(client, imported_track):
    track = imported_track()
    size = Path(track.audio.path).stat().st_size
    response = client.get(f"/api/tracks/{track.pk}/audio/", HTTP_RANGE=f"bytes={size}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"


def test_not_modified_and_head(client, imported_track):
    track = imported_track()
    url = f"/api/tracks/{track.pk}/audio/"
    assert client.get(url, HTTP_IF_NONE_MATCH=f'"{track.sha256}"').status_code == 304
    head = client.head(url)
    assert head.status_code == 200
    assert body(head) == b""


def test_behind_nginx_the_file_is_handed_over(client, imported_track, settings):
    settings.MUSICREC_AUDIO_ACCEL_PREFIX = "/protected-audio/"
    track = imported_track()
    response = client.get(f"/api/tracks/{track.pk}/audio/")
    assert response["X-Accel-Redirect"] == f"/protected-audio/{track.audio.name}"
    assert response.content == b""


def test_a_track_without_audio_is_404(client):
    track = TrackFactory(status="no_audio")
    assert client.get(f"/api/tracks/{track.pk}/audio/").status_code == 404


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", None),
        ("bytes=0-9", (0, 9)),
        ("bytes=5-", (5, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=90-500", (90, 99)),
        ("bytes=100-", "unsatisfiable"),
        ("bytes=9-5", None),
        ("bytes=0-1,5-6", None),
        ("items=0-5", None),
    ],
)
def test_parse_range(header, expected):
    assert parse_range(header, 100) == expected
