"""Serve a stored audio file with HTTP Range support (RFC 9110 section 14), so players can seek.

The same code serves development and production. Behind nginx, set MUSICREC_AUDIO_ACCEL_PREFIX
and the response hands the file to nginx with X-Accel-Redirect instead (docs/deployment.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date

CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """(first, last) inclusive for a single satisfiable range; None to serve the whole file
    (no header, a malformed one, or several ranges); "unsatisfiable" for a 416."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None:
        return None
    first_text, last_text = match.groups()
    if first_text == "" and last_text == "":
        return None
    if first_text == "":  # suffix range: the last N bytes
        length = int(last_text)
        if length == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size:
        return "unsatisfiable"
    if last < first:
        return None
    return first, min(last, size - 1)


def file_response(
    request: HttpRequest, *, path: Path, content_type: str, etag: str, internal_name: str
) -> HttpResponse:
    size = path.stat().st_size
    quoted_etag = f'"{etag}"'
    if quoted_etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
        response["ETag"] = quoted_etag
        return response

    accel_prefix = settings.MUSICREC_AUDIO_ACCEL_PREFIX
    if accel_prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = accel_prefix.rstrip("/") + "/" + internal_name
        response["ETag"] = quoted_etag
        return response

    wanted = parse_range(request.headers.get("Range", ""), size)
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range != quoted_etag:
        wanted = None  # the client's copy is of another version: send it whole
    if wanted == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response

    first, last = wanted if wanted else (0, size - 1)
    length = max(0, last - first + 1)
    body = _read(path, first, length) if request.method != "HEAD" else iter(())
    response = StreamingHttpResponse(body, status=206 if wanted else 200, content_type=content_type)
    response["Content-Length"] = str(length)
    if wanted:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = quoted_etag
    response["Last-Modified"] = http_date(path.stat().st_mtime)
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _read(path: Path, first: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        handle.seek(first)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
