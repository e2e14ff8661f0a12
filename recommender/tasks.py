"""Celery tasks of the recommender."""

import logging

from celery import shared_task
from django.conf import settings

from recommender.services import NothingToLearn, RetrainBusy, TrainerUnavailable, model_train

logger = logging.getLogger(__name__)


@shared_task(
    name="recommender.retrain",
    acks_late=True,
    soft_time_limit=settings.RETRAIN_SOFT_TIME_LIMIT,
    time_limit=settings.RETRAIN_SOFT_TIME_LIMIT + 60,
)
def retrain() -> dict:
    """Beat (daily), admin and POST /api/retrain/. Skips when another retrain holds the lock."""
    try:
        result = model_train()
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
