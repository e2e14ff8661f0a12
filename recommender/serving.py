"""The model a web process serves: the active version, loaded once per version.

Each request asks the database which version is active at most once a second (one indexed row).
A new version is loaded on first use; if its artifact is missing or unreadable, the process keeps
serving the model it had (or the newest older version that loads) and logs why.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings

from recommender.engine import artifact as artifacts
from recommender.engine.model import FactorModel
from recommender.models import ModelVersion

logger = logging.getLogger(__name__)

CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class Served:
    version: int
    trained_at: datetime | None
    model: FactorModel


_lock = threading.Lock()
_state: dict = {"checked": 0.0, "served": None, "unloadable": set()}


def served_model() -> Served | None:
    """The model to answer with, or None before the first model."""
    now = time.monotonic()
    if now - _state["checked"] < CHECK_SECONDS:
        return _state["served"]
    with _lock:
        if now - _state["checked"] < CHECK_SECONDS:
            return _state["served"]
        active = (
            ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE)
            .values("pk", "artifact", "trained_at")
            .first()
        )
        _state["checked"] = time.monotonic()
        served: Served | None = _state["served"]
        if active is None:
            _state["served"] = None
        elif served is None or served.version != active["pk"]:
            _state["served"] = _load_or_fall_back(active, served)
        return _state["served"]


def forget() -> None:
    """Drop what this process has loaded (tests; an operator's `reload`)."""
    with _lock:
        _state.update(checked=0.0, served=None, unloadable=set())


def _load_or_fall_back(active: dict, served: Served | None) -> Served | None:
    if active["pk"] not in _state["unloadable"]:
        loaded = _load(active)
        if loaded is not None:
            return loaded
    if served is not None:
        return served  # keep the model this process already serves
    older = (
        ModelVersion.objects.exclude(artifact="")
        .exclude(pk=active["pk"])
        .filter(status__in=[ModelVersion.Status.READY, ModelVersion.Status.ACTIVE],
                trained_at__isnull=False)
        .order_by("-activated_at", "-trained_at")
        .values("pk", "artifact", "trained_at")
    )  # fmt: skip
    for candidate in older:
        if candidate["pk"] in _state["unloadable"]:
            continue
        loaded = _load(candidate)
        if loaded is not None:
            logger.warning("serving older model %s instead", candidate["pk"])
            return loaded
    return None


def _load(row: dict) -> Served | None:
    path = Path(settings.MODELS_DIR) / row["artifact"]
    started = time.perf_counter()
    try:
        model = FactorModel(artifacts.load(path, mmap=True))  # shared by every process
    except (OSError, ValueError, KeyError) as exc:
        _state["unloadable"].add(row["pk"])
        logger.error("model %s cannot be loaded from %s: %s", row["pk"], path, exc)
        return None
    logger.info("model %s loaded in %.0f ms", row["pk"], (time.perf_counter() - started) * 1000)
    return Served(version=row["pk"], trained_at=row["trained_at"], model=model)
