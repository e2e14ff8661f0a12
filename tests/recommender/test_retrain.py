"""manage.py retrain: versions, the gate, exit codes, locking, pruning, tuning."""

import json
import threading
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from core import locks
from recommender import serving
from recommender.engine import artifact as artifacts
from recommender.models import ModelVersion, TrainingDefaults


def retrain(*args) -> tuple[int, dict]:
    out = StringIO()
    try:
        call_command("retrain", "--json", *args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def test_the_first_model_is_activated_with_its_report(world):
    code, body = retrain()
    assert code == 0
    assert set(body) == {"version", "status", "reason", "n_users", "n_tracks", "nnz", "params",
                         "seconds", "metrics"}  # fmt: skip
    assert body["status"] == "active"
    assert (body["n_users"], body["n_tracks"]) == (24, 36)
    assert body["params"]["confidence"] == "log"
    assert set(body["metrics"]) == {"k", "protocol", "n_users", "als", "popularity"}
    assert body["metrics"]["als"]["ndcg"] > body["metrics"]["popularity"]["ndcg"]
    assert {"matrix", "evaluate", "train", "save", "als_fits", "total"} <= set(body["seconds"])
    version = ModelVersion.objects.get(pk=body["version"])
    assert (Path(settings.MODELS_DIR) / version.artifact).is_file()


def test_a_worse_later_model_is_refused_with_exit_2(world):
    assert retrain()[0] == 0
    code, body = retrain("--factors", "1", "--iterations", "1", "--regularization", "1000")
    assert code == 2
    assert body["status"] == "rejected"
    assert "refused by the gate" in body["reason"]
    assert ModelVersion.objects.get(status="active").pk != body["version"]


def test_force_and_no_activate(world):
    first = retrain()[1]["version"]
    code, body = retrain("--factors", "1", "--iterations", "1", "--regularization", "1000",
                         "--force")  # fmt: skip
    assert (code, body["status"]) == (0, "active")
    assert ModelVersion.objects.get(pk=first).status == "ready"
    code, body = retrain("--no-activate")
    assert (code, body["status"]) == (0, "ready")


def test_a_second_retrain_exits_3_while_one_holds_the_lock(world, lock_held_elsewhere):
    with lock_held_elsewhere(locks.RETRAIN, 0):
        code, body = retrain()
    assert code == 3
    assert body["status"] == "busy"
    assert not ModelVersion.objects.exists()


def test_a_retrain_that_died_is_marked_failed_by_the_next(world):
    stale = ModelVersion.objects.create(status="training")
    assert retrain()[0] == 0
    stale.refresh_from_db()
    assert stale.status == "failed"
    assert "interrupted" in stale.reason


def test_old_artifacts_are_pruned(world, settings):
    settings.MUSICREC_KEEP_MODEL_VERSIONS = 2
    for _ in range(4):
        retrain("--force", "--iterations", "2")
    with_files = ModelVersion.objects.exclude(artifact="")
    assert with_files.count() == 2
    assert len(list(Path(settings.MODELS_DIR).glob("model-*.npz"))) >= 2
    for version in ModelVersion.objects.filter(artifact=""):
        assert not (Path(settings.MODELS_DIR) / f"model-{version.pk}.npz").exists()


def test_tune_stores_the_winner_as_the_defaults(world, client):
    code, body = retrain("--tune")
    assert code == 0
    defaults = TrainingDefaults.objects.get()
    assert defaults.tuned_at is not None
    grid = defaults.tuned_metrics["grid"]
    assert 20 <= len(grid) < 5 * 4 * 4 * 3  # every (f, alpha) pair, then a walk: not the product
    assert {cell["factors"] for cell in grid} == {16, 32, 64, 128}
    assert {cell["confidence"] for cell in grid} >= {"log", "linear", "clipped", "binary", "bm25"}
    assert body["params"]["alpha"] == defaults.alpha
    assert body["params"]["confidence"] == defaults.confidence
    active = client.get("/api/models/active/").json()
    assert active["defaults"]["alpha"] == defaults.alpha
    assert active["defaults"]["tuned_at"]


def test_nothing_to_learn_fails_clearly(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no listening data"):
        call_command("retrain")


@pytest.mark.django_db(transaction=True)
def test_a_reader_loading_the_active_model_while_retrains_swap_it_sees_no_error(world):
    retrain()
    errors, loads = [], [0]
    stop = threading.Event()

    def reader():
        from django.db import connection

        try:
            while not stop.is_set():
                active = ModelVersion.objects.filter(status="active").values("artifact").first()
                try:
                    artifacts.load(Path(settings.MODELS_DIR) / active["artifact"])
                    loads[0] += 1
                except Exception as exc:  # anything at all is a failure here
                    errors.append(repr(exc))
        finally:
            connection.close()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(5):
            retrain("--force", "--iterations", "3")
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert loads[0] > 5


def test_a_missing_artifact_falls_back_to_the_previous_model(world, caplog):
    first = retrain()[1]["version"]
    serving.forget()
    assert serving.served_model().version == first
    second = retrain("--force")[1]["version"]
    (Path(settings.MODELS_DIR) / ModelVersion.objects.get(pk=second).artifact).unlink()
    serving._state["checked"] = 0.0
    assert serving.served_model().version == first  # the process keeps what it had
    assert any("cannot be loaded" in r.message for r in caplog.records)
    serving.forget()  # a fresh process falls back to the newest older version that loads
    assert serving.served_model().version == first
