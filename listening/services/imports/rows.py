"""One parsed row of a history file, whatever its format: names still, not ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from catalog.text import clean_name, name_key

# Exports repeat the same artists and titles on many rows: clean and normalise each name once.
key = lru_cache(maxsize=65_536)(name_key)
clean = lru_cache(maxsize=65_536)(clean_name)


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

    @property
    def track_key(self) -> tuple[str, str]:
        return key(self.artist), key(self.title)
