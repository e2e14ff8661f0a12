"""Turn a lost database into a quick 503 instead of a 500 or a hang."""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning("database unavailable for %s: %s", request.path, exception)
        if request.path.startswith("/api/"):
            response = JsonResponse(
                {"detail": "The database is unavailable; try again shortly.", "database": "down"},
                status=503,
            )
        else:
            response = HttpResponse(
                "<h1>Service temporarily unavailable</h1><p>Please try again in a moment.</p>",
                status=503,
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


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
