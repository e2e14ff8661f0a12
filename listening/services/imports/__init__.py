"""Importing listening history files: parse (csv_rows), resolve names to ids (resolve), write
batches (store, on a writer thread: writers), all run by `pipeline.listens_import`."""

from listening.services.imports.pipeline import BATCH_ROWS, listens_import
from listening.services.imports.report import ImportFormatError, ImportReport

__all__ = ["BATCH_ROWS", "ImportFormatError", "ImportReport", "listens_import"]
