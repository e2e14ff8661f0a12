"""From features to the vectors "similar sounding" compares. numpy and scipy only.

Every feature is mapped through its rank in the catalogue to a normal score clipped at +-2
(`bounded`): raw values differ by orders of magnitude, and robust sigmas let one feature with a
narrow spread reach -3.5 sigma and decide a cosine alone. Tempo is a point on a circle of
log2(tempo) (70 and 140 BPM coincide). Features are grouped (timbre, timbre motion, texture,
rhythm, harmony, dynamics, brightness, mood); each group is weighted by GROUP_WEIGHTS, measured
on a labelled set, and spread over its columns, so no single feature can carry more than a small,
known share of a similarity. Similarity is the cosine of two embedded tracks mapped from [-1, 1]
to [0, 1]. docs/features.md, "Similar sounding".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from catalog.audio.description import DESCRIPTION_LENGTH, group_columns
from catalog.audio.names import (
    DYNAMICS_NAMES,
    FEATURE_NAMES,
    MFCC_NAMES,
    MOOD_NAMES,
    SPECTRUM_NAMES,
    VECTOR_LENGTH,
)

# Columns of the raw matrix, which is the 16 numbers in the order of FEATURE_NAMES.
COLUMN = {name: column for column, name in enumerate(FEATURE_NAMES)}
MFCC = [COLUMN[name] for name in MFCC_NAMES]
TEMPO, BEAT_STRENGTH = COLUMN["tempo"], COLUMN["beat_strength"]
DYNAMICS = [COLUMN[name] for name in DYNAMICS_NAMES]
SPECTRUM = [COLUMN[name] for name in SPECTRUM_NAMES]
MOODS = [COLUMN[name] for name in MOOD_NAMES]
DESCRIBED = group_columns()

# Chosen by measurement (bench/similar_family.py --tune, docs/features.md "Weights").
GROUP_WEIGHTS = {
    "timbre": 0.5,
    "timbre_motion": 1.0,
    "texture": 1.0,
    "rhythm": 4.0,
    "harmony": 1.0,
    "dynamics": 1.0,
    "brightness": 1.0,
    "mood": 1.0,
}
# The weights of the 16 numbers alone (before the sound description): the baseline measured
# against, and what tracks analysed by an older extractor are compared by.
SEED_WEIGHTS = {"timbre": 0.30, "rhythm": 0.20, "dynamics": 0.15, "brightness": 0.20, "mood": 0.15}
BOUND = 2.0  # normal scores are clipped here
REFERENCE_ROWS = 20_000  # ranks are taken against at most this many rows (a fixed sample)
KNOTS = 512  # rank shares are tabulated at this many values per feature at most


@dataclass(frozen=True)
class Embedding:
    """`bounded`: the normal scores per group (columns as `groups` says), for reasons;
    `scaled`: the 16 numbers in robust sigmas (near-duplicate checks);
    `unit`: the weighted embedding at unit length, float32 (cosine similarity);
    `scale` (per column) and `norms` (per track): unit = bounded * scale / norms, so the rows of
    `bounded` in a column of non-zero scale can be had back from `unit` (index.py keeps no
    `bounded`: at a million tracks it would be as big as `unit`)."""

    groups: dict[str, list[int]]
    bounded: np.ndarray
    scaled: np.ndarray
    unit: np.ndarray
    scale: np.ndarray
    norms: np.ndarray


def embed(
    raw: np.ndarray,
    description: np.ndarray | None = None,
    *,
    weights: dict[str, float] | None = None,
) -> Embedding:
    """raw: tracks x 16 (FEATURE_NAMES order). description: tracks x DESCRIPTION_LENGTH, a row of
    NaN where a track has none (an older extractor); None: compare by the 16 numbers alone."""
    raw = np.asarray(raw, dtype=np.float64).reshape(-1, VECTOR_LENGTH)
    n = len(raw)
    if description is None:
        described, has = None, np.zeros(n, dtype=bool)
    else:
        described = np.asarray(description, dtype=np.float32).reshape(n, DESCRIPTION_LENGTH)
        has = ~np.isnan(described).any(axis=1)
    # a catalogue where no track has a description yet (before `analyse --all`) is compared
    # exactly as by the 16 numbers alone, with their own weights
    weights = weights or (GROUP_WEIGHTS if has.any() else SEED_WEIGHTS)

    tempo = np.where(raw[:, TEMPO] > 0, raw[:, TEMPO], 120.0)
    angle = 2 * np.pi * np.log2(tempo)
    circle = np.stack([np.cos(angle), np.sin(angle)], axis=1) * np.sqrt(2)
    # (group, part) in column order: the parts of each group are written side by side into one
    # float32 matrix (a catalogue of 100,000 tracks: 43 MB, allocated once)
    parts = [  # (group, part, its normal scores)
        ("timbre", "timbre16", lambda: bounded(raw[:, MFCC[1:]])),
        ("timbre", "timbre", lambda: _described("timbre", described, has)),
        ("timbre_motion", "timbre_motion", lambda: _described("timbre_motion", described, has)),
        ("texture", "texture", lambda: _described("texture", described, has)),
        ("rhythm", "circle", lambda: circle),
        ("rhythm", "beat", lambda: bounded(raw[:, [BEAT_STRENGTH]])),
        ("rhythm", "groove", lambda: _described("groove", described, has)),
        ("harmony", "harmony", lambda: _described("harmony", described, has)),
        ("dynamics", "dynamics16", lambda: bounded(raw[:, DYNAMICS])),
        ("dynamics", "dynamics_shape", lambda: _described("dynamics_shape", described, has)),
        ("brightness", "brightness", lambda: bounded(raw[:, SPECTRUM])),
        ("mood", "mood", lambda: bounded(raw[:, MOODS])),
    ]
    total = sum(PART_WIDTHS[part] for _, part, _ in parts)
    bounded_all = np.empty((n, total), dtype=np.float32)
    groups: dict[str, list[int]] = {}
    offset = 0
    for group, part, scores in parts:
        width = PART_WIDTHS[part]
        bounded_all[:, offset : offset + width] = scores()
        groups.setdefault(group, []).extend(range(offset, offset + width))
        offset += width
    scale = np.zeros(total, dtype=np.float32)
    for group, columns in groups.items():
        scale[columns] = np.sqrt(weights.get(group, 0.0) / max(len(columns), 1))
    unit = bounded_all * scale
    norms = np.sqrt(np.einsum("ij,ij->i", unit, unit))
    norms = np.maximum(norms, 1e-12)
    unit /= norms[:, None]
    return Embedding(groups=groups, bounded=bounded_all, scaled=robust(raw), unit=unit,
                     scale=scale, norms=norms.astype(np.float32))  # fmt: skip


PART_WIDTHS = {
    "timbre16": len(MFCC) - 1,
    "circle": 2,
    "beat": 1,
    "dynamics16": len(DYNAMICS),
    "brightness": len(SPECTRUM),
    "mood": len(MOODS),
    **{group: len(columns) for group, columns in DESCRIBED.items()},
}


def _described(group: str, described: np.ndarray | None, has: np.ndarray) -> np.ndarray:
    """The group's description columns as normal scores; zeros (the catalogue's median) for
    tracks without a description."""
    out = np.zeros((len(has), len(DESCRIBED[group])), dtype=np.float32)
    if described is not None and has.any():
        out[has] = bounded(described[has][:, DESCRIBED[group]])
    return out


def bounded(columns: np.ndarray) -> np.ndarray:
    """Each column through its rank in the catalogue (ties share the mean rank) to a normal score,
    clipped at +-BOUND: an outlier is only ever "among the highest", never ten sigma."""
    columns = np.asarray(columns, dtype=np.float64)
    n = len(columns)
    if n == 0:
        return columns.reshape(0, columns.shape[1] if columns.ndim == 2 else 0)
    by_feature = np.ascontiguousarray(columns.T)  # one contiguous row per feature
    reference = by_feature
    if n > REFERENCE_ROWS:
        sample = np.sort(np.random.default_rng(0).choice(n, REFERENCE_ROWS, replace=False))
        reference = by_feature[:, sample]
    m = reference.shape[1]
    ordered = np.sort(reference, axis=1)
    out = np.empty_like(by_feature)
    for j, values in enumerate(by_feature):
        # the rank share at up to KNOTS distinct values, linear in between: exact for a feature
        # with fewer distinct values (flags), and a binary search in a small table for the rest
        knots = np.unique(ordered[j])
        if len(knots) > KNOTS:
            knots = knots[np.linspace(0, len(knots) - 1, KNOTS).round().astype(int)]
        below = np.searchsorted(ordered[j], knots, side="left")
        upto = np.searchsorted(ordered[j], knots, side="right")
        out[j] = np.interp(values, knots, (below + upto) / (2.0 * m))
    out = ndtri(np.clip(out, 0.5 / m, 1 - 0.5 / m)).T
    return np.clip(out, -BOUND, BOUND)


def robust(columns: np.ndarray) -> np.ndarray:
    """(x - median) / (IQR / 1.349): a standard deviation that outliers cannot inflate."""
    if len(columns) == 0:
        return columns.astype(np.float64)
    median = np.median(columns, axis=0)
    q75, q25 = np.percentile(columns, [75, 25], axis=0)
    spread = (q75 - q25) / 1.349
    fallback = columns.std(axis=0)
    spread = np.where(spread > 1e-9, spread, np.where(fallback > 1e-9, fallback, 1.0))
    return (columns - median) / spread


def to_unit(cosine):
    """Cosine in [-1, 1] to similarity in [0, 1] (a number or an array of them)."""
    return np.clip((1.0 + cosine) / 2.0, 0.0, 1.0)


def octave_distance(a: float, b: float) -> float:
    """|log2(a / b)| folded by octaves into [0, 0.5]."""
    difference = abs(np.log2(a) - np.log2(b)) % 1.0
    return float(min(difference, 1.0 - difference))
