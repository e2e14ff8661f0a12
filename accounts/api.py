"""POST /api/auth/token/: a token for a username and password, throttled like the login form."""

from django.http import HttpRequest
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled
from rest_framework.parsers import FormParser

from core.parsing import JSONParser
from core.throttling import attempt_wait


class TokenView(ObtainAuthToken):
    """`{username, password}` -> `{"token"}`. Attempts count per client address and per username
    before the password is checked (core.throttling): past the budget, 429 with Retry-After."""

    parser_classes = [JSONParser, FormParser]
    throttle_classes = []  # the sign-in budget below replaces the anonymous rate

    def check_throttles(self, request: HttpRequest) -> None:
        super().check_throttles(request)
        username = request.data.get("username", "") if hasattr(request.data, "get") else ""
        wait = attempt_wait(request, action="sign_in", username=str(username))
        if wait is not None:
            raise Throttled(wait=wait, detail=f"Too many sign-in attempts; try again in {wait} s.")

    @extend_schema(
        tags=["auth"],
        responses={
            200: inline_serializer("Token", fields={"token": serializers.CharField()}),
            400: OpenApiResponse(description="wrong username or password"),
            429: OpenApiResponse(description="too many attempts; see Retry-After"),
        },
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
