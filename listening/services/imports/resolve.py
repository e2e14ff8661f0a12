"""Names in a file to ids: users by username, tracks by artist and title compared as name keys
(case- and accent-insensitive, spaces folded). Both are cached for the whole import; what is
missing is created in sets (with `create_missing`), never row by row."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError

from catalog.models import Track
from catalog.services import tracks_create_metadata_only
from core import locks
from core.postgresql.lookups import exact_key_lookups
from listening.services.imports.report import ImportReport
from listening.services.imports.rows import ImportRow

# Second key of the import lock: held only while creating tracks from names (imports, scrobbles).
TRACK_CREATION = 1


class Resolver:
    """Finds (and with `create_missing` creates) the users and tracks rows name; rejects into
    the report the rows it cannot place."""

    def __init__(self, report: ImportReport, create_missing: bool):
        self.report = report
        self.create_missing = create_missing
        self.users: dict[str, int] = {}
        self.tracks: dict[tuple[str, str], int] = {}

    def resolve(self, rows: list[ImportRow]) -> list[tuple[ImportRow, int, int]]:
        """The rows whose user and track are known, with their ids; the rest are rejected."""
        self._resolve_users({row.username for row in rows})
        self._resolve_tracks(rows)
        usable = []
        for row in rows:
            user_id = self.users.get(row.username)
            track_id = self.tracks.get(row.track_key)
            if user_id is None:
                self.report.reject(row.line, f"no user {row.username!r} (see --create-missing)")
            elif track_id is None:
                self.report.reject(
                    row.line,
                    f"no track {row.title!r} by {row.artist!r} in the catalogue "
                    "(see --create-missing)",
                )
            else:
                usable.append((row, user_id, track_id))
        return usable

    def _resolve_users(self, names: set[str]) -> None:
        unknown = names - self.users.keys()
        if not unknown:
            return
        User = get_user_model()
        self.users.update(User.objects.filter(username__in=unknown).values_list("username", "pk"))
        missing = unknown - self.users.keys()
        if not missing or not self.create_missing:
            return
        validate = UnicodeUsernameValidator()
        valid = []
        for username in sorted(missing):
            try:
                validate(username)
            except ValidationError:
                continue  # its rows are rejected as unknown users
            valid.append(username)
        # no usable password: these listeners sign in only once someone sets one
        User.objects.bulk_create(
            [User(username=name, password=make_password(None)) for name in valid],
            batch_size=1000,
            ignore_conflicts=True,
        )
        created = dict(User.objects.filter(username__in=valid).values_list("username", "pk"))
        self.report.created_users += len(created)
        self.users.update(created)

    def _resolve_tracks(self, rows: list[ImportRow]) -> None:
        names: dict[tuple[str, str], tuple[str, str]] = {}
        for row in rows:  # the first spelling seen names a new track
            if row.track_key not in self.tracks:
                names.setdefault(row.track_key, (row.artist, row.title))
        if names:
            found, created = tracks_resolve(names=names, create_missing=self.create_missing)
            self.tracks.update(found)
            self.report.created_tracks += created


def tracks_resolve(
    *, names: dict[tuple[str, str], tuple[str, str]], create_missing: bool
) -> tuple[dict[tuple[str, str], int], int]:
    """Track ids by (artist key, title key) for `names` ({key: (artist, title) as written}),
    and how many were created: with `create_missing`, the missing ones are created as
    metadata-only tracks, in one set. Creation is serialised (core.locks), so two writers
    naming the same new track at once make one track, not two."""
    found = _tracks_find(set(names))
    missing = names.keys() - found.keys()
    if not missing or not create_missing:
        return found, 0
    with locks.hold(locks.LISTEN_IMPORT, TRACK_CREATION):
        found.update(_tracks_find(missing))  # created by another writer meanwhile
        missing = [key for key in names if key not in found]
        created = tracks_create_metadata_only(names=[names[key] for key in missing])
    found.update(created)
    return found, len(created)


def _tracks_find(keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    rows = (
        Track.objects.filter(
            artist__name_key__in={a for a, _ in keys}, title_key__in={t for _, t in keys}
        )
        .order_by("id")
        .values_list("artist__name_key", "title_key", "pk")
    )
    with exact_key_lookups():  # never through the trigram indexes: see core.postgresql.lookups
        for artist_key, title_key, pk in rows:
            if (artist_key, title_key) in keys:
                found.setdefault((artist_key, title_key), pk)
    return found
