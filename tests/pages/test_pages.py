"""The pages of README.md, "What is there", rendered by the test client."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from accounts.models import User
from catalog.models import Track
from listening.models import Feedback, ListeningEvent, UserTrackStats
from recommender import serving
from tests.factories import PASSWORD, ArtistFactory, TrackFactory, features_from_vector
from tests.helpers import audio
from tests.helpers.world import CALM

pytestmark = pytest.mark.django_db


def page(client, url, status=200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def test_home_for_a_visitor_lists_popular_and_recent(client, world):
    html = page(client, "/")
    popular, recent = html.split("Popular this month")[1].split("Recently added")
    most_heard = (
        UserTrackStats.objects.values("track__title")
        .annotate(listeners=Count("user"))
        .order_by("-listeners", "track_id")
        .first()["track__title"]
    )
    assert most_heard in popular
    newest = Track.objects.filter(status="done").order_by("-created_at", "-id").first()
    assert newest.title in recent
    assert "Sign up" in html


def test_home_and_for_you_show_shelves_once_a_model_exists(client, world):
    user = world.calm_users[0]
    client.force_login(user)
    assert "No recommendation model has been trained yet" in page(client, "/for-you/")
    call_command("retrain", stdout=StringIO())
    serving.forget()
    html = page(client, "/for-you/")
    assert "Because you listened to" in html
    assert "Model version" in html
    assert "Because you listened to" in page(client, "/")


def test_for_you_without_listens_says_what_to_do(client, world):
    call_command("retrain", stdout=StringIO())
    serving.forget()
    client.force_login(User.objects.create(username="quiet"))
    html = page(client, "/for-you/")
    assert "You have not listened to anything yet" in html
    assert "Start here" in html  # popular and new tracks meanwhile


def test_pages_for_people_need_a_login(client):
    for url in ("/for-you/", "/history/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_track_page_has_player_chart_similar_and_also_played(client, world):
    track = world.calm_tracks[0]
    html = page(client, f"/tracks/{track.pk}/")
    assert f'data-audio-url="/api/tracks/{track.pk}/audio/"' not in html  # no audio in factories
    assert "There is no audio for this track" in html
    assert '<svg role="img"' in html
    assert "Energy" in html
    assert "Beat strength" in html
    assert "BPM" in html
    assert "dBFS" in html
    assert 'class="badge mood-calm"' in html
    assert "Sounds similar" in html
    assert world.calm_tracks[1].title in html or world.calm_tracks[2].title in html
    assert "Appears once a recommendation model has been trained" in html


def test_track_page_with_audio_has_a_play_button_for_the_player_bar(client, imported_track):
    track = imported_track()
    html = page(client, f"/tracks/{track.pk}/")
    assert f'data-audio-url="/api/tracks/{track.pk}/audio/"' in html
    assert f'data-track-id="{track.pk}"' in html
    assert f'aria-label="Play {track.title}"' in html
    assert 'data-listens-url="/api/listens/"' in html
    assert 'id="player-audio"' in html  # the one player, outside the swapped #page
    assert "js/player" in html


def test_track_page_of_non_music_shows_no_mood(client, imported_track):
    track = imported_track(audio.click_track(100, seconds=6))  # a metronome: silence-heavy
    assert track.features.is_music is False
    html = page(client, f"/tracks/{track.pk}/")
    assert "not music: no mood" in html
    assert 'class="badge mood-' not in html
    assert ">Key</dt>" not in html  # a key is a musical idea: not claimed for a metronome


def test_track_page_of_music_shows_its_key(client, world):
    html = page(client, f"/tracks/{world.calm_tracks[0].pk}/")
    assert ">Key</dt>" in html


@pytest.mark.parametrize(
    ("status", "text"),
    [("pending", "Analysis is in progress"), ("failed", "could not be analysed"),
     ("no_audio", "nothing to analyse")],
)  # fmt: skip
def test_track_page_empty_states(client, status, text):
    track = TrackFactory(status=status, error_code="silent" if status == "failed" else "")
    assert text in page(client, f"/tracks/{track.pk}/")


def test_artist_page_lists_tracks_and_similar_artists(client, world):
    artist = world.calm_tracks[0].artist
    html = page(client, f"/artists/{artist.pk}/")
    assert artist.name in html
    assert world.calm_tracks[0].title in html
    assert "calm artist" in html.split("Similar artists")[1]


def test_search_is_accent_and_case_insensitive(client):
    track = TrackFactory(title="Déjà Vu", artist=ArtistFactory(name="Beyoncé"))
    features_from_vector(track, CALM)
    html = page(client, "/search/?q=DEJA")
    assert "Déjà Vu" in html
    assert "1 track for" in html
    assert "Beyoncé" in page(client, "/search/?q=beyonce")
    assert "find a title or an artist" in page(client, "/search/")
    assert "No track matches" in page(client, "/search/?q=zzzz")


def test_history_lists_own_listens_and_acts_on_them(client, world):
    user = world.calm_users[0]
    client.force_login(user)
    event = ListeningEvent.objects.filter(user=user).order_by("-listened_at").first()
    html = page(client, "/history/")
    assert event.track.title in html
    own = ListeningEvent.objects.filter(user=user)
    shown = {int(i) for i in re.findall(r'data-event-id="(\d+)"', html)}
    assert shown == set(own.order_by("-listened_at", "-id").values_list("pk", flat=True)[:25])
    before = UserTrackStats.objects.get(user=user, track=event.track)
    client.post("/history/action/", {"event": event.pk, "action": "exclude"})
    event.refresh_from_db()
    assert event.excluded
    after = UserTrackStats.objects.filter(user=user, track=event.track).first()
    assert after is None or after.completed_plays < before.completed_plays
    client.post("/history/action/", {"event": event.pk, "action": "like"})
    assert Feedback.objects.get(user=user, track=event.track).kind == "like"
    response = client.post(
        "/history/action/", {"event": event.pk, "action": "dislike"}, follow=True
    )
    assert Feedback.objects.get(user=user, track=event.track).kind == "dislike"
    assert "marked as disliked" in response.content.decode()


def test_history_never_touches_another_users_listen(client, world):
    victim = world.loud_users[0]
    event = ListeningEvent.objects.filter(user=victim).first()
    client.force_login(world.calm_users[0])
    response = client.post(
        "/history/action/", {"event": event.pk, "action": "exclude"}, follow=True
    )
    assert "could not be changed" in response.content.decode()
    event.refresh_from_db()
    assert not event.excluded


def test_signup_logs_in_and_login_and_logout_work(client, db):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newbie",
            "password1": "a long pass phrase 42",
            "password2": "a long pass phrase 42",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/for-you/"
    assert "newbie" in page(client, "/for-you/")
    client.post("/accounts/logout/")
    assert client.get("/for-you/").status_code == 302
    User.objects.filter(username="newbie").update(
        password=User.objects.get(username="newbie").password
    )
    response = client.post(
        "/accounts/login/", {"username": "newbie", "password": "a long pass phrase 42"}
    )
    assert response.status_code == 302


def test_signup_refuses_weak_passwords_with_a_message(client, db):
    html = client.post(
        "/accounts/signup/", {"username": "weak", "password1": "123", "password2": "123"}
    ).content.decode()
    assert "This password is too short" in html
    assert not User.objects.filter(username="weak").exists()


def test_login_page_logs_a_factory_user_in(client, world):
    response = client.post(
        "/accounts/login/", {"username": world.calm_users[0].username, "password": PASSWORD}
    )
    assert response.status_code == 302


def test_static_files_are_served_by_whitenoise_with_hashed_names(client, db):
    html = page(client, "/")
    href = html.split('rel="stylesheet" href="')[1].split('"')[0]
    assert href.startswith("/static/css/site.")
    assert href.endswith(".css")
    response = client.get(href)
    assert response.status_code == 200
