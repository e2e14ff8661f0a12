"""Writes of the recommender: training, activation, pruning, retrain requests."""

from recommender.services.dispatch import RetrainRequest, retrain_request
from recommender.services.trainers import TrainerUnavailable, trainer_configured
from recommender.services.training import (
    Hooks,
    NothingToLearn,
    RetrainBusy,
    TrainResult,
    model_train,
    model_train_give_up,
    models_prune,
    training_defaults,
    version_activate,
)

__all__ = [
    "Hooks",
    "NothingToLearn",
    "RetrainBusy",
    "RetrainRequest",
    "TrainResult",
    "TrainerUnavailable",
    "model_train",
    "model_train_give_up",
    "models_prune",
    "retrain_request",
    "trainer_configured",
    "training_defaults",
    "version_activate",
]
