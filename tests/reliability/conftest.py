"""Fixtures of the fault suite. Each test gets a `Stack` (tests/helpers/deployment.py) on the
test database and a private Redis; everything it starts is stopped at the end by its own process
id. Measured recovery times and resource figures go to test-artifacts/reliability.json, which
docs/reliability.md quotes.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers.deployment import make_stack
from tests.helpers.processes import REPO
from tests.helpers.services import PrivateRedis

ARTIFACTS = REPO / "test-artifacts"
_measurements: dict[str, dict] = {}


@pytest.fixture(scope="session", autouse=True)
def _write_measurements():
    yield
    if _measurements:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "reliability.json").write_text(json.dumps(_measurements, indent=2) + "\n")


class Figures:
    """measure(name=value, ...) records figures; measure.count(group, key) adds one to a tally."""

    def __init__(self, figures: dict):
        self.figures = figures

    def __call__(self, **values) -> None:
        self.figures.update(
            {k: round(v, 3) if isinstance(v, float) else v for k, v in values.items()}
        )

    def count(self, group: str, key: str) -> None:
        tally = self.figures.setdefault(group, {})
        tally[key] = tally.get(key, 0) + 1


@pytest.fixture
def measure(request) -> Figures:
    """Figures for docs/reliability.md, kept under the test's name."""
    return Figures(_measurements.setdefault(request.node.name, {}))


@pytest.fixture
def redis_server(tmp_path):
    with PrivateRedis(tmp_path) as server:
        yield server


@pytest.fixture
def stack(tmp_path, redis_server, transactional_db):
    deployment = make_stack(tmp_path, redis_server)
    yield deployment
    deployment.stop_all()
