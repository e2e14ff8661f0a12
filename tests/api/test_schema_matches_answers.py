"""The schema says what the answers are (docs/reliability.md, row 9): the cases an attack found
wrong, each read from the served document and checked against a real answer. The fuzzer
(tests/reliability/test_fuzz.py) checks every operation the same way with generated requests."""

import json

import pytest
from django.test import Client
from jsonschema import Draft4Validator
from rest_framework.authtoken.models import Token

from tests.factories import TrackFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    return json.loads(client.get("/api/schema/?format=json").content)


def resolve(schema: dict, node: dict) -> dict:
    """The node with every $ref replaced (components inlined), for jsonschema."""
    if isinstance(node, dict):
        if "$ref" in node:
            return resolve(schema, schema["components"]["schemas"][node["$ref"].split("/")[-1]])
        return {k: resolve(schema, v) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(schema, v) for v in node]
    return node


def nullable_to_types(node):
    """OpenAPI 3.0's `nullable` as JSON Schema's type list."""
    if isinstance(node, dict):
        node = {k: nullable_to_types(v) for k, v in node.items()}
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        return node
    if isinstance(node, list):
        return [nullable_to_types(v) for v in node]
    return node


def body_schema(schema, path, method, part):
    operation = schema["paths"][path][method]
    node = operation["requestBody"] if part == "request" else operation["responses"][part]
    return nullable_to_types(resolve(schema, node["content"]["application/json"]["schema"]))


def test_feedback_takes_a_track_or_an_artist_not_both(schema):
    body = Draft4Validator(body_schema(schema, "/api/feedback/", "post", "request"))
    assert body.is_valid({"track_id": 7, "kind": "like"})
    assert body.is_valid({"artist_id": 3, "kind": "dont_recommend"})
    assert not body.is_valid({"track_id": 7, "artist_id": 3, "kind": "like"})
    assert not body.is_valid({"kind": "like"})


def test_a_feedback_answer_and_a_track_without_audio_match_their_schemas(schema):
    user = UserFactory()
    track = TrackFactory()  # no stored file (history names such tracks): audio_url null
    client = Client(headers={"Authorization": f"Token {Token.objects.create(user=user).key}"})
    created = client.post("/api/feedback/", {"track_id": track.pk, "kind": "like"},
                          content_type="application/json")  # fmt: skip
    assert created.status_code == 201
    Draft4Validator(body_schema(schema, "/api/feedback/", "post", "201")).validate(created.json())
    listed = Client().get("/api/tracks/")
    assert listed.json()["results"][0]["audio_url"] is None
    Draft4Validator(body_schema(schema, "/api/tracks/", "get", "200")).validate(listed.json())


def test_anonymous_reads_are_marked_open_and_writes_are_not(schema):
    assert {} in schema["paths"]["/api/tracks/"]["get"]["security"]
    assert {} not in schema["paths"]["/api/tracks/"]["post"].get("security", [{"x": []}])
    assert {} not in schema["paths"]["/api/listens/"]["get"]["security"]
    assert Client().get("/api/tracks/").status_code == 200
    assert Client().post("/api/tracks/").status_code == 401


@pytest.mark.parametrize(
    ("path", "name", "low", "high"),
    [("/api/tracks/", "page_size", 1, 100), ("/api/tracks/{id}/similar/", "n", 1, 100),
     ("/api/recommendations/", "n", 1, 100),
     ("/api/recommendations/because-you-listened/", "shelves", 1, 10)],
)  # fmt: skip
def test_bounds_are_in_the_schema(schema, path, name, low, high):
    (parameter,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name]
    assert (parameter["schema"]["minimum"], parameter["schema"]["maximum"]) == (low, high)


def test_error_answers_are_documented(schema):
    track_list = schema["paths"]["/api/tracks/"]["get"]["responses"]
    assert {"400", "401", "404", "414", "429", "503"} <= set(track_list)
    upload = schema["paths"]["/api/tracks/"]["post"]["responses"]
    assert {"400", "401", "403", "409", "411", "413", "415", "429", "503"} <= set(upload)
    assert "Retry-After" in track_list["429"]["headers"]


def test_a_url_no_route_matches_under_api_is_a_json_404(client):
    response = client.get("/api/tracks/0.5/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
