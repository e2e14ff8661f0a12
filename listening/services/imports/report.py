"""What an import tells its caller: counts, and the rows it could not use with line and reason."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

MAX_LISTED_REJECTIONS = 10_000


class ImportFormatError(Exception):
    """The file as a whole cannot be imported (unknown format, no usable header, unreadable,
    no listener named): nothing is stored."""


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    unchanged: int = 0
    merged: int = 0  # rows added into an earlier row of the same (user, track) in the file
    left_out: int = 0  # podcast and audiobook entries: not music, not counted as rejected
    feedback: int = 0
    created_tracks: int = 0
    created_users: int = 0
    rejected: list[dict] = field(default_factory=list)
    rejected_total: int = 0
    format: str = ""  # csv, spotify, listenbrainz or lastfm
    kind: str = ""  # events or totals
    batch_id: int | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()  # the parser and the writer thread both count

    def count_unchanged(self, count: int) -> None:
        with self._lock:
            self.unchanged += count

    def count_imported(self, count: int) -> None:
        with self._lock:
            self.imported += count

    def reject(self, line: int, reason: str) -> None:
        with self._lock:
            self.rejected_total += 1
            if len(self.rejected) < MAX_LISTED_REJECTIONS:
                self.rejected.append({"line": line, "reason": reason})

    def as_json(self) -> dict:
        return {
            "format": self.format,
            "rows": self.rows,
            "imported": self.imported,
            "unchanged": self.unchanged,
            "merged": self.merged,
            "left_out": self.left_out,
            "feedback": self.feedback,
            "created_tracks": self.created_tracks,
            "created_users": self.created_users,
            "rejected": self.rejected,
            "rejected_total": self.rejected_total,
        }
