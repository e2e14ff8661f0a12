"""A migrated SQLite database of its own, for running manage.py against the embedded default
(the `make demo` database) while the suite itself runs on PostgreSQL."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC
from pathlib import Path

from django.utils.dateparse import parse_datetime

from tests.helpers.processes import REPO, clean_env, manage


class SqliteSite:
    def __init__(self, folder: Path, template: Path | None = None):
        self.path = folder / "db.sqlite3"
        self.env = clean_env(
            DJANGO_DEBUG="1",
            DATABASE_URL=f"sqlite:///{self.path}",
            MUSICREC_DATA_DIR=str(folder / "data"),
            OPENBLAS_NUM_THREADS="1",
        )
        if template is not None:
            shutil.copyfile(template, self.path)
        else:
            result = manage("migrate", "--noinput", env=self.env)
            assert result.returncode == 0, result.stderr[-2000:]

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return manage(*args, env=self.env)

    def spawn(self, *args: str) -> subprocess.Popen:
        pipe = subprocess.PIPE
        return subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=REPO, env=self.env, stdout=pipe,
            stderr=pipe, text=True,
        )  # fmt: skip

    def import_json(self, *args: str) -> dict:
        result = self.manage("import_listens", *args, "--json")
        assert result.returncode == 0, result.stderr[-3000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with sqlite3.connect(self.path, timeout=30) as db:
            return db.execute(sql, params).fetchall()

    def listens(self, username: str) -> list[tuple]:
        """(artist, title, listened_at, ms_played, completed, skipped) of one listener."""
        rows = self.query(
            "SELECT a.name, t.title, e.listened_at, e.ms_played, e.completed, e.skipped"
            " FROM listening_listeningevent e JOIN catalog_track t ON t.id = e.track_id"
            " JOIN catalog_artist a ON a.id = t.artist_id JOIN accounts_user u ON u.id = e.user_id"
            " WHERE u.username = ? AND e.source = 'import'",
            (username,),
        )
        return sorted(
            (artist, title, parse_datetime(when).replace(tzinfo=UTC), ms, bool(done), bool(skip))
            for artist, title, when, ms, done, skip in rows
        )
