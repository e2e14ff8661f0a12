"""The users x items CSR matrix and its id maps (database ids have gaps; rows do not)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix


@dataclass(frozen=True)
class Interactions:
    """Aggregated listening, one entry per (user, track), as parallel numpy arrays."""

    user_ids: np.ndarray  # int64 database ids
    track_ids: np.ndarray
    completed: np.ndarray
    partial: np.ndarray
    skips: np.ndarray
    last_listened: np.ndarray  # Unix seconds, for the time-based evaluation split
    liked: np.ndarray  # bool
    disliked: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.user_ids)


@dataclass(frozen=True)
class InteractionMatrix:
    """users x items, with row/column <-> database id maps.

    `user_items[row, column]` is the stored confidence value of user `user_ids[row]` for track
    `track_ids[column]`; `times` has the same sparsity structure and holds last-listened times.
    """

    user_items: csr_matrix
    times: csr_matrix
    user_ids: np.ndarray  # row -> user id (sorted)
    track_ids: np.ndarray  # column -> track id (sorted)

    @property
    def shape(self) -> tuple[int, int]:
        return self.user_items.shape

    @property
    def nnz(self) -> int:
        return self.user_items.nnz

    def row_of(self, user_id: int) -> int | None:
        return _position(self.user_ids, user_id)

    def column_of(self, track_id: int) -> int | None:
        return _position(self.track_ids, track_id)


def build_matrix(interactions: Interactions, values: np.ndarray) -> InteractionMatrix:
    """COO from the (user, track, value) triples, then CSR. Ids map to dense rows and columns
    through np.unique (sorted), so a user id of 1,000,000 does not make a million rows."""
    user_ids, rows = np.unique(interactions.user_ids, return_inverse=True)
    track_ids, columns = np.unique(interactions.track_ids, return_inverse=True)
    shape = (len(user_ids), len(track_ids))
    user_items = coo_matrix(
        (np.asarray(values, dtype=np.float32), (rows, columns)), shape=shape
    ).tocsr()
    times = coo_matrix(
        (interactions.last_listened.astype(np.float64), (rows, columns)), shape=shape
    ).tocsr()
    user_items.sort_indices()
    times.sort_indices()
    return InteractionMatrix(user_items, times, user_ids, track_ids)


def _position(sorted_ids: np.ndarray, wanted: int) -> int | None:
    index = int(np.searchsorted(sorted_ids, wanted))
    if index < len(sorted_ids) and sorted_ids[index] == wanted:
        return index
    return None
