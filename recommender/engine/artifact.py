"""One file per model version: factors, id maps, parameters. Written atomically.

implicit's own `save` appends `.npz` to string paths and keeps no id maps, so we write our own:
a numpy .npz written to a temporary name in the same folder, fsynced, then renamed over the final
name (and the folder fsynced), so a reader sees the old file or the whole new one, never half.

`load(path, mmap=True)` maps the factor arrays from the file (copy-on-write) instead of reading them
(np.savez stores its members uncompressed, so each array's bytes lie contiguous in the zip):
every web process on a machine then shares one copy of the model in the page cache
(docs/deployment.md, "Memory").
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMAT = 1


@dataclass(frozen=True)
class Artifact:
    user_factors: np.ndarray
    item_factors: np.ndarray
    user_ids: np.ndarray
    track_ids: np.ndarray
    item_users: np.ndarray  # per item: users with a liked entry (for blending and popularity)
    params: dict


def save(path: Path, artifact: Artifact) -> int:
    """Write atomically; returns the file size."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(
                handle,
                format=np.array(FORMAT),
                user_factors=artifact.user_factors.astype(np.float32),
                item_factors=artifact.item_factors.astype(np.float32),
                user_ids=artifact.user_ids.astype(np.int64),
                track_ids=artifact.track_ids.astype(np.int64),
                item_users=artifact.item_users.astype(np.int64),
                params=np.array(json.dumps(artifact.params)),
            )
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return path.stat().st_size


MAPPED = ("user_factors", "item_factors", "track_ids", "item_users")  # the large members


def load(path: Path, *, mmap: bool = False) -> Artifact:
    """Read an artifact; raises OSError or ValueError when it is missing or unreadable. With
    `mmap`, the large arrays are copy-on-write maps of the file (shared between processes)."""
    with np.load(Path(path), allow_pickle=False) as data:
        if int(data["format"]) != FORMAT:
            raise ValueError(f"{path}: artifact format {int(data['format'])}, expected {FORMAT}")
        mapped = _mapped(Path(path)) if mmap else {}
        arrays = {
            name: mapped[name] if name in mapped else data[name]
            for name in ("user_factors", "item_factors", "user_ids", "track_ids", "item_users")
        }
        artifact = Artifact(**arrays, params=json.loads(str(data["params"])))  # fmt: skip
    if artifact.user_factors.shape[0] != len(artifact.user_ids) or artifact.item_factors.shape[
        0
    ] != len(artifact.track_ids):
        raise ValueError(f"{path}: factors and id maps disagree")
    return artifact


def _mapped(path: Path) -> dict[str, np.ndarray]:
    """The MAPPED members as copy-on-write memory maps of `path`; a member stored compressed (a file
    not written by `save`) is left out, and read the ordinary way."""
    out = {}
    with zipfile.ZipFile(path) as archive, path.open("rb") as handle:
        for name in MAPPED:
            info = archive.getinfo(f"{name}.npy")
            if info.compress_type != zipfile.ZIP_STORED:
                continue
            handle.seek(info.header_offset)
            local = handle.read(30)  # the local file header: its name and extra field lengths
            if local[:4] != b"PK\x03\x04":
                raise ValueError(f"{path}: {name} has no local header")
            skip = int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")
            handle.seek(info.header_offset + 30 + skip)
            version = np.lib.format.read_magic(handle)
            header = {(1, 0): np.lib.format.read_array_header_1_0}.get(
                version, np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = header(handle)
            # copy-on-write, not read-only: implicit's Cython solver asks for writable buffers,
            # though it never writes the factors, so the pages stay the shared file's pages
            out[name] = np.memmap(path, dtype=dtype, mode="c", offset=handle.tell(), shape=shape,
                                  order="F" if fortran else "C").view(np.ndarray)  # fmt: skip
    return out
