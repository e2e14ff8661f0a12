"""The catalogue's REST API: tracks (list, detail, upload, audio, similar) and artists."""

from __future__ import annotations

from pathlib import Path

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from catalog import selectors
from catalog.audio import errors
from catalog.models import Artist, Track
from catalog.serializers import (
    ArtistDetailSerializer,
    ArtistSerializer,
    DuplicateSerializer,
    SimilarSerializer,
    TrackDetailSerializer,
    TrackListSerializer,
    TrackUploadSerializer,
    UploadRefusedSerializer,
    compact_track,
)
from catalog.services import DUPLICATE, IMPORTED, upload_import
from catalog.streaming import file_response
from core.api import MAX_BIGINT, n_schema, query_n
from core.parsing import JSONParser
from core.permissions import staff_with

SIMILAR_DEFAULT_N = 10


# as admin: adding a track (an upload) needs catalog.add_track; reading is open
IsStaffOrReadOnly = staff_with("catalog.add_track", read_only_for_all=True)


class TrackFilterSerializer(serializers.Serializer):
    """The list's filters (docs/player.md, "Filters"); any other query parameter is a 400."""

    PAGING = ("page", "page_size", "format")

    q = serializers.CharField(
        required=False, allow_blank=True, max_length=200,
        help_text="title, artist, or artist and title; typos forgiven, best match first",
    )  # fmt: skip
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="the same as q"
    )
    artist = serializers.IntegerField(required=False, min_value=1, max_value=MAX_BIGINT)
    emotion = serializers.ChoiceField(choices=selectors.EMOTIONS, required=False)
    tempo_min = serializers.FloatField(required=False, min_value=0, max_value=1000)
    tempo_max = serializers.FloatField(required=False, min_value=0, max_value=1000)
    energy_min = serializers.FloatField(required=False, min_value=0, max_value=1)
    energy_max = serializers.FloatField(required=False, min_value=0, max_value=1)
    status = serializers.ChoiceField(choices=Track.Status.choices, required=False)

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields) - set(self.PAGING))
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown query parameter."] for name in unknown}
            )
        for low, high in (("tempo_min", "tempo_max"), ("energy_min", "energy_max")):
            if low in attrs and high in attrs and attrs[low] > attrs[high]:
                raise serializers.ValidationError({low: [f"Must not be above {high}."]})
        if attrs.get("q") and attrs.get("search") and attrs["q"] != attrs["search"]:
            raise serializers.ValidationError({"search": ["Give q or search, not both."]})
        return attrs


@extend_schema(tags=["tracks"])
class TrackViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsStaffOrReadOnly]
    parser_classes = [MultiPartParser, JSONParser]  # the upload is the API's one file
    queryset = Track.objects.none()

    def get_serializer_class(self):
        return TrackListSerializer if self.action == "list" else TrackDetailSerializer

    def get_queryset(self):
        if self.action != "list":
            return Track.objects.select_related("artist", "album", "features")
        filters = TrackFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        return selectors.tracks_query(
            q=values.get("q") or values.get("search", ""),
            artist_id=values.get("artist"),
            emotion=values.get("emotion", ""),
            tempo_min=values.get("tempo_min"),
            tempo_max=values.get("tempo_max"),
            energy_min=values.get("energy_min"),
            energy_max=values.get("energy_max"),
            status=values.get("status", ""),
        )

    @extend_schema(parameters=[TrackFilterSerializer])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": TrackUploadSerializer},
        responses={
            201: TrackDetailSerializer,
            400: UploadRefusedSerializer,
            409: DuplicateSerializer,
            413: UploadRefusedSerializer,
        },
        description="Upload audio (staff). The content decides, never the file's name; every "
        'outcome and error code is in docs/api.md, "Upload outcomes".',
    )
    def create(self, request: Request) -> Response:
        upload = TrackUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        values = upload.validated_data
        result = upload_import(
            upload=values["audio"],
            title=values.get("title", ""),
            artist_name=values.get("artist", ""),
            album_title=values.get("album", ""),
        )
        if result.result == IMPORTED:
            track = selectors.track_get(track_id=result.track_id)  # as it stands after commit
            return Response(TrackDetailSerializer(track).data, status=status.HTTP_201_CREATED)
        if result.result == DUPLICATE:
            return Response(
                {
                    "error_code": errors.DUPLICATE,
                    "detail": result.detail,
                    "track_id": result.track_id,
                },
                status=status.HTTP_409_CONFLICT,
            )
        code = (
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
            if result.error_code == errors.TOO_LARGE
            else status.HTTP_400_BAD_REQUEST
        )
        body = {"error_code": result.error_code, "detail": result.detail, "audio": [result.detail]}
        return Response(body, status=code)

    @extend_schema(
        responses={
            (200, "audio/*"): OpenApiResponse(OpenApiTypes.BINARY, description="the audio"),
            (206, "audio/*"): OpenApiResponse(OpenApiTypes.BINARY, description="a byte range"),
            304: OpenApiResponse(description="not modified (If-None-Match)"),
            404: OpenApiResponse(description="no such track, or it has no audio"),
            416: OpenApiResponse(description="range not satisfiable"),
        },
        parameters=[
            OpenApiParameter("Range", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)
        ],
        description="The stored audio bytes, with HTTP Range support for seeking.",
    )
    @action(detail=True, methods=["get"], permission_classes=[AllowAny], url_path="audio")
    def audio(self, request: Request, pk: str | None = None):
        track = self.get_object()
        if not track.audio:
            raise NotFound("This track has no audio.")
        path = Path(track.audio.path)
        if not path.exists():
            raise NotFound("The audio file is missing.")
        return file_response(
            request,
            path=path,
            content_type=track.mime_type or "application/octet-stream",
            etag=track.sha256 or str(track.pk),
            internal_name=track.audio.name,
        )

    @extend_schema(
        parameters=[OpenApiParameter("n", n_schema(SIMILAR_DEFAULT_N), description="how many")],
        responses={200: SimilarSerializer},
    )
    @action(detail=True, methods=["get"], permission_classes=[AllowAny])
    def similar(self, request: Request, pk: str | None = None) -> Response:
        n = query_n(request, default=SIMILAR_DEFAULT_N)
        track = self.get_object()
        found = selectors.similar_tracks(track=track, n=n)
        tracks = selectors.tracks_by_ids([m.track_id for m in found.matches])
        results = [
            {
                "track": compact_track(tracks[m.track_id]),
                "similarity": round(m.similarity, 4),
                "reasons": m.reasons,
            }
            for m in found.matches
            if m.track_id in tracks
        ]
        return Response(
            {
                "track_id": track.pk,
                "source": "audio_features",
                "analysis_status": found.analysis_status,
                "results": results,
            }
        )


class ArtistFilterSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200)


@extend_schema(tags=["artists"])
class ArtistViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [AllowAny]
    queryset = Artist.objects.none()
    similar_count = 10

    def get_serializer_class(self):
        return ArtistDetailSerializer if self.action == "retrieve" else ArtistSerializer

    def get_queryset(self):
        filters = ArtistFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.artists_query(q=filters.validated_data.get("q", ""))

    @extend_schema(parameters=[ArtistFilterSerializer])
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        artist = self.get_object()
        matches = selectors.similar_artists(artist_id=artist.pk, n=self.similar_count)
        names = dict(
            Artist.objects.filter(pk__in=[m.artist_id for m in matches]).values_list("pk", "name")
        )
        artist.similar_artists = [
            {"id": m.artist_id, "name": names[m.artist_id], "similarity": round(m.similarity, 4)}
            for m in matches
            if m.artist_id in names
        ]
        return Response(ArtistDetailSerializer(artist).data)
