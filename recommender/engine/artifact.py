"""One file per model version: factors, id maps, parameters. Written atomically.

implicit's own `save` appends `.npz` to string paths and keeps no id maps, so we write our own:
a numpy .npz written to a temporary name in the same folder, fsynced, then renamed over the final
name (and the folder fsynced), so a reader sees the old file or the whole new one, never half.
"""

from __future__ import annotations

import json
import os
import tempfile
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


def load(path: Path) -> Artifact:
    """Read an artifact; raises OSError or ValueError when it is missing or unreadable."""
    with np.load(Path(path), allow_pickle=False) as data:
        if int(data["format"]) != FORMAT:
            raise ValueError(f"{path}: artifact format {int(data['format'])}, expected {FORMAT}")
        artifact = Artifact(
            user_factors=data["user_factors"],
            item_factors=data["item_factors"],
            user_ids=data["user_ids"],
            track_ids=data["track_ids"],
            item_users=data["item_users"],
            params=json.loads(str(data["params"])),
        )
    if artifact.user_factors.shape[0] != len(artifact.user_ids) or artifact.item_factors.shape[
        0
    ] != len(artifact.track_ids):
        raise ValueError(f"{path}: factors and id maps disagree")
    return artifact
