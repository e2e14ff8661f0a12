"""Catalogues as real history imports make them (docs/recommender.md, "Serving"): real times on
SQLite, tracks without audio, untagged "Unknown artist" files, reasons true of the listening."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from catalog.models import AudioFeatures, Track
from catalog.services.imports import UNKNOWN_ARTIST
from catalog.similarity.index import UNCAPPED_ARTIST_KEY, SimilarityIndex
from catalog.text import artist_unknown, name_key
from listening.models import UserTrackStats
from listening.services import ListenInput, listens_record
from recommender import serving
from tests.factories import ArtistFactory, UserFactory
from tests.helpers.sqlite_site import SqliteSite
from tests.helpers.world import CALM

# Run in this process (PostgreSQL) and in a SQLite site's `manage.py shell`: the time split of
# evaluate and retrain, as (listener, title) pairs held out.
SPLIT = """
import json
from catalog.models import Track
from django.contrib.auth import get_user_model
from recommender.engine.evaluation import split_by_time
from recommender.engine.pipeline import matrix_for
from recommender.services import training_defaults
from recommender.services.interactions import interactions_read
m = matrix_for(interactions_read(), training_defaults().as_params())
s = split_by_time(m.user_items, m.times)
names = dict(get_user_model().objects.values_list("pk", "username"))
titles = dict(Track.objects.values_list("pk", "title"))
print(json.dumps(sorted([names[int(m.user_ids[r])], titles[int(m.track_ids[c])]]
                        for r, held in zip(s.users, s.held_out) for c in held)))
"""


def history(path) -> None:
    """12 listeners, 16 tracks with no audio; every listen at its own time, a day apart."""
    rng = np.random.default_rng(3)
    start = datetime(2024, 3, 1, tzinfo=UTC)
    lines = ["user,artist,track,listened_at,ms_played,completed"]
    step = 0
    for user in range(12):
        for track in rng.choice(16, size=7, replace=False):
            step += 1
            when = (start + timedelta(days=int(rng.integers(0, 300)), minutes=step)).isoformat()
            band = track % 4 + (user % 2) * 4
            lines.append(f"fan{user},Band {band},Song {track},{when},200000,1")
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.slow
def test_a_time_split_on_sqlite_equals_the_one_on_postgresql_and_tune_runs_there(tmp_path, db):
    path = tmp_path / "history.csv"
    history(path)
    call_command("import_listens", str(path), "--create-missing", stdout=StringIO())
    namespace: dict = {}
    out = StringIO()
    with contextlib.redirect_stdout(out):
        exec(SPLIT, namespace)
    on_postgres = json.loads(out.getvalue())
    assert 0 < len(on_postgres) < UserTrackStats.objects.count()

    site = SqliteSite(tmp_path / "sqlite")
    site.import_json(str(path), "--create-missing")
    times = site.query("SELECT CAST(strftime('%s', last_listened_at) AS INTEGER) FROM "
                       "listening_usertrackstats")  # fmt: skip
    assert min(t for (t,) in times) > 1_700_000_000  # real times, not 0
    result = site.manage("shell", "-c", SPLIT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == on_postgres

    tuned = site.manage("retrain", "--tune", "--json", "--force")
    assert tuned.returncode == 0, tuned.stderr[-2000:]
    assert json.loads(tuned.stdout.strip().splitlines()[-1])["status"] == "active"


@pytest.fixture
def no_audio(world):
    """The planted world as an imported history makes it: no files, no features."""
    Track.objects.update(status=Track.Status.NO_AUDIO, audio="")
    AudioFeatures.objects.all().delete()
    call_command("retrain", stdout=StringIO())
    serving.forget()
    return world


def test_a_catalogue_without_audio_gets_recommendations_and_shelves(client, no_audio):
    user = no_audio.calm_users[0]
    client.force_login(user)
    results = client.get("/api/recommendations/?n=10").json()["results"]
    assert len(results) == 10
    assert [no_audio.group_of(r["track"]["id"]) for r in results[:3]] == ["calm"] * 3
    assert all(r["track"]["playable"] is False and r["track"]["audio_url"] is None
               for r in results)  # fmt: skip
    shelves = client.get("/api/recommendations/because-you-listened/?shelves=3&n=4").json()
    assert shelves["shelves"]
    assert all(shelf["results"] for shelf in shelves["shelves"])
    also = client.get(f"/api/tracks/{no_audio.calm_tracks[0].pk}/also-played/?n=5").json()
    assert len(also["results"]) == 5

    newcomer = UserFactory(username="newcomer")
    client.force_login(newcomer)
    cold = client.get("/api/recommendations/?n=10").json()["results"]
    assert len(cold) == 10
    assert {r["reason"]["type"] for r in cold} == {"popular"}

    client.force_login(user)
    page = client.get("/for-you/").content.decode()
    title = results[0]["track"]["title"]
    assert title in page
    assert f'aria-label="Play {title}"' not in page
    assert 'class="row-play no-audio"' in page


def test_unknown_artist_tracks_are_not_capped_together(client, world):
    assert name_key(UNKNOWN_ARTIST) == UNCAPPED_ARTIST_KEY
    assert artist_unknown("unknown  ARTIST")
    assert not artist_unknown("Unknown Artists")
    # the calm group's first three artists become one "Unknown artist" (untagged files)
    unknown = ArtistFactory(name=UNKNOWN_ARTIST)
    untagged = [t.pk for t in world.calm_tracks[:9]]
    Track.objects.filter(pk__in=untagged).update(artist=unknown)
    call_command("retrain", stdout=StringIO())
    serving.forget()
    user = world.calm_users[0]
    client.force_login(user)
    results = client.get("/api/recommendations/?n=10").json()["results"]
    artists = Counter(r["track"]["artist"]["id"] for r in results)
    assert artists[unknown.pk] > 2
    assert max(n for artist, n in artists.items() if artist != unknown.pk) <= 2

    # "similar sounding": the index caps every artist but the unknown one
    keys = [f"{'unknown artist' if i < 6 else f'band {i % 2}'}|t{i}" for i in range(12)]
    artist_ids = [1 if i < 6 else 2 + i % 2 for i in range(12)]
    raw = np.tile(np.array(CALM, dtype=float), (12, 1))
    raw[:, :6] += np.random.default_rng(1).normal(0, 3, (12, 6))  # moods stay 0 or 1
    index = SimilarityIndex(np.arange(100, 112), np.array(artist_ids), keys, raw)
    matches = index.similar(111, 11)
    by_artist = Counter(artist_ids[m.track_id - 100] for m in matches)
    assert by_artist[1] > 2
    assert by_artist[2] <= 2
    assert by_artist[3] <= 2


def test_every_named_reason_shares_a_listener_with_its_pick(client, world):
    """A baroque listener who also played one pop-punk track: her pop-punk picks may come from
    the model, but "because you listened to Vivaldi" is only said where someone else played
    both."""
    crossover = world.calm_users[0]
    listens_record(user=crossover, source="api", listens=[
        ListenInput(track_id=world.loud_tracks[0].pk, completed=True,
                    listened_at=datetime.now(UTC) - timedelta(minutes=i)) for i in range(3)
    ])  # fmt: skip
    call_command("retrain", stdout=StringIO())
    serving.forget()
    checked = 0
    for user in world.calm_users[:4] + world.loud_users[:4]:
        client.force_login(user)
        for r in client.get("/api/recommendations/?n=15").json()["results"]:
            seed = r["reason"]["track"]
            if r["reason"]["type"] != "listened" or seed is None:
                continue
            both = set(
                UserTrackStats.objects.filter(track_id=seed["id"]).exclude(user=user)
                .values_list("user_id", flat=True)
            ) & set(UserTrackStats.objects.filter(track_id=r["track"]["id"])
                    .values_list("user_id", flat=True))  # fmt: skip
            assert both, (seed["title"], r["track"]["title"])
            checked += 1
    assert checked >= 10
