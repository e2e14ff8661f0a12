"""POST/GET/PATCH /api/listens/ (docs/api.md, "Listens and feedback")."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from listening.models import ListeningEvent, UserTrackStats
from tests.factories import TrackFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tracks():
    return TrackFactory.create_batch(3)


def post(client, body):
    return client.post("/api/listens/", body, content_type="application/json")


def test_one_listen_is_stored_with_its_aggregate(user_client, tracks):
    response = post(user_client, {"track_id": tracks[0].pk, "completed": True, "ms_played": 1000})
    assert response.status_code == 201
    assert response.json() == {"created": 1, "duplicates": 0}
    event = ListeningEvent.objects.get()
    assert (event.user, event.track, event.source) == (user_client.user, tracks[0], "player")
    stats = UserTrackStats.objects.get()
    assert (stats.completed_plays, stats.partial_plays, stats.skips) == (1, 0, 0)
    assert stats.ms_played == 1000


def test_a_token_client_is_recorded_as_api(client, tracks):
    user = UserFactory()
    token = Token.objects.create(user=user)
    response = client.post(
        "/api/listens/",
        [{"track_id": tracks[0].pk}],
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 201
    assert ListeningEvent.objects.get().source == "api"


def test_repeated_client_event_ids_are_duplicates(user_client, tracks):
    batch = [
        {"track_id": tracks[0].pk, "client_event_id": "a"},
        {"track_id": tracks[1].pk, "client_event_id": "b"},
        {"track_id": tracks[1].pk, "client_event_id": "b"},  # repeated inside the batch
    ]
    assert post(user_client, batch).json() == {"created": 2, "duplicates": 1}
    # the client retries the whole batch: nothing new
    assert post(user_client, batch).json() == {"created": 0, "duplicates": 3}
    assert ListeningEvent.objects.count() == 2
    assert sum(s.partial_plays for s in UserTrackStats.objects.all()) == 2


def test_client_event_ids_are_per_user(client, tracks):
    for user in UserFactory.create_batch(2):
        client.force_login(user)
        assert (
            post(client, {"track_id": tracks[0].pk, "client_event_id": "x"}).json()["created"] == 1
        )
    assert ListeningEvent.objects.count() == 2


def test_one_bad_item_stores_nothing(user_client, tracks):
    batch = [{"track_id": tracks[0].pk}, {"track_id": 999_999}, {"track_id": tracks[1].pk}]
    response = post(user_client, batch)
    assert response.status_code == 400
    errors = response.json()
    assert errors[0] == {}
    assert errors[2] == {}
    assert "track_id" in errors[1]
    assert ListeningEvent.objects.count() == 0
    assert UserTrackStats.objects.count() == 0


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"track_id": 999_999}, "track_id"),
        ({"listened_at": (timezone.now() + timedelta(hours=1)).isoformat()}, "listened_at"),
        ({"listened_at": "1999-12-31T23:59:00+00:00"}, "listened_at"),
        ({"ms_played": -1}, "ms_played"),
        ({"completed": True, "skipped": True}, "skipped"),
        ({"client_event_id": "x" * 65}, "client_event_id"),
        ({"listened_at": "yesterday"}, "listened_at"),
        ({"track_id": "seven"}, "track_id"),
    ],
)
def test_each_validation_error_names_its_field(user_client, tracks, item, field):
    body = {"track_id": tracks[0].pk, **item}
    response = post(user_client, body)
    assert response.status_code == 400
    assert field in response.json()
    assert ListeningEvent.objects.count() == 0


@pytest.mark.parametrize("body", [[], "not a listen", 5])
def test_empty_or_malformed_bodies_are_400(user_client, body):
    assert post(user_client, body).status_code == 400


def test_more_than_a_thousand_is_400(user_client, tracks):
    batch = [{"track_id": tracks[0].pk}] * 1001
    response = post(user_client, batch)
    assert response.status_code == 400
    assert ListeningEvent.objects.count() == 0
    assert post(user_client, batch[:1000]).status_code == 201


def test_history_is_own_and_newest_first(user_client, tracks):
    other = UserFactory()
    ListeningEvent.objects.create(
        user=other, track=tracks[0], listened_at=timezone.now(), source="api"
    )
    base = datetime(2024, 5, 1, tzinfo=UTC)
    post(
        user_client,
        [
            {"track_id": tracks[0].pk, "listened_at": base.isoformat()},
            {"track_id": tracks[1].pk, "listened_at": (base + timedelta(hours=1)).isoformat()},
        ],
    )
    body = user_client.get("/api/listens/").json()
    assert body["count"] == 2
    first = body["results"][0]
    assert set(first) == {"id", "track", "listened_at", "ms_played", "completed", "skipped",
                          "excluded"}  # fmt: skip
    assert [r["track"]["id"] for r in body["results"]] == [tracks[1].pk, tracks[0].pk]


def test_excluding_a_listen_takes_it_out_of_the_aggregate(user_client, tracks):
    post(user_client, [{"track_id": tracks[0].pk, "completed": True}] * 2)
    event = ListeningEvent.objects.first()
    response = user_client.patch(
        f"/api/listens/{event.pk}/", {"excluded": True}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["excluded"] is True
    assert UserTrackStats.objects.get().completed_plays == 1
    for e in ListeningEvent.objects.all():
        user_client.patch(f"/api/listens/{e.pk}/", {"excluded": True},
                          content_type="application/json")  # fmt: skip
    assert not UserTrackStats.objects.exists()
    user_client.patch(f"/api/listens/{event.pk}/", {"excluded": False},
                      content_type="application/json")  # fmt: skip
    assert UserTrackStats.objects.get().completed_plays == 1


def test_another_users_listen_is_404_and_untouched(user_client, tracks):
    event = ListeningEvent.objects.create(
        user=UserFactory(), track=tracks[0], listened_at=timezone.now(), source="api"
    )
    response = user_client.patch(
        f"/api/listens/{event.pk}/", {"excluded": True}, content_type="application/json"
    )
    assert response.status_code == 404
    event.refresh_from_db()
    assert event.excluded is False


def test_anonymous_calls_are_refused(client, tracks):
    assert post(client, {"track_id": tracks[0].pk}).status_code in (401, 403)
    assert client.get("/api/listens/").status_code in (401, 403)
