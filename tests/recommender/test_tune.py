"""Defaults that tune themselves (docs/recommender.md, "Defaults that tune themselves"): bm25 as
implicit weighs, the coordinate walk against the full grid, the weekly beat entry."""

from __future__ import annotations

import itertools
from dataclasses import replace
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from implicit.nearest_neighbours import bm25_weight
from scipy.sparse import csr_matrix

from recommender import tasks
from recommender.engine.confidence import net_preference
from recommender.engine.matrix import Interactions
from recommender.engine.pipeline import (
    matrix_for,
    score_cell,
    train_values,
    tune,
    validation_split,
)
from recommender.engine.taste import taste_build
from recommender.engine.trainer import ImplicitAlsTrainer, Params
from recommender.models import TrainingDefaults
from recommender.services import model_train, training_defaults


def heavy_tailed(seed: int = 0, users: int = 240, items: int = 300, groups: int = 8):
    """Listeners of a few taste groups, Zipf-like track popularity, Pareto play counts and a
    few listeners with 100,000 plays of one track."""
    rng = np.random.default_rng(seed)
    item_group = rng.integers(0, groups, items)
    popularity = 1 / (rng.permutation(items) + 1.0) ** 0.9
    rows, cols, plays = [], [], []
    for user in range(users):
        taste = rng.dirichlet([0.3] * groups)
        weights = popularity * taste[item_group] ** 2
        chosen = np.unique(
            rng.choice(items, size=int(rng.integers(8, 60)), p=weights / weights.sum())
        )
        counts = np.floor(rng.pareto(1.1, len(chosen)) * 2 + 1).astype(np.int64)
        if rng.random() < 0.02:
            counts[0] = 100_000
        rows += [user] * len(chosen)
        cols += chosen.tolist()
        plays += counts.tolist()
    n = len(rows)
    zeros = np.zeros(n, dtype=np.int64)
    return Interactions(np.array(rows), np.array(cols), np.array(plays), zeros, zeros,
                        rng.uniform(1e9, 2e9, n).astype(np.int64), np.zeros(n, bool),
                        np.zeros(n, bool))  # fmt: skip


def test_bm25_is_implicits_bm25_weight_and_serving_weighs_a_row_the_same():
    data = heavy_tailed(users=60, items=80)
    params = Params(alpha=2.0, confidence="bm25")
    matrix = matrix_for(data, params)
    r = net_preference(data.completed, data.partial, data.skips, data.liked)
    plain = replace(params, confidence="linear", alpha=1.0)
    positive = matrix_for(data, plain).user_items.copy()
    positive.data = np.maximum(positive.data - 1.0, 0)  # back to r (linear, alpha 1: 1 + r)
    expected = csr_matrix(bm25_weight(positive))
    expected.data = 1.0 + 2.0 * expected.data
    np.testing.assert_allclose(matrix.user_items.toarray(), expected.toarray(), rtol=1e-5)
    assert r.min() > 0

    user = 5  # one user's row as serving weighs it, from the model's stored statistics
    mine = data.user_ids == user
    taste = taste_build(
        user_id=user,
        track_ids=data.track_ids[mine],
        completed=data.completed[mine],
        partial=data.partial[mine],
        skips=data.skips[mine],
        feedback=[],
    )
    df = np.asarray((matrix.user_items > 0).sum(axis=0)).ravel()
    columns = np.searchsorted(matrix.track_ids, taste.track_ids)
    stats = {"n_users": matrix.shape[0],
             "average_length": float(np.asarray(positive.sum(axis=1)).mean())}  # fmt: skip
    values = taste.values(2.0, "bm25", item_df=df[columns], bm25_stats=stats)
    row = matrix.user_items[matrix.row_of(user)].toarray().ravel()
    np.testing.assert_allclose(values, row[columns], rtol=1e-5)


def test_bm25_on_a_split_counts_only_its_training_entries():
    """A held-out play must not weigh the training values: bm25_weight of the training part."""
    data = heavy_tailed(users=80, items=90)
    params = Params(alpha=3.0, confidence="bm25")
    split = validation_split(data, params)
    weighed = train_values(data, params, split).train
    linear = train_values(data, replace(params, confidence="linear", alpha=1.0), split).train
    linear.data -= 1.0  # back to r
    expected = csr_matrix(bm25_weight(linear))
    expected.data = 1.0 + 3.0 * expected.data
    np.testing.assert_allclose(weighed.toarray(), expected.toarray(), rtol=1e-5)
    everything = matrix_for(data, params).user_items.multiply(split.train != 0).toarray()
    assert not np.allclose(everything, weighed.toarray())  # the full matrix would weigh otherwise


def test_one_automatic_tune_reaches_95_percent_of_the_best_grid_cell():
    data = heavy_tailed()
    grid = {"confidence": ("log", "linear", "bm25"), "factors": (16, 64),
            "alpha": (1.0, 20.0), "regularization": (0.01, 1.0)}  # fmt: skip
    base = Params(iterations=8)
    trainer = ImplicitAlsTrainer()
    tuning = tune(data, base, trainer, grid=grid)
    assert len(tuning.results) < 3 * 2 * 2 * 2  # not the full product
    split = validation_split(data, base)
    best_cell = max(
        score_cell(
            data, replace(base, **dict(zip(grid, cell, strict=True))), split, trainer, 10
        ).ndcg
        for cell in itertools.product(*grid.values())
    )
    chosen = score_cell(data, tuning.best, split, trainer, 10).ndcg
    assert chosen >= 0.95 * best_cell, (chosen, best_cell, tuning.best)


@pytest.fixture
def bad_defaults(world):
    TrainingDefaults.objects.update_or_create(
        pk=1, defaults={"factors": 16, "regularization": 1000.0, "alpha": 1.0, "confidence": "log"}
    )
    return world


def test_the_scheduled_tune_changes_the_defaults_when_it_wins(bad_defaults):
    answer = tasks.tune.apply().get()
    assert answer["status"] == "active"
    defaults = training_defaults()
    assert defaults.tuned_metrics["changed"] is True
    assert defaults.regularization != 1000.0
    won = defaults.tuned_metrics["validation_ndcg"]
    assert won["chosen"] > won["defaults"]
    assert answer["params"]["regularization"] == defaults.regularization  # retrained with it


def test_a_tune_that_does_not_win_leaves_the_defaults(bad_defaults):
    before = training_defaults().as_params()
    grid = {"factors": (before.factors,)}  # only the defaults themselves: nothing can beat them
    model_train(tune_grid=True, grid=grid)
    defaults = training_defaults()
    assert defaults.as_params() == before
    assert defaults.tuned_metrics["changed"] is False
    assert defaults.tuned_at is not None


def test_the_weekly_tune_is_scheduled(db):
    from django_celery_beat.models import PeriodicTask

    entry = PeriodicTask.objects.get(name="recommender: weekly tune")
    assert entry.task == "recommender.tune"
    assert entry.crontab.day_of_week == "0"
    assert entry.enabled


def test_retrain_tune_on_the_command_line(world):
    out = StringIO()
    call_command("retrain", "--tune", "--json", stdout=out)
    assert training_defaults().tuned_at is not None
