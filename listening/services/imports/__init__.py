"""Importing listening history files: recognise the format (detect) and read its rows (csv_rows,
spotify, listenbrainz, lastfm, through jsonstream), check them (rows), resolve names to ids
(resolve), write batches (store, on a writer thread: writers), all run by
`pipeline.listens_import`."""

from listening.services.imports.detect import FORMATS, format_detect
from listening.services.imports.pipeline import (
    BATCH_ROWS,
    MAX_ATTEMPTS,
    interrupted_fail,
    listens_import,
)
from listening.services.imports.report import ImportFormatError, ImportReport

__all__ = [
    "BATCH_ROWS",
    "FORMATS",
    "MAX_ATTEMPTS",
    "ImportFormatError",
    "ImportReport",
    "format_detect",
    "interrupted_fail",
    "listens_import",
]
