"""'Similar sounding': the pure index, then the endpoint on analysed audio."""

import numpy as np
import pytest

from catalog.audio.names import FEATURE_NAMES
from catalog.similarity import SimilarityIndex
from tests.factories import ArtistFactory, TrackFactory, features_from_vector
from tests.helpers import audio

BASE = [-250.0, 90.0, -10.0, 30.0, -5.0, 120.0, 0.7, 0.6, -12.0, 2000.0, 0.4, 0.3, 0, 0, 0, 0]


SHORT = {"m1": "mfcc_1", "m2": "mfcc_2", "m3": "mfcc_3", "m4": "mfcc_4", "m5": "mfcc_5",
         "beat": "beat_strength", "centroid": "spectral_centroid",
         "rolloff": "spectral_rolloff", "bandwidth": "spectral_bandwidth"}  # fmt: skip


def vector(**changes) -> list[float]:
    values = dict(zip(FEATURE_NAMES, BASE, strict=True))
    values.update({SHORT.get(name, name): value for name, value in changes.items()})
    return [float(values[n]) for n in FEATURE_NAMES]


def catalogue(vectors, artists=None, names=None):
    n = len(vectors)
    rng = np.random.default_rng(0)
    raw = np.array(vectors, dtype=float)
    # a background catalogue so robust scaling has a spread to measure
    background = np.array([vector(m1=-250 + rng.normal(0, 40), m2=90 + rng.normal(0, 20),
                                  tempo=rng.uniform(70, 170), beat=rng.uniform(0.3, 0.9),
                                  energy=rng.uniform(0.2, 0.9), loudness=rng.uniform(-30, -6),
                                  centroid=rng.uniform(800, 4000), rolloff=rng.uniform(0.1, 0.7),
                                  bandwidth=rng.uniform(0.1, 0.5), calm=int(rng.random() < 0.3),
                                  happy=int(rng.random() < 0.4))
                           for _ in range(60)])  # fmt: skip
    raw = np.vstack([raw, background])
    ids = np.arange(1, len(raw) + 1)
    artist_ids = np.array((artists or list(range(1000, 1000 + n))) + list(range(2000, 2060)))
    keys = (names or [f"a{i}|t{i}" for i in range(n)]) + [f"bg|{i}" for i in range(60)]
    return SimilarityIndex(ids, artist_ids, keys, raw)


def test_the_seed_is_never_in_its_own_list():
    index = catalogue([vector(), vector(m1=-240)])
    results = index.similar(1, 50)
    assert 1 not in [m.track_id for m in results]
    assert results[0].track_id == 2
    assert all(0.0 <= m.similarity <= 1.0 for m in results)


def test_scaling_stops_the_centroid_from_deciding_alone():
    # Track 2 differs from the seed only in brightness (1600 Hz of centroid, inside the
    # catalogue's spread of 800-4000 Hz); track 3 keeps the seed's large raw values (centroid,
    # MFCC 1) but has another timbre, tempo, dynamics and mood. A raw cosine prefers 3; we 2.
    seed = vector()
    near = vector(centroid=3600)
    unlike = vector(
        m2=10,
        m3=40,
        m4=-20,
        m5=25,
        tempo=75,
        beat=0.2,
        energy=0.1,
        loudness=-35,
        rolloff=0.1,
        bandwidth=0.1,
        sad=1,
        calm=1,
    )
    index = catalogue([seed, near, unlike])
    raw = np.array([seed, near, unlike])
    raw_cosine = raw @ raw[0] / np.linalg.norm(raw, axis=1) / np.linalg.norm(raw[0])
    assert raw_cosine[2] > raw_cosine[1]  # the trap is real
    ranked = [m.track_id for m in index.similar(1, 60)]
    assert ranked.index(2) < ranked.index(3)


def test_tempo_compares_octave_folded():
    index = catalogue([vector(tempo=70), vector(tempo=140), vector(tempo=105)])
    similarity = {m.track_id: m.similarity for m in index.similar(1, 60)}
    assert similarity[2] > similarity[3]  # 70 and 140 are closer than 70 and 105


def test_at_most_two_per_artist():
    vectors = [vector()] + [vector(m1=-250 - 8 * i) for i in range(1, 6)]
    artists = [1, 7, 7, 7, 7, 8]
    index = catalogue(vectors, artists=artists)
    results = [m.track_id for m in index.similar(1, 10)]
    assert sum(1 for t in results if t in (2, 3, 4, 5)) == 2


def test_near_duplicates_are_dropped():
    vectors = [vector(), vector(m1=-250.2), vector(m1=-244), vector(m1=-242)]
    # 2: another encoding (features within 0.02 sigma); 3: same artist and title; 4: distinct
    names = ["x|song", "y|copy", "x|song", "z|other"]
    index = catalogue(vectors, names=names)
    results = [m.track_id for m in index.similar(1, 3)]
    assert 2 not in results
    assert 3 not in results
    assert 4 in results


def test_reasons_name_the_closest_aspects():
    index = catalogue([vector(calm=1, tempo=90), vector(calm=1, tempo=91, m1=-244)])
    match = index.similar(1, 1)[0]
    assert "similar tempo" in match.reasons
    assert "same mood: calm" in match.reasons
    assert 1 <= len(match.reasons) <= 3


def test_a_track_without_features_has_no_neighbours():
    index = catalogue([vector()])
    assert index.similar(999, 10) == []


@pytest.mark.django_db
def test_endpoint_finds_the_same_style_for_an_unplayed_track(client, imported_track):
    calm = [imported_track(audio.progression("minor", bpm=66 + i, level=0.08, percussive=False,
                                             tonic_hz=220 + 3 * i), name=f"calm{i}.flac")
            for i in range(3)]  # fmt: skip
    loud = [imported_track(audio.progression("major", bpm=150 + i, level=0.9, percussive=True,
                                             bright=True, tonic_hz=262 + 3 * i),
                           name=f"loud{i}.flac")
            for i in range(3)]  # fmt: skip
    body = client.get(f"/api/tracks/{calm[0].pk}/similar/?n=2").json()
    assert body["track_id"] == calm[0].pk
    assert body["source"] == "audio_features"
    assert body["analysis_status"] == "done"
    assert {r["track"]["id"] for r in body["results"]} == {calm[1].pk, calm[2].pk}
    first = body["results"][0]
    assert set(first) == {"track", "similarity", "reasons"}
    assert first["reasons"]
    assert body["results"][0]["similarity"] >= body["results"][1]["similarity"]
    far = client.get(f"/api/tracks/{loud[0].pk}/similar/?n=5").json()["results"]
    assert [r["track"]["id"] for r in far][:2] == sorted(
        [r["track"]["id"] for r in far][:2], key=lambda i: i not in {loud[1].pk, loud[2].pk}
    )
    assert {r["track"]["id"] for r in far[:2]} == {loud[1].pk, loud[2].pk}


@pytest.mark.django_db
def test_endpoint_without_features_says_why(client):
    track = TrackFactory(status="failed", error_code="silent")
    body = client.get(f"/api/tracks/{track.pk}/similar/").json()
    assert body == {
        "track_id": track.pk,
        "source": "audio_features",
        "analysis_status": "failed",
        "results": [],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("n", ["0", "101", "ten", "-3"])
def test_n_out_of_bounds_is_400(client, n):
    track = TrackFactory()
    response = client.get(f"/api/tracks/{track.pk}/similar/?n={n}")
    assert response.status_code == 400
    assert "n" in response.json()


@pytest.mark.django_db
def test_index_is_rebuilt_when_features_change(client):
    artist = ArtistFactory()
    seed = TrackFactory(artist=artist)
    features_from_vector(seed, vector())
    first = TrackFactory()
    features_from_vector(first, vector(m1=-260))
    assert [r["track"]["id"] for r in client.get(f"/api/tracks/{seed.pk}/similar/").json()[
        "results"]] == [first.pk]  # fmt: skip
    newcomer = TrackFactory()
    features_from_vector(newcomer, vector(m1=-251))  # new track: closer than `first`
    results = client.get(f"/api/tracks/{newcomer.pk}/similar/").json()["results"]
    assert {r["track"]["id"] for r in results} == {seed.pk, first.pk}


@pytest.mark.django_db
def test_a_deleted_track_drops_out_of_similar_lists(client):
    seed = TrackFactory()
    features_from_vector(seed, vector())
    gone, kept = TrackFactory(), TrackFactory()
    features_from_vector(gone, vector(m1=-245))
    features_from_vector(kept, vector(m1=-240))
    first = client.get(f"/api/tracks/{seed.pk}/similar/").json()["results"]
    assert {r["track"]["id"] for r in first} == {gone.pk, kept.pk}
    gone.delete()  # the index is not rebuilt for a deletion, but answers come from the database
    after = client.get(f"/api/tracks/{seed.pk}/similar/").json()["results"]
    assert [r["track"]["id"] for r in after] == [kept.pk]


def test_top_matches_scores_only_candidates_and_never_a_seed():
    rng = np.random.default_rng(3)
    raw = [vector(m1=-250 + rng.normal(0, 40), tempo=rng.uniform(70, 170),
                  centroid=rng.uniform(800, 4000)) for _ in range(40)]  # fmt: skip
    index = catalogue(raw)
    seeds, excluded = [1, 2, 3], np.array([4, 5, 6, 7, 8, 9, 10, 2])
    found = index.top_matches(seeds, 10, exclude_ids=excluded, exclude_key="v1")
    # brute force over every row: best cosine to any seed, seeds and excluded left out
    unit = index.unit
    seed_rows = [index.row_of[s] for s in seeds]
    expected = []
    for row, track_id in enumerate(index.track_ids.tolist()):
        if track_id in seeds or track_id in excluded:
            continue
        scores = unit[seed_rows] @ unit[row]
        expected.append((track_id, float(scores.max()), seeds[int(scores.argmax())]))
    expected.sort(key=lambda item: -item[1])
    assert [t for t, _, _ in found] == [t for t, _, _ in expected[:10]]
    assert [s for _, _, s in found] == [s for _, _, s in expected[:10]]
    for (_, similarity, _), (_, cosine, _) in zip(found, expected, strict=False):
        assert similarity == pytest.approx((1 + cosine) / 2, abs=1e-5)
    # the candidate rows are kept per key: a new key (a new model) recomputes them
    assert index.top_matches(seeds, 10, exclude_ids=excluded, exclude_key="v1") == found
    everything_else = np.setdiff1d(index.track_ids, [found[0][0]])
    again = index.top_matches(seeds, 10, exclude_ids=everything_else, exclude_key="v2")
    assert [t for t, _, _ in again] == [found[0][0]]


def test_top_matches_when_only_seeds_remain():
    index = catalogue([vector(), vector(m1=-240)])
    others = index.track_ids[2:]
    assert index.top_matches([1, 2], 5, exclude_ids=others, exclude_key=None) == []


@pytest.mark.parametrize("rows", [500, 30_000])
def test_bounded_scores_follow_the_catalogue_rank_within_the_bound(rows):
    # exact mean ranks below 20,000 rows; above, ranks against a fixed sample, tabulated
    from scipy.special import ndtri
    from scipy.stats import rankdata

    from catalog.similarity.embedding import BOUND, bounded

    rng = np.random.default_rng(1)
    columns = np.column_stack([rng.lognormal(0, 2, rows), rng.random(rows) < 0.2])
    scores = bounded(columns)
    assert np.abs(scores).max() <= BOUND
    exact = np.clip(ndtri((rankdata(columns, axis=0) - 0.5) / rows), -BOUND, BOUND)
    assert np.abs(scores - exact).max() < 0.05
    # a value far outside the catalogue is only "the highest", not many sigmas away
    columns[0, 0] = 1e9
    assert bounded(columns)[0, 0] == pytest.approx(BOUND)


def test_a_catalogue_without_descriptions_is_compared_as_by_the_16_numbers():
    """Before `analyse --all` no track has a description: the same vectors as without any."""
    from catalog.audio.description import DESCRIPTION_LENGTH
    from catalog.similarity.embedding import embed

    raw = np.random.default_rng(3).normal(size=(30, len(FEATURE_NAMES)))
    raw[:, 5] = np.abs(raw[:, 5]) * 40 + 60  # tempo in BPM
    missing = np.full((30, DESCRIPTION_LENGTH), np.nan, dtype=np.float32)
    np.testing.assert_allclose(embed(raw, missing).unit, embed(raw).unit, atol=1e-6)
    described = missing.copy()
    described[0] = 0.5  # one described track: the measured group weights apply
    assert not np.allclose(embed(raw, described).unit[1:], embed(raw).unit[1:], atol=1e-6)
