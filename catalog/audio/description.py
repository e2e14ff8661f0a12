"""The sound description: timbre, texture, rhythm pattern, harmony and dynamics beyond the 16
numbers, from the same spectrogram (docs/features.md, "The sound description").

"Similar sounding" compares these; they are stored with the track (AudioFeatures.description)
in the order of DESCRIPTION_NAMES. Every value is independent of the recording's level, so a
quiet and a loud copy of the same music describe alike.
"""

from __future__ import annotations

import itertools

import numpy as np

from catalog.audio.rhythm import PATTERN_RATIOS, Rhythm

N_MFCC_DESCRIBED = 20
N_DELTA = 13
# the 128 mel bands in six groups of about an octave and a half; contrast is peak minus valley
CONTRAST_EDGES = (0, 12, 26, 44, 66, 94, 128)
CONTRAST_QUANTILE = 0.2
# frames this far below the track's loudest frame count as quiet
QUIET_BELOW_DB = 40.0
SYLLABLE_HZ = (2.5, 8.0)  # the rate of syllables in speech
MODULATION_HZ = (0.5, 20.0)
FRAME_RATE = 22_050 / 512
CHROMA_STEP = 4  # frames between the chroma compared for stability (0.09 s)

GROUP_NAMES: dict[str, tuple[str, ...]] = {
    "timbre": tuple(f"mfcc_mean_{i}" for i in range(2, N_MFCC_DESCRIBED + 1)),
    "timbre_motion": (
        *(f"mfcc_std_{i}" for i in range(1, N_MFCC_DESCRIBED + 1)),
        *(f"mfcc_delta_{i}" for i in range(1, N_DELTA + 1)),
    ),
    "texture": (
        *(f"contrast_{i}" for i in range(1, len(CONTRAST_EDGES))),
        "flatness_mean",
        "flatness_std",
    ),
    "groove": (
        *(f"onset_ac_{r:.2f}" for r in PATTERN_RATIOS),
        "pulse_clarity",
        "onset_rate",
        "onset_spread",
        "low_onset_share",
    ),
    "harmony": (*(f"chroma_{i}" for i in range(12)), "chroma_peak", "chroma_stability"),
    "dynamics_shape": ("level_spread", "quiet_share", "syllable_modulation"),
}
DESCRIPTION_NAMES: tuple[str, ...] = tuple(name for names in GROUP_NAMES.values() for name in names)
DESCRIPTION_LENGTH = len(DESCRIPTION_NAMES)
COLUMN = {name: i for i, name in enumerate(DESCRIPTION_NAMES)}


def describe(
    *,
    log_mel: np.ndarray,
    mfcc: np.ndarray,
    chroma: np.ndarray,
    rms: np.ndarray,
    active: np.ndarray,
    key: int,
    rhythm: Rhythm,
) -> np.ndarray:
    """The description as float32, DESCRIPTION_NAMES order. `mfcc` is (20, frames) of `log_mel`;
    `chroma` is (12, frames), each frame scaled to max 1; `active` marks frames with sound."""
    timbre = mfcc[1:].mean(axis=1)
    motion = np.concatenate(
        [mfcc.std(axis=1), np.abs(np.diff(mfcc[:N_DELTA], axis=1)).mean(axis=1)]
        if mfcc.shape[1] > 1
        else [mfcc.std(axis=1), np.zeros(N_DELTA)]
    )
    values = np.concatenate(
        [
            timbre,
            motion,
            _texture(log_mel[:, active]),
            rhythm.pattern,
            [rhythm.pulse_clarity, rhythm.onset_rate, rhythm.onset_spread, _low_onsets(log_mel)],
            _harmony(chroma[:, active], key),
            _dynamics(rms),
        ]
    )
    return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def _texture(log_mel: np.ndarray) -> np.ndarray:
    if log_mel.shape[1] == 0:
        return np.zeros(len(CONTRAST_EDGES) + 1)
    contrast = []
    for low, high in itertools.pairwise(CONTRAST_EDGES):
        band = np.sort(log_mel[low:high], axis=0)
        k = max(1, round(CONTRAST_QUANTILE * (high - low)))
        contrast.append(float((band[-k:].mean(axis=0) - band[:k].mean(axis=0)).mean()))
    # flatness: geometric over arithmetic mean of the mel power, per frame, in dB
    power_db_of_mean = 10.0 * np.log10(np.maximum(np.mean(10.0 ** (log_mel / 10.0), axis=0), 1e-10))
    flatness = log_mel.mean(axis=0) - power_db_of_mean
    return np.array([*contrast, float(flatness.mean()), float(flatness.std())])


def _low_onsets(log_mel: np.ndarray) -> float:
    """Share of the spectral flux in the lowest 26 mel bands (kick drums, bass notes)."""
    if log_mel.shape[1] < 2:
        return 0.0
    flux = np.maximum(np.diff(log_mel, axis=1), 0.0).sum(axis=1)
    total = float(flux.sum())
    return float(flux[: CONTRAST_EDGES[2]].sum() / total) if total > 0 else 0.0


def _harmony(chroma: np.ndarray, key: int) -> np.ndarray:
    """Mean chroma rotated to the key (so the same progression in any key reads alike), how
    peaked each frame is, and how still the pitches hold from one moment to the next."""
    if chroma.shape[1] == 0:
        return np.zeros(14)
    mean = np.roll(chroma.mean(axis=1), -key)
    peak = float(np.mean(1.0 / np.maximum(chroma.mean(axis=0), 1e-3)))
    if chroma.shape[1] > CHROMA_STEP:
        a, b = chroma[:, :-CHROMA_STEP], chroma[:, CHROMA_STEP:]
        cosine = (a * b).sum(axis=0) / np.maximum(
            np.linalg.norm(a, axis=0) * np.linalg.norm(b, axis=0), 1e-10
        )
        stability = float(cosine.mean())
    else:
        stability = 1.0
    return np.array([*mean, peak, stability])


def _dynamics(rms: np.ndarray) -> np.ndarray:
    """Level spread (dB, over sounding frames), share of quiet frames, and how much of the level's
    movement is at the rate of syllables (speech) rather than of notes and bars."""
    level = 20.0 * np.log10(np.maximum(rms, 1e-10))
    loud = float(level.max()) if len(level) else 0.0  # a percentile would miss 5 s in 20 min
    sounding = level > loud - QUIET_BELOW_DB
    spread = float(level[sounding].std()) if sounding.any() else 0.0
    quiet_share = float(1.0 - sounding.mean()) if len(level) else 1.0
    envelope = np.asarray(rms, dtype=np.float64)
    spectrum = np.abs(np.fft.rfft(envelope - envelope.mean())) ** 2 if len(envelope) > 8 else None
    if spectrum is None:
        return np.array([spread, quiet_share, 0.0])
    freqs = np.fft.rfftfreq(len(envelope), 1.0 / FRAME_RATE)
    band = (freqs >= MODULATION_HZ[0]) & (freqs <= MODULATION_HZ[1])
    syllables = (freqs >= SYLLABLE_HZ[0]) & (freqs <= SYLLABLE_HZ[1])
    total = float(spectrum[band].sum())
    return np.array(
        [spread, quiet_share, float(spectrum[syllables].sum() / total) if total else 0.0]
    )


def group_columns() -> dict[str, list[int]]:
    return {group: [COLUMN[name] for name in names] for group, names in GROUP_NAMES.items()}
