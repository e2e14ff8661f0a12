"""Search that forgives typos and "artist title" queries; the sound filters; unknown parameters."""

import pytest

from catalog.trigrams import similarity, track_score, word_similarity
from tests.factories import ArtistFactory, TrackFactory, features_from_vector
from tests.helpers.world import CALM, LOUD

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf():
    moreau = ArtistFactory(name="Jeanne Moreau")
    grey = ArtistFactory(name="Grey Snowfalls")
    tracks = {
        "linen": TrackFactory(title="Linen Samba", artist=moreau),
        "lonely": TrackFactory(title="Lonely Snowfall", artist=grey),
        "other_lonely": TrackFactory(title="Lonely Snowfall", artist=ArtistFactory(name="Ash")),
        "quiet": TrackFactory(title="Quiet Field", artist=grey),
        "snow": TrackFactory(title="Snow", artist=ArtistFactory(name="Pale Birch")),
    }
    for name, track in tracks.items():
        features_from_vector(track, LOUD if name == "quiet" else CALM)
    return tracks


def titles(client, query: str) -> list[str]:
    response = client.get("/api/tracks/", {"q": query})
    assert response.status_code == 200, response.content
    return [(r["title"], r["artist"]["name"]) for r in response.json()["results"]]


def test_a_typo_in_the_artist_finds_their_tracks(client, shelf):
    assert ("Linen Samba", "Jeanne Moreau") in titles(client, "Morau")
    assert titles(client, "jeane moreau")[0] == ("Linen Samba", "Jeanne Moreau")


def test_artist_plus_title_finds_that_track_first(client, shelf):
    found = titles(client, "grey snowfalls lonely snowfall")
    assert found[0] == ("Lonely Snowfall", "Grey Snowfalls")
    assert ("Quiet Field", "Grey Snowfalls") in found  # the artist's other tracks follow


def test_exact_matches_come_first_and_typos_in_titles_are_forgiven(client, shelf):
    assert titles(client, "snow")[0] == ("Snow", "Pale Birch")
    assert ("Linen Samba", "Jeanne Moreau") in titles(client, "linnen samba")
    assert titles(client, "zzzzqqq") == []


def test_search_parameter_works_and_unknown_parameters_are_a_400(client, shelf):
    assert client.get("/api/tracks/", {"search": "Morau"}).json()["count"] >= 1
    response = client.get("/api/tracks/", {"serach": "x", "colour": "red"})
    assert response.status_code == 400
    assert set(response.json()) == {"serach", "colour"}
    assert client.get("/api/tracks/", {"page": 1, "page_size": 5}).status_code == 200


def test_mood_tempo_and_energy_filters_narrow_the_list(client, shelf):
    everything = client.get("/api/tracks/").json()["count"]
    calm = client.get("/api/tracks/", {"emotion": "calm"}).json()
    assert 0 < calm["count"] < everything
    assert "Quiet Field" not in {r["title"] for r in calm["results"]}
    energetic = client.get("/api/tracks/", {"energy_min": 0.8}).json()["results"]
    assert [r["title"] for r in energetic] == ["Quiet Field"]  # LOUD has energy 0.9, CALM 0.2
    assert client.get("/api/tracks/", {"tempo_min": 100, "tempo_max": 200}).json()["count"] == 1
    assert client.get("/api/tracks/", {"energy_min": 0.9, "energy_max": 0.1}).status_code == 400
    assert client.get("/api/tracks/", {"energy_min": 2}).status_code == 400


def test_the_search_page_filters_and_forgives(client, shelf):
    html = client.get("/search/", {"q": "Morau"}).content.decode()
    assert "Linen Samba" in html
    assert "try fewer words" not in html
    filtered = client.get("/search/", {"mood": "calm"}).content.decode()
    assert "Lonely Snowfall" in filtered
    assert "Quiet Field" not in filtered
    assert client.get("/search/", {"tempo_min": "fast"}).status_code == 200  # a form error


def test_python_trigrams_match_pg_trgm_examples():
    # the documented pg_trgm values: similarity('word', 'two words') = 0.36..., word = 0.8
    assert word_similarity("word", "two words") == pytest.approx(0.8)
    assert similarity("word", "two words") == pytest.approx(4 / 11)
    score, exact = track_score(
        "grey snowfalls lonely snowfall", "lonely snowfall", "grey snowfalls"
    )
    assert exact
    assert score == pytest.approx(1.0)


@pytest.mark.parametrize("query", ["Morau", "grey snowfalls lonely snowfall", "snow"])
def test_sqlite_and_postgres_rank_alike(shelf, query):
    """The Python twin (used on SQLite) puts the same track first as PostgreSQL does."""
    from catalog import search

    database = search.track_search_ids(q=query)
    python = search._python_tracks(search.name_key(query), 300)
    assert database[:1] == python[:1]
