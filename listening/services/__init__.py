"""Writes on listening history. Import from here: `from listening.services import ...`."""

from listening.services.feedback import feedback_delete, feedback_set
from listening.services.imports import ImportFormatError, ImportReport, listens_import
from listening.services.listens import (
    MAX_BATCH,
    ListenBatchError,
    ListenInput,
    RecordResult,
    listen_set_excluded,
    listens_record,
)
from listening.services.stats import stats_rebuild

__all__ = [
    "MAX_BATCH",
    "ImportFormatError",
    "ImportReport",
    "ListenBatchError",
    "ListenInput",
    "RecordResult",
    "feedback_delete",
    "feedback_set",
    "listen_set_excluded",
    "listens_import",
    "listens_record",
    "stats_rebuild",
]
