"""The recommender API: personal lists, shelves, also-played, models, retrain."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import Track
from core import locks
from core.api import query_int, query_n
from core.queue import send
from musicrec.celery import app
from recommender import selectors
from recommender.models import ModelVersion
from recommender.serializers import (
    ActiveModelSerializer,
    AlsoPlayedSerializer,
    ModelVersionSerializer,
    RecommendationsSerializer,
    RetrainQueuedSerializer,
    ShelvesSerializer,
    also_played_data,
    recommendations_data,
    shelves_data,
)
from recommender.services import NothingToLearn, RetrainBusy, model_train

N_PARAMETER = OpenApiParameter("n", int, description="1..100")


@extend_schema(
    tags=["recommendations"],
    parameters=[
        N_PARAMETER,
        OpenApiParameter("include_played", int, enum=[0, 1], description="1: allow play-again"),
    ],
    responses={200: RecommendationsSerializer},
)
class RecommendationsView(APIView):
    def get(self, request: Request) -> Response:
        n = query_n(request, default=20)
        include_played = query_int(request, "include_played", default=0, minimum=0, maximum=1)
        answer = selectors.recommendations_for_user(
            user=request.user, n=n, include_played=bool(include_played)
        )
        return Response(recommendations_data(answer))


@extend_schema(
    tags=["recommendations"],
    parameters=[OpenApiParameter("shelves", int, description="1..10, default 3"), N_PARAMETER],
    responses={200: ShelvesSerializer},
)
class ShelvesView(APIView):
    def get(self, request: Request) -> Response:
        shelves = query_int(request, "shelves", default=3, minimum=1, maximum=10)
        n = query_n(request, default=10)
        answer = selectors.shelves_for_user(user=request.user, shelves=shelves, n=n)
        return Response(shelves_data(answer))


@extend_schema(tags=["tracks"], parameters=[N_PARAMETER], responses={200: AlsoPlayedSerializer})
class AlsoPlayedView(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request, pk: int) -> Response:
        n = query_n(request, default=10)
        track = get_object_or_404(Track, pk=pk)
        return Response(also_played_data(selectors.also_played(track=track, n=n)))


@extend_schema(
    tags=["models"],
    responses={200: ActiveModelSerializer, 404: OpenApiResponse(description="no model yet")},
)
class ActiveModelView(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        version = selectors.active_model()
        if version is None:
            raise NotFound("No model has been trained yet.")
        return Response(ActiveModelSerializer(version).data)


@extend_schema(tags=["models"])
class ModelListView(generics.ListAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = ModelVersionSerializer
    queryset = ModelVersion.objects.order_by("-created_at", "-id")


@extend_schema(
    tags=["models"],
    request=None,
    responses={
        202: RetrainQueuedSerializer,
        200: ModelVersionSerializer,
        409: OpenApiResponse(description="a retrain is already running"),
    },
    description="Staff. With a broker: queued (202). With tasks inline: runs now and answers "
    "200 with `retrain --json`'s body.",
)
class RetrainView(APIView):
    permission_classes = [IsAdminUser]

    def post(self, request: Request) -> Response:
        if locks.is_locked(locks.RETRAIN):
            return _busy()
        if not app.conf.task_always_eager:
            from recommender.tasks import retrain

            if not send(retrain):
                return Response(
                    {"detail": "The task queue is unavailable; try again shortly."}, status=503
                )
            return Response({"status": "queued"}, status=status.HTTP_202_ACCEPTED)
        try:
            result = model_train()
        except RetrainBusy:
            return _busy()
        except NothingToLearn as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(result.as_json())


def _busy() -> Response:
    return Response({"detail": "A retrain is already running."}, status=status.HTTP_409_CONFLICT)
