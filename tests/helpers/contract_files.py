"""One file per row of the upload outcome table (docs/api.md), built from numpy:
(name, bytes, expected outcome).

Expected outcome: ("upload", http_status, error_code) for refusals, or
("analysis", final_status, error_code) for files that are accepted.
"""

from __future__ import annotations

import io

import numpy as np
import soundfile

from tests.helpers import audio

MUSIC = audio.progression("major", bpm=120, level=0.5, percussive=True, seconds=8)


def _encode(signal, fmt, subtype=None, sr=audio.SR) -> bytes:
    return audio.encode(signal, fmt, subtype=subtype, sr=sr)


def valid_files() -> list[tuple[str, bytes]]:
    """Valid audio in every accepted format, each under a misleading or neutral name."""
    return [
        ("song.wav", _encode(MUSIC, "WAV", "PCM_16")),
        ("song.flac", _encode(MUSIC, "FLAC")),
        ("song.ogg", _encode(MUSIC, "OGG", "VORBIS")),
        (
            "song.opus",
            _encode(
                audio.progression(
                    "minor", bpm=100, level=0.5, percussive=True, seconds=8, tonic_hz=196.0
                )[::1],
                "OGG",
                "OPUS",
                sr=48_000,
            ),
        ),
        (
            "song.mp3",
            _encode(
                audio.progression(
                    "major", bpm=140, level=0.6, percussive=True, seconds=8, tonic_hz=262.0
                ),
                "MP3",
            ),
        ),
        (
            "song.aiff",
            _encode(
                audio.progression("minor", bpm=90, level=0.4, percussive=False, seconds=8),
                "AIFF",
                "PCM_16",
            ),
        ),
        ("valid-audio.exe", _encode(audio.click_track(128, seconds=8), "FLAC")),
    ]


def refused_files(max_audio_seconds: int) -> list[tuple[str, bytes, int, str]]:
    """(name, bytes, http status, error code) for files refused at upload."""
    rng = np.random.default_rng(7)
    stereo_384k = io.BytesIO()
    soundfile.write(
        stereo_384k, 0.1 * np.ones((384_000 * 4, 1)), 384_000, format="WAV", subtype="FLOAT"
    )
    many_channels = io.BytesIO()
    soundfile.write(
        many_channels,
        0.1 * rng.standard_normal((44_100 * 4, 9)),
        44_100,
        format="WAV",
        subtype="PCM_16",
    )
    low_rate = io.BytesIO()
    soundfile.write(low_rate, 0.1 * rng.standard_normal(4_000 * 5), 4_000, format="WAV")
    long_audio = _encode(audio.tone(seconds=max_audio_seconds + 2, level=0.3), "FLAC")
    return [
        ("random.mp3", rng.bytes(20_000), 400, "unsupported_format"),
        ("empty.wav", b"", 400, "unsupported_format"),
        (
            "page.ogg",
            b"<!doctype html><html><body>" + b"<p>hi</p>" * 500 + b"</body></html>",
            400,
            "unsupported_format",
        ),
        ("notes.txt", b"just some text\n" * 500, 400, "unsupported_format"),
        (
            "song.m4a",
            b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + rng.bytes(8_000),
            400,
            "unsupported_format",
        ),
        ("au.wav", _encode(MUSIC, "AU"), 400, "unsupported_format"),
        ("hi-res.wav", stereo_384k.getvalue(), 400, "unsupported_format"),
        ("nine-channels.wav", many_channels.getvalue(), 400, "unsupported_format"),
        ("phone.wav", low_rate.getvalue(), 400, "unsupported_format"),
        ("long.flac", long_audio, 400, "too_long"),
        ("short.wav", _encode(audio.tone(seconds=2), "WAV"), 400, "too_short"),
    ]


def failing_files() -> list[tuple[str, bytes, str]]:
    """(name, bytes, error code) for files accepted at upload that fail in analysis."""
    flac = _encode(audio.tone(seconds=10, level=0.4), "FLAC")
    mp3 = _encode(audio.tone(seconds=10, level=0.4, freq=330.0), "MP3")
    rng = np.random.default_rng(3)
    return [
        ("truncated.flac", flac[: len(flac) // 2], "undecodable"),
        ("corrupt.flac", flac[:2_000] + rng.bytes(len(flac) - 2_000), "undecodable"),
        ("truncated.mp3", mp3[: len(mp3) // 3], "undecodable"),
        ("silent.flac", _encode(np.zeros(audio.SR * 10, dtype=np.float32), "FLAC"), "silent"),
        (
            "hiss.flac",
            # 24-bit: at 16 bits this hiss would round to the same zeros as silent.flac
            _encode(
                (1e-6 * rng.standard_normal(audio.SR * 10)).astype(np.float32), "FLAC", "PCM_24"
            ),
            "silent",
        ),
    ]
