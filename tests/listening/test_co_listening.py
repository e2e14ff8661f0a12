"""listening.selectors.first_co_listened: for each candidate, the first of its seeds (in the order
given) that someone other than the user has played along with it, at least in part. PostgreSQL
answers in one statement, SQLite pair by pair: both are checked against the rows themselves."""

import random
from datetime import UTC, datetime

import pytest
from django.db import connection

from listening import selectors
from listening.models import UserTrackStats
from tests.factories import TrackFactory, UserFactory

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def played(user, track_id, completed=0, partial=0, skips=0):
    UserTrackStats.objects.create(
        user=user, track_id=track_id, completed_plays=completed, partial_plays=partial,
        skips=skips, first_listened_at=WHEN, last_listened_at=WHEN,
    )  # fmt: skip


def at_once(seeds_of, exclude_user_id=None):
    return run(selectors._first_shared_at_once, seeds_of, exclude_user_id)


def pair_by_pair(seeds_of, exclude_user_id=None):
    return run(selectors._first_shared_pair_by_pair, seeds_of, exclude_user_id)


def run(path, seeds_of, exclude_user_id):
    me = -1 if exclude_user_id is None else exclude_user_id
    with connection.cursor() as cursor:
        return path(cursor, {c: list(s) for c, s in seeds_of.items() if s}, me)


PATHS = [
    pytest.param(selectors.first_co_listened, id="public"),
    pytest.param(lambda **k: at_once(k["seeds_of"], k.get("exclude_user_id")), id="at_once",
                 marks=pytest.mark.postgres),
    pytest.param(lambda **k: pair_by_pair(k["seeds_of"], k.get("exclude_user_id")),
                 id="pair_by_pair"),
]  # fmt: skip


@pytest.fixture
def small(db):
    """Seeds s1..s3 (all played by `me`), candidates c1..c3."""
    me, u1, u2, u3, u4, u5 = (UserFactory() for _ in range(6))
    s1, s2, s3, c1, c2, c3 = (TrackFactory().pk for _ in range(6))
    for track in (s1, s2, s3, c1, c2):
        played(me, track, completed=1)  # the user alone never makes a pair shared
    played(u1, s2, completed=3)
    played(u1, c1, partial=1)  # partial plays count: (s2, c1) shared
    played(u2, s3, completed=1)
    played(u2, c1, completed=1)  # (s3, c1) shared
    played(u3, s1, skips=2)  # only skipped: (s1, c2) not shared
    played(u3, c2, completed=1)
    played(u4, s2, completed=1)
    played(u4, c2, skips=1)  # only skipped: (s2, c2) not shared
    played(u5, s3, partial=2)
    played(u5, c3, completed=1)  # (s3, c3) shared
    return {"me": me, "s1": s1, "s2": s2, "s3": s3, "c1": c1, "c2": c2, "c3": c3}


@pytest.mark.parametrize("first_co_listened", PATHS)
def test_the_first_seed_in_order_that_someone_else_played_with_the_candidate(
    small, first_co_listened
):
    s1, s2, s3, c1, c2, c3 = (small[k] for k in ("s1", "s2", "s3", "c1", "c2", "c3"))
    me = small["me"].pk
    found = first_co_listened(
        seeds_of={c1: [s1, s2, s3], c2: [s1, s2, s3], c3: [s2, s3]}, exclude_user_id=me
    )
    # c1: s1 is shared by the user only, s2 by u1 (partly), s3 by u2: the first is s2;
    # c2: skips only, or the user: none; c3: s3 through u5
    assert found == {c1: s2, c3: s3}
    assert first_co_listened(seeds_of={c1: [s3, s2, s1]}, exclude_user_id=me) == {c1: s3}
    # without the user left out, their own plays count (s2 and c2: the first in order)
    assert first_co_listened(seeds_of={c2: [s2, s1]}, exclude_user_id=None) == {c2: s2}
    assert first_co_listened(seeds_of={c2: [s2, s1]}, exclude_user_id=me) == {}
    assert first_co_listened(seeds_of={c1: []}, exclude_user_id=me) == {}
    assert first_co_listened(seeds_of={}, exclude_user_id=me) == {}


@pytest.mark.parametrize("first_co_listened", PATHS)
def test_agrees_with_the_rows_on_a_random_world(db, first_co_listened):
    rng = random.Random(11)
    users = [UserFactory() for _ in range(12)]
    tracks = [TrackFactory().pk for _ in range(10)]
    plays = {}
    for user in users:
        for track in rng.sample(tracks, rng.randint(1, 6)):
            kind = rng.choice(["completed", "partial", "skips"])
            played(user, track, **{kind: 1})
            plays[user.pk, track] = kind != "skips"

    def truth(seeds_of, me):
        def shared(a, b):
            return any(plays.get((u.pk, a)) and plays.get((u.pk, b)) for u in users if u.pk != me)

        found = {}
        for candidate, seeds in seeds_of.items():
            first = next((s for s in seeds if shared(s, candidate)), None)
            if first is not None:
                found[candidate] = first
        return found

    checked = attributed = 0
    for _ in range(25):
        me = rng.choice(users).pk
        seeds_of = {c: rng.sample(tracks, rng.randint(0, 5)) for c in rng.sample(tracks, 4)}
        expected = truth(seeds_of, me)
        assert first_co_listened(seeds_of=seeds_of, exclude_user_id=me) == expected
        checked += len(seeds_of)
        attributed += len(expected)
    assert 0 < attributed < checked  # both answers occur
