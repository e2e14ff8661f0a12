"""Row 9: the API fuzzed from its own OpenAPI schema (schemathesis): no answer is a 500, and
every answer is the one the schema documents.

Every operation of /api/schema/ gets generated requests, valid and invalid, once as a staff user
with listening history (so personal, staff-only and recommendation code paths all run) and once
anonymously, against a catalogue with analysed tracks and a trained model. Every answer goes
through all of schemathesis's checks: no 5xx, a documented status code, content type and
headers, a body that matches its schema, invalid requests refused, valid ones accepted, and no
answer to a missing or invalid token where one is needed.

A schema cannot say everything: some valid-looking requests are refused for a rule about the
data (an id that must exist, a minimum not above its maximum). For those operations a 400 to a
schema-valid request is accepted only when every field it names is one of DATA_RULES's, for the
reason written there; any other refusal fails. Bounded: FUZZ_EXAMPLES per operation, no
per-example deadline (the first call of an operation loads the model).
"""

import json

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.throttling import SimpleRateThrottle
from schemathesis.checks import positive_data_acceptance

from listening.services import ListenInput, listens_record
from musicrec.wsgi import application
from recommender.services import model_train
from tests.factories import StaffFactory, UserFactory
from tests.helpers.deployment import token_for
from tests.helpers.world import build_world

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
]

FUZZ_EXAMPLES = 25
NO_NUL = "no NUL character in text"
# operation -> {field a 400 may name for a schema-valid request: the rule the schema cannot state}
DATA_RULES = {
    "GET /api/artists/": {"q": NO_NUL},
    "GET /api/tracks/": {
        "q": NO_NUL,
        "search": "q and search, if both given, are the same; " + NO_NUL,
        "tempo_min": "not above tempo_max",
        "energy_min": "not above energy_max",
    },
    "POST /api/tracks/": {
        "audio": "the bytes are audio in a format read here (docs/api.md, 'Upload outcomes')",
        "error_code": "(the same refusal's code)",
        "detail": "(the same refusal's message)",
        "title": NO_NUL,
        "artist": NO_NUL,
        "album": NO_NUL,
    },
    "POST /api/listens/": {
        "track_id": "the track exists",
        "listened_at": "from 2000 to now",
        "skipped": "not both completed and skipped",
        "client_event_id": NO_NUL,
    },
    "POST /api/auth/token/": {"non_field_errors": "a username and password that match"},
    "POST /api/feedback/": {"track_id": "the track exists", "artist_id": "the artist exists"},
    "GET /api/radio/": {
        "seed": "exactly one of seed_track, seed_artist, mood, taste, station",
        "station": "a station that exists",
        "seed_track": "the track exists",
        "seed_artist": "the artist exists",
        "tempo_min": "not above tempo_max",
        "energy_min": "not above energy_max",
    },
}


def _load_schema():
    """The document /api/schema/ serves, generated here so collection needs no request."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    loaded = schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(generated)))
    loaded.app = application  # calls go to the WSGI application in this process
    return loaded


schema = _load_schema()


@pytest.fixture
def in_test_transaction(db):
    """Keep Django from closing the test's connection at each request's end (as its own test
    client does): the calls run inside the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def unthrottled(monkeypatch):
    """The client budgets (600 a minute anonymous) would turn the later generated requests into
    429s, which test nothing; the sign-in budgets stay (row 13 tests them)."""
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "anon": "100000/minute", "user": "100000/minute"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


@pytest.fixture
def fuzzing_user(in_test_transaction, unthrottled):
    """A staff user with listens in a world with a trained model."""
    world = build_world()
    staff = StaffFactory()
    listens_record(
        user=staff,
        source="api",
        listens=[ListenInput(track_id=t.pk, completed=True, listened_at=timezone.now())
                 for t in world.calm_tracks[:5]],
    )  # fmt: skip
    UserFactory()  # another user, whose data must never show
    model_train(force=True)
    return token_for(staff)


def _fields_named(body) -> set[str]:
    items = body if isinstance(body, list) else [body]
    return {name for item in items if isinstance(item, dict) for name in item}


def _conforms(case, response, headers) -> None:
    """All of schemathesis's checks; the data rules' 400s as the module docstring says."""
    rules = DATA_RULES.get(case.operation.label)
    case.validate_response(
        response, headers=headers, excluded_checks=[positive_data_acceptance] if rules else []
    )
    if rules and case.meta.generation.mode.is_positive and response.status_code == 400:
        unexplained = _fields_named(response.json()) - set(rules)
        assert not unexplained, f"{case.operation.label} refused a valid request: {response.text}"


FUZZ_SETTINGS = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_answer_signed_in_is_the_documented_one(case, fuzzing_user, measure):
    response = case.call(headers=fuzzing_user)
    measure.count(case.operation.label, str(response.status_code))  # status codes seen
    _conforms(case, response, fuzzing_user)


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_answer_anonymous_is_the_documented_one(case, fuzzing_user, measure):
    response = case.call()  # the world is there; this client has no token
    measure.count(case.operation.label, str(response.status_code))
    _conforms(case, response, {})
