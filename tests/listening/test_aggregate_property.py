"""The aggregate always equals a recomputation from the events, whatever mix of writes."""

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalog.models import Artist, Track
from listening.models import ListeningEvent
from listening.services import ListenInput, listen_set_excluded, listens_import, listens_record
from listening.services.stats import aggregate_from_events, stats_rebuild
from tests.factories import ArtistFactory, TrackFactory, UserFactory
from tests.helpers.listening import stored_aggregate

BASE = datetime(2024, 3, 1, tzinfo=UTC)
OUTCOMES = ("completed", "skipped", "partial")

listen = st.tuples(
    st.integers(0, 3),  # track
    st.one_of(st.none(), st.sampled_from("abcde")),  # client event id
    st.sampled_from(OUTCOMES),
    st.integers(0, 200),  # minutes after BASE
    st.one_of(st.none(), st.integers(0, 300_000)),  # ms played
)
operation = st.one_of(
    st.tuples(st.just("api"), st.integers(0, 2), st.lists(listen, min_size=1, max_size=6)),
    st.tuples(
        st.just("events"),
        st.lists(
            st.tuples(
                st.integers(0, 2), st.integers(0, 3), st.integers(0, 50), st.sampled_from(OUTCOMES)
            ),
            min_size=1,
            max_size=8,
        ),
    ),
    st.tuples(
        st.just("totals"),
        st.lists(
            st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 6)),
            min_size=1,
            max_size=6,
        ),
    ),
    st.tuples(st.just("exclude"), st.integers(0, 10_000), st.booleans()),
)


@pytest.mark.django_db
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=st.lists(operation, min_size=1, max_size=10))
def test_aggregate_equals_recomputation(operations):
    # the database lives on across examples (more history to stay consistent with): reuse rows
    users = [UserFactory(username=f"prop{i}") for i in range(3)]
    artist = Artist.objects.filter(name="Prop Artist").first() or ArtistFactory(name="Prop Artist")
    tracks = [
        Track.objects.filter(title=f"Prop {i}").first()
        or TrackFactory(title=f"Prop {i}", artist=artist)
        for i in range(4)
    ]
    for op in operations:
        apply(op, users, tracks)
        assert stored_aggregate() == aggregate_from_events(ListeningEvent.objects.all())
    before = stored_aggregate()
    stats_rebuild()
    assert stored_aggregate() == before


def apply(op, users, tracks):
    kind = op[0]
    if kind == "api":
        _, user, items = op
        batch = [
            ListenInput(
                track_id=tracks[t].pk,
                client_event_id=cid,
                completed=outcome == "completed",
                skipped=outcome == "skipped",
                listened_at=BASE + timedelta(minutes=minute),
                ms_played=ms,
            )
            for t, cid, outcome, minute, ms in items
        ]
        listens_record(user=users[user], listens=batch, source="api")  # always valid
    elif kind in ("events", "totals"):
        if kind == "events":
            lines = ["user,artist,track,listened_at,completed,skipped"] + [
                f"prop{u},Prop Artist,Prop {t},{(BASE + timedelta(minutes=m)).isoformat()},"
                f"{outcome == 'completed'},{outcome == 'skipped'}"
                for u, t, m, outcome in op[1]
            ]
        else:
            lines = ["user,artist,track,plays"] + [
                f"prop{u},Prop Artist,Prop {t},{plays}" for u, t, plays in op[1]
            ]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "history.csv"
            path.write_text("\n".join(lines) + "\n")
            listens_import(path=path)
    else:
        _, index, excluded = op
        ids = list(ListeningEvent.objects.order_by("pk").values_list("pk", "user_id"))
        if ids:
            event_id, user_id = ids[index % len(ids)]
            user = next(u for u in users if u.pk == user_id)
            listen_set_excluded(user=user, event_id=event_id, excluded=excluded)


@pytest.mark.django_db
def test_the_counting_rule_written_once_counts_each_outcome():
    # PAIR_TOTALS_SQL is the only statement of the rule: check it against hand-counted values
    user, track = UserFactory(), TrackFactory()

    def event(**fields):
        return ListeningEvent(user=user, track=track, source="api", listened_at=BASE, **fields)

    ListeningEvent.objects.bulk_create([
        event(completed=True, play_count=3, ms_played=1000),
        event(skipped=True, play_count=2, ms_played=10),
        event(play_count=4),  # neither: partial
        event(completed=True, excluded=True),  # left out of taste
        event(skipped=True, play_count=0),  # counts nothing
    ])  # fmt: skip
    found = aggregate_from_events(ListeningEvent.objects.all())[(user.pk, track.pk)]
    assert (found["completed_plays"], found["partial_plays"], found["skips"]) == (3, 4, 2)
    assert found["ms_played"] == 1010
