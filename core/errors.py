"""The last answer to an error nothing else handled (Django's handler500, used when DEBUG=0).

A database that is down or does not answer is a 503 with Retry-After, a full disk a 507, both
also when they happen outside a view (in a middleware, a session save). Under /api/ every answer
is JSON, as the API promises; pages get a short HTML page.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from core.api import DISK_FULL_ERRNOS

DATABASE_RETRY_AFTER_SECONDS = 5


def error_answer(request: HttpRequest, exc: BaseException | None) -> HttpResponse:
    """The 503, 507 or 500 answer for `exc`, JSON under /api/."""
    api = request.path.startswith("/api/")
    if isinstance(exc, (OperationalError, InterfaceError)):
        status, retry = 503, DATABASE_RETRY_AFTER_SECONDS
        body = {"detail": "The database is unavailable; try again shortly.", "database": "down"}
        page = "<h1>Service temporarily unavailable</h1><p>Please try again in a moment.</p>"
    elif isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
        status, retry = 507, 60
        body = {"error_code": "disk_full", "detail": "The server has no room to store this now."}
        page = "<h1>Out of storage</h1><p>Nothing was kept. Please try again later.</p>"
    else:
        status, retry = 500, None
        body = {"detail": "Server error."}
        page = "<h1>Server error</h1><p>Something went wrong on our side.</p>"
    response = JsonResponse(body, status=status) if api else HttpResponse(page, status=status)
    if retry is not None:
        response["Retry-After"] = str(retry)
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: under /api/ a JSON 404 like DRF's (a URL no route matches, say
    /api/tracks/0.5/), elsewhere the site's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: Django calls it inside the `except` of the unhandled exception."""
    return error_answer(request, sys.exc_info()[1])
