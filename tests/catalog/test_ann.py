"""The nearest-neighbour graph behind "similar sounding" at scale (catalog/similarity/ann.py):
recall against the exact scan, incremental upkeep, the exact fallback, and the index using it."""

import copy

import numpy as np
import pytest

from catalog.similarity import ann
from catalog.similarity.ann import Neighbours, recall_at
from catalog.similarity.index import SimilarityIndex

TRACKS = 12_000
SHARED = {"min_tracks": 1_000}


def generated_features(count: int, seed: int = 1) -> np.ndarray:
    """Raw features (FEATURE_NAMES order) spread like bench/populate.py's catalogue."""
    rng = np.random.default_rng(seed)
    mfcc = rng.normal([-250, 90, -10, 30, -5], [60, 30, 20, 15, 10], size=(count, 5))
    uniform = [rng.uniform(low, high, count) for low, high in
               ((60, 200), (0, 1), (0, 1), (-40, -5), (500, 5000), (0, 1), (0, 0.6))]  # fmt: skip
    moods = (rng.random((count, 4)) < [0.35, 0.3, 0.3, 0.3]).astype(float)
    return np.column_stack([mfcc, *uniform, moods])


def generated_index(count: int = TRACKS) -> SimilarityIndex:
    ids = np.arange(1, count + 1) * 3  # track ids are not row numbers
    return SimilarityIndex(ids, ids // 60, [f"a{i // 20}|t{i}" for i in range(count)],
                           generated_features(count))  # fmt: skip


@pytest.fixture(scope="module")
def catalogue():
    index = generated_index()
    graph = Neighbours.build(index.track_ids, index.unit, approximate=True)
    return index, graph


def test_recall_at_10_against_the_exact_scan(catalogue):
    index, graph = catalogue
    assert graph.approximate
    queries = np.random.default_rng(2).choice(len(index), 300, replace=False)
    assert recall_at(graph, queries) >= 0.95


def test_similarities_are_exact_for_what_the_graph_finds(catalogue):
    index, graph = catalogue
    row = 17
    found = list(zip(range(10), graph.ranked(index.unit[row], want=10), strict=False))
    for _, (candidate, score) in found:
        assert score == pytest.approx(float(index.unit[candidate] @ index.unit[row]), abs=1e-5)
    scores = [score for _, (_, score) in found]
    assert scores == sorted(scores, reverse=True)
    assert found[0][1][0] == row  # a track is its own nearest neighbour


def test_incremental_upkeep_adds_moves_and_removes_without_a_rebuild(catalogue):
    index, _ = catalogue
    first = 10_000
    graph = Neighbours.build(index.track_ids[:first], index.unit[:first], approximate=True)
    unit = index.unit.copy()
    unit[5] = unit[900]  # track 5 re-analysed: now sounds like track 900
    keep = np.ones(len(unit), dtype=bool)
    keep[[7, 8]] = False  # two tracks deleted
    fresh = graph.refreshed(index.track_ids[keep], unit[keep], min_tracks=1_000)
    assert fresh.graph is graph.graph  # the same graph, brought up to date
    assert fresh.changes == {"added": len(unit) - first, "moved": 1, "removed": 2}
    assert len(fresh.graph) == keep.sum()
    rows = fresh.track_ids
    # a track added after the build is found as its own nearest neighbour
    new = int(np.searchsorted(rows, index.track_ids[first + 50]))
    assert next(iter(fresh.ranked(fresh.unit[new], want=5)))[0] == new
    # the moved track is found where it sounds now
    moved_row = int(np.searchsorted(rows, index.track_ids[5]))
    row_900 = int(np.searchsorted(rows, index.track_ids[900]))
    nearest = [found for found, _ in zip(fresh.ranked(fresh.unit[moved_row], want=5), range(2),
                                         strict=False)]  # fmt: skip
    assert {row for row, _ in nearest} == {moved_row, row_900}
    # deleted tracks never come back
    everything = fresh._nearest(fresh.unit[:50], 200)
    assert not np.isin(fresh.track_ids[everything[everything >= 0]], index.track_ids[[7, 8]]).any()
    queries = np.random.default_rng(3).choice(len(rows), 200, replace=False)
    assert recall_at(fresh, queries) >= 0.95


def test_small_catalogues_are_searched_exactly(tmp_path):
    small = generated_index(2_000)
    neighbours = ann.follow(small.track_ids, small.unit, None, min_tracks=5_000, folder=tmp_path)
    assert not neighbours.approximate
    scores = small.unit @ small.unit[3]
    expected = np.argsort(-scores, kind="stable")[:20].tolist()
    got = [row for row, _ in zip(neighbours.ranked(small.unit[3], want=20), range(20),
                                 strict=False)]  # fmt: skip
    assert [row for row, _ in got] == expected
    # crossing the threshold builds a graph; falling below it drops it again
    grown = neighbours.refreshed(small.track_ids, small.unit, min_tracks=1_000)
    assert grown.approximate
    assert not grown.refreshed(small.track_ids, small.unit, min_tracks=5_000).approximate
    assert not list(tmp_path.iterdir())  # no graph file for an exact search


def test_the_index_serves_the_same_lists_through_the_graph(catalogue):
    index, graph = catalogue
    exact = generated_index()
    index.neighbours = graph
    overlap, total = 0, 0
    for track_id in index.track_ids[:: len(index) // 40].tolist():
        fast = [m.track_id for m in index.similar(track_id, 10)]
        slow = [m.track_id for m in exact.similar(track_id, 10)]
        assert track_id not in fast
        assert len(fast) == 10
        overlap, total = overlap + len(set(fast) & set(slow)), total + 10
    assert overlap / total >= 0.95
    # "sounds like": tracks outside the model (half the catalogue), nearest to any seed
    excluded = index.track_ids[::2]
    seeds = index.track_ids[1:40:8].tolist()
    fast = index.top_matches(seeds, 20, exclude_ids=excluded, exclude_key="model 1")
    slow = exact.top_matches(seeds, 20, exclude_ids=excluded, exclude_key="model 1")
    assert not {t for t, _, _ in fast} & (set(excluded.tolist()) | set(seeds))
    assert len({t for t, _, _ in fast} & {t for t, _, _ in slow}) >= 19
    for (_, fast_similarity, _), (_, slow_similarity, _) in zip(fast, slow, strict=True):
        assert fast_similarity == pytest.approx(slow_similarity, abs=0.02)


def test_processes_share_one_graph_file_and_follow_analyses(catalogue, tmp_path):
    index, _ = catalogue
    first = len(index) - 200
    one = ann.follow(index.track_ids[:first], index.unit[:first], None, **SHARED, folder=tmp_path)
    assert one.approximate
    assert one.path is not None  # mapped read-only from the shared file
    # another process with the same tracks maps the same file: nothing is built
    other = ann.follow(index.track_ids[:first], index.unit[:first], None, **SHARED, folder=tmp_path)
    assert other.path == one.path
    assert other.changes == {}
    # 200 tracks analysed: the mapped graph is copied, takes them in, and is shared again
    grown = ann.follow(index.track_ids, index.unit, one, **SHARED, folder=tmp_path)
    assert grown.changes == {"added": 200, "moved": 0, "removed": 0}
    assert grown.path != one.path
    assert len(grown.graph) == len(index)
    queries = np.random.default_rng(4).choice(len(index), 200, replace=False)
    assert recall_at(grown, queries) >= 0.95
    # a process starting late begins from the newest file, not from nothing
    late = ann.follow(index.track_ids, index.unit, None, **SHARED, folder=tmp_path)
    assert late.path == grown.path
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({one.path.name, grown.path.name})


@pytest.mark.django_db
def test_the_served_index_uses_the_graph_and_takes_analyses_in(client, settings, tmp_path,
                                                                 monkeypatch):  # fmt: skip
    from catalog.similarity import store
    from tests.factories import TrackFactory, features_from_vector

    settings.MUSICREC_ANN_MIN_TRACKS = 30
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(store, "MIN_REBUILD_SECONDS", 0.0)
    monkeypatch.setattr(store, "CHECK_SECONDS", 0.0)
    raw = generated_features(41, seed=5)
    tracks = [TrackFactory() for _ in range(41)]
    for track, row in zip(tracks[:40], raw[:40], strict=True):
        features_from_vector(track, row.tolist())
    seed = tracks[0]
    results = client.get(f"/api/tracks/{seed.pk}/similar/?n=5").json()["results"]
    index = store.get_index()
    assert index.neighbours.approximate
    assert len(index.neighbours.graph) == 40
    scan = copy.copy(index)  # the same arrays, searched by a scan of them
    scan.neighbours = Neighbours(index.track_ids, index.unit)
    exact = [m.track_id for m in scan.similar(seed.pk, 5)]
    assert [r["track"]["id"] for r in results] == exact
    files = list((tmp_path / "similarity").glob("ann-*.usearch"))
    assert len(files) == 1
    # an analysis finishes: the worker's hook folds the track into the graph, one insertion
    features_from_vector(tracks[40], raw[40].tolist())
    store.after_analysis()
    grown = store.get_index()
    assert grown.neighbours.changes["added"] == 1
    assert tracks[40].pk in grown.neighbours.track_ids
    assert len(list((tmp_path / "similarity").glob("ann-*.usearch"))) == 2
    answer = client.get(f"/api/tracks/{tracks[40].pk}/similar/?n=5")
    assert answer.status_code == 200
    assert len(answer.json()["results"]) == 5


def test_through_the_graph_music_is_only_similar_to_music():
    count = 3_000
    ids = np.arange(1, count + 1)
    music = np.random.default_rng(4).random(count) > 0.1  # about 300 tracks of speech and such
    index = SimilarityIndex(ids, ids, [f"a{i}|t{i}" for i in range(count)],
                            generated_features(count, seed=4), is_music=music)  # fmt: skip
    index.neighbours = Neighbours.build(index.track_ids, index.unit, approximate=True)
    kind = dict(zip(ids.tolist(), music.tolist(), strict=True))
    for seed in (int(ids[music][0]), int(ids[~music][0])):
        found = index.similar(seed, 10)
        assert len(found) == 10
        assert {kind[m.track_id] for m in found} == {kind[seed]}
    seeds = ids[music][:3].tolist()
    picks = index.top_matches(seeds, 20, exclude_ids=np.zeros(0, np.int64))
    assert len(picks) == 20
    assert all(kind[t] for t, _, _ in picks)
    mixed = [*seeds, int(ids[~music][0])]  # seeds of both kinds: each candidate its own kind's
    for track, _, seed in index.top_matches(mixed, 20, exclude_ids=np.zeros(0, np.int64)):
        assert kind[track] == kind[seed]


def test_the_graph_keeps_half_precision_vectors_and_leaves_a_full_precision_one_behind(
    catalogue, tmp_path, monkeypatch
):
    index, _ = catalogue
    ids, unit = index.track_ids[:3_000], index.unit[:3_000]
    monkeypatch.setattr(ann, "GRAPH_DTYPE", "f32")  # a graph written before the change
    old = ann.follow(ids, unit, None, folder=tmp_path, **SHARED)
    assert str(old.graph.dtype).endswith("F32")
    old_size = old.path.stat().st_size
    monkeypatch.setattr(ann, "GRAPH_DTYPE", "f16")
    moved = unit.copy()
    moved[0] = unit[1]  # a new matrix: the f32 file is not its file, nor a base for it
    fresh = ann.follow(ids, moved, None, folder=tmp_path, **SHARED)
    assert str(fresh.graph.dtype).endswith("F16")  # built anew, not grown from the f32 one
    assert [p.name.split("-")[1] for p in tmp_path.glob("ann-*.usearch")] == ["f16"]
    assert old_size > 1.4 * fresh.path.stat().st_size  # the vectors in half the bytes
    queries = np.arange(0, 3_000, 50)
    assert recall_at(fresh, queries) >= 0.95
