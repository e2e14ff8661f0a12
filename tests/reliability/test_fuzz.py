"""Row 9: the API fuzzed from its own OpenAPI schema (schemathesis): no answer is a 500.

Every operation of /api/schema/ gets generated requests, valid and invalid, as a staff user with
listening history (so personal, staff-only and recommendation code paths all run), against a
catalogue with analysed tracks and a trained model. Bounded: FUZZ_EXAMPLES per operation, no
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
from schemathesis.checks import not_a_server_error

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

FUZZ_EXAMPLES = 30


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
def fuzzing_user(in_test_transaction):
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


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_generated_request_is_answered_with_a_server_error(case, fuzzing_user, measure):
    response = case.call(headers=fuzzing_user)
    measure.count(case.operation.label, str(response.status_code))  # status codes seen
    case.validate_response(response, checks=[not_a_server_error])
