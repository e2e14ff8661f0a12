"""What every format's reader is: rows out of one file, for one listener or named per row."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from listening.services.imports.report import ImportFormatError, ImportReport
from listening.services.imports.rows import ImportRow, row_build

Progress = Callable[[int], None] | None


class Source:
    """Subclasses set `format` and implement `records()`: (line, fields) pairs, fields being
    row_build's keywords without `username` when the file names nobody. A record that is None
    is left out and counted (a podcast episode); a ValueError rejects that one row."""

    format = ""
    is_totals = False
    names_users = False  # True: rows carry their listener (our CSV's `user` column)

    def __init__(self, raw, report: ImportReport, progress: Progress, user: str | None):
        self.raw = raw
        self.report = report
        self.progress = progress
        self.user = user
        if user is None and not self.names_users:
            raise ImportFormatError(
                f"this {self.format} file does not say whose history it is: give --user NAME"
            )

    def records(self) -> Iterator:
        raise NotImplementedError

    def __iter__(self) -> Iterator[ImportRow]:
        for line, fields in self.records():
            self.report.rows += 1
            try:
                if isinstance(fields, str):
                    raise ValueError(fields)
                if fields is None:
                    self.report.left_out += 1
                    continue
                if self.user is not None:
                    fields["username"] = self.user
                yield row_build(line=line, **fields)
            except ValueError as exc:
                self.report.reject(line, str(exc))
