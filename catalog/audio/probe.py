"""What a file is, judged from its bytes and header alone (libsndfile), never from its name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import soundfile

from catalog.audio.errors import TOO_LONG, TOO_SHORT, UNSUPPORTED_FORMAT, AudioError

# libsndfile container -> the subtypes we accept in it. Anything else (AU, CAF, RAW, ...) and
# anything libsndfile cannot open (AAC/m4a, text, HTML) is `unsupported_format`.
ACCEPTED = {
    "WAV": None,
    "WAVEX": None,
    "FLAC": None,
    "OGG": {"VORBIS", "OPUS"},
    "MP3": None,
    "AIFF": None,
}
EXTENSIONS = {
    "WAV": "wav",
    "WAVEX": "wav",
    "FLAC": "flac",
    "OGG": "ogg",
    "MP3": "mp3",
    "AIFF": "aiff",
}
MIME_TYPES = {
    "wav": "audio/wav",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "opus": "audio/ogg",
    "mp3": "audio/mpeg",
    "aiff": "audio/aiff",
}
MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 192_000
MAX_CHANNELS = 8
# libsndfile reports a length it cannot know (FLAC total_samples 0) as its largest count.
UNKNOWN_LENGTH = 2**62


@dataclass(frozen=True)
class AudioHeader:
    container: str  # libsndfile's format name: WAV, FLAC, OGG, MP3, AIFF
    subtype: str  # PCM_16, VORBIS, OPUS, MPEG_LAYER_III, ...
    sample_rate: int
    channels: int
    frames: int
    duration_s: float

    @property
    def extension(self) -> str:
        if self.container == "OGG" and self.subtype == "OPUS":
            return "opus"
        return EXTENSIONS[self.container]

    @property
    def label(self) -> str:
        """A short name for admins: FLAC, MP3, OGG/VORBIS, WAV/PCM_24..."""
        if self.container in ("MP3", "FLAC"):
            return self.container
        return f"{self.container}/{self.subtype}"

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.extension]


def probe(path: Path | str, *, min_seconds: float, max_seconds: float) -> AudioHeader:
    """Read the header and apply the upload checks (docs/api.md, "Upload outcomes").

    Raises AudioError(unsupported_format | too_long | too_short). Decodes nothing.
    """
    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError, ValueError):
        raise AudioError(
            UNSUPPORTED_FORMAT,
            "not a recognised audio file: use WAV, FLAC, OGG (Vorbis or Opus), MP3 or AIFF",
        ) from None
    accepted_subtypes = ACCEPTED.get(info.format, ())
    if accepted_subtypes == () or (
        accepted_subtypes is not None and info.subtype not in accepted_subtypes
    ):
        raise AudioError(
            UNSUPPORTED_FORMAT,
            f"{info.format}/{info.subtype} audio is not supported: "
            "use WAV, FLAC, OGG (Vorbis or Opus), MP3 or AIFF",
        )
    check_layout(info.samplerate, info.channels)
    if info.frames <= 0 or info.frames >= UNKNOWN_LENGTH:
        # Length unknown from the header (an Ogg stream whose last page is missing, a FLAC
        # encoded from a pipe with total_samples 0): analysis measures what actually decodes
        # and applies the same limits.
        return _header(info, frames=0)
    duration = info.frames / info.samplerate
    if duration > max_seconds:
        raise AudioError(
            TOO_LONG, f"{duration:.1f} s of audio is over the {max_seconds:.0f} s limit"
        )
    if duration < min_seconds:
        raise AudioError(TOO_SHORT, f"{duration:.1f} s of audio is under {min_seconds:.0f} s")
    return _header(info, frames=int(info.frames))


def _header(info, *, frames: int) -> AudioHeader:
    return AudioHeader(
        container=info.format,
        subtype=info.subtype,
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        frames=frames,
        duration_s=frames / info.samplerate if frames else 0.0,
    )


def check_layout(samplerate: int, channels: int) -> None:
    """Raise `unsupported_format` for a sample rate or channel count outside what we analyse.

    Checked at upload from the header, and again by the decoder before it reads a block.
    """
    if not MIN_SAMPLE_RATE <= samplerate <= MAX_SAMPLE_RATE:
        raise AudioError(
            UNSUPPORTED_FORMAT,
            f"sample rate {samplerate} Hz is outside {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz",
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(
            UNSUPPORTED_FORMAT, f"{channels} channels; at most {MAX_CHANNELS} are supported"
        )
