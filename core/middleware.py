"""Request middleware: quick 503s for a lost database, 411 for bodies without a length, no
uploads where none are expected, and the security headers every answer carries."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.settings import api_settings

from core.api import DISK_FULL_ERRNOS
from core.errors import error_answer
from core.postgresql.deadline import serving_request

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """Every database call of the request gets a deadline (core.postgresql); a view that meets
    a lost or hung database answers 503 with Retry-After; a full disk, 507."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with serving_request():
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, (OperationalError, InterfaceError)):
            logger.warning("database unavailable for %s: %s", request.path, exception)
        elif isinstance(exception, OSError) and exception.errno in DISK_FULL_ERRNOS:
            logger.error("disk full for %s: %s", request.path, exception)
        else:
            return None
        return error_answer(request, exception)


class ContentLengthRequiredMiddleware:
    """Answer 411 to a request body sent without Content-Length (HTTP/1.1 chunked encoding).

    Django reads a body only up to its Content-Length: a chunked upload or JSON body would reach
    the views as empty and be refused as "no file" or "missing field", which says nothing about
    the real problem. nginx in front (docs/deployment.md) buffers bodies and sets the length, so
    this answers only clients that talk to gunicorn directly.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            detail = (
                "Send the request body with a Content-Length header "
                "(chunked bodies are not accepted)."
            )
            if request.path.startswith("/api/"):
                return JsonResponse({"error_code": "length_required", "detail": detail}, status=411)
            return HttpResponse(detail, status=411, content_type="text/plain")
        return self.get_response(request)


class UnexpectedBodyMiddleware:
    """An API view answers 415 to a body of a media type none of its parsers reads, before
    anything reads it: a multipart body sent to an endpoint that takes JSON is never written
    to the data folder's tmp (CSRF checks and DRF would otherwise parse it first).

    Must come before CsrfViewMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None)
        media_type = request.content_type or ""
        if view_class is None or _content_length(request) == 0:
            return None
        if media_type in ("", "application/json"):
            return None  # JSON is read by every API view; no body decides nothing
        initkwargs = getattr(view_func, "initkwargs", {}) or {}
        parser_classes = initkwargs.get("parser_classes") or getattr(
            view_class, "parser_classes", api_settings.DEFAULT_PARSER_CLASSES
        )
        if any(_matches(parser.media_type, media_type) for parser in parser_classes):
            return None
        return JsonResponse(
            {"detail": f'Unsupported media type "{media_type}" in request; send JSON.'},
            status=415,
        )


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _matches(accepted: str, media_type: str) -> bool:
    if accepted in ("*/*", media_type):
        return True
    major, _, minor = accepted.partition("/")
    return minor == "*" and media_type.startswith(f"{major}/")


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every answer (docs/reliability.md,
    row 17). The policy allows scripts, styles, media and requests from this site only: no
    inline script or style, no other origin. Django admin and the API docs page (Swagger UI),
    which set inline style attributes, get `style-src 'self' 'unsafe-inline'` and nothing more."""

    INLINE_STYLE_PATHS = ("/admin/", "/api/docs/")

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.MUSICREC_CONTENT_SECURITY_POLICY
        self.admin_policy = self.policy.replace(
            "style-src 'self'", "style-src 'self' 'unsafe-inline'"
        )
        self.permissions = settings.MUSICREC_PERMISSIONS_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        admin = request.path.startswith(self.INLINE_STYLE_PATHS)
        response.headers.setdefault(
            "Content-Security-Policy", self.admin_policy if admin else self.policy
        )
        response.headers.setdefault("Permissions-Policy", self.permissions)
        return response
