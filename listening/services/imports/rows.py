"""One parsed row of a history file, whatever its format (names still, not ids), and the checks
every format's rows pass before they are used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.utils import timezone

from catalog.text import clean_name, name_key
from listening.services.validation import MAX_INT, listen_problems

# Exports repeat the same artists and titles on many rows: clean and normalise each name once.
key = lru_cache(maxsize=65_536)(name_key)
clean = lru_cache(maxsize=65_536)(clean_name)
MAX_NAME = 255  # the catalogue's name columns
MAX_USERNAME = 150  # Django's username column
FEEDBACK_KINDS = ("like", "dislike")


@dataclass(frozen=True)
class ImportRow:
    """An aggregated count (`plays`) or one listen (`listened_at` and its outcome)."""

    line: int
    username: str
    artist: str
    title: str
    plays: int | None = None
    listened_at: datetime | None = None
    ms_played: int | None = None
    completed: bool = False
    skipped: bool = False
    feedback: str | None = None

    @property
    def track_key(self) -> tuple[str, str]:
        return key(self.artist), key(self.title)


def row_build(
    *,
    line: int,
    username: str,
    artist: str,
    title: str,
    plays: int | None = None,
    listened_at: datetime | None = None,
    ms_played: int | None = None,
    completed: bool = False,
    skipped: bool = False,
    feedback: str | None = None,
) -> ImportRow:
    """A checked row; raises ValueError with the reason a row cannot be used."""
    raw = {"user": (username or "").strip(), "artist": artist or "", "track": title or ""}
    for name, longest in (("user", MAX_USERNAME), ("artist", MAX_NAME), ("track", MAX_NAME)):
        value = raw[name]
        if "\x00" in value:
            raise ValueError(f"{name} contains a NUL byte")
        if len(value.strip()) > longest:
            raise ValueError(f"{name} is longer than {longest} characters ({len(value)})")
    username, artist, title = raw["user"], clean(raw["artist"]), clean(raw["track"])
    for name, value in (("user", username), ("artist", artist), ("track", title)):
        if not value:
            raise ValueError(f"{name} is empty")
    if plays is not None and plays > MAX_INT:
        raise ValueError(f"plays must be at most {MAX_INT}, not {plays}")
    if plays is None:
        problems = listen_problems(
            listened_at=listened_at,
            ms_played=ms_played,
            completed=completed,
            skipped=skipped,
            now=timezone.now(),
        )
        if "listened_at" in problems:
            raise ValueError(f"listened_at {listened_at.isoformat()} {problems['listened_at']}")
        if "ms_played" in problems:
            raise ValueError(f"ms_played {ms_played} {problems['ms_played']}")
        if problems:
            raise ValueError(problems["skipped"])
    return ImportRow(line, username, artist, title, plays, listened_at, ms_played, completed,
                     skipped, feedback)  # fmt: skip


def whole_number(text: str, name: str) -> int:
    """A non-negative integer written in decimal digits (at most MAX_INT)."""
    text = text.strip()
    if not text.isdigit() or not text.isascii():
        raise ValueError(f"{name} must be a whole number >= 0, not {text[:40]!r}")
    if len(text) > 10 or int(text) > MAX_INT:
        raise ValueError(f"{name} must be at most {MAX_INT}, not {text[:40]}")
    return int(text)
