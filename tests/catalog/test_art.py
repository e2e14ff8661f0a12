"""Pictures: embedded cover art stored resized at import, else a picture drawn from the sound."""

import io
import re

import numpy as np
import pytest
from mutagen.flac import FLAC, Picture
from PIL import Image

from catalog.art.covers import cover_path
from catalog.art.draw import picture_params, picture_svg
from tests.factories import TrackFactory, features_from_vector
from tests.helpers.world import CALM, LOUD

pytestmark = pytest.mark.django_db


def _jpeg(width: int, height: int, colour=(200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def test_embedded_cover_is_stored_resized_and_served_with_caching(client, tmp_path):
    from catalog.services import track_import
    from tests.helpers import audio

    path = audio.write(tmp_path / "covered.flac", audio.click_track(111, seconds=6), "FLAC")
    tagged = FLAC(str(path))
    picture = Picture()
    picture.type, picture.mime, picture.data = 3, "image/jpeg", _jpeg(1200, 900)
    tagged.add_picture(picture)
    tagged.save()
    result = track_import(source=path, original_name="covered.flac")
    track = result.track
    stored = cover_path(track.pk)
    assert stored.exists()
    with Image.open(stored) as image:
        assert max(image.size) == 512
        assert image.format == "JPEG"

    response = client.get(f"/api/tracks/{track.pk}/art/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "max-age=" in response["Cache-Control"]
    assert "public" in response["Cache-Control"]
    again = client.get(f"/api/tracks/{track.pk}/art/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_a_file_without_a_picture_gets_the_drawn_one(client, imported_track):
    track = imported_track()
    assert not cover_path(track.pk).exists()
    response = client.get(f"/api/tracks/{track.pk}/art/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
    assert b"<script" not in response.content


def test_a_broken_embedded_picture_never_stops_an_import(tmp_path):
    from catalog.services import track_import
    from tests.helpers import audio

    path = audio.write(tmp_path / "odd.flac", audio.click_track(97, seconds=6), "FLAC")
    tagged = FLAC(str(path))
    picture = Picture()
    picture.type, picture.mime, picture.data = 3, "image/jpeg", b"not an image at all"
    tagged.add_picture(picture)
    tagged.save()
    result = track_import(source=path, original_name="odd.flac")
    assert result.result == "imported"
    assert not cover_path(result.track.pk).exists()


def _hue(svg: str) -> float:
    return float(re.search(r'stop-color="hsl\((\d+)', svg).group(1))


def test_drawn_picture_is_deterministic_and_alike_for_alike_sounds():
    nudge = [3, -2, 1, 0, 2, 1, 0.02, 0.02, 0.5, 40, 0.01, 0.01, 0, 0, 0, 0]
    near_calm = [v + d for v, d in zip(CALM, nudge, strict=True)]
    assert picture_svg(CALM, key="a") == picture_svg(CALM, key="b")  # the sound decides
    calm, near, loud = (picture_params(v) for v in (CALM, near_calm, LOUD))
    distance = lambda a, b: np.hypot(a["hue"] - b["hue"], a["saturation"] - b["saturation"])  # noqa: E731
    assert distance(calm, near) < 10 < distance(calm, loud)
    assert calm["waves"] == near["waves"]
    assert _hue(picture_svg(CALM, key="x")) != _hue(picture_svg(LOUD, key="x"))


def test_a_track_without_features_still_has_a_picture(client):
    track = TrackFactory(status="no_audio")
    response = client.get(f"/api/tracks/{track.pk}/art/")
    assert response.status_code == 200
    assert b"<svg" in response.content
    assert client.get("/api/tracks/999999/art/").status_code == 404


def test_compact_tracks_carry_an_image_url_everywhere(client):
    track = TrackFactory()
    features_from_vector(track, CALM)
    body = client.get("/api/tracks/").json()
    assert body["results"][0]["image_url"] == f"/api/tracks/{track.pk}/art/"
