"""Reading the aggregate and feedback into arrays (COPY on PostgreSQL, chunks elsewhere)."""

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection

from listening.models import Feedback, UserTrackStats
from recommender.services.interactions import interactions_read


def as_rows(data) -> dict:
    return {
        (int(u), int(t)): (int(c), int(p), int(s), bool(lk), bool(dk))
        for u, t, c, p, s, lk, dk in zip(
            data.user_ids, data.track_ids, data.completed, data.partial, data.skips,
            data.liked, data.disliked, strict=True,
        )
    }  # fmt: skip


def test_arrays_match_the_database(world):
    user = world.calm_users[0]
    played = UserTrackStats.objects.filter(user=user).first()
    Feedback.objects.create(user=user, track=played.track, kind="like")
    never_played = world.loud_tracks[0]
    Feedback.objects.create(user=user, track=never_played, kind="dislike")
    data = interactions_read()
    rows = as_rows(data)
    stats = UserTrackStats.objects.all()
    assert len(data) == stats.count() + 1
    for s in stats:
        completed, partial, skips, _, _ = rows[(s.user_id, s.track_id)]
        assert (completed, partial, skips) == (s.completed_plays, s.partial_plays, s.skips)
    assert rows[(user.pk, played.track_id)][3] is True
    assert rows[(user.pk, never_played.pk)] == (0, 0, 0, False, True)
    last = {(s.user_id, s.track_id): s.last_listened_at.timestamp() for s in stats}
    for u, t, when in zip(data.user_ids, data.track_ids, data.last_listened, strict=True):
        if (int(u), int(t)) in last:
            assert abs(when - last[(int(u), int(t))]) < 1.0
    assert data.user_ids.dtype == np.int64


@pytest.mark.postgres
def test_postgres_reads_with_copy(world, django_assert_max_num_queries):
    assert connection.vendor == "postgresql"
    with django_assert_max_num_queries(1):  # the COPY (feedback is one more ORM query)
        from listening.selectors import listening_columns_copy

        columns = listening_columns_copy()
    assert len(columns[0]) == UserTrackStats.objects.count()


@pytest.mark.parametrize("seed", [7, 11])
def test_evaluate_on_the_demo_world_beats_popularity_twice(db, seed):
    call_command("seed_demo", "--no-audio", "--seed", str(seed), stdout=StringIO())
    out = StringIO()
    call_command("evaluate", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert set(body) == {"k", "protocol", "n_users", "als", "popularity", "served", "coverage",
                         "served_popularity_lift", "n_niche_users"}  # fmt: skip
    assert body["n_users"] >= 50
    assert body["als"]["ndcg"] >= 2 * body["popularity"]["ndcg"], body
    assert set(body["served"]) == {"precision", "map", "ndcg"}
    assert body["served"]["ndcg"] >= 2 * body["popularity"]["ndcg"], body
    assert 0 < body["coverage"] <= 1
    assert body["n_niche_users"] > 0
    assert 0 < body["served_popularity_lift"] <= 1.25, body  # not more mainstream than the model
