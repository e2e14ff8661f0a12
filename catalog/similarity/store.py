"""The process-wide similarity index, built from the database and rebuilt when features change.

Each request checks a stamp (the newest feature update: one index-only lookup) at most once a
second; a changed stamp rebuilds the index, at most every MIN_REBUILD_SECONDS unless the track
asked about is missing from it. Deleting a track does not move the stamp; its stale entry only
ever drops out of results (they are rendered from the database), and the index is rebuilt at
least every MAX_AGE_SECONDS anyway. A build at 100,000 tracks takes about a second.

From MUSICREC_SIMILARITY_REFRESH_BEHIND_TRACKS tracks, a process that already holds an index
rebuilds it on a thread of its own and keeps answering from the one it has meanwhile (at a
million tracks a rebuild takes tens of seconds: no request waits for it); below that size, and
in a process with no index yet, the request that finds it stale rebuilds it.

The index is shared between processes (shared.py): a rebuild is named by a digest of what it is
built from (`_key`), and a process whose key has a file maps it read-only instead of reading the
database; the first one builds it, under a file lock, and writes it for the others.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import itertools
import logging
import threading
import time
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max

from catalog.audio.description import DESCRIPTION_LENGTH, DESCRIPTION_NAMES
from catalog.audio.names import VECTOR_LENGTH
from catalog.models import AudioFeatures
from catalog.similarity import ann, shared
from catalog.similarity.embedding import BOUND, GROUP_WEIGHTS, KNOTS, REFERENCE_ROWS, SEED_WEIGHTS
from catalog.similarity.index import SimilarityIndex, name_codes

logger = logging.getLogger(__name__)

CHECK_SECONDS = 1.0
MIN_REBUILD_SECONDS = 5.0
MAX_AGE_SECONDS = 600.0

_lock = threading.Lock()
FORMAT = 1  # of the shared file (shared.py) and of what goes into it
# "reread": the next build reads the database even when a file for its stamp exists (forget())
_state: dict = {"index": None, "stamp": None, "checked": 0.0, "built": 0.0, "reread": False,
                "refreshing": None}  # fmt: skip


def get_index(*, wanted_track_id: int | None = None, wait: bool = False) -> SimilarityIndex:
    """The current index. `wait`: rebuild a stale one now whatever its size (the worker's
    after_analysis, which is the one place that should pay for it)."""
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
            behind = settings.MUSICREC_SIMILARITY_REFRESH_BEHIND_TRACKS
            if not wait and index is not None and len(index) >= behind:
                _refresh_behind(stamp, index)
                return index
            index = _timed_shared(stamp, index, "in a request")
            _state.update(index=index, stamp=stamp, built=now, reread=False)
        return index


def _timed_shared(stamp: object, previous: SimilarityIndex | None, how: str) -> SimilarityIndex:
    started = time.perf_counter()
    index = _shared(stamp, previous)
    logger.info(
        "similarity index: %d tracks in %.0f ms, %s (%s)",
        len(index),
        (time.perf_counter() - started) * 1000,
        how,
        index.path.name if index.path else "not shared",
    )
    return index


def _refresh_behind(stamp: object, previous: SimilarityIndex) -> None:
    """Rebuild on a thread (one at a time per process); the result replaces `previous` unless
    the index was forgotten or replaced meanwhile. Called with _lock held."""
    running = _state["refreshing"]
    if running is not None and running.is_alive():
        return

    def work() -> None:
        try:
            fresh = _timed_shared(stamp, previous, "behind requests")
        except Exception:  # the current index stays; tried again MIN_REBUILD_SECONDS later
            logger.exception("similarity index: a refresh failed; the current one stays")
            with _lock:
                _state["built"] = time.monotonic()
            return
        finally:
            connection.close()  # this thread's own database connection
        with _lock:
            if _state["index"] is previous:
                _state.update(index=fresh, stamp=stamp, built=time.monotonic(), reread=False)

    thread = threading.Thread(target=work, name="similarity-refresh", daemon=True)
    _state["refreshing"] = thread
    thread.start()


def wait_for_refresh(timeout: float | None = None) -> bool:
    """Wait for a refresh running behind requests, if any; False if it is still running."""
    running = _state["refreshing"]
    if running is not None:
        running.join(timeout)
        return not running.is_alive()
    return True


def _shared(stamp: object, previous: SimilarityIndex | None) -> SimilarityIndex:
    """The index for `stamp`: mapped from the file another process wrote for it, or built from
    the database, written for the others, and mapped (docs/deployment.md). A file older than
    MAX_AGE_SECONDS is built again (names and artists edited without a feature change, as
    before, but by one process for all). The build runs under a file lock, so processes that
    start together build it once; if the folder cannot be written, this process builds an
    index of its own."""
    folder = settings.DATA_DIR / "similarity"
    reread = _state["reread"]
    try:
        path = shared.path_for(folder, _key(stamp))
        on_disk = _usable(path, reread)
        if on_disk is not None and previous is not None and previous.identity == on_disk:
            return previous  # aged, but its file is still the current one
        index = shared.load(path) if on_disk is not None else None
        if index is None:
            folder.mkdir(parents=True, exist_ok=True)
            with _file_lock(folder / ".build.lock"):
                # another process may have written it while this one waited
                index = shared.load(path) if _usable(path, reread) is not None else None
                if index is None:
                    built = build_index()
                    shared.save(built, path)
                    index = shared.load(path)
                    if index is None:
                        raise OSError(f"{path.name} unreadable right after writing it")
                    del built  # this process, too, keeps only the map
                    _release_freed_memory()
                return _with_graph(index, previous, folder)
        return _with_graph(index, previous, folder)
    except OSError as exc:
        logger.warning("similarity index not shared (%s): building it in this process", exc)
        return _with_graph(build_index(), previous, folder)


def _usable(path: Path, reread: bool) -> tuple[int, int] | None:
    """(inode, mtime) of the file at `path` when it may be used: there, younger than
    MAX_AGE_SECONDS, and not to be read again from the database (forget())."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    if reread or time.time() - found.st_mtime >= MAX_AGE_SECONDS:
        return None
    return (found.st_ino, found.st_mtime_ns)


def _with_graph(index: SimilarityIndex, previous: SimilarityIndex | None, folder: Path):
    index.neighbours = ann.follow(
        index.track_ids,
        index.unit,
        previous.neighbours if previous is not None else None,
        min_tracks=settings.MUSICREC_ANN_MIN_TRACKS,
        folder=folder,
        threads=settings.MUSICREC_ANN_BUILD_THREADS,
        digest=index.vectors_digest,
    )
    return index


def _key(stamp: object) -> str:
    """What the file is named by: the database, the stamp and the number of features (a delete
    moves no stamp) and what the embedding depends on."""
    database = connection.settings_dict
    described = (FORMAT, database.get("HOST"), database.get("PORT"), database.get("NAME"),
                 str(stamp), AudioFeatures.objects.count(), GROUP_WEIGHTS, SEED_WEIGHTS, BOUND,
                 REFERENCE_ROWS, KNOTS, DESCRIPTION_NAMES)  # fmt: skip
    return hashlib.blake2b(repr(described).encode(), digest_size=12).hexdigest()


@contextlib.contextmanager
def _file_lock(path: Path):
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _release_freed_memory() -> None:
    """Hand the build's freed heap back to the system (glibc keeps it otherwise)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


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
        np.concatenate(parts["names"]),
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
            parts["names"].append(
                name_codes([f"{a}|{t}" for a, t in zip(columns[2], columns[3], strict=True)])
            )
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
            get_index(wait=True)
    except Exception:  # the analysis is stored either way; the web processes catch up alone
        logger.exception("similarity graph not brought up to date after an analysis")


def forget(*, reread: bool = True) -> None:
    """Drop the cached index (tests, and after bulk deletes in the same process); the next one
    is built from the database and its file rewritten, unless `reread` is False (a fresh
    process: it maps the file when there is one)."""
    with _lock:
        _state.update(index=None, stamp=None, checked=0.0, built=0.0, reread=reread)
    wait_for_refresh()  # none is left running on a forgotten index (its result is dropped)
    _state["refreshing"] = None


def _stamp() -> object:
    """The newest feature update (AudioFeatures.updated_at is indexed: no table scan)."""
    return AudioFeatures.objects.aggregate(newest=Max("updated_at"))["newest"]
