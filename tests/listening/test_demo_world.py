"""seed_demo: a deterministic world whose styles the real analysis can see."""

import json
from collections import defaultdict
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.db.models import Count

from catalog.models import Track
from catalog.selectors import similar_tracks
from listening.demo.synth import STYLE_BY_NAME
from listening.demo.world import plan_catalogue, plan_listening, plan_users, top_share
from listening.models import ListeningEvent
from tests.helpers.processes import clean_env, manage


def plan(seed, tracks=60, users=20):
    rng = np.random.default_rng(seed)
    catalogue = plan_catalogue(tracks, rng)
    people = plan_users(users, rng)
    return catalogue, people, *plan_listening(catalogue, people, rng)


def test_the_plan_is_deterministic_per_seed():
    assert plan(5) == plan(5)
    assert plan(5)[0] != plan(6)[0]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_popularity_is_an_honest_baseline(seed):
    catalogue, _, listens, _ = plan(seed, tracks=120, users=60)
    assert top_share(listens, len(catalogue)) >= 0.30


@pytest.fixture
def demo_world(db, django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # analysis runs at commit
        call_command(
            "seed_demo", "--tracks", "60", "--users", "12", "--seconds", "12", "--seed", "3",
            "--json", stdout=out,
        )  # fmt: skip
    summary = json.loads(out.getvalue())
    summary["analysis"] = dict(
        Track.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    catalogue, _, listens, _ = plan(3, tracks=60, users=12)
    style_of = {(t.artist, t.title): t.style for t in catalogue}
    tracks = {
        t.pk: (t, style_of[(t.artist.name, t.title)])
        for t in Track.objects.select_related("artist", "features")
    }
    return summary, tracks, listens


def test_the_demo_world_end_to_end(demo_world):
    """One build (the slow part), four properties of it."""
    summary, tracks, listens = demo_world

    # it goes through the real import, analysis and listening services
    assert summary["analysis"] == {"done": 60}
    assert ListeningEvent.objects.filter(source="demo").count() == len(listens)
    assert summary["top_10_percent_share"] >= 0.3

    # the real analysis recovers each style's tempo band and mood for most of its tracks
    by_style = defaultdict(list)
    for track, style in tracks.values():
        by_style[style].append(track.features)
    for name, features in by_style.items():
        style = STYLE_BY_NAME[name]
        low, high = style.tempo
        in_band = sum(low * 0.97 <= f.tempo <= high * 1.03 for f in features)
        with_mood = sum(getattr(f, style.mood) for f in features)
        assert in_band > len(features) / 2, (name, [round(f.tempo) for f in features])
        assert with_mood > len(features) / 2, (name, style.mood)

    # "similar sounding" finds the seed's own style in at least 80% of the top 5
    same = total = 0
    for track, style in tracks.values():
        for match in similar_tracks(track=track, n=5).matches:
            total += 1
            same += tracks[match.track_id][1] == style
    assert total == 5 * len(tracks)
    assert same / total >= 0.8

    # running it again adds nothing twice
    before = ListeningEvent.objects.count()
    out = StringIO()
    call_command(
        "seed_demo", "--tracks", "60", "--users", "12", "--seconds", "12", "--seed", "3",
        "--json", stdout=out,
    )  # fmt: skip
    assert json.loads(out.getvalue())["listens"] == 0
    assert ListeningEvent.objects.count() == before
    assert Track.objects.count() == 60


DUMP = """
import json
from catalog.models import Track
from listening.models import ListeningEvent
events = list(ListeningEvent.objects.values_list(
    "user__username", "track__title", "completed", "skipped", "ms_played", "listened_at"))
newest = max(e[5] for e in events)
print(json.dumps({
    "tracks": sorted([t.title, t.artist.name, t.album.title if t.album else None,
                      [round(v, 3) for v in t.features.vector()]]
                     for t in Track.objects.select_related("artist", "album", "features")),
    "events": sorted([*e[:5], round((newest - e[5]).total_seconds())] for e in events),
}))
"""


@pytest.mark.slow
def test_the_same_seed_builds_the_same_world_in_two_databases(tmp_path):
    dumps = []
    for run in ("a", "b"):
        env = clean_env(
            DJANGO_DEBUG="1",
            DATABASE_URL=f"sqlite:///{tmp_path}/{run}/db.sqlite3",
            MUSICREC_DATA_DIR=str(tmp_path / run),
            OPENBLAS_NUM_THREADS="1",
        )
        for args in (("migrate", "-v0"), ("seed_demo", "--tracks", "12", "--users", "4",
                                           "--seconds", "6", "--seed", "11")):  # fmt: skip
            result = manage(*args, env=env)
            assert result.returncode == 0, result.stderr
        # before the long part, it says what it is building
        assert result.stdout.startswith("Building the demo world (seed 11): 12 tracks ")
        result = manage("shell", "-c", DUMP, env=env)
        assert result.returncode == 0, result.stderr
        dumps.append(json.loads(result.stdout.strip().splitlines()[-1]))
    assert dumps[0] == dumps[1]
    assert len(dumps[0]["tracks"]) == 12
