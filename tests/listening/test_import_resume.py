"""An import killed midway, run again, ends exactly as one uninterrupted run would (on SQLite,
the `make demo` database, where it used to fail with `database is locked`)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from listening.services.imports import BATCH_ROWS
from tests.helpers.sqlite_site import SqliteSite

pytestmark = pytest.mark.slow


def history(path, rows: int) -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with path.open("w") as out:
        out.write("user,artist,track,listened_at,ms_played,completed\n")
        for n in range(rows):
            when = (start + timedelta(seconds=n)).isoformat()
            # every row a new listener or track at first: creating what is missing dominates
            out.write(f"reader{n % 997},Band {n % 613},Song {n % 1499},{when},{n},{n % 2}\n")


def test_a_killed_import_run_again_completes_it_counting_nothing_twice(tmp_path):
    site = SqliteSite(tmp_path)
    rows = BATCH_ROWS * 4
    path = tmp_path / "history.csv"
    history(path, rows)
    first = site.spawn("import_listens", str(path), "--create-missing", "--json")
    stored = 0
    while stored == 0:  # wait for the first batch to be committed
        with contextlib.suppress(subprocess.TimeoutExpired):
            first.wait(timeout=0.05)
        stored = site.query("SELECT COUNT(*) FROM listening_listeningevent")[0][0]
        if first.returncode is not None:
            break
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL, "the import finished before it was killed"
    stored = site.query("SELECT COUNT(*) FROM listening_listeningevent")[0][0]
    assert 0 < stored < rows

    report = site.import_json(str(path), "--create-missing")
    assert report["imported"] + report["unchanged"] == rows
    assert report["unchanged"] == stored  # what the killed run stored is not stored again
    assert site.query("SELECT COUNT(*) FROM listening_listeningevent")[0][0] == rows
    # the aggregate holds every listen once: plays and milliseconds add up to the file's
    plays, ms = site.query(
        "SELECT SUM(completed_plays + partial_plays + skips), SUM(ms_played)"
        " FROM listening_usertrackstats"
    )[0]
    assert (plays, ms) == (rows, sum(range(rows)))
    failed = site.query("SELECT status, failure FROM listening_importbatch ORDER BY id")
    assert [status for status, _ in failed] == ["failed", "done"]
    assert "interrupted" in failed[0][1]
