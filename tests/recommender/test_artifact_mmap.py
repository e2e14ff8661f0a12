"""A model artifact mapped from its file (shared by every web process) answers as one read in."""

import numpy as np

from recommender.engine import artifact as artifacts
from recommender.engine.model import FactorModel


def test_a_mapped_artifact_serves_the_same_answers(tmp_path):
    rng = np.random.default_rng(0)
    users, tracks = 40, 900
    saved = artifacts.Artifact(
        user_factors=rng.normal(size=(users, 8)).astype(np.float32),
        item_factors=rng.normal(size=(tracks, 8)).astype(np.float32),
        user_ids=np.arange(users) + 10,
        track_ids=np.arange(tracks) * 7 + 3,
        item_users=rng.integers(0, 50, tracks),
        params={"factors": 8, "regularization": 0.05, "alpha": 5.0},
    )
    path = tmp_path / "model.npz"
    artifacts.save(path, saved)
    read = FactorModel(artifacts.load(path))
    mapped_artifact = artifacts.load(path, mmap=True)
    for name in ("user_factors", "item_factors", "track_ids", "item_users"):
        array = getattr(mapped_artifact, name)
        base = array.base if isinstance(array.base, np.memmap) else array.base.base
        assert isinstance(base, np.memmap)  # a map of the file, not a copy
        assert base.mode == "c"  # pages stay the file's until written (nothing writes them)
        assert np.array_equal(array, getattr(saved, name))
    mapped = FactorModel(mapped_artifact)
    assert mapped.column_of(3 + 7 * 5) == 5
    assert mapped.column_of(4) is None
    assert mapped.column_of(10**9) is None
    wanted = [4, 3 + 7 * 5, 10**9, 3, 0]  # the batch answers as the single lookups do
    expected = [c if c is not None else -1 for c in map(mapped.column_of, wanted)]
    assert mapped.columns_of(wanted).tolist() == expected
    assert read.columns_of(wanted).tolist() == expected
    row = mapped.user_row(np.array([5, 9, 300]), np.array([3.0, 1.0, 2.0]))
    for user_id in (10, 25, None):
        vector_read = read.user_vector(user_id, row, recalculate=user_id is None)
        vector_mapped = mapped.user_vector(user_id, row, recalculate=user_id is None)
        assert np.allclose(vector_read, vector_mapped)
        top_read = np.argsort(-read.scores(vector_read))[:20]
        assert np.array_equal(top_read, np.argsort(-mapped.scores(vector_mapped))[:20])
    assert read.explain_many(row, [1, 2]) == mapped.explain_many(row, [1, 2])
