"""retrain_request: "retrain now" from a person (admin's button, POST /api/retrain/).

One place decides what such a request does, so the admin and the API cannot drift apart: with a
broker the retrain is queued for a worker; with tasks inline (the demo) it runs in this process.
Callers map the outcome to their own answer (a message, a status code).
"""

from __future__ import annotations

from dataclasses import dataclass

from celery import current_app as app

from core import locks
from core.queue import send
from recommender.services.trainers import TrainerUnavailable
from recommender.services.training import NothingToLearn, RetrainBusy, TrainResult, model_train

QUEUED = "queued"
RAN = "ran"
BUSY = "busy"
BROKER_DOWN = "broker_down"
NOTHING_TO_LEARN = "nothing_to_learn"
TRAINER_UNAVAILABLE = "trainer_unavailable"


@dataclass(frozen=True)
class RetrainRequest:
    outcome: str  # queued | ran | busy | broker_down | nothing_to_learn | trainer_unavailable
    detail: str = ""
    result: TrainResult | None = None  # only when it ran


def retrain_request() -> RetrainRequest:
    """Queue a retrain (with a broker) or run it now (tasks inline), never two at a time.

    `busy` when another retrain holds the lock (checked before queueing, so a request while one
    runs is refused at once rather than queued behind it); `broker_down` when the message cannot
    be sent (nothing is queued; the caller may try again); `nothing_to_learn` when an inline run
    finds no listening data; `trainer_unavailable` when an inline run cannot start the trainer
    MUSICREC_TRAINER names (the detail says what to install); `ran` carries the TrainResult (the
    version may be rejected by the gate). Queued work is the `recommender.retrain` task, which
    skips if it finds the lock held.
    """
    if locks.is_locked(locks.RETRAIN):
        return RetrainRequest(BUSY, "A retrain is already running.")
    if not app.conf.task_always_eager:
        from recommender.tasks import retrain

        if not send(retrain):
            return RetrainRequest(BROKER_DOWN, "The task queue is unavailable; try again shortly.")
        return RetrainRequest(QUEUED, "Retrain queued.")
    try:
        result = model_train()
    except RetrainBusy:
        return RetrainRequest(BUSY, "A retrain is already running.")
    except NothingToLearn as exc:
        return RetrainRequest(NOTHING_TO_LEARN, str(exc))
    except TrainerUnavailable as exc:
        return RetrainRequest(TRAINER_UNAVAILABLE, str(exc))
    version = result.version
    return RetrainRequest(RAN, f"Model {version.pk}: {version.status} ({version.reason})", result)
