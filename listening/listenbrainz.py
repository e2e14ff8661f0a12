"""ListenBrainz-compatible endpoints for scrobblers (docs/listening.md): `POST /1/submit-listens`
and `GET /1/validate-token`, with the payloads, status codes and `{"code", "error"}` bodies of
the ListenBrainz API, authenticated by the listener's musicrec API token."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from rest_framework.authtoken.models import Token

from listening.services import MAX_BATCH, ListenBatchError
from listening.services.imports.rows import MAX_NAME
from listening.services.scrobbles import Scrobble, scrobbles_record
from listening.services.validation import listen_problems

MAX_LISTEN_SIZE = 10240  # characters per listen, as ListenBrainz allows
LISTEN_TYPES = ("single", "import", "playing_now")


class BadRequest(Exception):
    status = 400


class Unauthorized(BadRequest):
    status = 401


def _error(exc: BadRequest) -> JsonResponse:
    return JsonResponse({"code": exc.status, "error": str(exc)}, status=exc.status)


def _token_user(key: str):
    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token is not None and token.user.is_active else None


def _header_user(request: HttpRequest):
    header = request.headers.get("Authorization")
    if not header:
        raise Unauthorized("You need to provide an Authorization header.")
    parts = header.split(" ")
    if len(parts) < 2:
        raise Unauthorized("Provided Authorization header is invalid.")
    user = _token_user(parts[1])
    if user is None:
        raise Unauthorized("Invalid authorization token.")
    return user


def validate_token(request: HttpRequest) -> JsonResponse:
    """The token from `Authorization: Token ...` (or the older `?token=`): valid or not."""
    if request.method != "GET":
        return _error(_not_allowed())
    header = request.headers.get("Authorization", "").split(" ")
    key = header[1] if len(header) > 1 else request.GET.get("token", "")
    if not key:
        return _error(BadRequest("You need to provide an Authorization token."))
    user = _token_user(key)
    if user is None:
        return JsonResponse({"code": 200, "message": "Token invalid.", "valid": False})
    return JsonResponse(
        {"code": 200, "message": "Token valid.", "valid": True, "user_name": user.username}
    )


@csrf_exempt
def submit_listens(request: HttpRequest) -> JsonResponse:
    """Store `single` and `import` listens; `playing_now` is accepted and not stored (it is not
    a listen). 200 `{"status": "ok"}` means every listen of the request is in the database."""
    if request.method != "POST":
        return _error(_not_allowed())
    try:
        user = _header_user(request)
        listen_type, payload = _document(request.body)
        scrobbles = [_listen(listen, listen_type) for listen in payload]
        if listen_type != "playing_now":
            try:
                scrobbles_record(user=user, scrobbles=scrobbles)
            except ListenBatchError as exc:  # a time our other doors refuse too
                problems = next(e for e in exc.item_errors if e)
                raise BadRequest(" ".join(f"{k}: {v[0]}" for k, v in problems.items())) from None
    except BadRequest as exc:
        return _error(exc)
    return JsonResponse({"status": "ok"})


def _not_allowed() -> BadRequest:
    error = BadRequest("The method is not allowed for the requested URL.")
    error.status = 405
    return error


def _document(body: bytes) -> tuple[str, list]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"Cannot parse JSON document: {exc}") from None
    if not isinstance(data, dict) or "payload" not in data or "listen_type" not in data:
        raise BadRequest("Invalid JSON document submitted.")
    payload, listen_type = data["payload"], data["listen_type"]
    if not isinstance(payload, list):
        raise BadRequest("Invalid JSON document submitted.")
    if not payload:
        raise BadRequest("JSON document does not contain any listens")
    if len(body) > len(payload) * MAX_LISTEN_SIZE:
        raise BadRequest(
            "JSON document is too large. In aggregate, listens may not be larger than "
            f"{MAX_LISTEN_SIZE} characters."
        )
    if listen_type not in LISTEN_TYPES:
        raise BadRequest("JSON document requires a valid listen_type key.")
    if listen_type != "import" and len(payload) > 1:
        raise BadRequest(
            "JSON document contains more than listen for a single/playing_now. "
            "It should contain only one."
        )
    if len(payload) > MAX_BATCH:
        raise BadRequest(f"JSON document may not contain more than {MAX_BATCH} listens.")
    return listen_type, payload


def _listen(listen, listen_type: str) -> Scrobble:
    if not isinstance(listen, dict):
        raise BadRequest("Listen is empty and cannot be validated.")
    listened_at = None
    if listen_type == "playing_now":
        if "listened_at" in listen:
            raise BadRequest(
                "JSON document must not contain listened_at while submitting playing_now."
            )
        if "track_metadata" in listen and len(listen) > 1:
            raise BadRequest(
                "JSON document may only contain track_metadata as top level key when "
                "submitting playing_now."
            )
    else:
        listened_at = _listened_at(listen)
    metadata = listen.get("track_metadata")
    if not isinstance(metadata, dict):
        raise BadRequest("JSON document does not contain required track_metadata.")
    artist = _name(metadata, "artist_name")
    title = _name(metadata, "track_name")
    _no_nul(listen)
    return Scrobble(listened_at=listened_at or timezone.now(), artist=artist, title=title)


def _listened_at(listen: dict) -> datetime:
    if "listened_at" not in listen:
        raise BadRequest("JSON document must contain the key listened_at at the top level.")
    value = listen["listened_at"]
    try:
        if isinstance(value, bool):
            raise ValueError
        seconds = int(value)
        when = datetime.fromtimestamp(seconds, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise BadRequest("JSON document must contain an int value for listened_at.") from None
    if len(listen) > 2 or set(listen) - {"listened_at", "track_metadata"}:
        raise BadRequest(
            "JSON document may only contain listened_at and track_metadata top level keys"
        )
    problem = listen_problems(
        listened_at=when, ms_played=None, completed=False, skipped=False, now=timezone.now()
    ).get("listened_at")
    if problem == "is in the future":
        raise BadRequest("Value for key listened_at is too high.")
    if problem:
        raise BadRequest(f"Value for key listened_at {problem}.")
    return when


def _name(metadata: dict, field: str) -> str:
    if field not in metadata:
        raise BadRequest(f"JSON document does not contain required track_metadata.{field}.")
    value = metadata[field]
    if not isinstance(value, str):
        raise BadRequest(f"track_metadata.{field} must be a single string.")
    value = value.strip()
    if not value:
        raise BadRequest(f"required field track_metadata.{field} is empty.")
    if len(value) > MAX_NAME:
        raise BadRequest(f"track_metadata.{field} may not be longer than {MAX_NAME} characters.")
    return value


def _no_nul(value) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _no_nul(item)
    elif isinstance(value, list):
        for item in value:
            _no_nul(item)
    elif isinstance(value, str) and "\x00" in value:
        raise BadRequest(f"{value} contains a unicode null")
