"""The process-wide similarity index, built from the database and rebuilt when features change.

Each request checks a stamp (the newest feature update: one index-only lookup) at most once a
second; a changed stamp rebuilds the index, at most every MIN_REBUILD_SECONDS unless the track
asked about is missing from it. Deleting a track does not move the stamp; its stale entry only
ever drops out of results (they are rendered from the database), and the index is rebuilt at
least every MAX_AGE_SECONDS anyway. A build at 100,000 tracks takes about a second.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max

from catalog.audio.description import DESCRIPTION_LENGTH
from catalog.audio.names import VECTOR_LENGTH
from catalog.models import AudioFeatures
from catalog.similarity import ann
from catalog.similarity.index import SimilarityIndex

logger = logging.getLogger(__name__)

CHECK_SECONDS = 1.0
MIN_REBUILD_SECONDS = 5.0
MAX_AGE_SECONDS = 600.0

_lock = threading.Lock()
_state: dict = {"index": None, "stamp": None, "checked": 0.0, "built": 0.0}


def get_index(*, wanted_track_id: int | None = None) -> SimilarityIndex:
    now = time.monotonic()
    index: SimilarityIndex | None = _state["index"]
    missing = wanted_track_id is not None and index is not None and wanted_track_id not in index
    if index is not None and not missing and now - _state["checked"] < CHECK_SECONDS:
        return index
    with _lock:
        stamp = _stamp()
        _state["checked"] = now
        index = _state["index"]
        stale = (
            index is None or stamp != _state["stamp"] or now - _state["built"] >= MAX_AGE_SECONDS
        )
        due = index is None or missing or now - _state["built"] >= MIN_REBUILD_SECONDS
        if stale and due:
            started = time.perf_counter()
            previous = _state["index"].neighbours if _state["index"] is not None else None
            index = build_index()
            index.neighbours = ann.follow(
                index.track_ids,
                index.unit,
                previous,
                min_tracks=settings.MUSICREC_ANN_MIN_TRACKS,
                folder=settings.DATA_DIR / "similarity",
                threads=settings.MUSICREC_ANN_BUILD_THREADS,
            )
            _state.update(index=index, stamp=stamp, built=now)
            logger.info(
                "similarity index: %d tracks in %.0f ms",
                len(index),
                (time.perf_counter() - started) * 1000,
            )
        return index


def build_index(chunk: int = 50_000) -> SimilarityIndex:
    """Read a chunk of rows at a time into arrays: a million rows as one list of tuples would
    cost a web process about a gigabyte, and its memory would stay that high afterwards."""
    query = AudioFeatures.objects.values_list(
        "track_id",
        "track__artist_id",
        "track__artist__name_key",
        "track__title_key",
        "is_music",
        "description",
        *AudioFeatures.VECTOR_FIELDS,
    ).order_by("track_id")
    parts: dict[str, list] = {"ids": [], "artists": [], "names": [], "music": [], "described": [],
                              "raws": []}  # fmt: skip
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # filling this process's cache, not answering one request: a million rows may take
            # longer than a request's statement_timeout (docs/features.md)
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = 0")
        _read(query, chunk, parts)
    if not parts["ids"]:
        return SimilarityIndex(np.zeros(0), np.zeros(0), [], np.zeros((0, VECTOR_LENGTH)))
    return SimilarityIndex(
        np.concatenate(parts["ids"]),
        np.concatenate(parts["artists"]),
        parts["names"],
        np.vstack(parts["raws"]),
        description=np.vstack(parts["described"]),
        is_music=np.concatenate(parts["music"]),
    )


def _read(query, chunk: int, parts: dict[str, list]) -> None:
    rows: list[tuple] = []
    for row in itertools.chain(query.iterator(chunk_size=chunk), [None]):
        if row is not None:
            rows.append(row)
        if rows and (row is None or len(rows) == chunk):
            columns = list(zip(*rows, strict=True))
            parts["ids"].append(np.array(columns[0], dtype=np.int64))
            parts["artists"].append(np.array(columns[1], dtype=np.int64))
            parts["names"] += [f"{a}|{t}" for a, t in zip(columns[2], columns[3], strict=True)]
            parts["music"].append(np.array(columns[4], dtype=bool))
            parts["described"].append(_descriptions(columns[5]))
            parts["raws"].append(np.array(columns[6:], dtype=np.float64).T)
            rows = []


def _descriptions(blobs) -> np.ndarray:
    """float32 rows from the stored bytes; NaN rows where a track has none (or an older one)."""
    out = np.full((len(blobs), DESCRIPTION_LENGTH), np.nan, dtype=np.float32)
    for row, blob in enumerate(blobs):
        if blob is not None and len(blob) == 4 * DESCRIPTION_LENGTH:
            out[row] = np.frombuffer(bytes(blob), dtype="<f4")
    return out


def after_analysis() -> None:
    """Called after an analysis stored features (catalog.services.track_analyse): at the graph's
    sizes, a worker folds the newly analysed tracks into the shared graph file (ann.py), so web
    processes map it and build nothing."""
    try:
        index = _state["index"]
        size = len(index) if index is not None else AudioFeatures.objects.count()
        if size >= settings.MUSICREC_ANN_MIN_TRACKS:
            get_index()
    except Exception:  # the analysis is stored either way; the web processes catch up alone
        logger.exception("similarity graph not brought up to date after an analysis")


def forget() -> None:
    """Drop the cached index (tests, and after bulk deletes in the same process)."""
    with _lock:
        _state.update(index=None, stamp=None, checked=0.0, built=0.0)


def _stamp() -> object:
    """The newest feature update (AudioFeatures.updated_at is indexed: no table scan)."""
    return AudioFeatures.objects.aggregate(newest=Max("updated_at"))["newest"]
