"""The pure engine: confidence, matrix, training orientation, evaluation, artifacts."""

import math

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from recommender.engine import artifact as artifacts
from recommender.engine.confidence import CLIP_AT, confidence_values, strength
from recommender.engine.evaluation import ranking_metrics, split_by_time, top_by_factors
from recommender.engine.matrix import Interactions, build_matrix
from recommender.engine.model import FactorModel
from recommender.engine.pipeline import evaluate, matrix_for
from recommender.engine.trainer import ImplicitAlsTrainer, Params
from tests.helpers.als import implicit_best_contributor


def interactions(users, tracks, completed, partial=None, skips=None, liked=None, disliked=None,
                 times=None):  # fmt: skip
    n = len(users)
    zeros = np.zeros(n, dtype=np.int64)
    return Interactions(
        user_ids=np.array(users, dtype=np.int64),
        track_ids=np.array(tracks, dtype=np.int64),
        completed=np.array(completed, dtype=np.int64),
        partial=zeros if partial is None else np.array(partial),
        skips=zeros if skips is None else np.array(skips),
        last_listened=np.arange(n, dtype=np.float64) + 1 if times is None else np.array(times),
        liked=np.zeros(n, bool) if liked is None else np.array(liked),
        disliked=np.zeros(n, bool) if disliked is None else np.array(disliked),
    )


def test_confidence_on_a_hand_checked_case():
    # 4 completed + 2 partial - 1 skip + like = 4 + 1 - 1 + 3 = 7; log1p(7) = 2.0794
    value = confidence_values([4], [2], [1], [True], [False], alpha=10.0, function="log")
    assert value[0] == pytest.approx(1 + 10 * math.log(8), rel=1e-6)
    # more skips than plays: preference 0 with confidence 1 + alpha f(net skips)
    value = confidence_values([1], [0], [3], [False], [False], alpha=2.0, function="linear")
    assert value[0] == pytest.approx(-(1 + 2 * 2))
    # as many skips as plays: neutral but heard
    assert confidence_values([2], [0], [2], [False], [False], alpha=5.0, function="log")[0] == -1
    # a dislike is negative whatever was played, at least as strong as five skips
    value = confidence_values([9], [0], [0], [False], [True], alpha=1.0, function="linear")
    assert value[0] == pytest.approx(-(1 + 5))


@pytest.mark.parametrize(
    ("function", "r", "expected"),
    [("log", 3.0, math.log(4)), ("linear", 3.0, 3.0), ("clipped", 1e5, CLIP_AT),
     ("clipped", 3.0, 3.0), ("binary", 250.0, 1.0)],
)  # fmt: skip
def test_each_strength_function(function, r, expected):
    assert strength(np.array([r]), function)[0] == pytest.approx(expected)


def test_a_heavy_tail_is_tamed_by_log():
    heavy = confidence_values([100_000], [0], [0], [False], [False], alpha=5.0, function="log")
    light = confidence_values([10], [0], [0], [False], [False], alpha=5.0, function="log")
    assert heavy[0] / light[0] < 5  # 10,000x the plays, under 5x the confidence


def test_ids_with_gaps_map_to_dense_rows_and_columns():
    data = interactions(users=[1000, 5, 1000, 77], tracks=[99, 3, 3, 42], completed=[1, 2, 3, 4])
    matrix = build_matrix(data, data.completed.astype(float))
    assert matrix.shape == (3, 3)
    assert list(matrix.user_ids) == [5, 77, 1000]
    assert list(matrix.track_ids) == [3, 42, 99]
    dense = matrix.user_items.toarray()
    assert dense[matrix.row_of(1000), matrix.column_of(99)] == 1
    assert dense[matrix.row_of(1000), matrix.column_of(3)] == 3
    assert dense[matrix.row_of(77), matrix.column_of(42)] == 4
    assert matrix.row_of(6) is None
    assert matrix.nnz == 4


def planted_world(seed=0, users=60, items=40):
    """Two groups of listeners; each plays only its half of the catalogue."""
    rng = np.random.default_rng(seed)
    rows, cols, counts = [], [], []
    for u in range(users):
        half = range(0, items // 2) if u < users // 2 else range(items // 2, items)
        for i in rng.choice(list(half), size=8, replace=False):
            rows.append(u * 3 + 1)  # ids with gaps
            cols.append(int(i) * 7 + 2)
            counts.append(int(rng.integers(1, 6)))
    return interactions(rows, cols, counts, times=rng.uniform(0, 1e6, len(rows)))


def test_orientation_a_user_gets_tracks_of_their_own_group():
    data = planted_world()
    # two factors: the planted world has rank two (more would fit noise on 60 listeners)
    params = Params(factors=2, iterations=15, regularization=0.1, alpha=5.0)
    matrix = matrix_for(data, params)
    factors = ImplicitAlsTrainer().train(matrix.user_items, params)
    assert factors.user_factors.shape == (60, 2)  # users x factors: the matrix was users x items
    assert factors.item_factors.shape == (40, 2)
    first_half = {int(t) for t in matrix.track_ids if (t - 2) // 7 < 20}
    for row, user in enumerate(matrix.user_ids):
        scores = factors.item_factors @ factors.user_factors[row]
        heard = matrix.user_items[row].indices
        scores[heard] = -np.inf
        top = [int(matrix.track_ids[c]) for c in np.argsort(-scores)[:5]]
        in_group = user < 90  # users 1..88 are the first group
        assert all((t in first_half) == in_group for t in top), (user, top)


def test_evaluation_metrics_by_hand():
    train = csr_matrix(np.array([[1, 0, 0, 0, 0, 0]], dtype=np.float32))
    from recommender.engine.evaluation import Split

    split = Split(train=train, users=np.array([0]), held_out=[np.array([2, 5])])
    # ranking (after removing item 0): 2, 3, 5, 1, 4 -> hits at ranks 1 and 3
    # ranking by these scores, item 0 (seen) left out: 2, 3, 5, 1, 4 -> hits at ranks 1 and 3
    factors = np.array([[10.0], [1.0], [9.0], [8.0], [0.5], [7.0]])
    metrics = ranking_metrics(
        lambda rows, seen: top_by_factors(factors, np.ones((1, 1)), seen, 3), split, k=3
    )
    assert metrics.precision == pytest.approx(2 / 3)
    assert metrics.map == pytest.approx((1 / 1 + 2 / 3) / 2)
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    idcg = 1 / math.log2(2) + 1 / math.log2(3)
    assert metrics.ndcg == pytest.approx(dcg / idcg)


def test_a_catalogue_smaller_than_k_is_scored():
    from recommender.engine.evaluation import Split

    train = csr_matrix(np.array([[1, 0, 0, 0]], dtype=np.float32))
    split = Split(train=train, users=np.array([0]), held_out=[np.array([3])])
    factors = np.array([[4.0], [1.0], [2.0], [3.0]])
    metrics = ranking_metrics(
        lambda rows, seen: top_by_factors(factors, np.ones((1, 1)), seen, 10), split, k=10
    )
    assert metrics.precision == pytest.approx(1 / 10)
    assert metrics.ndcg == pytest.approx(1.0)


def test_split_holds_out_the_most_recent_liked_tracks():
    data = interactions(users=[1] * 10, tracks=list(range(10)), completed=[1] * 10,
                        times=[float(t) for t in range(10)])  # fmt: skip
    matrix = build_matrix(data, np.ones(10))
    split = split_by_time(matrix.user_items, matrix.times, holdout=0.2)
    assert [list(h) for h in split.held_out] == [[8, 9]]
    assert split.train.nnz == 8


def test_als_beats_popularity_on_the_planted_world():
    data = planted_world(seed=3, users=80)
    params = Params(factors=8, regularization=0.1, alpha=5.0)
    result = evaluate(matrix_for(data, params), params, ImplicitAlsTrainer())
    assert result.n_users == 80
    assert result.als.ndcg > 1.5 * result.popularity.ndcg


def test_artifact_round_trip_and_scoring(tmp_path):
    data = planted_world()
    params = Params(factors=8)
    matrix = matrix_for(data, params)
    factors = ImplicitAlsTrainer().train(matrix.user_items, params)
    path = tmp_path / "model.npz"
    artifacts.save(path, artifacts.Artifact(factors.user_factors, factors.item_factors,
                                            matrix.user_ids, matrix.track_ids,
                                            np.ones(len(matrix.track_ids), dtype=np.int64),
                                            params.as_dict()))  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary left behind
    model = FactorModel(artifacts.load(path))
    row = matrix.user_items[0]
    # a user solved from their row alone ranks like the trained user
    recalculated = model.user_vector(None, row, recalculate=True)
    stored = model.user_vector(int(matrix.user_ids[0]), row, recalculate=False)
    assert np.array_equal(stored, factors.user_factors[0])
    top_recalculated = set(np.argsort(-model.scores(recalculated))[:10])
    top_stored = set(np.argsort(-model.scores(stored))[:10])
    assert len(top_recalculated & top_stored) >= 8
    assert model.explain_many(row, [0])[0] in set(row.indices)


def test_explain_many_agrees_with_implicits_explain(tmp_path):
    data = planted_world(seed=5)
    params = Params(factors=8)
    matrix = matrix_for(data, params)
    factors = ImplicitAlsTrainer().train(matrix.user_items, params)
    model = FactorModel(artifacts.Artifact(factors.user_factors, factors.item_factors,
                                           matrix.user_ids, matrix.track_ids,
                                           np.ones(len(matrix.track_ids), dtype=np.int64),
                                           params.as_dict()))  # fmt: skip
    rng = np.random.default_rng(0)
    for user in range(0, 60, 7):
        row = matrix.user_items[user].copy()
        row.data[rng.random(len(row.data)) < 0.2] *= -1  # some skipped entries too
        columns = list(range(len(matrix.track_ids)))
        fast = model.explain_many(row, columns)
        for column, best in zip(columns, fast, strict=True):
            expected = implicit_best_contributor(model, row, column)
            assert best == expected, (user, column)


def test_an_unreadable_artifact_is_an_error(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"not a model")
    with pytest.raises((OSError, ValueError)):
        artifacts.load(path)
