"""The small things a new listener notices: favicon, dates, hints, names, the sign-up page."""

import re

import pytest
from django.core.management import call_command

from tests.factories import TrackFactory, features_from_vector
from tests.helpers.world import CALM

pytestmark = pytest.mark.django_db


def test_favicon_is_there(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert client.get(response["Location"]).status_code == 200
    assert 'rel="icon"' in client.get("/").content.decode()


def test_for_you_dates_the_model_without_a_double_full_stop(client, world):
    from io import StringIO

    call_command("retrain", stdout=StringIO())
    client.force_login(world.calm_users[0])
    html = client.get("/for-you/").content.decode()
    assert re.search(r"trained \d{1,2} \w+ \d{4}, \d\d:\d\d\.</p>", html), html[-2000:]
    assert ".." not in html.split("Model version")[1][:80]


def test_home_hint_tells_the_truth_and_signed_in_users_are_not_offered_sign_up(user_client):
    home = user_client.get("/").content.decode()
    assert "after the next model update" not in home
    signup = user_client.get("/accounts/signup/").content.decode()
    assert "You are signed in as" in signup
    assert "Create my account" not in signup


def test_signed_out_home_says_plays_are_not_saved(client):
    html = " ".join(client.get("/").content.decode().split())
    assert "plays are saved to a history only when you are signed in" in html


def test_feature_names_are_for_listeners_with_the_technical_name_in_a_tooltip(client):
    track = TrackFactory()
    features_from_vector(track, CALM)
    html = client.get(f"/tracks/{track.pk}/").content.decode()
    assert "Brightness" in html
    assert "Fullness" in html
    assert "Roll-off" not in html
    assert "technical name: spectral_rolloff" in html
    assert "technical name: spectral_bandwidth" in html


def test_every_row_has_play_queue_duration_and_every_list_play_all(client):
    track = TrackFactory(audio="audio/aa/x.flac", duration_s=212.4)
    features_from_vector(track, CALM)
    html = client.get("/search/").content.decode()
    assert f'aria-label="Play {track.title}"' in html
    assert f'aria-label="Add {track.title} to the queue"' in html
    assert ">3:32<" in html
    assert 'data-action="play-all"' in html
    assert f'data-image-url="/api/tracks/{track.pk}/art/"' in html
