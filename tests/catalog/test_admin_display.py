"""What admin shows of a track: rounded feature values, a working audio link, honest messages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import TrackFactory, features_from_vector
from tests.helpers import audio
from tests.helpers.world import CALM

pytestmark = pytest.mark.django_db


def test_feature_values_are_rounded_and_the_audio_link_works(staff_client, imported_track):
    track = imported_track()
    html = staff_client.get(f"/admin/catalog/track/{track.pk}/change/").content.decode()
    energy = track.features.energy
    assert f"{energy:.3f}" in html
    assert f'href="/api/tracks/{track.pk}/audio/"' in html
    assert 'href="/media/' not in html
    assert staff_client.get(f"/api/tracks/{track.pk}/audio/").status_code == 200


def test_a_long_float_is_shown_with_three_decimals(staff_client):
    track = TrackFactory()
    vector = list(CALM)
    vector[7] = 0.123456789012345  # energy
    features_from_vector(track, vector)
    html = staff_client.get(f"/admin/catalog/track/{track.pk}/change/").content.decode()
    assert "0.123" in html
    assert "0.1234567" not in html


@pytest.mark.django_db(transaction=True)
def test_after_an_inline_analysis_the_upload_page_does_not_say_background(staff_client):
    upload = SimpleUploadedFile(
        "one.flac", audio.encode(audio.click_track(120, seconds=5), "FLAC"), "audio/flac"
    )
    response = staff_client.post("/admin/catalog/track/upload/", {"files": [upload]})
    html = response.content.decode()
    assert "1 of 1 file(s) imported" in html
    assert "analysed in the background" not in html
    assert "Analysis finished" in html
