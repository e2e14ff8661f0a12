"""Tempo, beats and the rhythm pattern, with memory bounded whatever the track's length.

librosa's `beat_track` estimates the tempo from a tempogram of the whole onset envelope: a
(344 lags x frames) float64 matrix and its FFTs, about 1 GB for 20 minutes. Only the tempogram's
mean over time is used, so it is computed here block by block (BLOCK_FRAMES columns at a time,
exactly the columns librosa would compute) and passed to `feature.tempo`; the beat tracker itself
(a dynamic programme over the 1-D envelope) then runs with that tempo. Same tempo and beats as
before, in a few MB. docs/features.md, "Memory".
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

SAMPLE_RATE = 22_050
HOP = 512
# librosa.feature.tempo's default window: ac_size 8 s at hop 512 -> 344 frames
TEMPOGRAM_WINDOW = int(librosa.time_to_frames(8.0, sr=SAMPLE_RATE, hop_length=HOP))
BLOCK_FRAMES = 2048
TEMPO_LOW, TEMPO_HIGH = 60.0, 200.0
MIN_BEATS_TO_REFINE = 8
# The rhythm pattern: the onset autocorrelation at these multiples of the beat period, so two
# grooves compare whatever their tempo (a breakbeat's syncopation shows at 3/4 and 3/2 of a beat).
PATTERN_RATIOS = (0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
PULSE_BPM = (40.0, 240.0)


@dataclass(frozen=True)
class Rhythm:
    tempo: float  # folded into [TEMPO_LOW, TEMPO_HIGH)
    beat_strength: float
    pattern: np.ndarray  # len(PATTERN_RATIOS), onset autocorrelation (1 at lag 0)
    pulse_clarity: float  # how much the strongest periodicity stands above the others, 0..1
    onset_rate: float  # onsets per second
    onset_spread: float  # coefficient of variation of the onset envelope


def analyse_rhythm(onset_envelope: np.ndarray, sr: int = SAMPLE_RATE) -> Rhythm:
    envelope = np.asarray(onset_envelope, dtype=np.float64)
    mean_tempogram = mean_local_autocorrelation(envelope)
    if envelope.any():
        estimate = float(
            librosa.feature.tempo(
                tg=mean_tempogram[:, None], sr=sr, hop_length=HOP, aggregate=None
            )[0]
        )
        _, beats = librosa.beat.beat_track(
            onset_envelope=envelope, sr=sr, hop_length=HOP, bpm=estimate
        )
    else:
        estimate, beats = 0.0, np.zeros(0, dtype=int)
    tempo = fold_tempo(refine_tempo(estimate, beats, sr))
    onsets = librosa.onset.onset_detect(onset_envelope=envelope, sr=sr, hop_length=HOP)
    seconds = max(len(envelope) * HOP / sr, 1e-9)
    mean = float(envelope.mean()) if len(envelope) else 0.0
    return Rhythm(
        tempo=tempo,
        beat_strength=beat_strength(envelope, beats),
        pattern=_pattern(mean_tempogram, tempo, sr),
        pulse_clarity=_pulse_clarity(mean_tempogram, sr),
        onset_rate=len(onsets) / seconds,
        onset_spread=float(envelope.std() / mean) if mean > 0 else 0.0,
    )


def mean_local_autocorrelation(envelope: np.ndarray) -> np.ndarray:
    """librosa.feature.tempogram(onset_envelope=envelope, win_length=TEMPOGRAM_WINDOW).mean(1),
    computed BLOCK_FRAMES columns at a time."""
    n = len(envelope)
    window = TEMPOGRAM_WINDOW
    total = np.zeros(window, dtype=np.float64)
    if n == 0:
        return total
    half = window // 2
    padded = np.pad(envelope, (half, half), mode="linear_ramp", end_values=(0, 0))
    ac_window = librosa.filters.get_window("hann", window, fftbins=True)[:, None]
    for start in range(0, n, BLOCK_FRAMES):
        stop = min(start + BLOCK_FRAMES, n)
        frames = librosa.util.frame(padded[start : stop + window - 1], frame_length=window,
                                    hop_length=1)  # fmt: skip
        correlation = librosa.autocorrelate(frames * ac_window, axis=0)
        total += librosa.util.normalize(correlation, norm=np.inf, axis=0).sum(axis=1)
    return total / n


def refine_tempo(estimate: float, beats: np.ndarray, sr: int) -> float:
    """Sharpen the tempo estimate with the beat positions.

    librosa's estimate is quantised by whole-frame lags (at 140 BPM the period falls between 18
    and 19 frames, so it reads 136 or 143.6). The least-squares slope of beat frame against beat
    index averages that quantisation out over the track. Kept only when it agrees within 8%.
    """
    if len(beats) < MIN_BEATS_TO_REFINE or estimate <= 0:
        return estimate
    slope = float(np.polyfit(np.arange(len(beats)), beats.astype(np.float64), 1)[0])
    if slope <= 0:
        return estimate
    refined = 60.0 * sr / (HOP * slope)
    return refined if abs(refined - estimate) <= 0.08 * estimate else estimate


def fold_tempo(tempo: float) -> float:
    if tempo <= 0:
        return 0.0
    while tempo < TEMPO_LOW:
        tempo *= 2
    while tempo >= TEMPO_HIGH:
        tempo /= 2
    return tempo


def beat_strength(onset_envelope: np.ndarray, beats: np.ndarray) -> float:
    """How far the beats stand out of the onset envelope: 1 - mean(envelope) / mean(at beats).

    0 when beats are no stronger than the average frame (or there are none), towards 1 when the
    onsets are concentrated on the beats.
    """
    if len(beats) == 0:
        return 0.0
    at_beats = float(np.mean(onset_envelope[beats]))
    if at_beats <= 0.0:
        return 0.0
    return float(np.clip(1.0 - float(np.mean(onset_envelope)) / at_beats, 0.0, 1.0))


def _pattern(mean_tempogram: np.ndarray, tempo: float, sr: int) -> np.ndarray:
    if tempo <= 0:
        return np.zeros(len(PATTERN_RATIOS))
    period = 60.0 * sr / (HOP * tempo)
    lags = np.clip(np.array(PATTERN_RATIOS) * period, 0, len(mean_tempogram) - 1)
    return np.interp(lags, np.arange(len(mean_tempogram)), mean_tempogram)


def _pulse_clarity(mean_tempogram: np.ndarray, sr: int) -> float:
    low_lag = int(60.0 * sr / (HOP * PULSE_BPM[1]))
    high_lag = min(int(60.0 * sr / (HOP * PULSE_BPM[0])), len(mean_tempogram) - 1)
    span = mean_tempogram[low_lag : high_lag + 1]
    if len(span) == 0:
        return 0.0
    return float(np.clip(span.max() - np.median(span), 0.0, 1.0))
