"""POST/GET/DELETE /api/feedback/."""

import pytest

from listening.models import Feedback
from tests.factories import ArtistFactory, TrackFactory, UserFactory

pytestmark = pytest.mark.django_db


def post(client, body):
    return client.post("/api/feedback/", body, content_type="application/json")


def test_new_feedback_is_201_and_a_change_of_kind_is_200(user_client):
    track = TrackFactory()
    created = post(user_client, {"track_id": track.pk, "kind": "like"})
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "kind", "track_id", "created_at"}
    assert (body["kind"], body["track_id"]) == ("like", track.pk)
    replaced = post(user_client, {"track_id": track.pk, "kind": "dislike"})
    assert replaced.status_code == 200
    assert replaced.json()["id"] == body["id"]
    assert Feedback.objects.get().kind == "dislike"


def test_feedback_on_an_artist(user_client):
    artist = ArtistFactory()
    body = post(user_client, {"artist_id": artist.pk, "kind": "dont_recommend"}).json()
    assert set(body) == {"id", "kind", "artist_id", "created_at"}


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "like"},
        {"track_id": "TRACK", "artist_id": "ARTIST", "kind": "like"},
        {"track_id": 999_999, "kind": "like"},
        {"artist_id": 999_999, "kind": "like"},
        {"track_id": "TRACK", "kind": "love"},
    ],
)
def test_bad_feedback_is_400(user_client, body):
    track = TrackFactory()
    ids = {"TRACK": track.pk, "ARTIST": track.artist_id}
    response = post(user_client, {key: ids.get(value, value) for key, value in body.items()})
    assert response.status_code == 400
    assert response.json()


def test_list_and_delete_are_own(user_client):
    mine = Feedback.objects.create(user=user_client.user, track=TrackFactory(), kind="like")
    theirs = Feedback.objects.create(user=UserFactory(), track=TrackFactory(), kind="like")
    listed = user_client.get("/api/feedback/").json()
    assert [f["id"] for f in listed["results"]] == [mine.pk]
    assert user_client.delete(f"/api/feedback/{theirs.pk}/").status_code == 404
    assert Feedback.objects.filter(pk=theirs.pk).exists()
    assert user_client.delete(f"/api/feedback/{mine.pk}/").status_code == 204
    assert not Feedback.objects.filter(pk=mine.pk).exists()
