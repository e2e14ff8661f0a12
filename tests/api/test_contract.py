"""The API as a whole: schema, docs without a CDN, throttling, pagination bounds."""

import json
import re
from pathlib import Path

import pytest
from drf_spectacular.validation import validate_schema
from rest_framework.throttling import SimpleRateThrottle

from tests.factories import TrackFactory

pytestmark = pytest.mark.django_db

PUBLISHED_PATHS = {
    ("post", "/api/auth/token/"),
    ("get", "/api/tracks/"),
    ("post", "/api/tracks/"),
    ("get", "/api/tracks/{id}/"),
    ("get", "/api/tracks/{id}/audio/"),
    ("get", "/api/tracks/{id}/similar/"),
    ("get", "/api/tracks/{id}/also-played/"),
    ("get", "/api/artists/"),
    ("get", "/api/artists/{id}/"),
    ("post", "/api/listens/"),
    ("get", "/api/listens/"),
    ("patch", "/api/listens/{id}/"),
    ("post", "/api/feedback/"),
    ("get", "/api/feedback/"),
    ("delete", "/api/feedback/{id}/"),
    ("get", "/api/recommendations/"),
    ("get", "/api/recommendations/because-you-listened/"),
    ("get", "/api/models/active/"),
    ("get", "/api/models/"),
    ("post", "/api/retrain/"),
    ("get", "/api/health/"),
}


def test_the_schema_validates_and_has_every_contract_path(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document
    served = {
        (method, path.replace("{pk}", "{id}"))
        for path, operations in schema["paths"].items()
        for method in operations
    }
    assert served >= PUBLISHED_PATHS, sorted(PUBLISHED_PATHS - served)


def test_the_api_reference_page_lists_every_served_endpoint(client):
    # docs/api.md is what API users read; an endpoint missing from it is undocumented
    schema = json.loads(client.get("/api/schema/?format=json").content)
    served = {
        f"{method.upper()} {path.replace('{pk}', '{id}')}"
        for path, operations in schema["paths"].items()
        for method in operations
    }
    reference = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    documented = {
        f"{method} {path}"
        for method, path in re.findall(r"`(GET|POST|PATCH|PUT|DELETE) (/api/[^`?]*)", reference)
    }
    assert served <= documented, sorted(served - documented)


def test_docs_are_served_from_local_assets(client):
    html = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
    assert "https://" not in html


def test_anonymous_clients_are_throttled(client, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "3/minute")
    codes = [client.get("/api/tracks/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "Retry-After" in client.get("/api/tracks/")


def test_signed_in_users_are_throttled_per_user(user_client, monkeypatch):
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "2/minute")
    codes = [user_client.get("/api/listens/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


@pytest.mark.parametrize(
    "url", ["/api/tracks/", "/api/artists/", "/api/listens/", "/api/feedback/"]
)
def test_page_size_bounds_on_every_list(user_client, url):
    TrackFactory.create_batch(3)
    assert user_client.get(f"{url}?page_size=100").status_code == 200
    assert user_client.get(f"{url}?page_size=101").status_code == 400
    assert user_client.get(f"{url}?page_size=abc").status_code == 400
    assert user_client.get(f"{url}?page=999").status_code == 404


def test_token_authentication(client, db):
    from tests.factories import PASSWORD, UserFactory

    user = UserFactory(username="tokenuser")
    response = client.post("/api/auth/token/", {"username": "tokenuser", "password": PASSWORD},
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 200
    token = response.json()["token"]
    listed = client.get("/api/listens/", HTTP_AUTHORIZATION=f"Token {token}")
    assert listed.status_code == 200
    assert client.post("/api/auth/token/", {"username": user.username, "password": "wrong"},
                       content_type="application/json").status_code == 400  # fmt: skip


def test_a_session_post_without_a_csrf_token_is_refused(db):
    from django.test import Client

    from tests.factories import UserFactory

    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    track = TrackFactory()
    response = client.post("/api/listens/", {"track_id": track.pk}, content_type="application/json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
