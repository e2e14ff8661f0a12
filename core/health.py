"""GET /api/health/: is the database reachable, and how are tasks run.

core knows no app: the recommender tells it how to read the active model version
(`report_model_version`, called from recommender/apps.py).
"""

import logging
from collections.abc import Callable

import redis
from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema, inline_serializer
from redis.backoff import NoBackoff
from redis.retry import Retry
from rest_framework import serializers
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from core.breaker import BROKER
from core.errors import DATABASE_RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)

_sources: dict[str, Callable[[], int | None]] = {}


def report_model_version(source: Callable[[], int | None]) -> None:
    """Where health reads the active model version from (null until an app says)."""
    _sources["model_version"] = source


def model_version() -> int | None:
    source = _sources.get("model_version")
    return source() if source else None


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except DatabaseError as exc:
        logger.warning("health: database down: %s", exc)
        return "down"


def broker_status() -> str:
    """`inline` when tasks run in-process, else whether the Redis broker answers a PING within
    the cache's short timeout (MUSICREC_CACHE_TIMEOUT_S, never retried), so a hung Redis costs
    the health check at most that. The answer also moves the broker's breaker: a failed ping
    opens it, a good one closes it (sends resume at once when Redis is back)."""
    app = current_app
    if app.conf.task_always_eager:
        return "inline"
    try:
        client = redis.Redis.from_url(
            app.conf.broker_url,
            socket_connect_timeout=settings.CACHE_TIMEOUT_S,
            socket_timeout=settings.CACHE_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            client.ping()
        finally:
            client.close()
        BROKER.reset()
        return "ok"
    except (redis.RedisError, OSError) as exc:
        BROKER.trip(exc)
        logger.warning("health: broker down: %s", exc)
        return "down"


HealthSerializer = inline_serializer(
    "Health",
    fields={
        "database": serializers.ChoiceField(choices=["ok", "down"]),
        "broker": serializers.ChoiceField(choices=["ok", "inline", "down"]),
        "model_version": serializers.IntegerField(allow_null=True),
    },
)


@extend_schema(responses={200: HealthSerializer, 503: HealthSerializer}, tags=["health"])
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])  # load balancers poll it: never throttled (nor redirected: settings)
def health(request: Request) -> Response:
    database = database_status()
    body = {"database": database, "broker": broker_status(), "model_version": None}
    if database == "ok":
        body["model_version"] = model_version()
        return Response(body)
    return Response(body, status=503, headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})
