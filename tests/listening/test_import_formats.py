"""import_listens reads the files people export (docs/listening.md), on PostgreSQL (the suite's
database) and on SQLite (the `make demo` database, through manage.py), row by row."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from listening.models import Feedback, ListeningEvent
from tests.helpers import history_files as files
from tests.helpers.listening import assert_aggregate_consistent
from tests.helpers.sqlite_site import SqliteSite


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    return SqliteSite(tmp_path_factory.mktemp("sqlite-template")).path


class SuiteDatabase:
    name = "postgres"

    def import_json(self, *args: str) -> dict:
        out = StringIO()
        call_command("import_listens", *args, "--json", stdout=out)
        assert_aggregate_consistent()
        return json.loads(out.getvalue())

    def fails(self, *args: str) -> str:
        with pytest.raises(CommandError) as failure:
            call_command("import_listens", *args, stdout=StringIO())
        return str(failure.value)

    def listens(self, username: str) -> list[tuple]:
        return sorted(
            ListeningEvent.objects.filter(user__username=username, source="import").values_list(
                "track__artist__name", "track__title", "listened_at", "ms_played", "completed",
                "skipped",
            )
        )  # fmt: skip

    def feedback(self, username: str) -> list[tuple]:
        return sorted(
            Feedback.objects.filter(user__username=username).values_list("track__title", "kind")
        )


class SqliteDatabase(SqliteSite):
    name = "sqlite"

    def fails(self, *args: str) -> str:
        result = self.manage("import_listens", *args)
        assert result.returncode == 1, result.stdout
        return result.stderr

    def feedback(self, username: str) -> list[tuple]:
        return sorted(
            self.query(
                "SELECT t.title, f.kind FROM listening_feedback f JOIN catalog_track t"
                " ON t.id = f.track_id JOIN accounts_user u ON u.id = f.user_id"
                " WHERE u.username = ?",
                (username,),
            )
        )


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"])
def database(request, tmp_path, sqlite_template, db):
    if request.param == "sqlite":
        return SqliteDatabase(tmp_path, template=sqlite_template)
    return SuiteDatabase()


def write(tmp_path, name: str, content) -> str:
    path = tmp_path / name
    if isinstance(content, (list, dict)):
        content = json.dumps(content)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def test_spotify_extended_history_maps_completions_skips_and_partial_plays(tmp_path, database):
    entries, expected, left_out = files.spotify_extended()
    path = write(tmp_path, "Streaming_History_Audio_2024.json", entries)
    report = database.import_json(path, "--user", "ana", "--create-missing")
    assert (report["format"], report["rows"], report["left_out"]) == ("spotify", 6, left_out)
    assert (report["imported"], report["rejected"], report["created_tracks"]) == (5, [], 3)
    assert database.listens("ana") == sorted(expected)
    again = database.import_json(path, "--user", "ana")
    assert (again["imported"], again["unchanged"]) == (0, 5)


def test_spotify_zip_reads_its_streaming_history_members_only(tmp_path, database):
    path = tmp_path / "my_spotify_data.zip"
    expected, left_out = files.spotify_zip(path)
    report = database.import_json(str(path), "--user", "ana", "--create-missing")
    assert (report["format"], report["imported"], report["left_out"]) == ("spotify", 5, left_out)
    assert database.listens("ana") == sorted(expected)


def test_spotify_account_data_history(tmp_path, database):
    entries, expected = files.spotify_plain()
    path = write(tmp_path, "StreamingHistory_music_0.json", entries)
    report = database.import_json(path, "--user", "ana", "--create-missing")
    assert (report["format"], report["imported"]) == ("spotify", 2)
    assert database.listens("ana") == sorted(expected)


@pytest.mark.parametrize("shape", ["lines", "array"])
def test_listenbrainz_export_as_json_lines_or_array(tmp_path, database, shape):
    listens, expected = files.listenbrainz()
    content = files.as_json_lines(listens) if shape == "lines" else json.dumps(listens, indent=1)
    report = database.import_json(write(tmp_path, "listens.jsonl", content), "--user", "ana",
                                  "--create-missing")  # fmt: skip
    assert (report["format"], report["imported"]) == ("listenbrainz", 2)
    assert database.listens("ana") == sorted(expected)


@pytest.mark.parametrize("builder", [files.lastfm_with_header, files.lastfm_headerless])
def test_lastfm_scrobbles_with_and_without_a_header(tmp_path, database, builder):
    text, expected = builder()
    report = database.import_json(write(tmp_path, "scrobbles.csv", text), "--user", "ana",
                                  "--create-missing")  # fmt: skip
    assert (report["format"], report["imported"], report["rejected"]) == ("lastfm", 2, [])
    assert database.listens("ana") == sorted(expected)


def test_our_csv_feedback_column_and_totals_that_fold_together_add_up(tmp_path, database):
    text = (
        "user,artist,track,plays,feedback\n"
        "ana,Rihanna,Umbrella,3,like\n"
        "ana,RIHANNÀ,umbrella,4,\n"  # the same track under our matching: added, not replaced
        "ana,múm,Green Grass of Tunnel,2,dislike\n"
        "ana,\uff2d\uff35\uff2d,Green Grass of Tunnel,1,\n"  # full-width MUM folds too
        "ana,Sigur Rós,Svefn-g-englar,5,maybe\n"
    )
    path = write(tmp_path, "totals.csv", text)
    report = database.import_json(path, "--create-missing")
    assert (report["rows"], report["imported"], report["merged"]) == (5, 2, 2)
    assert [r["line"] for r in report["rejected"]] == [6]
    assert "feedback must be like or dislike" in report["rejected"][0]["reason"]
    assert database.feedback("ana") == [("Green Grass of Tunnel", "dislike"),
                                        ("Umbrella", "like")]  # fmt: skip
    again = database.import_json(path, "--create-missing")
    assert (again["imported"], again["unchanged"], again["merged"]) == (0, 2, 2)


def test_each_bad_row_is_rejected_alone_with_its_line_and_reason(tmp_path, database):
    text = (
        "user,artist,track,listened_at,ms_played\n"
        "ana,Radiohead,Creep,2024-01-01T10:00:00Z,1000\n"  # 2: fine
        "ana,Radiohead,Creep,2024-01-01T11:00:00Z,2147483648\n"  # 3: above 2^31-1
        "ana,Radio\x00head,Creep,2024-01-01T12:00:00Z,1000\n"  # 4: NUL byte
        f"ana,{'x' * 200_000},Creep,2024-01-01T13:00:00Z,1000\n"  # 5: 200,000 characters
        "ana,Radiohead,Creep,2024-01-01T14:00:00Z,99999999999999999999999\n"  # 6: far above
        "ana,Radiohead,Creep,2024-01-01T15:00:00Z,1000\n"  # 7: fine
    )
    report = database.import_json(write(tmp_path, "bad.csv", text), "--create-missing")
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert (report["rows"], report["imported"], sorted(reasons)) == (6, 2, [3, 4, 5, 6])
    assert "at most 2147483647" in reasons[3]
    assert "at most 2147483647" in reasons[6]
    assert "NUL" in reasons[4]
    assert "longer than 255 characters" in reasons[5]
    totals = "user,artist,track,plays\nana,Radiohead,Creep,2147483648\nana,Radiohead,Creep,1\n"
    report = database.import_json(write(tmp_path, "totals.csv", totals), "--create-missing")
    assert [r["line"] for r in report["rejected"]] == [2]
    entries, _, _ = files.spotify_extended()
    entries[0]["ms_played"] = 2**31
    report = database.import_json(write(tmp_path, "history.json", entries), "--user", "ana",
                                  "--create-missing")  # fmt: skip
    assert [r["line"] for r in report["rejected"]] == [1]
    assert report["imported"] == 4


def test_a_file_that_names_nobody_needs_a_user(tmp_path, database):
    entries, _, _ = files.spotify_extended()
    path = write(tmp_path, "history.json", entries)
    assert "--user" in database.fails(path)
    assert "no listener 'nobody'" in database.fails(path, "--user", "nobody")
    assert database.listens("ana") == []


def test_unknown_or_unreadable_files_store_nothing(tmp_path, database):
    entries, _, _ = files.spotify_extended()
    cut = json.dumps(entries)[:-40]  # a download cut short
    assert "not valid JSON" in database.fails(write(tmp_path, "a.json", cut), "--user", "ana",
                                         "--create-missing")  # fmt: skip
    assert "not a listening history" in database.fails(write(tmp_path, "b.csv", "a,b\n1,2\n"))
    assert "zip" in database.fails(write(tmp_path, "c.zip", files.zipped("x.txt", "hello")),
                                   "--user", "ana", "--create-missing")  # fmt: skip
    forced = database.fails(write(tmp_path, "d.json", entries), "--format", "csv")
    assert "header" in forced
    assert database.listens("ana") == []
