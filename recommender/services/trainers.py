"""Which trainer a retrain uses: MUSICREC_TRAINER (docs/settings.md), checked before any work."""

from __future__ import annotations

from django.conf import settings

from recommender.engine.spark_trainer import SparkAlsTrainer, SparkUnavailable
from recommender.engine.trainer import ImplicitAlsTrainer, Trainer

TRAINERS = ("implicit", "spark")


class TrainerUnavailable(Exception):
    """The configured trainer cannot run here; the message says why and what to install."""


def trainer_configured() -> Trainer:
    """The trainer MUSICREC_TRAINER names, ready to fit, or TrainerUnavailable at once (an
    unknown name; for `spark`, no pyspark or no Java) so a retrain fails at its start with the
    fix in one line instead of a JVM stack trace midway."""
    name = settings.MUSICREC_TRAINER
    if name == "implicit":
        return ImplicitAlsTrainer(use_gpu=settings.MUSICREC_ALS_USE_GPU)
    if name == "spark":
        trainer = SparkAlsTrainer(
            master=settings.MUSICREC_SPARK_MASTER, staging=settings.MUSICREC_SPARK_STAGING
        )
        try:
            trainer.check()
        except SparkUnavailable as exc:
            raise TrainerUnavailable(str(exc)) from None
        return trainer
    raise TrainerUnavailable(f"MUSICREC_TRAINER is {name!r}; use one of {', '.join(TRAINERS)}")
