"""The 16-number description of a track (docs/features.md defines each value; names.py names them).

One short-time Fourier transform per segment of audio feeds every spectral feature; segments keep
memory flat for long files. Frames line up exactly as a single centred STFT of the whole signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

from catalog.audio.moods import Moods, key_and_mode, moods_from
from catalog.audio.names import FEATURE_NAMES, MFCC_NAMES, MOOD_NAMES, N_MFCC

SAMPLE_RATE = 22_050
N_FFT = 2048
HOP = 512
N_MELS = 128
SEGMENT_FRAMES = 2048  # about 47 s of audio per STFT
ROLL_PERCENT = 0.85
# Frames quieter than this (dBFS) do not count towards the spectral means: silence has no colour.
ACTIVE_FRAME_DB = -60.0
ENERGY_FLOOR_DB = -60.0
# Reported tempo is folded by octaves into [TEMPO_LOW, TEMPO_HIGH): beat trackers often lock onto
# half or double the felt tempo, and one chord per bar would otherwise read as 25 BPM.
TEMPO_LOW, TEMPO_HIGH = 60.0, 200.0
MIN_BEATS_TO_REFINE = 8


@dataclass(frozen=True)
class Features:
    mfcc: tuple[float, ...]  # N_MFCC values
    tempo: float
    beat_strength: float
    energy: float
    loudness: float
    spectral_centroid: float
    spectral_rolloff: float
    spectral_bandwidth: float
    key: int
    mode: str
    mode_strength: float
    moods: Moods
    duration_s: float = 0.0  # of the decoded audio; not part of the vector

    def columns(self) -> dict[str, float | bool]:
        """The 16 values by name, in the order of `FEATURE_NAMES` (moods as booleans)."""
        values: dict[str, float | bool] = dict(zip(MFCC_NAMES, self.mfcc, strict=True))
        for name in FEATURE_NAMES[len(MFCC_NAMES) :]:
            values[name] = getattr(self.moods, name) if name in MOOD_NAMES else getattr(self, name)
        return values

    def vector(self) -> list[float]:
        """The 16 numbers in the order of `FEATURE_NAMES` (moods as 1.0 / 0.0)."""
        return [float(value) for value in self.columns().values()]


@dataclass
class _Frames:
    """Per-frame measurements over the whole track."""

    mel_power: np.ndarray  # (N_MELS, frames)
    rms: np.ndarray
    centroid: np.ndarray
    rolloff: np.ndarray
    bandwidth: np.ndarray
    chroma: np.ndarray  # (12, frames), each frame scaled to max 1


def compute(audio: np.ndarray, sr: int = SAMPLE_RATE) -> Features:
    """Compute the features of mono float32 audio at `sr` (22,050 Hz from decode_mono)."""
    frames = _frames(audio, sr)
    log_mel = librosa.power_to_db(frames.mel_power, ref=1.0)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=N_MFCC).mean(axis=1)

    onset_envelope = librosa.onset.onset_strength(S=log_mel, sr=sr, hop_length=HOP)
    tempo, beats = librosa.beat.beat_track(onset_envelope=onset_envelope, sr=sr, hop_length=HOP)
    tempo = _fold_tempo(_refine_tempo(float(np.atleast_1d(tempo)[0]), beats, sr))
    beat_strength = _beat_strength(onset_envelope, beats)

    rms_db = 20.0 * np.log10(np.maximum(frames.rms, 1e-10))
    active = rms_db > ACTIVE_FRAME_DB
    if not active.any():
        active = np.ones_like(active)
    energy = float(np.mean(np.clip(1.0 - rms_db / ENERGY_FLOOR_DB, 0.0, 1.0)))
    loudness = float(10.0 * np.log10(max(float(np.mean(frames.rms**2)), 1e-12)))
    nyquist = sr / 2.0
    centroid = float(np.mean(frames.centroid[active]))
    rolloff = float(np.mean(frames.rolloff[active]) / nyquist)
    bandwidth = float(np.mean(frames.bandwidth[active]) / nyquist)

    key, mode, mode_strength = key_and_mode(frames.chroma[:, active].mean(axis=1))
    moods = moods_from(
        tempo=tempo,
        loudness=loudness,
        beat_strength=beat_strength,
        mode=mode,
        mode_strength=mode_strength,
        spectral_centroid=centroid,
    )
    return Features(
        mfcc=tuple(float(v) for v in mfcc),
        tempo=tempo,
        beat_strength=beat_strength,
        energy=energy,
        loudness=loudness,
        spectral_centroid=centroid,
        spectral_rolloff=rolloff,
        spectral_bandwidth=bandwidth,
        key=key,
        mode=mode,
        mode_strength=mode_strength,
        moods=moods,
        duration_s=len(audio) / sr,
    )


def _frames(audio: np.ndarray, sr: int) -> _Frames:
    padded = np.pad(audio, N_FFT // 2)  # as librosa's centred STFT pads (zeros)
    n_frames = 1 + len(audio) // HOP
    mel_basis = librosa.filters.mel(sr=sr, n_fft=N_FFT, n_mels=N_MELS)
    freqs = librosa.fft_frequencies(sr=sr, n_fft=N_FFT)
    chroma_basis = None
    out = _Frames(
        mel_power=np.empty((N_MELS, n_frames), dtype=np.float32),
        rms=np.empty(n_frames, dtype=np.float32),
        centroid=np.empty(n_frames, dtype=np.float32),
        rolloff=np.empty(n_frames, dtype=np.float32),
        bandwidth=np.empty(n_frames, dtype=np.float32),
        chroma=np.empty((12, n_frames), dtype=np.float32),
    )
    for start in range(0, n_frames, SEGMENT_FRAMES):
        stop = min(start + SEGMENT_FRAMES, n_frames)
        segment = padded[start * HOP : (stop - 1) * HOP + N_FFT]
        magnitude = np.abs(librosa.stft(segment, n_fft=N_FFT, hop_length=HOP, center=False))
        if chroma_basis is None:
            # Recordings are not all tuned to A440: a track 40 cents sharp would smear every
            # pitch class over two chroma bins and can flip the mode. Measured once, here.
            tuning = float(librosa.estimate_tuning(S=magnitude, sr=sr, n_fft=N_FFT))
            chroma_basis = librosa.filters.chroma(sr=sr, n_fft=N_FFT, tuning=tuning)
        power = magnitude**2
        span = slice(start, stop)
        out.mel_power[:, span] = mel_basis @ power
        out.rms[span] = librosa.feature.rms(S=magnitude, frame_length=N_FFT)[0]
        out.centroid[span] = librosa.feature.spectral_centroid(S=magnitude, freq=freqs)[0]
        out.rolloff[span] = librosa.feature.spectral_rolloff(
            S=magnitude, sr=sr, freq=freqs, roll_percent=ROLL_PERCENT
        )[0]
        out.bandwidth[span] = librosa.feature.spectral_bandwidth(S=magnitude, freq=freqs)[0]
        chroma = chroma_basis @ power
        out.chroma[:, span] = chroma / np.maximum(chroma.max(axis=0, keepdims=True), 1e-10)
    return out


def _refine_tempo(estimate: float, beats: np.ndarray, sr: int) -> float:
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


def _fold_tempo(tempo: float) -> float:
    if tempo <= 0:
        return 0.0
    while tempo < TEMPO_LOW:
        tempo *= 2
    while tempo >= TEMPO_HIGH:
        tempo /= 2
    return tempo


def _beat_strength(onset_envelope: np.ndarray, beats: np.ndarray) -> float:
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
