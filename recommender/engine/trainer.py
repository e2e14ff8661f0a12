"""Training behind a small interface: a users x items matrix and parameters in, factors out.

The implicit library's CPU ALS is the default; a GPU build or a distributed engine can take its
place by implementing `Trainer`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np
from scipy.sparse import csr_matrix
from threadpoolctl import threadpool_limits

DEFAULT_RANDOM_STATE = 42


@dataclass(frozen=True)
class Params:
    """Defaults chosen by evaluation (docs/recommender.md, "Choosing the defaults")."""

    factors: int = 64
    iterations: int = 15
    regularization: float = 0.1
    alpha: float = 5.0
    confidence: str = "log"
    random_state: int = DEFAULT_RANDOM_STATE

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Factors:
    user_factors: np.ndarray  # (users, factors) float32
    item_factors: np.ndarray  # (items, factors) float32
    fit_seconds: float


class Trainer(Protocol):
    def train(
        self,
        user_items: csr_matrix,
        params: Params,
        *,
        on_iteration: Callable[[int], None] | None = None,
    ) -> Factors: ...


class ImplicitAlsTrainer:
    """implicit's AlternatingLeastSquares on the users x items matrix.

    Constructed with alpha = 1.0: the matrix already holds the confidence 1 + alpha * f(r).
    BLAS is limited to one thread around the fit (implicit parallelises itself; a multi-threaded
    BLAS underneath makes it many times slower).
    """

    def __init__(self, *, use_gpu: bool = False):
        self.use_gpu = use_gpu

    def train(
        self,
        user_items: csr_matrix,
        params: Params,
        *,
        on_iteration: Callable[[int], None] | None = None,
    ) -> Factors:
        def callback(iteration, elapsed, loss):
            if on_iteration is not None:
                on_iteration(iteration)

        with threadpool_limits(limits=1, user_api="blas"):
            model = make_model(params, use_gpu=self.use_gpu)
            started = time.perf_counter()
            model.fit(user_items, show_progress=False, callback=callback)
            seconds = time.perf_counter() - started
        if self.use_gpu:
            model = model.to_cpu()
        return Factors(
            user_factors=np.asarray(model.user_factors, dtype=np.float32),
            item_factors=np.asarray(model.item_factors, dtype=np.float32),
            fit_seconds=seconds,
        )


def make_model(params: Params, *, use_gpu: bool = False):
    """An implicit ALS model (untrained) for these parameters, with BLAS at one thread (implicit
    checks, and warns, when it is built)."""
    from implicit.als import AlternatingLeastSquares

    with threadpool_limits(limits=1, user_api="blas"):
        return AlternatingLeastSquares(
            factors=params.factors,
            regularization=params.regularization,
            alpha=1.0,
            iterations=params.iterations,
            random_state=params.random_state,
            use_gpu=use_gpu,
            calculate_training_loss=False,
        )
