"""Audio the tests make for themselves with numpy and soundfile: nothing is downloaded."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile

SR = 44_100

# semitone offsets from the key's tonic
MAJOR_TRIADS = {"I": (0, 4, 7), "IV": (5, 9, 12), "V": (7, 11, 14), "vi": (9, 12, 16)}
MINOR_TRIADS = {"i": (0, 3, 7), "iv": (5, 8, 12), "v": (7, 10, 14), "VI": (8, 12, 15)}


def click_track(bpm: float, seconds: float = 20.0, sr: int = SR) -> np.ndarray:
    """Short decaying clicks at exactly `bpm`, accent on every fourth."""
    audio = np.zeros(int(seconds * sr), dtype=np.float32)
    click_len = int(0.03 * sr)
    t = np.arange(click_len) / sr
    click = (np.sin(2 * np.pi * 1500 * t) * np.exp(-t * 120)).astype(np.float32)
    period = 60.0 / bpm
    for i, start in enumerate(np.arange(0.0, seconds - 0.05, period)):
        begin = int(start * sr)
        gain = 0.9 if i % 4 == 0 else 0.6
        audio[begin : begin + click_len] += gain * click[: len(audio) - begin]
    return audio


def noise(brightness: str, seconds: float = 6.0, level: float = 0.3, seed: int = 0) -> np.ndarray:
    """White noise low-passed ("dark") or high-passed ("bright")."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(int(seconds * SR)))
    freqs = np.fft.rfftfreq(int(seconds * SR), 1 / SR)
    if brightness == "dark":
        spectrum[freqs > 600] = 0
    elif brightness == "bright":
        spectrum[freqs < 4000] = 0
    else:
        raise ValueError(brightness)
    audio = np.fft.irfft(spectrum, n=int(seconds * SR))
    return (level * audio / np.max(np.abs(audio))).astype(np.float32)


def tone(freq: float = 440.0, seconds: float = 6.0, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def progression(
    mode: str,
    *,
    bpm: float,
    level: float,
    percussive: bool,
    seconds: float = 16.0,
    tonic_hz: float = 220.0,
    bright: bool = False,
) -> np.ndarray:
    """Chords (I-IV-V-I or i-iv-v-i), one per bar.

    Percussive: sustained chords over a kick and hi-hat pattern. Otherwise: the chord arpeggiated
    one note per beat, each note decaying like a soft piano.
    """
    triads = (
        [MAJOR_TRIADS[c] for c in ("I", "IV", "V", "I")]
        if mode == "major"
        else [MINOR_TRIADS[c] for c in ("i", "iv", "v", "i")]
    )
    n = int(seconds * SR)
    t = np.arange(n) / SR
    bar = 4 * 60.0 / bpm
    audio = np.zeros(n, dtype=np.float64)
    harmonics = (1.0, 0.6, 0.45, 0.3, 0.2) if bright else (1.0, 0.3, 0.1)
    for bar_index, start in enumerate(np.arange(0.0, seconds, bar)):
        chord = triads[bar_index % len(triads)]
        if percussive:
            notes = [(start, bar, semitone) for semitone in chord]
        else:
            beat = bar / 4
            notes = [
                (start + i * beat, 2 * beat, (chord[0], chord[2], chord[0] + 12, chord[1])[i])
                for i in range(4)
            ]
        for note_start, length, semitone in notes:
            span = slice(int(note_start * SR), min(n, int((note_start + length) * SR)))
            local = t[span] - note_start
            envelope = np.exp(-local * (3.0 if percussive else 2.0))
            f = tonic_hz * 2 ** (semitone / 12)
            for h, amp in enumerate(harmonics, start=1):
                audio[span] += amp * envelope * np.sin(2 * np.pi * f * h * local)
    if percussive:
        beat = 60.0 / bpm
        for i, start in enumerate(np.arange(0.0, seconds, beat / 2)):
            begin = int(start * SR)
            length = min(int(0.12 * SR), n - begin)
            local = np.arange(length) / SR
            if i % 2 == 0:  # kick on the beat
                kick = np.sin(2 * np.pi * 60 * local * np.exp(-local * 8)) * np.exp(-local * 25)
                audio[begin : begin + length] += 2.5 * kick
            rng = np.random.default_rng(i)
            hat = rng.standard_normal(length) * np.exp(-local * 60)
            audio[begin : begin + length] += 0.6 * hat
    audio *= level / np.max(np.abs(audio))
    return audio.astype(np.float32)


def encode(audio: np.ndarray, fmt: str = "FLAC", subtype: str | None = None, sr: int = SR) -> bytes:
    """Encode mono or (frames, channels) audio in a libsndfile format, in memory."""
    buffer = io.BytesIO()
    soundfile.write(buffer, audio, sr, format=fmt, subtype=subtype)
    return buffer.getvalue()


def write(path: Path, audio: np.ndarray, fmt: str = "FLAC", **kwargs) -> Path:
    path.write_bytes(encode(audio, fmt, **kwargs))
    return path


def without_length(flac: bytes) -> bytes:
    """The same FLAC with STREAMINFO's total_samples set to 0 ("unknown"), as an encoder
    writing to a pipe leaves it: only decoding tells how long it is."""
    data = bytearray(flac)
    if data[:4] != b"fLaC" or data[4] & 0x7F != 0:
        raise ValueError("not a FLAC starting with STREAMINFO")
    # STREAMINFO's body starts at byte 8; total_samples is its bits 108-143
    data[21] &= 0xF0
    data[22:26] = b"\0\0\0\0"
    return bytes(data)


def silent_flac(seconds: float, sr: int = 8_000) -> bytes:
    """Digital silence as FLAC, written a minute at a time (an hour is about 90 kB)."""
    out = io.BytesIO()
    minute = np.zeros(sr * 60, dtype=np.int16)
    with soundfile.SoundFile(out, "w", samplerate=sr, channels=1, format="FLAC",
                             subtype="PCM_16") as sink:  # fmt: skip
        left = int(seconds * sr)
        while left > 0:
            sink.write(minute[: min(left, len(minute))])
            left -= len(minute)
    return out.getvalue()


def long_quiet_flac(path: Path, *, seconds: float = 1200.0, sr: int = 192_000,
                    channels: int = 8) -> Path:  # fmt: skip
    """The longest, widest audio an upload may be: a 5 s tone, then digital silence, as a FLAC
    of a few MB (the silence compresses to almost nothing), written ten seconds at a time."""
    with soundfile.SoundFile(str(path), "w", samplerate=sr, channels=channels, format="FLAC",
                             subtype="PCM_16") as sink:  # fmt: skip
        t = np.arange(5 * sr) / sr
        tone = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
        sink.write(np.repeat(tone[:, None], channels, axis=1))
        block = np.zeros((10 * sr, channels), dtype=np.int16)
        left = int((seconds - 5) * sr)
        while left > 0:
            sink.write(block[: min(left, len(block))])
            left -= len(block)
    return path
