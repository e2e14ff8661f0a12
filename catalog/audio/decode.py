"""Decode a file to mono float32 at the analysis rate, block by block, with bounded memory.

Only libsndfile (in-process, through soundfile) reads the bytes: no external decoder program is
ever started on untrusted input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import soxr

from catalog.audio.errors import SILENT, TOO_LONG, TOO_SHORT, UNDECODABLE, AudioError
from catalog.audio.probe import UNKNOWN_LENGTH, check_layout

ANALYSIS_SAMPLE_RATE = 22_050
BLOCK_FRAMES = 1 << 16
# A file that decodes to less than this share of what its header promised is truncated.
MIN_DECODED_SHARE = 0.9
# Peak below -80 dBFS: digital silence, or a file of near-silence (dither, hum at the noise floor).
SILENCE_PEAK = 1e-4


def decode_mono(
    path: Path | str, *, expected_frames: int, max_seconds: float, min_seconds: float = 3.0
) -> np.ndarray:
    """Return the file's audio mixed to mono and resampled to 22,050 Hz.

    Raises AudioError: `undecodable` (read error, truncated body, non-finite samples),
    `too_long` / `too_short` (measured on what decodes, whatever the header said), `silent`.
    """
    try:
        with soundfile.SoundFile(str(path)) as source:
            # the upload checked this from the header; a file that reached the worker some other
            # way (a changed limit, a file put in place by hand) is held to it too
            check_layout(source.samplerate, source.channels)
            if source.frames >= UNKNOWN_LENGTH:
                # soundfile moves a seekable file's position after each read, and libsndfile
                # cannot seek in a stream of unknown length: it fails at the last block. Read it
                # as a stream instead (blocks until one comes back empty).
                source.seekable = lambda: False
            samples = _read_resampled(source, max_frames=int(max_seconds * source.samplerate))
            decoded_frames = samples.frames_read
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise AudioError(UNDECODABLE, f"the audio data cannot be decoded ({exc})") from None
    if expected_frames > 0 and decoded_frames < MIN_DECODED_SHARE * expected_frames:
        raise AudioError(
            UNDECODABLE,
            f"truncated: decoded {decoded_frames} of the {expected_frames} frames the header "
            "announces",
        )
    audio = samples.audio
    if audio.size == 0:
        raise AudioError(UNDECODABLE, "no audio frames could be decoded")
    if audio.size < min_seconds * ANALYSIS_SAMPLE_RATE:
        raise AudioError(
            TOO_SHORT, f"only {audio.size / ANALYSIS_SAMPLE_RATE:.1f} s of audio could be decoded"
        )
    if not np.isfinite(audio).all():
        raise AudioError(UNDECODABLE, "the decoded audio contains invalid (non-finite) samples")
    peak = float(np.max(np.abs(audio)))
    if peak < SILENCE_PEAK:
        raise AudioError(SILENT, f"peak level {_dbfs(peak):.0f} dBFS: the file is silent")
    return audio


class _Decoded:
    __slots__ = ("audio", "frames_read")

    def __init__(self, audio: np.ndarray, frames_read: int):
        self.audio = audio
        self.frames_read = frames_read


def _read_resampled(source: soundfile.SoundFile, *, max_frames: int) -> _Decoded:
    resampler = (
        None
        if source.samplerate == ANALYSIS_SAMPLE_RATE
        else soxr.ResampleStream(source.samplerate, ANALYSIS_SAMPLE_RATE, 1, dtype="float32")
    )
    out = _Growing(_expected_output(source, max_frames))
    frames_read = 0
    while True:
        block = source.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
        if len(block) == 0:
            break
        frames_read += len(block)
        if frames_read > max_frames:
            raise AudioError(
                TOO_LONG,
                f"the audio runs past the {max_frames / source.samplerate:.0f} s limit",
            )
        mono = block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]
        out.append(resampler.resample_chunk(mono) if resampler else mono)
    if resampler is not None:
        out.append(resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
    return _Decoded(out.audio(), frames_read)


def _expected_output(source: soundfile.SoundFile, max_frames: int) -> int:
    frames = source.frames if 0 < source.frames < UNKNOWN_LENGTH else 60 * source.samplerate
    return int(min(frames, max_frames) * ANALYSIS_SAMPLE_RATE / source.samplerate) + BLOCK_FRAMES


class _Growing:
    """One float32 buffer, sized from the header and grown by half when a stream runs longer:
    a list of blocks joined at the end would hold the track twice (212 MB at 20 minutes)."""

    def __init__(self, capacity: int):
        self.buffer = np.empty(max(capacity, 1), dtype=np.float32)
        self.size = 0

    def append(self, chunk: np.ndarray) -> None:
        end = self.size + len(chunk)
        if end > len(self.buffer):
            grown = np.empty(max(end, len(self.buffer) * 3 // 2), dtype=np.float32)
            grown[: self.size] = self.buffer[: self.size]
            self.buffer = grown
        self.buffer[self.size : end] = chunk
        self.size = end

    def audio(self) -> np.ndarray:
        return self.buffer[: self.size]


def _dbfs(level: float) -> float:
    return 20.0 * np.log10(max(level, 1e-12))
