"""An import killed midway on PostgreSQL (where batches are written by a second thread while the
first parses), run again, ends exactly as one uninterrupted run would: per-event files and
aggregated play counts alike."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys

import pytest
from django.db.models import Sum

from listening.models import ImportBatch, ListeningEvent, UserTrackStats
from listening.services.imports import BATCH_ROWS
from listening.services.imports.store import TOTALS_PER_WRITE
from tests.helpers.processes import REPO
from tests.helpers.worker import service_env
from tests.listening.test_import_resume import history

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def spawn(path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "import_listens", str(path), "--create-missing", "--json"],
        cwd=REPO, env=service_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def kill_once_stored(process: subprocess.Popen, stored) -> int:
    """SIGKILL the import as soon as it has committed something; what it had stored."""
    count = 0
    while count == 0 and process.returncode is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.05)
        count = stored()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the import finished before it was killed"
    return stored()


def run_again(path) -> dict:
    process = spawn(path)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def assert_first_interrupted() -> None:
    batches = list(ImportBatch.objects.order_by("pk").values_list("status", "failure"))
    assert [status for status, _ in batches] == ["failed", "done"]
    assert "interrupted" in batches[0][1]


def test_a_killed_per_event_import_on_postgresql_completes_exactly(tmp_path):
    rows = BATCH_ROWS * 4
    path = tmp_path / "history.csv"
    history(path, rows)
    stored = kill_once_stored(spawn(path), ListeningEvent.objects.count)
    assert 0 < stored < rows

    report = run_again(path)
    assert report["imported"] + report["unchanged"] == rows
    assert report["unchanged"] == stored  # what the killed run stored is not stored again
    assert ListeningEvent.objects.count() == rows
    totals = UserTrackStats.objects.aggregate(
        plays=Sum("completed_plays") + Sum("partial_plays") + Sum("skips"), ms=Sum("ms_played")
    )
    assert (totals["plays"], totals["ms"]) == (rows, sum(range(rows)))
    assert_first_interrupted()


def test_a_killed_aggregated_import_on_postgresql_completes_exactly(tmp_path):
    pairs = TOTALS_PER_WRITE * 4  # the totals are written in four sets at the end
    path = tmp_path / "totals.csv"
    expected = {}
    with path.open("w") as out:
        out.write("user,artist,track,plays\n")
        for n in range(pairs + 500):  # the last 500 rows fold into earlier ones: they add up
            pair = n % pairs
            user, track = f"counter{pair % 211}", (f"Band {pair % 97}", f"Tune {pair}")
            plays = 1 + n % 7
            out.write(f"{user},{track[0]},{track[1]},{plays}\n")
            expected[(user, track[1])] = expected.get((user, track[1]), 0) + plays

    def stored() -> int:
        return ListeningEvent.objects.filter(source="import_total").count()

    written = kill_once_stored(spawn(path), stored)
    assert 0 < written < pairs

    report = run_again(path)
    assert report["merged"] == 500
    assert report["imported"] + report["unchanged"] == pairs
    assert report["unchanged"] == written  # the sets the killed run wrote are not added again
    events = ListeningEvent.objects.filter(source="import_total")
    got = {
        (e.user.username, e.track.title): e.play_count
        for e in events.select_related("user", "track")
    }
    assert got == expected
    plays = UserTrackStats.objects.aggregate(
        n=Sum("completed_plays") + Sum("partial_plays") + Sum("skips")
    )["n"]
    assert plays == sum(expected.values())
    assert_first_interrupted()
