"""manage.py import_tracks and analyse."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Track
from tests.helpers import audio, contract_files

pytestmark = pytest.mark.django_db(transaction=True)


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def mixed_folder(tmp_path, settings):
    settings.MAX_AUDIO_SECONDS = 10
    folder = tmp_path / "incoming"
    (folder / "sub").mkdir(parents=True)
    for name, data in contract_files.valid_files()[:3]:
        (folder / name).write_bytes(data)
    for name, data, _, _ in contract_files.refused_files(max_audio_seconds=10)[:3]:
        (folder / name).write_bytes(data)
    name, data, _ = contract_files.failing_files()[0]
    (folder / name).write_bytes(data)
    (folder / "sub" / "copy.flac").write_bytes((folder / "song.flac").read_bytes())
    return folder


def test_import_tracks_reports_every_file_in_json(mixed_folder):
    report = json.loads(run("import_tracks", str(mixed_folder), "--recursive", "--json"))
    assert (report["imported"], report["duplicates"], report["rejected"]) == (4, 1, 3)
    by_name = {entry["path"].rsplit("/", 1)[-1]: entry for entry in report["files"]}
    assert by_name["song.wav"]["result"] == "imported"
    assert by_name["song.wav"]["analysis"]["status"] == "done"
    assert by_name["truncated.flac"]["analysis"] == {
        "status": "failed",
        "error_code": "undecodable",
    }
    assert by_name["random.mp3"] == {
        "path": str(mixed_folder / "random.mp3"),
        "result": "rejected",
        "error_code": "unsupported_format",
        "detail": by_name["random.mp3"]["detail"],
    }
    duplicate = by_name["copy.flac"]
    assert duplicate["result"] == "duplicate"
    assert duplicate["track_id"] == by_name["song.flac"]["track_id"]
    # every stored track ends done or failed with a code
    assert set(Track.objects.values_list("status", flat=True)) <= {"done", "failed"}
    assert all(t.error_code for t in Track.objects.filter(status="failed"))


def test_import_tracks_without_recursive_stays_in_the_folder(mixed_folder):
    report = json.loads(run("import_tracks", str(mixed_folder), "--json"))
    assert not any("sub/" in entry["path"] for entry in report["files"])


def test_import_tracks_human_summary_and_artist_override(tmp_path):
    path = audio.write(tmp_path / "x.flac", audio.click_track(100, seconds=6), "FLAC")
    out = run("import_tracks", str(path), "--artist", "The Testers")
    assert "1 imported, 0 duplicate(s), 0 rejected" in out
    assert Track.objects.get().artist.name == "The Testers"


def test_import_tracks_missing_path_fails_the_command(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run("import_tracks", str(tmp_path / "nope"))


def test_analyse_failed_reruns_them(tmp_path):
    path = audio.write(tmp_path / "x.flac", audio.click_track(100, seconds=6), "FLAC")
    run("import_tracks", str(path))
    track = Track.objects.get()
    Track.objects.filter(pk=track.pk).update(status="failed", error_code="timeout", attempts=1)
    summary = json.loads(run("analyse", "--failed", "--json"))
    assert summary["analysed"] == 1
    assert summary["status"] == {"done": 1}
    track.refresh_from_db()
    assert (track.status, track.error_code, track.attempts) == ("done", "", 1)


def test_analyse_unknown_track_is_an_error():
    with pytest.raises(CommandError, match="no such track"):
        run("analyse", "--track", "424242")
