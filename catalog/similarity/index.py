"""The in-memory "similar sounding" index: ranked lists, near-duplicates, reasons. numpy only.

The vectors it compares come from `embedding.embed`; docs/features.md, "Similar sounding".
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import blake2b

import numpy as np

from catalog.audio.names import MOOD_NAMES, VECTOR_LENGTH
from catalog.similarity.ann import Neighbours
from catalog.similarity.embedding import MOODS, TEMPO, embed, octave_distance, to_unit

MAX_PER_ARTIST = 2
# name_key of catalog.text.UNKNOWN_ARTIST: untagged files share that Artist row, but they are not
# one artist, so the per-artist cap leaves them alone.
UNCAPPED_ARTIST_KEY = "unknown artist"
# Two tracks are the same recording (another encoding of it) when their scaled features are
# closer than this (robust sigmas, per feature), their unfolded tempi agree and their moods match.
DUPLICATE_DISTANCE = 0.02
DUPLICATE_TEMPO_LOG2 = 0.015  # about 1%
# Reasons: a group is named when it adds to the pair's cosine and its features are close: a
# root-mean-square distance below this, in the bounded normal scores (about a third of the
# spread of the catalogue).
CLOSE_GROUP_DISTANCE = 0.6
SIMILAR_TEMPO_RATIO = 0.06  # within 6% after octave folding
REASON_TEXT = {  # the groups a reason can name, in the order ties are broken
    "timbre": "similar timbre",
    "timbre_motion": "similar articulation",
    "texture": "similar texture",
    "rhythm": "similar rhythm",
    "harmony": "similar harmony",
    "dynamics": "similar dynamics",
    "brightness": "similar brightness",
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


class Rows:
    """Track id -> row, by a binary search over the ids (sorted once if they are not): no dict of
    a million Python ints per process. Reads like the dict it replaces (get, [], in)."""

    def __init__(self, track_ids: np.ndarray):
        self.track_ids = track_ids
        ascending = len(track_ids) < 2 or bool(np.all(track_ids[1:] > track_ids[:-1]))
        self.order = None if ascending else np.argsort(track_ids, kind="stable")
        self.sorted = track_ids if ascending else track_ids[self.order]

    def get(self, track_id, default=None):
        track_id = int(track_id)
        position = int(np.searchsorted(self.sorted, track_id))
        if position >= len(self.sorted) or self.sorted[position] != track_id:
            return default
        return position if self.order is None else int(self.order[position])

    def __getitem__(self, track_id) -> int:
        row = self.get(track_id)
        if row is None:
            raise KeyError(track_id)
        return row

    def __contains__(self, track_id) -> bool:
        return self.get(track_id) is not None


def name_codes(name_keys) -> np.ndarray:
    """One int64 per "artist key|title key": a 62-bit hash, negative (-1 - hash) for the shared
    unknown artist (uncapped). Compared for equality only, so a name needs no Python string."""
    codes = np.empty(len(name_keys), dtype=np.int64)
    uncapped = UNCAPPED_ARTIST_KEY + "|"
    for row, key in enumerate(name_keys):
        code = int.from_bytes(blake2b(key.encode(), digest_size=8).digest(), "little") >> 2
        codes[row] = -1 - code if key.startswith(uncapped) else code
    return codes


class SimilarityIndex:
    """The arrays queries need, and nothing per track in Python objects: built here from features
    (the constructor), or mapped read-only from the file another process wrote (`from_arrays`,
    catalog/similarity/shared.py), so web processes share one copy (docs/deployment.md)."""

    ARRAYS = ("track_ids", "artist_ids", "names", "is_music", "tempo", "moods", "scaled",
              "unit", "norms", "scale", "artist_keys", "artist_centroids")  # fmt: skip

    def __init__(
        self,
        track_ids: np.ndarray,
        artist_ids: np.ndarray,
        name_keys,
        raw: np.ndarray,
        description: np.ndarray | None = None,
        is_music: np.ndarray | None = None,
        *,
        weights: dict[str, float] | None = None,
    ):
        """`raw` is (tracks, 16) in FEATURE_NAMES order; `name_keys` is "artist key|title key"
        per track (or their `name_codes`); `description` (tracks, DESCRIPTION_LENGTH), NaN rows
        for tracks without one, or None to compare by the 16 numbers alone; `is_music`
        (tracks,) booleans, all True when None; `weights`: embed's group weights (tuning).

        Ranking is the dot product of rows of `self.unit` (unit vectors), restricted to tracks
        of the seed's kind (music or not): a nearest-neighbour index can serve it."""
        raw = np.asarray(raw, dtype=np.float64).reshape(-1, VECTOR_LENGTH)
        is_codes = isinstance(name_keys, np.ndarray) and name_keys.dtype == np.int64
        names = name_keys if is_codes else name_codes(list(name_keys))
        embedding = embed(raw, description, weights=weights)
        self._adopt(
            {
                "track_ids": np.asarray(track_ids, dtype=np.int64),
                "artist_ids": np.asarray(artist_ids, dtype=np.int64),
                "names": names.reshape(len(raw)),
                "is_music": np.ones(len(raw), dtype=bool)
                if is_music is None
                else np.asarray(is_music, dtype=bool).reshape(len(raw)),
                "tempo": np.ascontiguousarray(raw[:, TEMPO]),
                "moods": raw[:, MOODS].astype(np.float32),
                "scaled": embedding.scaled.astype(np.float32),
                "unit": embedding.unit,
                "norms": embedding.norms,
                "scale": embedding.scale,
            },
            embedding.groups,
        )

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], groups: dict[str, list[int]]):
        """An index over arrays as `arrays()` gives them (read-only maps of a shared file)."""
        index = cls.__new__(cls)
        index._adopt(arrays, groups)
        return index

    def _adopt(self, arrays: dict[str, np.ndarray], groups: dict[str, list[int]]) -> None:
        self.track_ids, self.artist_ids = arrays["track_ids"], arrays["artist_ids"]
        self.names, self.is_music = arrays["names"], arrays["is_music"]
        self.tempo, self.moods = arrays["tempo"], arrays["moods"]
        self.scaled, self.unit = arrays["scaled"], arrays["unit"]
        self.norms, self.scale = arrays["norms"], arrays["scale"]
        self.groups = {name: list(columns) for name, columns in groups.items()}
        self.row_of = Rows(self.track_ids)
        music = int(np.count_nonzero(self.is_music))
        self._kind_count = {True: music, False: len(self.track_ids) - music}
        self._artist_index: tuple[np.ndarray, np.ndarray] | None = None
        if "artist_keys" in arrays:
            self._artist_index = (arrays["artist_keys"], arrays["artist_centroids"])
        self.neighbours = Neighbours(self.track_ids, self.unit)  # exact; store.py adds a graph
        self.path = None  # the shared file mapped (shared.load), if any
        self.identity: tuple[int, int] | None = None  # its inode and mtime
        self.vectors_digest: str | None = None  # ann.follow's name for the vectors, if known

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything `from_arrays` needs, the artists' centroids included (computed once here,
        not in every process that reads the file)."""
        artist_keys, centroids = self._artists()
        found = {name: getattr(self, name) for name in self.ARRAYS[:10]}
        return {**found, "artist_keys": artist_keys, "artist_centroids": centroids}

    def __len__(self) -> int:
        return len(self.track_ids)

    def __contains__(self, track_id: int) -> bool:
        return track_id in self.row_of

    def bounded_rows(self, rows) -> np.ndarray:
        """Rows of embed's `bounded` (the normal scores), had back from `unit`: exact to float32
        rounding in every column that counts (columns of zero weight read 0)."""
        inverse = np.divide(1.0, self.scale, out=np.zeros_like(self.scale), where=self.scale > 0)
        return self.unit[rows] * (self.norms[rows][..., None] * inverse)

    def similar(self, track_id: int, n: int) -> list[Match]:
        """The n most similar tracks: never the seed, at most 2 per artist, no near-duplicates."""
        row = self.row_of.get(track_id)
        if row is None or n <= 0:
            return []
        kind = bool(self.is_music[row])
        # music only with music: candidates of the other kind are passed over, and the walk
        # ends once every track of the seed's kind has been offered
        left = self._kind_count[kind] - 1
        matches: list[Match] = []
        per_artist: dict[int, int] = {}
        seen_names = {int(self.names[row])}
        for candidate, score in self.neighbours.ranked(self.unit[row], want=n):
            if left <= 0:
                break
            if candidate == row or self.is_music[candidate] != kind:
                continue
            left -= 1
            name = int(self.names[candidate])
            if name in seen_names or self._same_recording(row, candidate):
                continue
            artist = int(self.artist_ids[candidate])
            if name < 0:  # the unknown artist (name_codes)
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
        rows = [(c, row) for c in candidate_ids if (row := self.row_of.get(c)) is not None]
        if not seeds or not rows:
            return {}
        seed_rows = [self.row_of[s] for s in seeds]
        candidate_rows = [row for _, row in rows]
        scores = self.unit[candidate_rows] @ self.unit[seed_rows].T
        kind = self.is_music[candidate_rows][:, None] == self.is_music[seed_rows][None, :]
        scores = np.where(kind, scores, -1.0)  # music and non-music: nothing alike
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
        kinds = np.unique(self.is_music[seed_rows])
        if self.neighbours.approximate and len(kinds) == 1:  # no scan of the catalogue (ann.py)
            blocked = self.neighbours.blocked(exclude_ids, exclude_key, seed_rows)
            blocked |= self.is_music != kinds[0]  # music only with music
            rows, best, seed_of = self.neighbours.top_rows(self.unit[seed_rows], n, blocked=blocked)
            return [(int(self.track_ids[r]), v, seeds[s]) for r, v, s in zip(
                rows.tolist(), to_unit(best).tolist(), seed_of.tolist(), strict=True)]  # fmt: skip
        rows, candidates = self._candidates(exclude_ids, exclude_key)
        # seeds x candidates, reduced over axis 0: numpy reduces a long axis far faster than a
        # short one (6 ms for tracks x seeds at 100,000 tracks, 2 ms this way round); only the
        # candidate rows are scored (their sub-matrix is kept per exclude_key)
        scores = self.unit[seed_rows] @ candidates.T
        kind = self.is_music[seed_rows][:, None] == self.is_music[rows][None, :]
        scores = np.where(kind, scores, -np.inf)  # music only with music
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
        """Why two tracks sound alike: the groups that add most to their cosine and whose
        features are close, the tempo when it is within 6%, the mood when both have the same
        flags. Nothing is claimed that is not close: the list may be empty."""
        reasons = []
        tempo_a, tempo_b = self.tempo[a], self.tempo[b]
        if (
            tempo_a > 0
            and tempo_b > 0
            and octave_distance(tempo_a, tempo_b) <= np.log2(1 + SIMILAR_TEMPO_RATIO)
        ):
            reasons.append("similar tempo")
        # each group's columns are contiguous (embedding.embed): one pass sums them all
        starts, names, widths = self._group_layout()
        shares = np.add.reduceat(self.unit[a] * self.unit[b], starts)
        bounded_a, bounded_b = self.bounded_rows([a, b])
        gaps = np.add.reduceat((bounded_a - bounded_b) ** 2, starts)
        distances = np.sqrt(gaps / widths)
        ranked = [
            (-float(share), REASON_TEXT[name])
            for name, share, distance in zip(names, shares, distances, strict=True)
            if name in REASON_TEXT and share > 0 and distance < CLOSE_GROUP_DISTANCE
        ]
        ranked.sort()
        moods_a, moods_b = self.moods[a] >= 0.5, self.moods[b] >= 0.5
        same_mood = bool(moods_a.any()) and bool(np.array_equal(moods_a, moods_b))
        room = MAX_REASONS - len(reasons) - (1 if same_mood else 0)
        reasons += [text for _, text in ranked[:room] if text not in reasons]
        if same_mood:
            names = [name for name, flag in zip(MOOD_NAMES, moods_a, strict=True) if flag]
            reasons.append("same mood: " + ", ".join(names))
        return reasons

    def _group_layout(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        layout = self.__dict__.get("_layout")
        if layout is None:
            ordered = sorted((columns[0], name, len(columns))
                             for name, columns in self.groups.items() if columns)  # fmt: skip
            layout = (
                np.array([start for start, _, _ in ordered]),
                [name for _, name, _ in ordered],
                np.array([width for _, _, width in ordered], dtype=np.float64),
            )
            self.__dict__["_layout"] = layout
        return layout

    def _same_recording(self, a: int, b: int) -> bool:
        """Measured on the scaled features with the raw tempo: folding makes 70 and 140 BPM one
        point on the tempo circle, but they are not the same recording."""
        distance = np.linalg.norm(self.scaled[a] - self.scaled[b]) / np.sqrt(self.scaled.shape[1])
        if distance >= DUPLICATE_DISTANCE:
            return False
        tempo_a, tempo_b = max(self.tempo[a], 1e-6), max(self.tempo[b], 1e-6)
        if abs(np.log2(tempo_a / tempo_b)) >= DUPLICATE_TEMPO_LOG2:
            return False
        return bool(np.array_equal(self.moods[a], self.moods[b]))

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
