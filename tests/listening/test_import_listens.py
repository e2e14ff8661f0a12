"""manage.py import_listens (docs/listening.md, "Importing history")."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Track
from core import locks
from listening.models import ImportBatch, ListeningEvent, UserTrackStats
from listening.services import listens_import
from tests.factories import ArtistFactory, TrackFactory, UserFactory
from tests.helpers.listening import assert_aggregate_consistent

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    beyonce = ArtistFactory(name="Beyoncé")
    return {
        "halo": TrackFactory(title="Halo", artist=beyonce),
        "sorry": TrackFactory(title="Sorry", artist=beyonce),
        "creep": TrackFactory(title="Creep", artist=ArtistFactory(name="Radiohead")),
    }


@pytest.fixture
def listeners():
    return {name: UserFactory(username=name) for name in ("ana", "bo")}


def run(path, *extra) -> dict:
    out = StringIO()
    call_command("import_listens", str(path), "--json", *extra, stdout=out)
    return json.loads(out.getvalue())


def write(tmp_path, text, name="history.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_per_event_rows_import_and_match_accent_and_case_insensitively(
    tmp_path, catalogue, listeners
):
    path = write(
        tmp_path,
        "user,artist,track,listened_at,ms_played,completed,skipped\n"
        "ana,beyonce,HALO,2024-05-01T10:00:00+02:00,200000,true,false\n"
        "ana,Beyoncé,Halo,2024-05-02 10:00:00,1000,no,yes\n"  # naive: UTC
        "bo,  radiohead , creep ,1714557600,,1,0\n",  # Unix seconds, spaces folded
    )
    report = run(path)
    assert report == {
        "format": "csv", "rows": 3, "imported": 3, "unchanged": 0, "merged": 0, "left_out": 0,
        "feedback": 0, "created_tracks": 0, "created_users": 0, "rejected": [],
        "rejected_total": 0,
    }  # fmt: skip
    halo = UserTrackStats.objects.get(user=listeners["ana"], track=catalogue["halo"])
    assert (halo.completed_plays, halo.skips, halo.ms_played) == (1, 1, 201000)
    assert halo.first_listened_at.isoformat() == "2024-05-01T08:00:00+00:00"
    assert halo.last_listened_at.isoformat() == "2024-05-02T10:00:00+00:00"
    assert ListeningEvent.objects.filter(source="import").count() == 3
    assert_aggregate_consistent()


def test_the_same_file_again_changes_nothing(tmp_path, catalogue, listeners):
    path = write(
        tmp_path,
        "user,artist,track,listened_at\n"
        "ana,Radiohead,Creep,2024-05-01T10:00:00Z\n"
        "ana,Radiohead,Creep,2024-05-01T10:00:00Z\n"  # the same listen twice in one file
        "bo,Radiohead,Creep,2024-05-03T10:00:00Z\n",
    )
    first = run(path)
    assert (first["imported"], first["unchanged"]) == (2, 1)
    snapshot = list(UserTrackStats.objects.values())
    again = run(path)
    assert (again["imported"], again["unchanged"]) == (0, 3)
    assert ListeningEvent.objects.count() == 2
    assert list(UserTrackStats.objects.values()) == snapshot


def test_an_import_waits_for_one_already_running(
    tmp_path, catalogue, listeners, lock_held_elsewhere
):
    path = write(tmp_path, "user,artist,track,plays\nana,Radiohead,Creep,5\n")
    holding, waited = threading.Event(), []

    def another_import():
        with lock_held_elsewhere(locks.LISTEN_IMPORT, 0):
            holding.set()
            time.sleep(0.5)

    other = threading.Thread(target=another_import)
    other.start()
    holding.wait(timeout=10)
    started = time.monotonic()
    report = listens_import(path=path, on_wait=lambda: waited.append(time.monotonic()))
    other.join()
    assert len(waited) == 1
    assert time.monotonic() - started >= 0.4  # it ran after the other released the lock
    assert report.imported == 1


def test_aggregated_totals_are_a_snapshot(tmp_path, catalogue, listeners):
    older = write(tmp_path, "user,artist,track,plays\nana,Radiohead,Creep,5\nana,Beyoncé,Halo,2\n",
                  name="old.csv")  # fmt: skip
    newer = write(tmp_path, "user,artist,track,plays\nana,Radiohead,Creep,8\nana,Beyoncé,Halo,2\n",
                  name="new.csv")  # fmt: skip
    assert run(older)["imported"] == 2
    creep = lambda: UserTrackStats.objects.get(track=catalogue["creep"])  # noqa: E731
    assert creep().completed_plays == 5
    assert run(older)["imported"] == 0  # the same snapshot again: nothing
    assert creep().completed_plays == 5
    report = run(newer)
    assert (report["imported"], report["unchanged"]) == (1, 1)
    assert creep().completed_plays == 8  # replaced, never added
    assert ListeningEvent.objects.filter(source="import_total").count() == 2
    assert_aggregate_consistent()


def test_heavy_tailed_totals_import_as_they_are(tmp_path, catalogue, listeners):
    path = write(tmp_path, "user,artist,track,plays\nbo,Radiohead,Creep,100000\n")
    run(path)
    assert UserTrackStats.objects.get().completed_plays == 100_000


def test_unusable_rows_are_reported_by_line_and_the_rest_imported(tmp_path, catalogue, listeners):
    path = write(
        tmp_path,
        "user,artist,track,listened_at,ms_played,completed,skipped\n"
        "ana,Radiohead,Creep,2024-05-01T10:00:00Z,,,\n"  # 2: fine
        "ana,Nobody,Nothing,2024-05-01T10:00:00Z,,,\n"  # 3: unknown track
        "zed,Radiohead,Creep,2024-05-01T10:00:00Z,,,\n"  # 4: unknown user
        "ana,Radiohead,Creep,last tuesday,,,\n"  # 5: bad time
        "ana,Radiohead,Creep,2024-05-01T11:00:00Z,,true,true\n"  # 6: both flags
        "ana,Radiohead,Creep,2024-05-01T12:00:00Z,-5,,\n"  # 7: negative ms
        "ana,Radiohead,Creep,2024-05-01T13:00:00Z,,maybe,\n"  # 8: bad boolean
        "ana,Radiohead,Creep\n"  # 9: too few columns
        "ana,Radiohead,Creep,1999-01-01T00:00:00Z,,,\n"  # 10: before 2000
        "ana,Radiohead,Creep,2999-01-01T00:00:00Z,,,\n"  # 11: in the future
        ",Radiohead,Creep,2024-05-01T14:00:00Z,,,\n"  # 12: empty user
        "bo,Beyoncé,Sorry,2024-05-01T10:00:00Z,,,\n",  # 13: fine
    )
    report = run(path)
    assert (report["rows"], report["imported"]) == (12, 2)
    lines = {r["line"]: r["reason"] for r in report["rejected"]}
    assert sorted(lines) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "no track 'Nothing' by 'Nobody'" in lines[3]
    assert "no user 'zed'" in lines[4]
    assert "ISO 8601" in lines[5]
    assert "both completed and skipped" in lines[6]
    assert "ms_played" in lines[7]
    assert "completed" in lines[8]
    assert "columns" in lines[9]
    assert "before 2000" in lines[10]
    assert "future" in lines[11]
    assert "user is empty" in lines[12]
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.rejected_count, batch.imported) == ("done", 10, 2)


def test_create_missing_makes_users_and_metadata_only_tracks(tmp_path, catalogue):
    path = write(
        tmp_path,
        "user,artist,track,plays\nnew.listener,Unknown Band,First Song,3\n"
        "new.listener,unknown band,FIRST song,3\n",
    )
    report = run(path, "--create-missing")
    assert (report["created_users"], report["created_tracks"]) == (1, 1)
    track = Track.objects.get(title="First Song")
    assert track.status == "no_audio"
    assert track.artist.name == "Unknown Band"
    assert UserTrackStats.objects.get().completed_plays == 6  # two spellings, one track: added
    assert report["merged"] == 1
    again = run(path, "--create-missing")
    assert (again["created_users"], again["created_tracks"], again["imported"]) == (0, 0, 0)


def test_a_bom_and_an_undecodable_line(tmp_path, catalogue, listeners):
    text = (
        b"\xef\xbb\xbfuser,artist,track,plays\n"
        b"ana,Radiohead,Creep,4\n"
        b"bo,Radio\xffhead,Creep,4\n"
        b"bo,Beyonc\xc3\xa9,Halo,1\n"
    )
    report = run(write(tmp_path, text))
    assert report["imported"] == 2
    assert report["rejected"] == [{"line": 3, "reason": "not valid UTF-8"}]


@pytest.mark.parametrize(
    "header",
    ["user,artist,track\n", "user,artist,track,plays,listened_at\n", "name,band,song,plays\n", ""],
)
def test_an_unusable_header_fails_the_command(tmp_path, header):
    with pytest.raises(CommandError):
        run(write(tmp_path, header + "ana,Radiohead,Creep,1\n" if header else ""))
    assert ListeningEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_large_file_outside_a_transaction_is_written_by_the_writer_thread(tmp_path):
    # Outside a transaction the parser and a writer thread (its own connection) overlap; the
    # result must be exactly what the in-line path gives: every row once, the aggregate exact.
    from listening.services.imports import pipeline as imports

    tracks = [TrackFactory(title=f"Song {i}", artist=ArtistFactory(name=f"Band {i}"))
              for i in range(30)]  # fmt: skip
    users = [UserFactory(username=f"reader{i}") for i in range(20)]
    lines = ["user,artist,track,listened_at,completed"]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for n in range(imports.BATCH_ROWS * 2 + 123):
        user, track = users[n % 20], tracks[(n * 7) % 30]
        when = (start + timedelta(seconds=n)).isoformat()
        lines.append(f"{user.username},{track.artist.name},{track.title},{when},{n % 3 == 0}")
    path = write(tmp_path, "\n".join(lines) + "\n")
    report = run(path)
    assert report["imported"] == imports.BATCH_ROWS * 2 + 123
    assert ListeningEvent.objects.count() == report["imported"]
    assert_aggregate_consistent()
    assert run(path)["imported"] == 0  # and again: nothing new


@pytest.mark.postgres
def test_a_bulk_import_refreshes_the_planners_statistics(tmp_path, catalogue, listeners,
                                                         monkeypatch):  # fmt: skip
    from django.db import connection

    from listening.services.imports import pipeline as imports

    monkeypatch.setattr(imports, "ANALYZE_AFTER_ROWS", 40)

    def planner_rows() -> float:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                [ListeningEvent._meta.db_table],
            )
            return cursor.fetchone()[0]

    start = datetime(2024, 3, 1, tzinfo=UTC)
    lines = ["user,artist,track,listened_at,completed"]
    for n in range(60):
        lines.append(f"ana,Radiohead,Creep,{(start + timedelta(minutes=n)).isoformat()},true")
    before = planner_rows()
    assert run(write(tmp_path, "\n".join(lines) + "\n"))["imported"] == 60
    # ANALYZE of a small table reads every row: the planner now knows exactly what is there
    assert planner_rows() == ListeningEvent.objects.count() == 60 != before
