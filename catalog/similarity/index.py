"""The in-memory "similar sounding" index: ranked lists, near-duplicates, reasons. numpy only.

The vectors it compares come from `embedding.embed`; docs/features.md, "Similar sounding".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catalog.audio.names import MOOD_NAMES, VECTOR_LENGTH
from catalog.similarity.ann import Neighbours
from catalog.similarity.embedding import (
    MOODS,
    TEMPO,
    embed,
    octave_distance,
    to_unit,
)

MAX_PER_ARTIST = 2
# name_key of catalog.text.UNKNOWN_ARTIST: untagged files share that Artist row, but they are not
# one artist, so the per-artist cap leaves them alone.
UNCAPPED_ARTIST_KEY = "unknown artist"
# Two tracks are the same recording (another encoding of it) when their scaled features are
# closer than this (robust sigmas, per feature), their unfolded tempi agree and their moods match.
DUPLICATE_DISTANCE = 0.02
DUPLICATE_TEMPO_LOG2 = 0.015  # about 1%
# Reasons: a group is "similar" when its per-feature distance (in robust sigmas) is below this.
CLOSE_GROUP_DISTANCE = 0.5
SIMILAR_TEMPO_RATIO = 0.06  # within 6% after octave folding
REASON_TEXT = {  # the scaled groups a reason can name, in the order ties are broken
    "timbre": "similar timbre",
    "dynamics": "similar energy",
    "spectrum": "similar brightness",
    "beat": "similar beat strength",
}
MAX_REASONS = 3


@dataclass(frozen=True)
class Match:
    track_id: int
    similarity: float
    reasons: list[str]


@dataclass(frozen=True)
class ArtistMatch:
    artist_id: int
    similarity: float


class SimilarityIndex:
    def __init__(
        self,
        track_ids: np.ndarray,
        artist_ids: np.ndarray,
        name_keys: list[str],
        raw: np.ndarray,
    ):
        """`raw` is (tracks, 16) in FEATURE_NAMES order; `name_keys` is "artist key|title key"."""
        self.track_ids = np.asarray(track_ids, dtype=np.int64)
        self.artist_ids = np.asarray(artist_ids, dtype=np.int64)
        self.name_keys = list(name_keys)
        self.raw = np.asarray(raw, dtype=np.float64).reshape(-1, VECTOR_LENGTH)
        self.row_of = {int(track_id): row for row, track_id in enumerate(self.track_ids)}
        embedding = embed(self.raw)
        self.groups, self.scaled, self.unit = embedding.groups, embedding.scaled, embedding.unit
        self._artist_index: tuple[np.ndarray, np.ndarray] | None = None
        self.neighbours = Neighbours(self.track_ids, self.unit)  # exact; store.py adds a graph

    def __len__(self) -> int:
        return len(self.track_ids)

    def __contains__(self, track_id: int) -> bool:
        return int(track_id) in self.row_of

    def similar(self, track_id: int, n: int) -> list[Match]:
        """The n most similar tracks: never the seed, at most 2 per artist, no near-duplicates."""
        row = self.row_of.get(int(track_id))
        if row is None or n <= 0:
            return []
        matches: list[Match] = []
        per_artist: dict[int, int] = {}
        seen_names = {self.name_keys[row]}
        for candidate, score in self.neighbours.ranked(self.unit[row], want=n):
            if candidate == row:
                continue
            name = self.name_keys[candidate]
            if name in seen_names or self._same_recording(row, candidate):
                continue
            artist = int(self.artist_ids[candidate])
            if name.startswith(UNCAPPED_ARTIST_KEY + "|"):
                artist = -1 - candidate  # counted alone
            if per_artist.get(artist, 0) >= MAX_PER_ARTIST:
                continue
            per_artist[artist] = per_artist.get(artist, 0) + 1
            seen_names.add(name)
            similarity = float(to_unit(score))
            matches.append(
                Match(int(self.track_ids[candidate]), similarity, self.reasons(row, candidate))
            )
            if len(matches) == n:
                break
        return matches

    def similar_artists(self, artist_id: int, n: int) -> list[ArtistMatch]:
        """Artists whose tracks sound closest: cosine between the mean embedded tracks."""
        artist_ids, centroids = self._artists()
        position = np.searchsorted(artist_ids, artist_id)
        if position >= len(artist_ids) or artist_ids[position] != artist_id or n <= 0:
            return []
        scores = centroids @ centroids[position]
        out = []
        for candidate in _ranked(scores, want=n + 1):
            if candidate == position:
                continue
            similarity = float(to_unit(scores[candidate]))
            out.append(ArtistMatch(int(artist_ids[candidate]), similarity))
            if len(out) == n:
                break
        return out

    def seed_matches(
        self, seed_ids: list[int], candidate_ids: list[int]
    ) -> dict[int, tuple[float, int]]:
        """For each candidate with features: (its best similarity 0..1 to a seed, that seed)."""
        seeds = [s for s in seed_ids if s in self.row_of]
        rows = [(c, self.row_of[c]) for c in candidate_ids if c in self.row_of]
        if not seeds or not rows:
            return {}
        seed_rows = [self.row_of[s] for s in seeds]
        scores = self.unit[[row for _, row in rows]] @ self.unit[seed_rows].T
        best = scores.argmax(axis=1)
        similarity = to_unit(scores[np.arange(len(rows)), best])
        return {
            track_id: (value, seeds[b])
            for (track_id, _), value, b in zip(
                rows, similarity.tolist(), best.tolist(), strict=True
            )
        }

    def top_matches(
        self,
        seed_ids: list[int],
        n: int,
        *,
        exclude_ids: np.ndarray,
        exclude_key: object = None,
    ) -> list[tuple[int, float, int]]:
        """The n tracks (not excluded, not seeds) most similar to any seed: (track, similarity,
        seed). `exclude_key` names a stable `exclude_ids` so its mask is computed once."""
        seeds = [s for s in seed_ids if s in self.row_of]
        if not seeds or n <= 0:
            return []
        seed_rows = [self.row_of[s] for s in seeds]
        if self.neighbours.approximate:  # no scan of the catalogue (ann.py)
            blocked = self.neighbours.blocked(exclude_ids, exclude_key, seed_rows)
            rows, best, seed_of = self.neighbours.top_rows(self.unit[seed_rows], n, blocked=blocked)
            return [(int(self.track_ids[r]), v, seeds[s]) for r, v, s in zip(
                rows.tolist(), to_unit(best).tolist(), seed_of.tolist(), strict=True)]  # fmt: skip
        rows, candidates = self._candidates(exclude_ids, exclude_key)
        # seeds x candidates, reduced over axis 0: numpy reduces a long axis far faster than a
        # short one (6 ms for tracks x seeds at 100,000 tracks, 2 ms this way round); only the
        # candidate rows are scored (their sub-matrix is kept per exclude_key)
        scores = self.unit[seed_rows] @ candidates.T
        best = scores.max(axis=0)
        best[np.isin(rows, seed_rows)] = -np.inf
        count = min(n, int(np.isfinite(best).sum()))
        if count <= 0:
            return []
        top = np.argpartition(best, len(best) - count)[len(best) - count :]
        top = top[np.argsort(-best[top], kind="stable")]
        seed_of = scores[:, top].argmax(axis=0)
        similarity = to_unit(best[top])
        return [
            (int(self.track_ids[row]), value, seeds[s])
            for row, value, s in zip(rows[top].tolist(), similarity.tolist(), seed_of.tolist(),
                                     strict=True)
        ]  # fmt: skip

    def _candidates(self, exclude_ids: np.ndarray, key: object) -> tuple[np.ndarray, np.ndarray]:
        """The rows outside `exclude_ids` and their unit vectors, kept for one stable key."""
        cache = self.__dict__.setdefault("_candidate_cache", {})
        if key is not None and key in cache:
            return cache[key]
        rows = np.flatnonzero(~np.isin(self.track_ids, exclude_ids))
        found = (rows, np.ascontiguousarray(self.unit[rows]))
        if key is not None:
            cache.clear()
            cache[key] = found
        return found

    def reasons(self, a: int, b: int) -> list[str]:
        """Why two tracks sound alike, closest aspects first."""
        closeness: list[tuple[float, str]] = []
        tempo_a, tempo_b = self.raw[a, TEMPO], self.raw[b, TEMPO]
        if (
            tempo_a > 0
            and tempo_b > 0
            and octave_distance(tempo_a, tempo_b) <= np.log2(1 + SIMILAR_TEMPO_RATIO)
        ):
            closeness.append((0.0, "similar tempo"))
        for group in REASON_TEXT:
            columns = self.groups[group]
            distance = float(
                np.linalg.norm(self.scaled[a, columns] - self.scaled[b, columns])
                / np.sqrt(len(columns))
            )
            if distance < CLOSE_GROUP_DISTANCE:
                closeness.append((distance, REASON_TEXT[group]))
        closeness.sort(key=lambda item: item[0])
        reasons = [text for _, text in closeness[: MAX_REASONS - 1]]
        shared = [
            name
            for name, column in zip(MOOD_NAMES, MOODS, strict=True)
            if self.raw[a, column] >= 0.5 and self.raw[b, column] >= 0.5
        ]
        if shared:
            reasons.append("same mood: " + ", ".join(shared))
        elif len(closeness) >= MAX_REASONS:
            reasons.append(closeness[MAX_REASONS - 1][1])
        if not reasons:
            reasons.append(self._closest_group(a, b))
        return reasons

    def _closest_group(self, a: int, b: int) -> str:
        best = min(
            REASON_TEXT,
            key=lambda g: (
                np.linalg.norm(self.scaled[a, self.groups[g]] - self.scaled[b, self.groups[g]])
                / np.sqrt(len(self.groups[g]))
            ),
        )
        return "closest in " + REASON_TEXT[best].removeprefix("similar ")

    def _same_recording(self, a: int, b: int) -> bool:
        """Measured on the scaled features with the raw tempo: folding makes 70 and 140 BPM one
        point on the tempo circle, but they are not the same recording."""
        distance = np.linalg.norm(self.scaled[a] - self.scaled[b]) / np.sqrt(self.scaled.shape[1])
        if distance >= DUPLICATE_DISTANCE:
            return False
        tempo_a, tempo_b = max(self.raw[a, TEMPO], 1e-6), max(self.raw[b, TEMPO], 1e-6)
        if abs(np.log2(tempo_a / tempo_b)) >= DUPLICATE_TEMPO_LOG2:
            return False
        return bool(np.array_equal(self.raw[a, MOODS], self.raw[b, MOODS]))

    def _artists(self) -> tuple[np.ndarray, np.ndarray]:
        if self._artist_index is None:
            artist_ids, inverse = np.unique(self.artist_ids, return_inverse=True)
            sums = np.zeros((len(artist_ids), self.unit.shape[1]), dtype=np.float64)
            np.add.at(sums, inverse, self.unit)
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            self._artist_index = (artist_ids, (sums / np.maximum(norms, 1e-12)).astype(np.float32))
        return self._artist_index


def _ranked(scores: np.ndarray, *, want: int):
    """Candidate rows by descending score: a partial sort first, the rest only if needed."""
    total = len(scores)
    first = min(total, max(4 * want + 32, 64))
    if first < total:
        top = np.argpartition(-scores, first - 1)[:first]
        top = top[np.argsort(-scores[top], kind="stable")]
    else:
        top = np.argsort(-scores, kind="stable")
    yield from (int(i) for i in top)
    if first < total:  # rare: filters dropped most of the first candidates
        taken = np.zeros(total, dtype=bool)
        taken[top] = True
        yield from (int(i) for i in np.argsort(-scores, kind="stable") if not taken[i])
