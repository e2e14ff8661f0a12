"""The similarity index as one file that every process maps read-only (docs/deployment.md).

store.py names the file by a digest of what it was built from; the first process to need it
builds and writes it, the others map it: one copy of the arrays in the page cache for all of
them, not one per process. A file is written to a temporary name and renamed into place, so a
reader never sees half of one; a reader checks the size and a CRC of the whole file before it
maps it, so a damaged file is rebuilt, never used.

Layout: MAGIC, a little-endian u32 header length, the header (JSON: the arrays' dtypes, shapes
and offsets, the embedding's groups, the vectors' digest for ann.follow, the file's size and CRC
of everything after the header), then each array at an offset aligned to 64 bytes. No Django.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import struct
import time
import zlib
from pathlib import Path

import numpy as np

from catalog.similarity import ann
from catalog.similarity.index import SimilarityIndex

logger = logging.getLogger(__name__)

MAGIC = b"MUSICREC-SIMILARITY-1\n"
PREFIX = "index-"
SUFFIX = ".sim"
KEEP_FILES = 3  # files kept in the folder (an older one may still be mapped by a process)
ALIGN = 64
CHUNK = 1 << 24
STALE_TEMPORARY_SECONDS = 3600.0  # a temporary file this old was left by a writer that died


def path_for(folder: Path, key: str) -> Path:
    return Path(folder) / f"{PREFIX}{key}{SUFFIX}"


def save(index: SimilarityIndex, path: Path) -> None:
    """Write `index` to `path` atomically (a temporary name, then os.replace), then drop older
    files past the newest KEEP_FILES. Raises OSError when the folder cannot be written."""
    path = Path(path)
    arrays = {name: np.ascontiguousarray(value) for name, value in index.arrays().items()}
    layout, offset = [], 0
    for name, value in arrays.items():
        layout.append({"name": name, "dtype": value.dtype.str, "shape": list(value.shape),
                       "offset": offset, "nbytes": value.nbytes})  # fmt: skip
        offset = _aligned(offset + value.nbytes)
    crc = 0
    for value in arrays.values():
        for piece in _pieces(value):
            crc = zlib.crc32(piece, crc)
    header = json.dumps({
        "arrays": layout,
        "groups": index.groups,
        "vectors_digest": ann.vectors_digest(index.track_ids, index.unit),  # computed once
        "data_bytes": offset,
        "crc": crc,
    }).encode()  # fmt: skip
    start = _aligned(len(MAGIC) + 4 + len(header))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as out:
            out.write(MAGIC + struct.pack("<I", len(header)) + header)
            out.write(b"\0" * (start - out.tell()))
            for value in arrays.values():
                for piece in _pieces(value):
                    out.write(piece)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _clean(path.parent)


def load(path: Path) -> SimilarityIndex | None:
    """The index in `path`, its arrays read-only maps of the file; None when there is no such
    file, or when it is damaged (logged: the caller builds and rewrites it)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(len(MAGIC) + 4)
            if len(head) < len(MAGIC) + 4 or head[: len(MAGIC)] != MAGIC:
                raise ValueError("not a similarity index file")
            (length,) = struct.unpack("<I", head[len(MAGIC) :])
            header = json.loads(f.read(length))
            start = _aligned(len(MAGIC) + 4 + length)
            if os.fstat(f.fileno()).st_size != start + header["data_bytes"]:
                raise ValueError("truncated or overlong")
            f.seek(start)
            crc, buffer = 0, bytearray(CHUNK)
            while count := f.readinto(buffer):  # read, not mapped: no pages in this process
                crc = zlib.crc32(memoryview(buffer)[:count], crc)
            if crc != header["crc"]:
                raise ValueError("checksum mismatch")
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            found = os.fstat(f.fileno())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, struct.error) as exc:
        logger.warning("similarity index file %s not used (%s): rebuilding it", path.name, exc)
        return None
    arrays = {}
    for entry in header["arrays"]:
        dtype = np.dtype(entry["dtype"])
        count = int(np.prod(entry["shape"], dtype=np.int64))
        value = np.frombuffer(mapped, dtype=dtype, count=count, offset=start + entry["offset"])
        arrays[entry["name"]] = value.reshape(entry["shape"])
    index = SimilarityIndex.from_arrays(arrays, header["groups"])
    index.path, index.vectors_digest = path, header["vectors_digest"]
    index.identity = (found.st_ino, found.st_mtime_ns)  # which file of that name it is
    return index


def _aligned(offset: int) -> int:
    return -(-offset // ALIGN) * ALIGN


def _pieces(value: np.ndarray) -> list:
    """The array's bytes (no copy) and the zeros up to the next aligned offset."""
    data = value.reshape(-1).view(np.uint8)
    return [data, b"\0" * (_aligned(value.nbytes) - value.nbytes)]


def _clean(folder: Path) -> None:
    files = sorted(folder.glob(f"{PREFIX}*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
    for old in files[:-KEEP_FILES]:
        old.unlink(missing_ok=True)  # a process mapping it keeps its pages until it moves on
    for temporary in folder.glob(f".{PREFIX}*.tmp"):
        try:
            if time.time() - temporary.stat().st_mtime > STALE_TEMPORARY_SECONDS:
                temporary.unlink(missing_ok=True)
        except OSError:
            pass
