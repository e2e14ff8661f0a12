"""Writes of the recommender: training, activation, pruning."""

from recommender.services.trainers import TrainerUnavailable, trainer_configured
from recommender.services.training import (
    EXIT_ACTIVE,
    EXIT_REJECTED,
    Hooks,
    NothingToLearn,
    RetrainBusy,
    TrainResult,
    model_train,
    models_prune,
    training_defaults,
    version_activate,
)

__all__ = [
    "EXIT_ACTIVE",
    "EXIT_REJECTED",
    "Hooks",
    "NothingToLearn",
    "RetrainBusy",
    "TrainResult",
    "TrainerUnavailable",
    "model_train",
    "models_prune",
    "trainer_configured",
    "training_defaults",
    "version_activate",
]
