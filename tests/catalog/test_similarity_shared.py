"""The similarity index shared between processes as one mapped file (catalog/similarity/shared.py
and store.py): written once, mapped by every process, never read half-written or damaged."""

import threading

import numpy as np
import pytest

from catalog.audio.description import DESCRIPTION_LENGTH
from catalog.similarity import ann, shared, store
from catalog.similarity.index import SimilarityIndex
from tests.catalog.test_ann import generated_features


def small_index(count: int = 400) -> SimilarityIndex:
    rng = np.random.default_rng(2)
    raw = generated_features(count, seed=2)
    raw[200:220] = raw[0:20]  # the same recordings twice: near-duplicates to leave out
    description = rng.normal(size=(count, DESCRIPTION_LENGTH)).astype(np.float32)
    description[::9] = np.nan  # some tracks analysed by an older extractor
    ids = np.arange(1, count + 1) * 7
    names = [("unknown artist" if i % 13 == 0 else f"a{i % 40}") + f"|t{i % 380}"
             for i in range(count)]  # fmt: skip
    return SimilarityIndex(ids, ids % 40, names, raw, description=description,
                           is_music=rng.random(count) > 0.1)  # fmt: skip


def answers(index: SimilarityIndex) -> list:
    ids = index.track_ids.tolist()
    return [
        [(m.track_id, m.similarity, m.reasons) for t in ids[::5] for m in index.similar(t, 8)],
        index.top_matches(ids[:4], 25, exclude_ids=np.array(ids[4:60])),
        index.seed_matches(ids[:4], ids[::3]),
        [index.similar_artists(a, 5) for a in range(40)],
    ]


def test_a_mapped_index_answers_exactly_as_the_one_it_was_written_from(tmp_path):
    built = small_index()
    path = shared.path_for(tmp_path, "k")
    shared.save(built, path)
    first, second = shared.load(path), shared.load(path)
    assert answers(first) == answers(built)
    # every array is a read-only view of the file, not a copy in the process
    for name in SimilarityIndex.ARRAYS:
        array = getattr(first, name, None)
        if array is None:
            continue
        assert not array.flags.writeable, name
        assert not array.flags.owndata, name
    assert not first.unit.flags.writeable
    assert first.path == second.path == path
    assert first.vectors_digest == ann.vectors_digest(built.track_ids, built.unit)
    assert answers(second) == answers(built)


@pytest.mark.parametrize("damage", ["flip", "truncate", "header"])
def test_a_damaged_file_is_not_used(tmp_path, damage, caplog):
    path = shared.path_for(tmp_path, "k")
    shared.save(small_index(), path)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[-100] ^= 0xFF  # in the data: the size is right, the checksum is not
    elif damage == "truncate":
        data = data[: len(data) // 2]  # what a reader would see of a file written in place
    else:
        data[3] ^= 0xFF
    path.write_bytes(bytes(data))
    assert shared.load(path) is None
    assert "not used" in caplog.text


def test_old_files_are_removed_and_no_temporary_one_is_left(tmp_path):
    index = small_index()
    for key in "abcde":
        shared.save(index, shared.path_for(tmp_path, key))
    assert len(list(tmp_path.glob("index-*.sim"))) == shared.KEEP_FILES
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.fixture
def catalogue(db, settings, tmp_path):
    from tests.factories import TrackFactory, features_from_vector

    settings.DATA_DIR = tmp_path
    raw = generated_features(30, seed=3)
    return [features_from_vector(TrackFactory(), row.tolist()).track for row in raw]


def test_a_second_process_maps_the_file_the_first_wrote(catalogue, tmp_path,
                                                        django_assert_num_queries):  # fmt: skip
    first = store.get_index()
    files = list((tmp_path / "similarity").glob("index-*.sim"))
    assert [first.path] == files
    written = files[0].stat()
    expected = [(m.track_id, m.reasons) for m in first.similar(catalogue[0].pk, 5)]
    store.forget(reread=False)  # as a process starting now: nothing cached, the file is there
    with django_assert_num_queries(2):  # the stamp and the count: no features read
        second = store.get_index()
    assert second is not first
    assert second.path == first.path
    assert files[0].stat().st_ino == written.st_ino  # not written again
    assert files[0].stat().st_mtime_ns == written.st_mtime_ns
    assert [(m.track_id, m.reasons) for m in second.similar(catalogue[0].pk, 5)] == expected


def test_a_new_analysis_gets_a_new_file(catalogue, tmp_path, monkeypatch):
    from tests.factories import TrackFactory, features_from_vector

    monkeypatch.setattr(store, "MIN_REBUILD_SECONDS", 0.0)
    monkeypatch.setattr(store, "CHECK_SECONDS", 0.0)
    first = store.get_index()
    track = TrackFactory()
    features_from_vector(track, generated_features(1, seed=9)[0].tolist())
    grown = store.get_index(wanted_track_id=track.pk)
    assert track.pk in grown
    assert track.pk not in first
    assert grown.path != first.path
    assert len(list((tmp_path / "similarity").glob("index-*.sim"))) == 2


def test_a_damaged_file_is_rebuilt_from_the_database(catalogue, tmp_path):
    first = store.get_index()
    expected = [m.track_id for m in first.similar(catalogue[0].pk, 5)]
    first.path.write_bytes(first.path.read_bytes()[:-64])
    store.forget(reread=False)
    again = store.get_index()
    assert again.path == first.path
    assert shared.load(again.path) is not None
    assert [m.track_id for m in again.similar(catalogue[0].pk, 5)] == expected


def test_an_unwritable_folder_leaves_each_process_its_own_index(catalogue, settings, tmp_path,
                                                               caplog):  # fmt: skip
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    settings.DATA_DIR = blocked  # DATA_DIR/similarity cannot be made
    index = store.get_index()
    assert index.path is None
    assert len(index) == len(catalogue)
    assert "not shared" in caplog.text
    assert len(index.similar(catalogue[0].pk, 5)) == 5


def test_a_file_older_than_the_maximum_age_is_built_again(catalogue):
    import os

    first = store.get_index()
    old = first.path.stat().st_mtime - store.MAX_AGE_SECONDS - 1
    os.utime(first.path, (old, old))  # as if written long ago: titles may have been edited since
    store.forget(reread=False)
    again = store.get_index()
    assert again.path == first.path
    assert again.identity != first.identity
    assert again.path.stat().st_mtime > old + store.MAX_AGE_SECONDS


@pytest.mark.django_db(transaction=True)  # the refresh thread reads through its own connection
def test_a_large_index_is_refreshed_behind_requests_which_never_wait_for_it(
    settings, tmp_path, monkeypatch
):
    from tests.factories import TrackFactory, features_from_vector

    settings.DATA_DIR = tmp_path
    settings.MUSICREC_SIMILARITY_REFRESH_BEHIND_TRACKS = 20  # "large" for this test
    monkeypatch.setattr(store, "CHECK_SECONDS", 0.0)
    for row in generated_features(30, seed=4):
        features_from_vector(TrackFactory(), row.tolist())
    store.forget()
    release = threading.Event()
    try:
        first = store.get_index()  # none yet: this call builds it
        track = TrackFactory()
        features_from_vector(track, generated_features(1, seed=11)[0].tolist())
        built = store.build_index

        def slow_build(*args, **kwargs):  # the rebuild waits until the test has asked again
            assert release.wait(30)
            return built(*args, **kwargs)

        monkeypatch.setattr(store, "build_index", slow_build)
        # the new track is asked about: the old index answers at once, the rebuild runs behind
        assert store.get_index(wanted_track_id=track.pk) is first
        assert store.get_index(wanted_track_id=track.pk) is first  # one refresh, not two
        running = store._state["refreshing"]
        assert running is not None
        assert running.is_alive()
        release.set()
        assert store.wait_for_refresh(30)
        grown = store.get_index(wanted_track_id=track.pk)
        assert grown is not first
        assert track.pk in grown
        assert [m.track_id for m in grown.similar(track.pk, 3)]
    finally:
        release.set()
        store.forget()


@pytest.mark.django_db(transaction=True)
def test_below_the_size_the_request_that_finds_it_stale_rebuilds_it(settings, tmp_path,
                                                                    monkeypatch):  # fmt: skip
    from tests.factories import TrackFactory, features_from_vector

    settings.DATA_DIR = tmp_path
    settings.MUSICREC_SIMILARITY_REFRESH_BEHIND_TRACKS = 1_000
    monkeypatch.setattr(store, "CHECK_SECONDS", 0.0)
    for row in generated_features(30, seed=5):
        features_from_vector(TrackFactory(), row.tolist())
    store.forget()
    try:
        first = store.get_index()
        track = TrackFactory()
        features_from_vector(track, generated_features(1, seed=12)[0].tolist())
        grown = store.get_index(wanted_track_id=track.pk)
        assert grown is not first
        assert track.pk in grown
        assert store._state["refreshing"] is None
    finally:
        store.forget()
