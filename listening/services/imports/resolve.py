"""Names in a file to ids: users by username, tracks by artist and title compared as name keys
(case- and accent-insensitive, spaces folded). Both are cached for the whole import."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError

from catalog.models import Track
from catalog.services import track_metadata_only
from listening.services.imports.report import ImportReport
from listening.services.imports.rows import ImportRow


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
        for username in sorted(missing):
            try:
                validate(username)
            except ValidationError:
                continue  # its rows are rejected as unknown users
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                self.report.created_users += 1
            self.users[username] = user.pk

    def _resolve_tracks(self, rows: list[ImportRow]) -> None:
        unknown = {row.track_key for row in rows} - self.tracks.keys()
        if not unknown:
            return
        found = (
            Track.objects.filter(
                artist__name_key__in={a for a, _ in unknown},
                title_key__in={t for _, t in unknown},
            )
            .order_by("id")
            .values_list("artist__name_key", "title_key", "pk")
        )
        for artist_key, title_key, pk in found:
            if (artist_key, title_key) in unknown:
                self.tracks.setdefault((artist_key, title_key), pk)
        missing = unknown - self.tracks.keys()
        if not missing or not self.create_missing:
            return
        names: dict[tuple[str, str], tuple[str, str]] = {}
        for row in rows:  # the first spelling seen names a new track
            names.setdefault(row.track_key, (row.artist, row.title))
        for track_key in sorted(missing):
            artist_name, title = names[track_key]
            track = track_metadata_only(title=title, artist_name=artist_name)
            self.tracks[track_key] = track.pk
            self.report.created_tracks += 1
