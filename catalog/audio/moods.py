"""Key, mode and the four mood flags, from a documented rule (docs/features.md, "Moods").

Arousal (how intense) decides energetic and calm; valence (how positive) decides happy and sad.
The flags are not exclusive: a track can be happy and energetic, or sad and calm, or none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Krumhansl-Kessler key profiles (probe-tone ratings), index 0 = tonic.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

# Arousal inputs, each mapped linearly to 0..1 between these bounds.
TEMPO_SLOW, TEMPO_FAST = 70.0, 150.0  # BPM
LOUDNESS_SOFT, LOUDNESS_LOUD = -36.0, -12.0  # dBFS
CENTROID_DARK, CENTROID_BRIGHT = 800.0, 3500.0  # Hz

AROUSAL_WEIGHTS = {"tempo": 0.35, "loudness": 0.40, "beat_strength": 0.25}
ENERGETIC_AT = 0.60
CALM_AT = 0.40

VALENCE_WEIGHTS = {"mode": 0.60, "brightness": 0.20, "tempo": 0.20}
HAPPY_AT = 0.15
SAD_AT = -0.15
# Correlation gap at which the mode counts fully; a weaker gap counts in proportion.
CLEAR_MODE_GAP = 0.15


@dataclass(frozen=True)
class Moods:
    happy: bool
    sad: bool
    energetic: bool
    calm: bool
    arousal: float | None
    valence: float | None


# Speech, nature sounds and silence-heavy recordings: the rule below is about music, so they get
# no flags, and no arousal or valence to explain any.
NO_MOODS = Moods(happy=False, sad=False, energetic=False, calm=False, arousal=None, valence=None)


def key_and_mode(mean_chroma: np.ndarray) -> tuple[int, str, float]:
    """Best-matching key (0 = C) and mode, and how much better the mode fits than the other.

    `mode_strength` is the gap between the best major and the best minor profile correlation.
    """
    chroma = np.asarray(mean_chroma, dtype=np.float64)
    if not np.any(chroma > 0) or np.allclose(chroma, chroma[0]):
        return 0, "major", 0.0
    major = np.array([_correlation(chroma, np.roll(MAJOR_PROFILE, k)) for k in range(12)])
    minor = np.array([_correlation(chroma, np.roll(MINOR_PROFILE, k)) for k in range(12)])
    if major.max() >= minor.max():
        return int(major.argmax()), "major", float(major.max() - minor.max())
    return int(minor.argmax()), "minor", float(minor.max() - major.max())


def key_name(key: int, mode: str) -> str:
    return f"{PITCH_CLASSES[key % 12]} {mode}"


def moods_from(
    *,
    tempo: float,
    loudness: float,
    beat_strength: float,
    mode: str,
    mode_strength: float,
    spectral_centroid: float,
) -> Moods:
    tempo_score = _scale(tempo, TEMPO_SLOW, TEMPO_FAST)
    arousal = (
        AROUSAL_WEIGHTS["tempo"] * tempo_score
        + AROUSAL_WEIGHTS["loudness"] * _scale(loudness, LOUDNESS_SOFT, LOUDNESS_LOUD)
        + AROUSAL_WEIGHTS["beat_strength"] * float(np.clip(beat_strength, 0.0, 1.0))
    )
    mode_sign = 1.0 if mode == "major" else -1.0
    mode_score = mode_sign * min(1.0, mode_strength / CLEAR_MODE_GAP)
    valence = (
        VALENCE_WEIGHTS["mode"] * mode_score
        + VALENCE_WEIGHTS["brightness"]
        * (2 * _scale(spectral_centroid, CENTROID_DARK, CENTROID_BRIGHT) - 1)
        + VALENCE_WEIGHTS["tempo"] * (2 * tempo_score - 1)
    )
    return Moods(
        happy=valence >= HAPPY_AT,
        sad=valence <= SAD_AT,
        energetic=arousal >= ENERGETIC_AT,
        calm=arousal <= CALM_AT,
        arousal=float(arousal),
        valence=float(valence),
    )


def _scale(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / denominator) if denominator > 0 else 0.0
