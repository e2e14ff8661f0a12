"""Evaluating the list as served (recommender/engine/served.py): no Django."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from recommender.engine.pipeline import evaluate, matrix_for
from recommender.engine.served import (
    Catalogue,
    coverage,
    niche_rows,
    popularity_lift,
    served_top,
)
from recommender.engine.trainer import ImplicitAlsTrainer, Params
from tests.recommender.test_tune import heavy_tailed


def test_served_top_blends_caps_known_artists_and_leaves_unknown_ones():
    items = np.eye(8, dtype=np.float32)
    user = np.array([[0.1, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.3]], dtype=np.float32)
    seen = csr_matrix(([5.0], ([0], [0])), shape=(1, 8))
    # artist 3 is "Unknown artist" (not capped); track 107 sounds like the seed (track 100)
    catalogue = Catalogue(
        artist_ids=np.array([1, 2, 2, 2, 3, 3, 3, 3]),
        capped=np.array([True] * 4 + [False] * 4),
        sound=lambda seeds, candidates: {107: (0.95, seeds[0])} if 107 in candidates else {},
    )
    track_ids = np.arange(100, 108)
    listeners = np.array([9, 50, 50, 50, 50, 50, 50, 0])
    top = served_top(items, user, seen, track_ids, listeners, catalogue, k=6)[0]
    # 7: no listeners, lifted by its sound from 0.33 to 0.9; 3: a third track by artist 2;
    # 0: played; 4, 5, 6 and 7: four by the unknown artist
    assert top.tolist() == [1, 2, 7, 4, 5, 6]


def test_coverage_and_lift():
    assert coverage([np.array([[0, 1, -1]]), np.array([[1, 2, 3]])], 8) == 0.5
    listeners = np.array([1, 1, 100, 100])
    assert popularity_lift(np.array([[0, 1]]), np.array([[2, 3]]), listeners) == 100.0
    train = csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 1], [0, 0, 1, 1]], dtype=np.float32))
    assert niche_rows(train, np.array([1, 2, 30, 30]), np.arange(3)).tolist() == [0]


def test_on_a_heavy_tailed_set_the_served_list_keeps_the_models_taste():
    data = heavy_tailed(users=300, items=400)
    params = Params(iterations=8, factors=32)
    matrix = matrix_for(data, params)
    columns = matrix.shape[1]
    catalogue = Catalogue(artist_ids=np.arange(columns) // 4, capped=np.ones(columns, bool))
    result = evaluate(matrix, params, ImplicitAlsTrainer(), catalogue=catalogue).as_dict()
    assert result["n_niche_users"] > 0
    assert result["served_popularity_lift"] <= 1.1, result
    assert result["served"]["ndcg"] >= 0.9 * result["als"]["ndcg"], result
    assert 0 < result["coverage"] <= 1
