"""The listening API: record listens, read and curate one's history, feedback."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core.schema import BATCH_ERRORS, OneOrMany
from listening import selectors
from listening.models import Feedback, ListeningEvent
from listening.serializers import (
    FeedbackInSerializer,
    FeedbackSerializer,
    ListenCreatedSerializer,
    ListenExcludeSerializer,
    ListenInSerializer,
    ListenSerializer,
)
from listening.services import (
    MAX_BATCH,
    ListenBatchError,
    ListenInput,
    feedback_delete,
    feedback_set,
    listen_set_excluded,
    listens_record,
)


@extend_schema(tags=["listens"])
class ListenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ListenSerializer
    queryset = ListeningEvent.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.history_for_user(user=self.request.user)

    @extend_schema(
        request=OneOrMany(child=ListenInSerializer(), min_length=1, max_length=MAX_BATCH),
        responses={
            201: ListenCreatedSerializer,
            400: OpenApiResponse(BATCH_ERRORS, description="invalid; nothing was stored"),
        },
        description=(
            f"One listen object, or a list of 1 to {MAX_BATCH}. All or nothing: one invalid "
            "item and nothing is stored. A repeated client_event_id is a duplicate."
        ),
    )
    def create(self, request: Request) -> Response:
        single = isinstance(request.data, dict)
        items = [request.data] if single else request.data
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
            raise ValidationError(
                {"non_field_errors": [f"send one listen or a list of 1 to {MAX_BATCH} listens"]}
            )
        parsed = ListenInSerializer(data=items, many=True)
        if not parsed.is_valid():
            raise ValidationError(parsed.errors[0] if single else parsed.errors)
        source = (
            ListeningEvent.Source.PLAYER
            if isinstance(request.successful_authenticator, SessionAuthentication)
            else ListeningEvent.Source.API
        )
        try:
            result = listens_record(
                user=request.user,
                listens=[ListenInput(**item) for item in parsed.validated_data],
                source=source,
            )
        except ListenBatchError as exc:
            raise ValidationError(exc.item_errors[0] if single else exc.item_errors) from None
        return Response(
            {"created": result.created, "duplicates": result.duplicates},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=ListenExcludeSerializer, responses={200: ListenSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        body = ListenExcludeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            event = listen_set_excluded(
                user=request.user, event_id=_int_id(pk), excluded=body.validated_data["excluded"]
            )
        except ObjectDoesNotExist:
            raise NotFound() from None
        event = selectors.history_for_user(user=request.user).get(pk=event.pk)
        return Response(ListenSerializer(event).data)


@extend_schema(tags=["feedback"])
class FeedbackViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    serializer_class = FeedbackSerializer
    queryset = Feedback.objects.none()

    def get_queryset(self):
        return selectors.feedback_for_user(user=self.request.user)

    @extend_schema(
        request=FeedbackInSerializer,
        responses={201: FeedbackSerializer, 200: FeedbackSerializer},
        description="201 for new feedback, 200 when that target had feedback (kind replaced).",
    )
    def create(self, request: Request) -> Response:
        body = FeedbackInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        feedback, created = feedback_set(user=request.user, **body.validated_data)
        return Response(
            FeedbackSerializer(feedback).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        try:
            feedback_delete(user=request.user, feedback_id=_int_id(pk))
        except ObjectDoesNotExist:
            raise NotFound() from None
        return Response(status=status.HTTP_204_NO_CONTENT)


def _int_id(pk: str | None) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise NotFound() from None
