"""JSON in and out of the API that no body can turn into a 500 (docs/reliability.md, row 12).

- `JSONParser`: a body nested deeper than MAX_JSON_DEPTH, or one Python's decoder gives up on
  (RecursionError), is a 400; so is a string with a lone UTF-16 surrogate (`"\\udc00"`), which
  is valid JSON syntax but no text: it could not be stored or echoed back in an error.
- `JSONRenderer`: should a string that cannot be encoded as UTF-8 still reach an answer, it is
  escaped (`ensure_ascii`) instead of failing the response.
"""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from rest_framework import parsers, renderers
from rest_framework.exceptions import ParseError

# Deeper than any shape the API accepts (a list of listen objects is 2).
MAX_JSON_DEPTH = 32


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError:
            raise ParseError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep.") from None
        except (ValueError, UnicodeError) as exc:
            raise ParseError(f"JSON parse error - {_printable(str(exc))}") from None
        json_problem(data, surrogates="\\u" in text)
        return data


def json_problem(data, *, surrogates: bool = True) -> None:
    """Raise ParseError when `data` is nested too deeply or holds a lone surrogate.

    `surrogates=False` skips the string checks: text decoded from UTF-8 cannot hold a lone
    surrogate unless the JSON spelled one as a \\u escape (the parser looks for one first)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ParseError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep.")
        if isinstance(value, dict):
            if surrogates:
                for key in value:
                    _check_text(key)
            stack.extend((item, depth + 1) for item in value.values() if _nests(item, surrogates))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value if _nests(item, surrogates))
        elif surrogates and isinstance(value, str):
            _check_text(value)


def _nests(value, surrogates: bool) -> bool:
    """Whether json_problem must look at `value`: containers always, strings when checked."""
    return isinstance(value, dict | list) or (surrogates and isinstance(value, str))


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError(
            "JSON strings must be text: a lone UTF-16 surrogate (\\ud800-\\udfff) is not."
        ) from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            # ensure_ascii escapes every non-ASCII character, lone surrogates included
            return json.dumps(data, cls=self.encoder_class, ensure_ascii=True).encode("ascii")
