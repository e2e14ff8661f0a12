"""Track and artist reads (docs/api.md, "Tracks" and "Artists")."""

import pytest

from tests.factories import ArtistFactory, TrackFactory, features_from_vector

pytestmark = pytest.mark.django_db

CALM = [-300, 80, 0, 20, 0, 70, 0.5, 0.3, -25, 900, 0.1, 0.08, 0, 1, 0, 1]
ENERGETIC = [-150, 60, 10, 5, 0, 150, 0.9, 0.9, -6, 3500, 0.6, 0.4, 1, 0, 1, 0]


def test_detail_shape(client, imported_track):
    track = imported_track()
    body = client.get(f"/api/tracks/{track.pk}/").json()
    assert set(body) == {
        "id", "title", "artist", "album", "duration_s", "audio_url", "image_url", "playable",
        "created_at",
        "analysis", "features", "vector",
    }  # fmt: skip
    assert body["artist"] == {"id": track.artist_id, "name": track.artist.name}
    assert body["analysis"]["status"] == "done"
    assert body["analysis"]["error_code"] is None
    assert body["analysis"]["extractor_version"]
    features = body["features"]
    assert len(features["mfcc"]) == 5
    assert set(features["emotions"]) == {"happy", "sad", "energetic", "calm"}
    assert all(v in (0, 1) for v in features["emotions"].values())
    assert body["vector"][5] == features["tempo"]
    assert body["vector"][12:] == [
        float(features["emotions"][m]) for m in ("happy", "sad", "energetic", "calm")
    ]


def test_pending_track_has_null_features(client):
    track = TrackFactory(status="pending")
    body = client.get(f"/api/tracks/{track.pk}/").json()
    assert body["features"] is None
    assert body["vector"] is None
    assert body["analysis"]["status"] == "pending"


def test_list_is_paginated_with_compact_items(client):
    TrackFactory.create_batch(25)
    body = client.get("/api/tracks/?page_size=10").json()
    assert body["count"] == 25
    assert len(body["results"]) == 10
    assert body["next"]
    assert body["previous"] is None
    assert set(body["results"][0]) == {
        "id",
        "title",
        "artist",
        "duration_s",
        "audio_url",
        "image_url",
        "playable",
        "analysis",
    }
    assert body["results"][0]["playable"] is False  # metadata only: no file
    assert body["results"][0]["image_url"] == f"/api/tracks/{body['results'][0]['id']}/art/"
    assert client.get("/api/tracks/?page_size=101").status_code == 400
    assert client.get("/api/tracks/?page_size=0").status_code == 400


def test_filters(client):
    beyonce = ArtistFactory(name="Beyoncé")
    calm = TrackFactory(title="Quiet Night", artist=beyonce)
    features_from_vector(calm, CALM)
    loud = TrackFactory(title="Party Song")
    features_from_vector(loud, ENERGETIC)
    TrackFactory(title="Pending One", status="pending")

    def ids(query):
        response = client.get(f"/api/tracks/?{query}")
        assert response.status_code == 200, response.json()
        return {t["id"] for t in response.json()["results"]}

    assert ids("q=beyonce") == {calm.pk}  # artist, accent-insensitive
    assert ids("q=PARTY") == {loud.pk}  # title, case-insensitive
    assert ids(f"artist={beyonce.pk}") == {calm.pk}
    assert ids("emotion=calm") == {calm.pk}
    assert ids("emotion=energetic") == {loud.pk}
    assert ids("tempo_min=100") == {loud.pk}
    assert ids("tempo_max=100") == {calm.pk}
    assert ids("tempo_min=60&tempo_max=160") == {calm.pk, loud.pk}
    assert len(ids("status=pending")) == 1


@pytest.mark.parametrize(
    "query", ["emotion=angry", "tempo_min=fast", "artist=abc", "status=weird", "tempo_max=-1"]
)
def test_bad_filters_are_400_with_the_field(client, query):
    response = client.get(f"/api/tracks/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_unknown_track_is_404(client):
    assert client.get("/api/tracks/999999/").status_code == 404
    assert client.get("/api/tracks/999999/similar/").status_code == 404


def test_artists_list_and_detail(client):
    a = ArtistFactory(name="Alpha")
    b = ArtistFactory(name="Beta")
    c = ArtistFactory(name="Gamma")
    for artist, vector in ((a, CALM), (b, CALM), (c, ENERGETIC)):
        for shift in (0, 1):
            track = TrackFactory(artist=artist)
            features_from_vector(track, [v + shift for v in vector[:5]] + vector[5:])
    listing = client.get("/api/artists/").json()
    assert listing["count"] == 3
    assert {"id": a.pk, "name": "Alpha", "tracks": 2} in listing["results"]
    detail = client.get(f"/api/artists/{a.pk}/").json()
    assert detail["tracks"] == 2
    assert next(s["id"] for s in detail["similar_artists"]) == b.pk  # calm like Alpha
    assert a.pk not in [s["id"] for s in detail["similar_artists"]]
