"""The OpenAPI schema says what the API answers (docs/api.md, "Errors"; docs/reliability.md,
row 9): drf-spectacular documents each view's success, and this schema class adds the error
answers every view can give, from what the view is (its parameters, body and permissions):

- 400 a parameter or body the view refuses (field-level messages);
- 401 a missing or invalid token where one is needed, and an invalid token anywhere;
- 403 a permission the user lacks (as admin), or a session write without its CSRF token;
- 404 an id (in the path or the query) or a page that does not exist;
- 411 a chunked body without Content-Length; 415 a body type the view does not read;
- 414 a request line over 4,094 bytes (gunicorn, before the app: an HTML page);
- 429 throttled (Retry-After); 503 the database lost or hung (Retry-After).

Views that read without signing in (AllowAny, or our staff permission's reads open to all) say
so with an empty security requirement, as drf-spectacular does for AllowAny. Every query
parameter here reads an empty value as absent (`allowEmptyValue`).
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, is_list_serializer
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.serializers import ListSerializer

ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_COMPONENT = {
    "type": "object",
    "description": "DRF's error body: `detail` (and for some, `error_code`), or a list of "
    'messages per field name. docs/api.md, "Errors".',
    "properties": {"detail": {"type": "string"}, "error_code": {"type": "string"}},
    "additionalProperties": True,
}
BATCH_ERRORS = {
    "oneOf": [ERROR, {"type": "array", "items": {"type": "object", "additionalProperties": True}}],
    "description": "a batch's errors: one object per listen, in order ({} for a good one)",
}
RETRY = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}


def _json(description: str, schema: dict = ERROR, headers: dict | None = None) -> dict:
    answer = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


class AutoSchema(SpectacularAutoSchema):
    def get_auth(self):
        auths = super().get_auth()
        if self.method in SAFE_METHODS and {} not in auths and self._reads_open():
            auths.append({})
        return auths

    def _reads_open(self) -> bool:
        return any(getattr(p, "reads_open_to_all", False) for p in self.view.get_permissions())

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        self.registry.register_on_missing(
            ResolvedComponent("Error", ResolvedComponent.SCHEMA, ERROR_COMPONENT, "Error")
        )
        responses = operation.setdefault("responses", {})
        has_body = "requestBody" in operation
        queries = [p for p in operation.get("parameters", []) if p["in"] == "query"]
        paths = [p for p in operation.get("parameters", []) if p["in"] == "path"]
        for parameter in queries:
            if not parameter.get("required"):
                parameter["allowEmptyValue"] = True  # every query reader here: empty is absent
        extra = {}
        if queries or has_body:
            extra["400"] = _json("invalid parameters or body", self._bad_request_schema())
        extra["401"] = _json("not signed in, or an invalid token")
        if self.method not in SAFE_METHODS or not self._permissions_are_plain():
            extra["403"] = _json("lacks the permission admin asks for, or no CSRF token")
        if paths or queries:
            extra["404"] = _json("no such object (an id in the path or the query), or page")
        if has_body:
            extra["411"] = _json("a chunked body without Content-Length")
            extra["415"] = _json("a body of a media type this operation does not read")
        if queries:
            extra["414"] = {
                "description": "the request line is over 4,094 bytes (gunicorn's answer)",
                "content": {"text/html": {"schema": {"type": "string"}}},
            }
        extra["429"] = _json("throttled", headers=RETRY)
        extra["503"] = _json("the database is unavailable; nothing was done", headers=RETRY)
        for code, answer in extra.items():
            responses.setdefault(code, answer)
        return operation

    def _unwrap_list_serializer(self, serializer, direction):
        """A list's bounds (min_length, max_length) as minItems, maxItems; a OneOrMany list
        takes one item alone too."""
        schema = super()._unwrap_list_serializer(serializer, direction)
        if schema and is_list_serializer(serializer):
            for key, name in (("minItems", "min_length"), ("maxItems", "max_length")):
                if getattr(serializer, name, None) is not None:
                    schema[key] = getattr(serializer, name)
            if isinstance(serializer, OneOrMany):
                item = super()._unwrap_list_serializer(serializer.child, direction)
                schema = {"oneOf": [item, schema]}
        return schema

    def _permissions_are_plain(self) -> bool:
        """Open to all, or to any signed-in user: no 403 but a CSRF one."""
        return all(
            type(p) in (AllowAny, IsAuthenticated) or getattr(p, "reads_open_to_all", False)
            for p in self.view.get_permissions()
        )

    def _bad_request_schema(self) -> dict:
        return getattr(self.view, "bad_request_schema", {}).get(self.method.lower(), ERROR)


class OneOrMany(ListSerializer):
    """A body that is one object or a list of them (the view reads both); the schema says so."""


class ExactlyOneOf(OpenApiSerializerExtension):
    """A serializer whose `schema_exactly_one_of` names fields of which a body (or an answer)
    has exactly one: those leave `required` for a oneOf. `schema_always_required` names
    fields required even in a PATCH body (drf-spectacular makes PATCH bodies partial)."""

    match_subclasses = True
    target_class = "rest_framework.serializers.Serializer"

    @classmethod
    def _matches(cls, target) -> bool:
        return super()._matches(target) and bool(
            getattr(target, "schema_exactly_one_of", None)
            or getattr(target, "schema_always_required", None)
        )

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        one_of = tuple(getattr(self.target, "schema_exactly_one_of", ()))
        always = list(getattr(self.target, "schema_always_required", ()))
        required = [name for name in schema.get("required", []) if name not in one_of]
        required += [name for name in always if name not in required]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        if one_of:
            schema["oneOf"] = [{"required": [name]} for name in one_of]
        return schema
