"""The 16-number description of a track (docs/features.md defines each value; names.py names them).

One short-time Fourier transform per segment of audio feeds every spectral feature; segments keep
memory flat for long files. Frames line up exactly as a single centred STFT of the whole signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

from catalog.audio.description import N_MFCC_DESCRIBED, describe
from catalog.audio.moods import NO_MOODS, Moods, key_and_mode, moods_from
from catalog.audio.music import is_music
from catalog.audio.names import FEATURE_NAMES, MFCC_NAMES, MOOD_NAMES, N_MFCC
from catalog.audio.rhythm import analyse_rhythm

SAMPLE_RATE = 22_050
N_FFT = 2048
HOP = 512
N_MELS = 128
SEGMENT_FRAMES = 2048  # about 47 s of audio per STFT
ROLL_PERCENT = 0.85
# Frames quieter than this (dBFS) do not count towards the spectral means: silence has no colour.
ACTIVE_FRAME_DB = -60.0
ENERGY_FLOOR_DB = -60.0


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
    # the sound description (catalog/audio/description.py), in DESCRIPTION_NAMES order
    description: tuple[float, ...] = ()
    is_music: bool = True  # speech, nature sounds, silence-heavy recordings: False, no moods

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
    del frames.mel_power
    # the first N_MFCC of 20 coefficients are exactly those of mfcc(n_mfcc=N_MFCC)
    mfcc_all = librosa.feature.mfcc(S=log_mel, n_mfcc=N_MFCC_DESCRIBED)
    mfcc = mfcc_all[:N_MFCC].mean(axis=1)

    onset_envelope = librosa.onset.onset_strength(S=log_mel, sr=sr, hop_length=HOP)
    rhythm = analyse_rhythm(onset_envelope, sr)

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
    description = describe(log_mel=log_mel, mfcc=mfcc_all, chroma=frames.chroma, rms=frames.rms,
                           active=active, key=key, rhythm=rhythm)  # fmt: skip
    music = is_music(description)
    moods = (
        moods_from(
            tempo=rhythm.tempo,
            loudness=loudness,
            beat_strength=rhythm.beat_strength,
            mode=mode,
            mode_strength=mode_strength,
            spectral_centroid=centroid,
        )
        if music
        else NO_MOODS
    )
    return Features(
        mfcc=tuple(float(v) for v in mfcc),
        tempo=rhythm.tempo,
        beat_strength=rhythm.beat_strength,
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
        description=tuple(float(v) for v in description),
        is_music=music,
    )


def _frames(audio: np.ndarray, sr: int) -> _Frames:
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
        segment = _segment(audio, start * HOP - N_FFT // 2, (stop - 1) * HOP + N_FFT // 2)
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


def _segment(audio: np.ndarray, begin: int, end: int) -> np.ndarray:
    """audio[begin:end] with zeros outside the signal, as librosa's centred STFT pads it (a
    padded copy of the whole track would cost another 106 MB at 20 minutes)."""
    inside = audio[max(begin, 0) : min(end, len(audio))]
    before, after = max(0, -begin), max(0, end - len(audio))
    return np.pad(inside, (before, after)) if before or after else inside
