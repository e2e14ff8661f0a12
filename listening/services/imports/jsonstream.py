"""The objects of a JSON array or of JSON lines, read one at a time (memory stays flat)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator

from listening.services.imports.report import ImportFormatError

CHUNK_CHARS = 1 << 20
_decoder = json.JSONDecoder()
_SPACE = " \t\r\n"


def json_items(raw, progress: Callable[[int], None] | None = None) -> Iterator[object]:
    """Each value of a top-level JSON array, or each line of JSON lines, in order. Raises
    ImportFormatError when the text is not JSON (with the position)."""
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict")
    try:
        yield from _items(text, progress)
    finally:
        text.detach()  # the caller's file stays open (a wrapper closes it when collected)


def _items(text, progress) -> Iterator[object]:
    buffer, position, done, consumed = "", 0, False, 0
    in_array: bool | None = None

    def fill() -> bool:
        nonlocal buffer, position, done, consumed
        try:
            more = text.read(CHUNK_CHARS)
        except UnicodeDecodeError as exc:
            raise ImportFormatError(f"not UTF-8 text ({exc.reason})") from None
        if progress is not None and more:
            progress(len(more.encode("utf-8", "surrogatepass")))
        consumed += position
        buffer, position = buffer[position:] + more, 0
        done = not more
        return bool(more)

    fill()
    while True:
        while position < len(buffer) and buffer[position] in _SPACE + ("," if in_array else ""):
            position += 1
        if position >= len(buffer):
            if done:
                if in_array:
                    raise ImportFormatError("the JSON array is not closed: the file is cut short")
                break
            fill()
            continue
        char = buffer[position]
        if in_array is None:
            in_array = char == "["
            if in_array:
                position += 1
                continue
        if in_array and char == "]":
            break
        try:
            value, end = _decoder.raw_decode(buffer, position)
        except json.JSONDecodeError as exc:
            if not done and fill():
                continue
            raise ImportFormatError(
                f"not valid JSON at character {consumed + exc.pos}: {exc.msg}"
            ) from None
        if end == len(buffer) and not done and not buffer.endswith(("}", "]")):
            fill()  # a number or word cut by the chunk: read on, decode again
            continue
        position = end
        yield value
