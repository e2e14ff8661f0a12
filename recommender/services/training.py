"""model_train: rebuild the matrix, train, evaluate, save a version, and activate it if it passes.

One retrain runs at a time (core.locks: a PostgreSQL advisory lock, or a lock file on the
SQLite demo); a second one raises RetrainBusy at once. A retrain killed midway leaves its version
`training` with no lock held: the next retrain marks it failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import locks
from recommender.engine import artifact as artifacts
from recommender.engine.evaluation import popularity_scores
from recommender.engine.pipeline import Evaluation, Tuning, bm25_of, evaluate, matrix_for, tune
from recommender.engine.trainer import Params, Trainer
from recommender.models import ModelVersion, TrainingDefaults
from recommender.services.interactions import interactions_read
from recommender.services.trainers import trainer_configured

logger = logging.getLogger(__name__)


class RetrainBusy(Exception):
    """Another retrain holds the lock."""


class NothingToLearn(Exception):
    """There is no listening data yet."""


@dataclass
class Hooks:
    """Progress callbacks for a command's progress bar."""

    stage: Callable[[str], None] = lambda name: None
    iteration: Callable[[int], None] = lambda number: None


@dataclass(frozen=True)
class TrainResult:
    version: ModelVersion
    evaluation: Evaluation

    @property
    def rejected(self) -> bool:
        """Trained and saved, but refused by the gate."""
        return self.version.status == ModelVersion.Status.REJECTED

    def as_json(self) -> dict:
        v = self.version
        return {
            "version": v.pk,
            "status": v.status,
            "reason": v.reason,
            "n_users": v.n_users,
            "n_tracks": v.n_tracks,
            "nnz": v.nnz,
            "params": v.params,
            "seconds": v.seconds,
            "metrics": v.metrics,
        }


def training_defaults() -> TrainingDefaults:
    defaults, _ = TrainingDefaults.objects.get_or_create(pk=1)
    return defaults


def model_train(
    *,
    overrides: dict | None = None,
    tune_grid: bool = False,
    force: bool = False,
    activate: bool = True,
    hooks: Hooks | None = None,
    trainer: Trainer | None = None,
    grid: dict | None = None,
) -> TrainResult:
    """Train a new model version from the database. See the module docstring for locking.

    `overrides` replace the stored training defaults for this run. `tune_grid` walks the tuning
    grid (`grid`, default pipeline.TUNING_GRID) on a validation split first; its winner becomes
    the stored defaults, and this run's parameters, only if it beats them on that split. The gate
    (docs/recommender.md, "Versions, the gate and the swap"): the first model is always
    activated; later ones only if their NDCG@10 beats popularity's and is within the tolerance of
    the active version's; `force` activates regardless; `activate=False` leaves the version
    `ready`. `trainer` defaults to the one MUSICREC_TRAINER names; TrainerUnavailable, before
    any work, when it cannot run here.
    """
    hooks = hooks or Hooks()
    trainer = trainer or trainer_configured()
    with locks.try_lock(locks.RETRAIN) as acquired:
        if not acquired:
            raise RetrainBusy("another retrain is running")
        _fail_interrupted()
        params = replace(training_defaults().as_params(), **(overrides or {}))
        version = ModelVersion.objects.create(params=params.as_dict())
        try:
            return _train(version, params, trainer, tune_grid, force, activate, hooks, grid)
        except BaseException as exc:
            version.status = ModelVersion.Status.FAILED
            version.reason = f"{type(exc).__name__}: {exc}"[:2000]
            version.save(update_fields=["status", "reason"])
            if version.artifact:
                (Path(settings.MODELS_DIR) / version.artifact).unlink(missing_ok=True)
            raise


def _train(
    version: ModelVersion,
    params: Params,
    trainer: Trainer,
    tune_grid: bool,
    force: bool,
    activate: bool,
    hooks: Hooks,
    grid: dict | None = None,
) -> TrainResult:
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    def stage(name: str, since: float) -> float:
        now = time.perf_counter()
        seconds[name] = round(now - since, 3)
        return now

    hooks.stage("matrix")
    mark = time.perf_counter()
    interactions = interactions_read()
    if len(interactions) == 0:
        raise NothingToLearn("no listening data yet: record or import listens first")
    mark = stage("matrix", mark)

    if tune_grid:
        hooks.stage("tune")
        tuning = tune(interactions, params, trainer, grid=grid)
        params = replace(tuning.best, iterations=params.iterations,
                         random_state=params.random_state)  # fmt: skip
        _store_defaults(params, tuning)
        mark = stage("tune", mark)

    matrix = matrix_for(interactions, params)
    mark = stage("confidence", mark)

    hooks.stage("evaluate")
    evaluation = evaluate(matrix, params, trainer, on_iteration=hooks.iteration,
                          interactions=interactions)  # fmt: skip
    fits = evaluation.fit_seconds
    mark = stage("evaluate", mark)

    hooks.stage("train")
    factors = trainer.train(matrix.user_items, params, on_iteration=hooks.iteration)
    fits += factors.fit_seconds
    mark = stage("train", mark)

    hooks.stage("save")
    name = f"model-{version.pk}.npz"
    size = artifacts.save(
        Path(settings.MODELS_DIR) / name,
        artifacts.Artifact(
            user_factors=factors.user_factors,
            item_factors=factors.item_factors,
            user_ids=matrix.user_ids,
            track_ids=matrix.track_ids,
            item_users=popularity_scores(matrix.user_items).astype("int64"),
            params=_artifact_params(params, interactions),
        ),
    )
    stage("save", mark)
    seconds["als_fits"] = round(fits, 3)
    seconds["total"] = round(time.perf_counter() - started, 3)

    version.params = params.as_dict()
    version.n_users, version.n_tracks = matrix.shape
    version.nnz = matrix.nnz
    version.seconds = seconds
    version.metrics = evaluation.as_dict()
    version.artifact = name
    version.artifact_bytes = size
    version.trained_at = timezone.now()
    version.status = ModelVersion.Status.READY
    version.save()

    hooks.stage("gate")
    _gate(version, evaluation, force=force, activate=activate)
    models_prune()
    return TrainResult(version=version, evaluation=evaluation)


def _gate(version: ModelVersion, evaluation: Evaluation, *, force: bool, activate: bool) -> None:
    ours, popular = evaluation.als.ndcg, evaluation.popularity.ndcg
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    tolerance = settings.MUSICREC_GATE_TOLERANCE
    if force:
        reason = "activated: forced"
    elif not activate:
        version.reason = "trained and saved; not activated (--no-activate)"
        version.save(update_fields=["reason"])
        return
    elif active is None:
        reason = "activated: the first model"
        if ours <= popular:
            reason += f" (warning: its NDCG@10 {ours:.4f} does not beat popularity's {popular:.4f})"
            logger.warning("model %s: %s", version.pk, reason)
    elif ours <= popular:
        _reject(version, f"NDCG@10 {ours:.4f} does not beat popularity's {popular:.4f}")
        return
    elif active.ndcg is not None and ours < active.ndcg - tolerance:
        _reject(
            version,
            f"NDCG@10 {ours:.4f} is below the active model {active.pk}'s {active.ndcg:.4f} "
            f"by more than {tolerance}",
        )
        return
    else:
        reason = f"activated: NDCG@10 {ours:.4f} (popularity {popular:.4f})"
    version_activate(version=version, reason=reason)


def _reject(version: ModelVersion, reason: str) -> None:
    version.status = ModelVersion.Status.REJECTED
    version.reason = f"refused by the gate: {reason}"
    version.save(update_fields=["status", "reason"])
    logger.warning("model %s %s", version.pk, version.reason)


def version_activate(*, version: ModelVersion, reason: str = "activated by an operator") -> None:
    """Make `version` the one active model (the previous active one becomes `ready`).

    One transaction under row locks; the database allows at most one active version. Web
    processes notice the change on their next request and load the new artifact.
    """
    if not version.artifact:
        raise ValueError(f"model {version.pk} has no artifact to serve")
    with transaction.atomic():
        current = list(
            ModelVersion.objects.select_for_update().filter(status=ModelVersion.Status.ACTIVE)
        )
        for old in current:
            if old.pk != version.pk:
                old.status = ModelVersion.Status.READY
                old.save(update_fields=["status"])
        version.status = ModelVersion.Status.ACTIVE
        version.activated_at = timezone.now()
        version.reason = reason
        version.save(update_fields=["status", "activated_at", "reason"])


def models_prune(*, keep: int | None = None) -> int:
    """Delete artifact files of old versions, keeping the newest `keep` and the active one."""
    keep = settings.MUSICREC_KEEP_MODEL_VERSIONS if keep is None else keep
    with_files = ModelVersion.objects.exclude(artifact="").order_by("-created_at", "-id")
    removed = 0
    for old in with_files[keep:]:
        if old.status == ModelVersion.Status.ACTIVE:
            continue
        (Path(settings.MODELS_DIR) / old.artifact).unlink(missing_ok=True)
        ModelVersion.objects.filter(pk=old.pk).update(artifact="", artifact_bytes=0)
        removed += 1
    return removed


def model_train_give_up(*, attempts: int) -> int:
    """A retrain whose runs all stopped without an answer (worker killed, out of memory) is not
    run again: the version its last run left `training` becomes `failed` with the reason.
    Returns how many versions were marked. The next retrain (a new request or the schedule)
    starts fresh."""
    with locks.try_lock(locks.RETRAIN) as acquired:
        if not acquired:
            return 0
        return ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING).update(
            status=ModelVersion.Status.FAILED,
            reason=f"worker_lost: the retrain stopped without an answer {attempts} times "
            "(its worker died or was killed); not retried. The next retrain starts fresh.",
        )


def _fail_interrupted() -> None:
    """A version still `training` while we hold the lock was left by a retrain that died."""
    ModelVersion.objects.filter(status=ModelVersion.Status.TRAINING).update(
        status=ModelVersion.Status.FAILED, reason="interrupted: its retrain stopped before the end"
    )


NAMES = ("factors", "regularization", "alpha", "confidence")


def _store_defaults(params: Params, tuning: Tuning) -> None:
    """Record the tune; the defaults change only when its winner beat them."""
    defaults = training_defaults()
    if tuning.wins:
        for name in NAMES:
            setattr(defaults, name, getattr(params, name))
    defaults.tuned_at = timezone.now()
    defaults.tuned_metrics = {
        "changed": tuning.wins,
        "chosen": {k: getattr(params, k) for k in NAMES},
        "validation_ndcg": {"defaults": round(float(tuning.base.ndcg), 5),
                            "chosen": round(float(tuning.won.ndcg), 5)},
        "grid": [{**{k: getattr(p, k) for k in NAMES}, "ndcg": round(float(m.ndcg), 5)}
                 for p, m in tuning.results],
    }  # fmt: skip
    defaults.save()


def _artifact_params(params: Params, interactions) -> dict:
    """The parameters, and for bm25 the matrix statistics serving needs to weigh a user's row."""
    body = params.as_dict()
    if params.confidence == "bm25":
        stats = bm25_of(interactions)
        body["bm25"] = {"n_users": stats.n_users, "average_length": stats.average_length}
    return body
