"""Pure audio analysis: decode, measure, describe. numpy, soundfile, soxr and librosa only.

Nothing here imports Django, so it can be tested and benchmarked alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from catalog.audio.decode import ANALYSIS_SAMPLE_RATE, decode_mono
from catalog.audio.features import Features, compute

# Bump when a feature's definition changes, so stored features can be told apart and re-analysed.
EXTRACTOR_VERSION = "2026.12-1"

__all__ = ["EXTRACTOR_VERSION", "Features", "analyse_file", "warm_up"]


def analyse_file(
    path: Path | str, *, expected_frames: int, max_seconds: float, min_seconds: float = 3.0
) -> Features:
    """Decode `path` and compute its features. Raises AudioError with a contract code."""
    audio = decode_mono(
        path, expected_frames=expected_frames, max_seconds=max_seconds, min_seconds=min_seconds
    )
    return compute(audio, ANALYSIS_SAMPLE_RATE)


def warm_up() -> None:
    """Run the whole pipeline once on a few seconds of synthetic audio.

    Imports librosa's lazy modules and compiles (or loads from numba's on-disk cache) the jitted
    beat tracker, so the first real upload after a worker starts is not seconds slower.
    """
    sr = ANALYSIS_SAMPLE_RATE
    t = np.arange(4 * sr) / sr
    clicks = (np.sin(2 * np.pi * 880 * t) * (np.mod(t, 0.5) < 0.02)).astype(np.float32)
    compute(clicks + 0.1 * np.sin(2 * np.pi * 220 * t).astype(np.float32), sr)
