"""Radio: endless stations from a track, an artist, a mood or one's taste (GET /api/radio/)."""

import numpy as np
import pytest

from tests.factories import ArtistFactory, TrackFactory, UserFactory, features_from_vector
from tests.helpers.world import CALM, LOUD

pytestmark = pytest.mark.django_db


@pytest.fixture
def airwaves():
    """Two sounds, four artists each, four playable tracks per artist."""
    rng = np.random.default_rng(3)
    groups = {"calm": [], "loud": []}
    for name, base in (("calm", CALM), ("loud", LOUD)):
        for a in range(4):
            artist = ArtistFactory(name=f"{name} radio artist {a}")
            for t in range(4):
                track = TrackFactory(
                    title=f"{name} {a}-{t}", artist=artist, audio=f"audio/xx/{name}{a}{t}.flac"
                )
                jitter = [rng.normal(0, 3) for _ in range(5)] + [rng.normal(0, 2)] + [0.0] * 10
                features_from_vector(track, [b + j for b, j in zip(base, jitter, strict=True)])
                groups[name].append(track)
    return groups


def radio(client, **params):
    response = client.get("/api/radio/", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_track_station_opens_with_it_and_never_repeats(client, airwaves):
    seed = airwaves["calm"][0]
    body = radio(client, seed_track=seed.pk, n=5)
    assert body["results"][0]["track"]["id"] == seed.pk
    assert body["results"][0]["reason"]["type"] == "seed"
    seen = [r["track"]["id"] for r in body["results"]]
    for _ in range(4):
        body = radio(client, station=body["station"], n=5)
        seen += [r["track"]["id"] for r in body["results"]]
    assert len(seen) == len(set(seen)) == 25
    for result in body["results"]:
        assert result["reason"]["text"]
        assert result["track"]["image_url"]


def test_never_three_in_a_row_by_one_artist(client, airwaves):
    body = radio(client, seed_artist=airwaves["loud"][0].artist_id, n=10)
    artists = [r["track"]["artist"]["id"] for r in body["results"]]
    body = radio(client, station=body["station"], n=10)
    artists += [r["track"]["artist"]["id"] for r in body["results"]]
    assert len(artists) == 20
    assert all(
        not (a == b == c) for a, b, c in zip(artists, artists[1:], artists[2:], strict=False)
    )


def test_sounds_like_the_seed_and_says_why(client, airwaves):
    calm_ids = {t.pk for t in airwaves["calm"]}
    body = radio(client, seed_track=airwaves["calm"][5].pk, n=8)
    assert sum(r["track"]["id"] in calm_ids for r in body["results"]) >= 7
    texts = [r["reason"]["text"] for r in body["results"][1:]]
    assert all(t.startswith("Sounds like calm") for t in texts), texts


def test_skips_steer_the_next_picks(client, airwaves):
    calm_ids = {t.pk for t in airwaves["calm"]}
    seed = airwaves["calm"][0].pk
    control, steered = radio(client, seed_track=seed, n=4), radio(client, seed_track=seed, n=4)
    skipped = ",".join(str(r["track"]["id"]) for r in steered["results"][1:])
    control = radio(client, station=control["station"], n=6)
    steered = radio(client, station=steered["station"], n=6, skipped=skipped)
    calm_share = lambda body: sum(r["track"]["id"] in calm_ids for r in body["results"])  # noqa: E731
    assert calm_share(steered) < calm_share(control)


def test_a_mood_station_and_the_sound_filters(client, airwaves):
    calm_ids = {t.pk for t in airwaves["calm"]}
    body = radio(client, mood="calm", n=10)
    assert body["results"]
    assert {r["track"]["id"] for r in body["results"]} <= calm_ids
    assert all(r["reason"]["text"].startswith("Calm") for r in body["results"])
    fast = radio(client, seed_track=airwaves["calm"][0].pk, tempo_min=120, n=10)
    assert {r["track"]["id"] for r in fast["results"]} <= {t.pk for t in airwaves["loud"]}


def test_exactly_one_seed_and_only_ones_own_station(client, airwaves):
    assert client.get("/api/radio/").status_code == 400
    both = client.get("/api/radio/", {"seed_track": airwaves["calm"][0].pk, "mood": "calm"})
    assert both.status_code == 400
    assert client.get("/api/radio/", {"station": "made-up"}).status_code == 400
    assert client.get("/api/radio/", {"mood": "angry"}).status_code == 400
    assert client.get("/api/radio/", {"mood": "calm", "volume": "11"}).status_code == 400
    assert client.get("/api/radio/", {"seed_track": 999999}).status_code == 404
    assert client.get("/api/radio/", {"taste": 1}).status_code in (401, 403)
    station = radio(client, mood="calm", n=2)["station"]
    client.force_login(UserFactory())
    assert client.get("/api/radio/", {"station": station}).status_code == 400


def test_a_taste_station_for_a_signed_in_listener(client, airwaves):
    from listening.services import ListenInput, listens_record

    user = UserFactory()
    listens_record(
        user=user,
        listens=[ListenInput(track_id=t.pk, completed=True) for t in airwaves["loud"][:3]],
        source="api",
    )
    client.force_login(user)
    body = radio(client, taste=1, n=6)
    assert len(body["results"]) == 6


def test_a_station_whose_memory_was_lost_still_never_repeats_what_the_queue_holds(client, airwaves):
    from django.core.cache import cache

    body = radio(client, seed_artist=airwaves["calm"][0].artist_id, n=6)
    queue = [r["track"]["id"] for r in body["results"]]
    artists = [r["track"]["artist"]["id"] for r in body["results"]]
    for _ in range(3):
        cache.clear()  # Redis restarted, evicted the station, or another process's memory
        played = ",".join(map(str, queue))
        body = radio(client, station=body["station"], n=6, played=played)
        queue += [r["track"]["id"] for r in body["results"]]
        artists += [r["track"]["artist"]["id"] for r in body["results"]]
    assert len(queue) == len(set(queue)) == 24
    assert all(
        not (a == b == c) for a, b, c in zip(artists, artists[1:], artists[2:], strict=False)
    )
    bad = client.get("/api/radio/", {"station": body["station"], "played": "1,x"})
    assert bad.status_code == 400
