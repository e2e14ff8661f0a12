"""Row 8: the same listen batch, the same import file and the same analysis task sent twice, one
after the other and at the same moment from separate processes. Row counts and the per-(user,
track) aggregate must be what one sending makes."""

import subprocess
import threading
import uuid
from pathlib import Path

import pytest
import requests
from django.db import connection

from catalog.models import AudioFeatures, Track
from core import locks
from listening.models import ListeningEvent, UserTrackStats
from tests.factories import ArtistFactory, TrackFactory, UserFactory
from tests.helpers import audio
from tests.helpers.deployment import finish, last_json, token_for
from tests.helpers.listening import assert_aggregate_consistent, stored_aggregate
from tests.helpers.worker import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def counts() -> tuple[int, int, dict]:
    return ListeningEvent.objects.count(), UserTrackStats.objects.count(), stored_aggregate()


def at_once(*calls):
    """Run the callables in threads released together; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def test_the_same_listen_batch_twice_and_at_once_is_stored_once(stack, measure):
    user = UserFactory()
    tracks = TrackFactory.create_batch(5)
    server = stack.server(workers=2)
    headers = token_for(user)

    def batch():
        return [
            {"track_id": tracks[i % 5].pk, "completed": i % 3 != 0, "skipped": i % 3 == 0,
             "ms_played": 1000 * i, "client_event_id": uuid.uuid4().hex}
            for i in range(100)
        ]  # fmt: skip

    def post(items):
        return requests.post(f"{server.url}/api/listens/", json=items, headers=headers, timeout=30)

    first = batch()
    assert post(first).json() == {"created": 100, "duplicates": 0}
    once = counts()
    again = post(first)
    assert (again.status_code, again.json()) == (201, {"created": 0, "duplicates": 100})
    assert counts() == once

    # two clients sending the same new batches at the same moment, through two gunicorn workers
    created = 0
    for _ in range(10):
        items = batch()
        answers = at_once(lambda items=items: post(items), lambda items=items: post(items))
        assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
        bodies = [a.json() for a in answers]
        assert sum(b["created"] for b in bodies) == 100, bodies
        assert sum(b["duplicates"] for b in bodies) == 100, bodies
        created += 100
    assert ListeningEvent.objects.count() == once[0] + created
    assert ListeningEvent.objects.values("client_event_id").distinct().count() == once[0] + created
    assert_aggregate_consistent()
    measure(concurrent_pairs=10, events=ListeningEvent.objects.count())


def import_listens(stack, path, *extra) -> subprocess.CompletedProcess:
    return stack.manage("import_listens", str(path), "--json", *extra)


def start_import(stack, path, *extra) -> subprocess.Popen:
    return stack.spawn("import_listens", str(path), "--json", *extra)


def waiting_for_the_import_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND classid = %s",
            [locks.LISTEN_IMPORT],
        )
        return cursor.fetchone()[0]


def report(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr[-2000:]
    return last_json(result)


def history_file(tmp_path, kind: str) -> tuple[Path, int]:
    """30 listeners x 4 artists x 4 songs of the catalogue, and 5 rows naming a new artist and
    new songs (created by --create-missing) in one format of docs/listening.md."""
    for a in range(4):
        artist = ArtistFactory(name=f"Artist {a}")
        for t in range(10):
            TrackFactory(title=f"Song {a}-{t}", artist=artist)
    rows = [(f"user{u}", f"Artist {a}", f"Song {a}-{t}", u, a, t)
            for u in range(30) for a in range(4) for t in range(0, 10, 3)]  # fmt: skip
    rows += [(f"newcomer{u}", "New Artist", f"New Song {u % 3}", u, 0, 0) for u in range(5)]
    if kind == "per_event":
        header = "user,artist,track,listened_at,ms_played,completed,skipped"
        lines = [
            f"{user},{artist},{title},2024-0{1 + a}-{10 + t}T{u % 24:02d}:00:00Z,180000,true,false"
            for user, artist, title, u, a, t in rows
        ]
    else:
        header = "user,artist,track,plays"
        lines = [f"{user},{artist},{title},{1 + (u * t + a) % 7}"
                 for user, artist, title, u, a, t in rows]  # fmt: skip
    path = tmp_path / f"{kind}.csv"
    path.write_text(header + "\n" + "\n".join(lines) + "\n")
    return path, len(lines)


def by_name() -> dict[tuple[str, str, str], tuple]:
    """The aggregate keyed by names, so runs that created tracks anew compare equal."""
    return {
        (s.user.username, s.track.artist.name, s.track.title):
            (s.completed_plays, s.partial_plays, s.skips, s.ms_played)
        for s in UserTrackStats.objects.select_related("user", "track__artist")
    }  # fmt: skip


@pytest.mark.parametrize("kind", ["per_event", "aggregated"])
def test_the_same_import_file_twice_and_at_once_changes_nothing(stack, tmp_path, kind, measure):
    path, rows = history_file(tmp_path, kind)
    first = report(import_listens(stack, path, "--create-missing"))
    assert first["rejected"] == []
    assert first["imported"] == rows
    assert (first["created_users"], first["created_tracks"]) == (35, 3)
    once, named, tracks_once = counts(), by_name(), Track.objects.count()
    again = report(import_listens(stack, path, "--create-missing"))
    assert (again["imported"], again["unchanged"], again["created_users"],
            again["created_tracks"]) == (0, rows, 0, 0)  # fmt: skip
    assert counts() == once

    # the same file (and a renamed copy) imported by two processes at the same moment, from a
    # history without these listens and a catalogue without the new songs: the result is what
    # one import makes, with each new track created once
    ListeningEvent.objects.all().delete()
    UserTrackStats.objects.all().delete()
    Track.objects.filter(artist__name="New Artist").delete()
    copy = tmp_path / f"{kind}-copy.csv"
    copy.write_bytes(path.read_bytes())
    with locks.hold(locks.LISTEN_IMPORT):  # both reach the lock before either may start
        processes = [start_import(stack, p, "--create-missing") for p in (path, copy)]
        wait_for(lambda: waiting_for_the_import_lock() == 2, timeout=60, interval=0.05,
                 message="both imports to wait at the lock")  # fmt: skip
    both = [finish(process) for process in processes]
    reports = [report(result) for result in both]
    assert sorted(r["imported"] for r in reports) == [0, rows], reports
    assert sum(r["created_tracks"] for r in reports) == 3
    assert all("waiting for it to finish" in result.stderr for result in both)
    assert (ListeningEvent.objects.count(), UserTrackStats.objects.count()) == once[:2]
    assert by_name() == named
    assert Track.objects.count() == tracks_once
    assert_aggregate_consistent()
    measure(rows=rows)


def test_the_same_analysis_task_sent_twice_analyses_once(stack, tmp_path, measure):
    worker = stack.worker(concurrency=2)
    signal_ = audio.progression("major", bpm=120, level=0.5, percussive=True, seconds=60)
    path = audio.write(tmp_path / "twice.flac", signal_, "FLAC")
    imported = stack.manage("import_tracks", str(path), "--json")
    assert imported.returncode == 0, imported.stderr
    [track_id] = [f["track_id"] for f in last_json(imported)["files"]]
    # the upload queued it once; beat's sweep or an operator sends it twice more at once
    stack.send("catalog.analyse_track", track_id)
    stack.send("catalog.analyse_track", track_id)
    track = wait_for(
        lambda: Track.objects.filter(pk=track_id, status__in=["done", "failed"]).first(),
        timeout=120, message="the analysis",
    )  # fmt: skip
    wait_for(lambda: worker.log().count("succeeded") >= 3, timeout=60,
             message="all three deliveries to finish")  # fmt: skip
    track.refresh_from_db()
    assert (track.status, track.attempts) == ("done", 1)
    assert AudioFeatures.objects.filter(track_id=track_id).count() == 1
    features = AudioFeatures.objects.get(track_id=track_id)
    stack.send("catalog.analyse_track", track_id)  # once more, long after it is done
    wait_for(lambda: worker.log().count("succeeded") >= 4, timeout=60, message="the late repeat")
    assert AudioFeatures.objects.get(track_id=track_id).updated_at == features.updated_at
    assert Track.objects.get(pk=track_id).attempts == 1
    measure(deliveries=4, analyses=1)
