"""From raw features to the vectors "similar sounding" compares. numpy only.

Raw features differ by orders of magnitude (centroid in thousands of Hz, rolloff in 0..1), so a
raw cosine would be decided by the centroid alone. Each feature is therefore robust-scaled over
the catalogue (median and interquartile range), tempo becomes a point on a circle of log2(tempo)
(70 and 140 BPM coincide: beat trackers often report half or double), and the features are
grouped (timbre, rhythm, dynamics, spectrum, mood) and weighted per group. Similarity is the cosine
of two embedded tracks mapped from [-1, 1] to [0, 1]. docs/features.md, "Similar sounding".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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

GROUP_WEIGHTS = {"timbre": 0.30, "rhythm": 0.20, "dynamics": 0.15, "spectrum": 0.20, "mood": 0.15}
# The groups of the scaled matrix that reasons and duplicate checks compare, in column order.
SCALED_GROUPS = ("timbre", "beat", "dynamics", "spectrum")


@dataclass(frozen=True)
class Embedding:
    """`scaled`: robust sigmas per feature, columns grouped as `groups` says (for reasons);
    `unit`: the weighted embedding at unit length, float32 (for cosine similarity)."""

    groups: dict[str, list[int]]
    scaled: np.ndarray
    unit: np.ndarray


def embed(raw: np.ndarray) -> Embedding:
    """Scale, fold and weight the raw features (tracks x 16, FEATURE_NAMES order)."""
    raw = np.asarray(raw, dtype=np.float64).reshape(-1, VECTOR_LENGTH)
    n = len(raw)
    tempo = np.where(raw[:, TEMPO] > 0, raw[:, TEMPO], 120.0)
    angle = 2 * np.pi * np.log2(tempo)
    circle = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    circle = circle - circle.mean(axis=0) if n else circle

    scaled_columns = {
        "timbre": _robust(raw[:, MFCC]),
        "beat": _robust(raw[:, [BEAT_STRENGTH]]),
        "dynamics": _robust(raw[:, DYNAMICS]),
        "spectrum": _robust(raw[:, SPECTRUM]),
        "mood": _standardise_flags(raw[:, MOODS]),
    }
    blocks = {
        "timbre": scaled_columns["timbre"],
        "rhythm": np.hstack([circle, scaled_columns["beat"]]),
        "dynamics": scaled_columns["dynamics"],
        "spectrum": scaled_columns["spectrum"],
        "mood": scaled_columns["mood"],
    }
    embedded = np.hstack(
        [block * np.sqrt(GROUP_WEIGHTS[name] / block.shape[1]) for name, block in blocks.items()]
    )
    groups: dict[str, list[int]] = {}
    offset = 0
    for name in SCALED_GROUPS:
        width = scaled_columns[name].shape[1]
        groups[name] = list(range(offset, offset + width))
        offset += width
    scaled = np.hstack([scaled_columns[name] for name in SCALED_GROUPS])
    norms = np.linalg.norm(embedded, axis=1, keepdims=True)
    unit = (embedded / np.maximum(norms, 1e-12)).astype(np.float32)
    return Embedding(groups=groups, scaled=scaled, unit=unit)


def to_unit(cosine):
    """Cosine in [-1, 1] to similarity in [0, 1] (a number or an array of them)."""
    return np.clip((1.0 + cosine) / 2.0, 0.0, 1.0)


def octave_distance(a: float, b: float) -> float:
    """|log2(a / b)| folded by octaves into [0, 0.5]."""
    difference = abs(np.log2(a) - np.log2(b)) % 1.0
    return float(min(difference, 1.0 - difference))


def _robust(columns: np.ndarray) -> np.ndarray:
    """(x - median) / (IQR / 1.349): a standard deviation that outliers cannot inflate."""
    if len(columns) == 0:
        return columns.astype(np.float64)
    median = np.median(columns, axis=0)
    q75, q25 = np.percentile(columns, [75, 25], axis=0)
    spread = (q75 - q25) / 1.349
    fallback = columns.std(axis=0)
    spread = np.where(spread > 1e-9, spread, np.where(fallback > 1e-9, fallback, 1.0))
    return (columns - median) / spread


def _standardise_flags(flags: np.ndarray) -> np.ndarray:
    if len(flags) == 0:
        return flags.astype(np.float64)
    share = flags.mean(axis=0)
    spread = np.sqrt(share * (1 - share))
    return np.where(spread > 1e-9, (flags - share) / np.maximum(spread, 1e-9), 0.0)
