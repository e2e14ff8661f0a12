"""API conventions shared by every app: pagination, `?n=` bounds, error shape."""

import errno
import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 100
MAX_N = 100
# PostgreSQL's integer and bigint: a number bound for such a column is validated against these,
# so it is a field-level 400, never an out-of-range error from the database.
MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1


class Pagination(PageNumberPagination):
    """`?page=` and `?page_size=` (1..100, default 20); a size out of bounds is a 400."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        field = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE)
        try:
            return field.run_validation(raw)
        except ValidationError as exc:
            raise ValidationError({self.page_size_query_param: exc.detail}) from None

    def get_schema_operation_parameters(self, view) -> list[dict]:
        """The schema states the bounds the answers hold to (a page past the last is a 404)."""
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.page_query_param: {"type": "integer", "minimum": 1},
            self.page_size_query_param: {
                "type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": self.page_size
            },
        }  # fmt: skip
        for parameter in parameters:
            parameter["schema"] = bounds.get(parameter["name"], parameter["schema"])
        return parameters


def n_schema(default: int, maximum: int = MAX_N) -> dict:
    """The OpenAPI schema of an `?n=` that query_n reads."""
    return {"type": "integer", "minimum": 1, "maximum": maximum, "default": default}


def query_n(request: Request, *, default: int, maximum: int = MAX_N) -> int:
    """Read `?n=` as an integer in 1..maximum, or raise a field-level 400."""
    return query_int(request, "n", default=default, minimum=1, maximum=maximum)


def query_int(request: Request, name: str, *, default: int, minimum: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    field = serializers.IntegerField(min_value=minimum, max_value=maximum)
    try:
        return field.run_validation(raw)
    except ValidationError as exc:
        raise ValidationError({name: exc.detail}) from None


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def disk_full_response() -> Response:
    return Response(
        {
            "error_code": "disk_full",
            "detail": "The server has no room to store this right now; nothing was kept. "
            "Try again later.",
        },
        status=507,
        headers={"Retry-After": "60"},
    )


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, plus: Django's ValidationError (raised by services) as a field-level 400;
    a value the database refuses as out of range (DataError) as a 400; a full disk as 507."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail)
    elif isinstance(exc, DataError):
        logger.warning("refused by the database as out of range: %s", exc)
        exc = ValidationError({"detail": ["A value is out of the range the server stores."]})
    elif isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
        logger.error("disk full: %s", exc)
        return disk_full_response()
    return drf_exception_handler(exc, context)
