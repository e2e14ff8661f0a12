"""The recommender API: personal lists, shelves, also-played, models, retrain."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotAuthenticated, NotFound, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors as catalog_selectors
from catalog.models import Artist, Track
from catalog.serializers import card_data
from core.api import n_schema, query_int, query_n
from core.permissions import staff_with
from recommender import radio, selectors
from recommender.models import ModelVersion
from recommender.serializers import (
    ActiveModelSerializer,
    AlsoPlayedSerializer,
    ModelVersionSerializer,
    RadioSerializer,
    RecommendationsSerializer,
    RetrainQueuedSerializer,
    RetrainRanSerializer,
    ShelvesSerializer,
    also_played_data,
    recommendations_data,
    shelves_data,
)
from recommender.services import dispatch, retrain_request


def n_parameter(default: int) -> OpenApiParameter:
    return OpenApiParameter("n", n_schema(default), description="how many")


@extend_schema(
    tags=["recommendations"],
    parameters=[
        n_parameter(20),
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
    parameters=[
        OpenApiParameter("shelves", {"type": "integer", "minimum": 1, "maximum": 10, "default": 3}),
        n_parameter(10),
    ],
    responses={200: ShelvesSerializer},
)
class ShelvesView(APIView):
    def get(self, request: Request) -> Response:
        shelves = query_int(request, "shelves", default=3, minimum=1, maximum=10)
        n = query_n(request, default=10)
        answer = selectors.shelves_for_user(user=request.user, shelves=shelves, n=n)
        return Response(shelves_data(answer))


@extend_schema(tags=["tracks"], parameters=[n_parameter(10)], responses={200: AlsoPlayedSerializer})
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
    # as admin's change list: view or change permission on model versions
    permission_classes = [
        staff_with("recommender.view_modelversion", "recommender.change_modelversion")
    ]
    serializer_class = ModelVersionSerializer
    queryset = ModelVersion.objects.order_by("-created_at", "-id")


@extend_schema(
    tags=["models"],
    request=None,
    responses={
        202: RetrainQueuedSerializer,
        200: RetrainRanSerializer,
        400: OpenApiResponse(description="tasks inline and no listening data yet"),
        409: OpenApiResponse(description="a retrain is already running"),
        503: OpenApiResponse(
            description="the task queue is unavailable (nothing was queued), or with tasks "
            "inline the configured trainer cannot run here"
        ),
    },
    description="Staff. With a broker: queued (202). With tasks inline: runs now and answers "
    "200 with `retrain --json`'s body.",
)
class RetrainView(APIView):
    # as admin's "Retrain now": change permission on model versions
    permission_classes = [staff_with("recommender.change_modelversion")]

    def post(self, request: Request) -> Response:
        answer = retrain_request()
        if answer.outcome == dispatch.RAN:
            return Response(answer.result.as_json())
        if answer.outcome == dispatch.QUEUED:
            return Response({"status": "queued"}, status=status.HTTP_202_ACCEPTED)
        return Response({"detail": answer.detail}, status=RETRAIN_REFUSED[answer.outcome])


RETRAIN_REFUSED = {
    dispatch.BUSY: status.HTTP_409_CONFLICT,
    dispatch.BROKER_DOWN: status.HTTP_503_SERVICE_UNAVAILABLE,
    dispatch.NOTHING_TO_LEARN: status.HTTP_400_BAD_REQUEST,
    dispatch.TRAINER_UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
}


class RadioQuerySerializer(serializers.Serializer):
    """docs/player.md, "Radio": exactly one seed, or the `station` to continue."""

    SEEDS = ("seed_track", "seed_artist", "mood", "taste", "station")

    seed_track = serializers.IntegerField(required=False, min_value=1)
    seed_artist = serializers.IntegerField(required=False, min_value=1)
    mood = serializers.ChoiceField(choices=catalog_selectors.EMOTIONS, required=False)
    taste = serializers.ChoiceField(choices=["1"], required=False)
    station = serializers.CharField(required=False, max_length=400)
    n = serializers.IntegerField(required=False, min_value=1, max_value=100, default=10)
    skipped = serializers.RegexField(r"^\d{1,12}(,\d{1,12}){0,199}$", required=False)
    played = serializers.RegexField(r"^\d{1,12}(,\d{1,12}){0,499}$", required=False)
    tempo_min = serializers.FloatField(required=False, min_value=0, max_value=1000)
    tempo_max = serializers.FloatField(required=False, min_value=0, max_value=1000)
    energy_min = serializers.FloatField(required=False, min_value=0, max_value=1)
    energy_max = serializers.FloatField(required=False, min_value=0, max_value=1)

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields) - {"format"})
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown query parameter."] for name in unknown}
            )
        given = [name for name in self.SEEDS if name in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"seed": ["Give exactly one of seed_track, seed_artist, mood, taste or station."]}
            )
        return attrs


@extend_schema(tags=["radio"], parameters=[RadioQuerySerializer], responses={200: RadioSerializer})
class RadioView(APIView):
    """An endless station; pass the returned `station` to continue it (docs/player.md, "Radio")."""

    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        query = RadioQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        user = request.user if request.user.is_authenticated else None
        try:
            station = self._station(values, user)
        except radio.StationError as exc:
            raise ValidationError({"station": [str(exc)]}) from exc
        filters = {k: values[k] for k in ("tempo_min", "tempo_max", "energy_min", "energy_max")
                   if k in values}  # fmt: skip
        skipped = [int(t) for t in values.get("skipped", "").split(",") if t]
        played = [int(t) for t in values.get("played", "").split(",") if t]
        batch = radio.radio_next(
            station=station, user=user, n=values["n"], skipped=skipped, filters=filters,
            played=played,
        )  # fmt: skip
        return Response(
            {
                "station": batch.station,
                "results": [
                    {
                        "track": card_data(card),
                        "reason": {
                            "type": reason["type"],
                            "text": reason["text"],
                            "track": card_data(reason["track"]) if reason["track"] else None,
                        },
                    }
                    for card, reason in batch.picks
                ],
            }
        )

    def _station(self, values: dict, user) -> radio.Station:
        if "station" in values:
            user_id = user.pk if user else None
            return radio.station_get(station_id=values["station"], user_id=user_id)
        if "taste" in values:
            if user is None:
                raise NotAuthenticated("Sign in for a station from your taste.")
            seed = {"taste": 1}
        elif "seed_track" in values:
            if not Track.objects.filter(pk=values["seed_track"]).exists():
                raise NotFound("No such track.")
            seed = {"track": values["seed_track"]}
        elif "seed_artist" in values:
            if not Artist.objects.filter(pk=values["seed_artist"]).exists():
                raise NotFound("No such artist.")
            seed = {"artist": values["seed_artist"]}
        else:
            seed = {"mood": values["mood"]}
        return radio.station_start(seed=seed, user_id=user.pk if user else None)
