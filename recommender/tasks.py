"""Celery tasks of the recommender."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from recommender.services import (
    NothingToLearn,
    RetrainBusy,
    TrainerUnavailable,
    model_train,
    model_train_give_up,
)

logger = logging.getLogger(__name__)

# Deliveries of one retrain message (redelivered when its worker dies) that may run, as for
# analysis (docs/reliability.md, row 16). Counted in the cache, on the broker's own Redis: a
# message can only come back while that Redis is up.
MAX_ATTEMPTS = 3
ATTEMPTS_TTL_SECONDS = 2 * 24 * 3600


def _attempt(task_id: str | None) -> int:
    """Count this delivery of the message; 1 when it cannot be counted (no id, no cache)."""
    if not task_id:
        return 1
    key = f"retrain-attempts:{task_id}"
    cache.add(key, 0, ATTEMPTS_TTL_SECONDS)
    try:
        return int(cache.incr(key) or 1)
    except ValueError:  # the key vanished (cache down or evicted): count from here
        return 1


@shared_task(
    bind=True,
    name="recommender.retrain",
    acks_late=True,
    soft_time_limit=settings.RETRAIN_SOFT_TIME_LIMIT,
    time_limit=settings.RETRAIN_SOFT_TIME_LIMIT + 60,
)
def retrain(self) -> dict:
    """Beat (daily), admin and POST /api/retrain/. Skips when another retrain holds the lock.
    A message whose runs killed their worker MAX_ATTEMPTS times is not run again: its version
    ends `failed` with the reason; the next request or scheduled run is a new message."""
    return _capped(self, "retrain", model_train)


@shared_task(
    bind=True,
    name="recommender.tune",
    acks_late=True,
    soft_time_limit=settings.RETRAIN_SOFT_TIME_LIMIT,
    time_limit=settings.RETRAIN_SOFT_TIME_LIMIT + 60,
)
def tune(self) -> dict:
    """Beat (weekly): walk the tuning grid on a validation split, store the winner as the
    training defaults only if it beats them there, then retrain (retrain --tune). A delivery
    that keeps killing its worker is given up as for `retrain`."""
    return _capped(self, "tune", lambda: model_train(tune_grid=True))


def _capped(task, name: str, train) -> dict:
    """Run `train` for this delivery of `task`'s message, unless the message already ran
    MAX_ATTEMPTS times: then the version its last run left `training` is marked `failed`
    (worker_lost) and the answer says why."""
    attempt = _attempt(getattr(task.request, "id", None))
    if attempt > MAX_ATTEMPTS:
        marked = model_train_give_up(attempts=attempt - 1)
        logger.error("%s given up after %s attempts (%s version marked)", name, attempt - 1, marked)
        return {"status": "failed", "reason": f"stopped without an answer {attempt - 1} times"}
    return _train_answer(train)


def _train_answer(train) -> dict:
    try:
        result = train()
    except RetrainBusy:
        logger.info("retrain skipped: another retrain is running")
        return {"status": "skipped", "reason": "another retrain is running"}
    except NothingToLearn as exc:
        logger.info("retrain skipped: %s", exc)
        return {"status": "skipped", "reason": str(exc)}
    except TrainerUnavailable as exc:  # a retry cannot install Java: say so once, clearly
        logger.error("retrain not started: %s", exc)
        return {"status": "failed", "reason": str(exc)}
    return result.as_json()
