"""Nearest neighbours by cosine over a float32 matrix of unit vectors, one row per track id,
without scanning the catalogue once it is large (docs/features.md, "Similar sounding at scale").

`Neighbours` answers "the rows closest to these query vectors" two ways:

- exact (numpy, a scan of every row) below `min_tracks` tracks (the setting
  MUSICREC_ANN_MIN_TRACKS, passed in by catalog/similarity/store.py), where a scan
  costs a few milliseconds and no graph is worth keeping;
- approximate above it: an HNSW graph from usearch (chosen by measurement against hnswlib and
  faiss: docs/performance.md, "The similarity index at a million tracks"), keyed by track id.
  The graph only proposes candidates: each is scored again exactly from the current matrix, so
  the similarities served are exact and only the recall is approximate.

The graph is kept up to date, not rebuilt: `refreshed(track_ids, unit)` returns a `Neighbours`
for a new matrix that reuses this one's graph, adding the tracks that are new, replacing those
whose vector moved by more than `MOVED`, and removing those that are gone. A freshly analysed
track therefore costs one insertion, not a rebuild of a million.

Filters (the seed itself, tracks already recommended, per-artist caps) are applied by the caller
on the candidates; `ranked` and `top_rows` fetch more (doubling) until enough pass, and fall back
to the exact scan when the graph cannot supply them. No Django here.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)
KEEP_FILES = 3  # graph files kept in the folder (older ones may still be mapped by a process)

# A track's vector moved this far (1 - cosine to the vector in the graph): re-insert it.
MOVED = 1e-3
# Graph parameters (docs/performance.md): M 16, efConstruction 128; ef grows with k.
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 64
# The graph keeps its own copy of every vector; it only proposes candidates (rescored exactly
# from the float32 matrix), so half precision is enough and halves that copy (docs/performance.md).
GRAPH_DTYPE = "f16"
OVERFETCH = 4  # candidates asked of the graph per result wanted, before the filters
# `top_rows` already divides by the share of rows its mask leaves open: 2 is its margin. At a
# million tracks (docs/performance.md) 4 gave the "sounds like" stage the same lists in 1.6-4x
# the time.
TOP_OVERFETCH = 2


def _graph(dim: int):
    from usearch.index import Index

    return Index(
        ndim=dim,
        metric="ip",
        dtype=GRAPH_DTYPE,
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )


class Neighbours:
    """Top-k rows of `unit` by cosine to query vectors; `track_ids` (ascending) name the rows."""

    def __init__(self, track_ids: np.ndarray, unit: np.ndarray, *, graph=None, path=None):
        self.track_ids = np.asarray(track_ids, dtype=np.int64)
        self.unit = np.asarray(unit, dtype=np.float32)
        self.graph = graph
        self.path = path  # set when `graph` is a read-only map of that file (never changed)
        self.changes: dict[str, int] = {}

    @classmethod
    def build(cls, track_ids: np.ndarray, unit: np.ndarray, *, approximate: bool, threads=0):
        """An exact search, or one over a new graph (built on `threads` threads, 0: all)."""
        found = cls(track_ids, unit)
        if approximate and len(track_ids):
            found.graph = _graph(found.unit.shape[1])
            found.graph.add(found.track_ids.astype(np.uint64), found.unit, threads=threads)
        return found

    @property
    def approximate(self) -> bool:
        return self.graph is not None

    def refreshed(self, track_ids: np.ndarray, unit: np.ndarray, *, min_tracks: int,
                  threads: int = 0) -> Neighbours:  # fmt: skip
        """The same search over a new matrix, this graph brought up to date by insertions and
        removals only (a new graph, or none, when `min_tracks` is crossed)."""
        wanted = len(track_ids) >= min_tracks
        if not wanted or self.graph is None or self.unit.shape[1:] != np.shape(unit)[1:]:
            return Neighbours.build(track_ids, unit, approximate=wanted, threads=threads)
        if self.path is not None:  # a mapped file cannot change: work on a copy of it
            return _loaded(self.path).refreshed(track_ids, unit, min_tracks=min_tracks,
                                                threads=threads)  # fmt: skip
        fresh = Neighbours(track_ids, unit, graph=self.graph)
        gone = np.setdiff1d(self.track_ids, fresh.track_ids, assume_unique=True)
        old_rows = np.searchsorted(self.track_ids, fresh.track_ids)
        old_rows = np.minimum(old_rows, max(len(self.track_ids) - 1, 0))
        kept = (self.track_ids[old_rows] == fresh.track_ids) if len(self.track_ids) else None
        if kept is None:
            kept = np.zeros(len(fresh.track_ids), dtype=bool)
        drift = np.ones(len(fresh.track_ids), dtype=np.float32)
        drift[kept] = 1 - np.einsum("ij,ij->i", self.unit[old_rows[kept]], fresh.unit[kept])
        moved = kept & (drift > MOVED)
        stale = np.concatenate([gone, fresh.track_ids[moved]]).astype(np.uint64)
        if len(stale):
            self.graph.remove(stale)
        insert = ~kept | moved
        if insert.any():
            keys = fresh.track_ids[insert].astype(np.uint64)
            fresh.graph.add(keys, fresh.unit[insert], threads=threads)
        fresh.changes = {"added": int((~kept).sum()), "moved": int(moved.sum()),
                         "removed": len(gone)}  # fmt: skip
        return fresh

    def ranked(self, query: np.ndarray, *, want: int) -> Iterator[tuple[int, float]]:
        """(row, cosine) by descending cosine: the first `OVERFETCH * want + 32` from the graph
        (or a partial sort), more only if the caller keeps asking."""
        count = min(len(self.track_ids), max(OVERFETCH * want + 32, 64))
        given = np.zeros(0, dtype=np.int64)
        while count:
            rows = self._nearest(query[None, :], count)[0]
            rows = rows[rows >= 0]
            scores = self.unit[rows] @ query
            order = np.argsort(-scores, kind="stable")
            fresh = ~np.isin(rows[order], given)
            yield from zip(rows[order][fresh].tolist(), scores[order][fresh].tolist(), strict=True)
            given = np.union1d(given, rows)
            if count >= len(self.track_ids):
                return
            count = min(len(self.track_ids), count * 4)

    def top_rows(
        self, queries: np.ndarray, n: int, *, blocked: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The n rows not `blocked` (a boolean mask over rows) closest to any query: (rows,
        their best cosine, the query it belongs to), best first."""
        open_rows = int((~blocked).sum())
        n = min(n, open_rows)
        if n <= 0:
            return (np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, np.int64))
        share = open_rows / max(len(blocked), 1)  # how many candidates survive the mask
        count = int(min(len(self.track_ids), (TOP_OVERFETCH * n + 32) / max(share, 1e-3)))
        while True:
            rows = np.unique(self._nearest(queries, count).ravel())
            rows = rows[rows >= 0]
            rows = rows[~blocked[rows]]
            if len(rows) >= n or count >= len(self.track_ids):
                break
            count = min(len(self.track_ids), count * 4)
        scores = queries @ self.unit[rows].T  # queries x candidates: exact
        best = scores.max(axis=0)
        top = np.argsort(-best, kind="stable")[:n]
        return rows[top], best[top], scores[:, top].argmax(axis=0)

    def blocked(self, exclude_ids: np.ndarray, key: object, rows: list[int]) -> np.ndarray:
        """A mask over rows: the tracks in `exclude_ids` (kept for a stable `key`) and `rows`."""
        cache = self.__dict__.setdefault("_blocked", {})
        if key is None or key not in cache:
            cache.clear()
            cache[key] = np.isin(self.track_ids, exclude_ids)
        mask = cache[key].copy()
        mask[rows] = True
        return mask

    def _nearest(self, queries: np.ndarray, count: int) -> np.ndarray:
        """(queries, count) rows, nearest first; -1 pads when fewer exist."""
        count = min(count, len(self.track_ids))
        if self.graph is None or count * 8 >= len(self.track_ids):
            scores = queries @ self.unit.T
            if count >= len(self.track_ids):
                return np.argsort(-scores, axis=1, kind="stable")
            part = np.argpartition(-scores, count - 1, axis=1)[:, :count]
            return np.take_along_axis(
                part, np.argsort(-np.take_along_axis(scores, part, 1), axis=1), 1
            )
        self.graph.expansion_search = max(EXPANSION_SEARCH, count)
        found = self.graph.search(np.ascontiguousarray(queries, np.float32), count, threads=1)
        keys = np.asarray(found.keys, dtype=np.int64).reshape(len(queries), -1)
        rows = np.searchsorted(self.track_ids, keys)
        rows = np.minimum(rows, len(self.track_ids) - 1)
        valid = self.track_ids[rows] == keys
        return np.where(valid, rows, -1)


def follow(
    track_ids: np.ndarray,
    unit: np.ndarray,
    previous: Neighbours | None,
    *,
    min_tracks: int,
    folder: Path,
    threads: int = 0,
    digest: str | None = None,
) -> Neighbours:
    """The search for a rebuilt matrix, sharing its graph with the other processes.

    Graphs live in `folder` (store.py: `<MUSICREC_DATA_DIR>/similarity`) named by a digest of the
    matrix: a process whose matrix has a file maps it read-only (one copy in the page cache for
    every web process). Otherwise it brings the previous graph (its own, or the newest file) up
    to date by insertions, saves it under the new digest and maps that. `digest`: the matrix's
    digest when the caller has it (`vectors_digest`, stored with a shared index), so a
    mapped matrix is not read through here."""
    if len(track_ids) < min_tracks:
        return Neighbours(track_ids, unit)
    track_ids = np.asarray(track_ids, dtype=np.int64)
    unit = np.ascontiguousarray(unit, dtype=np.float32)
    folder = Path(folder)
    if digest is None:
        digest = vectors_digest(track_ids, unit)
    path = folder / f"ann-{GRAPH_DTYPE}-{digest}.usearch"
    pattern = f"ann-{GRAPH_DTYPE}-*.usearch"  # graphs of another precision are not carried over
    try:
        if path.exists():
            return Neighbours(track_ids, unit, graph=_mapped(path), path=path)
        base = previous if previous is not None and previous.graph is not None else None
        newest = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime)
        if base is None and newest:
            base = _loaded(newest[-1])
        if base is not None:
            fresh = base.refreshed(track_ids, unit, min_tracks=min_tracks, threads=threads)
        else:
            fresh = Neighbours.build(track_ids, unit, approximate=True, threads=threads)
        if fresh.graph is None:
            return fresh
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".{path.name}.{os.getpid()}.tmp"
        fresh.graph.save(str(temporary))
        os.replace(temporary, path)
        kept = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime)[-KEEP_FILES:]
        for old in set(folder.glob("ann-*.usearch")) - set(kept):
            old.unlink(missing_ok=True)  # a process mapping it keeps its pages until it moves on
        mapped = Neighbours(track_ids, unit, graph=_mapped(path), path=path)
        mapped.changes = fresh.changes
        return mapped
    except (OSError, RuntimeError, ValueError) as exc:  # no shared file: a graph of our own
        logger.warning("similarity graph not shared (%s): building in this process", exc)
        return Neighbours.build(track_ids, unit, approximate=True, threads=threads)


def vectors_digest(track_ids: np.ndarray, unit: np.ndarray) -> str:
    """What a graph file is named by: a digest of the track ids and their vectors (the buffers
    themselves when they are already int64 and contiguous float32: no copy of the matrix)."""
    hashed = hashlib.blake2b(np.ascontiguousarray(track_ids, dtype=np.int64), digest_size=10)
    hashed.update(np.ascontiguousarray(unit, dtype=np.float32))
    return hashed.hexdigest()


def _mapped(path: Path):
    from usearch.index import Index

    graph = Index.restore(str(path), view=True)
    if graph is None:
        raise ValueError(f"{path}: not a usearch index")
    return graph


def _loaded(path: Path) -> Neighbours:
    """A private, changeable copy of a graph file, with the vectors it holds."""
    from usearch.index import Index

    graph = Index.restore(str(path), view=False)
    if graph is None:
        raise ValueError(f"{path}: not a usearch index")
    keys = np.sort(np.asarray(graph.keys, dtype=np.uint64))
    vectors = np.asarray(graph.get(keys), dtype=np.float32).reshape(len(keys), -1)
    return Neighbours(keys.astype(np.int64), vectors, graph=graph)


def recall_at(neighbours: Neighbours, queries: np.ndarray, k: int = 10) -> float:
    """Share of the exact top k (by a full scan) that the graph's top k finds, over `queries`
    (rows of the matrix; each query's own row is left out of both)."""
    exact = Neighbours(neighbours.track_ids, neighbours.unit)
    hits = 0
    for row in np.asarray(queries).tolist():
        vector = neighbours.unit[row]
        truth = [r for r, _ in _first(exact.ranked(vector, want=k), k + 1) if r != row][:k]
        found = [r for r, _ in _first(neighbours.ranked(vector, want=k), k + 1) if r != row][:k]
        hits += len(set(truth) & set(found))
    return hits / (k * max(len(queries), 1))


def _first(items: Iterator, count: int) -> list:
    out = []
    for item in items:
        out.append(item)
        if len(out) == count:
            break
    return out
