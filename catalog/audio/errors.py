"""Outcome codes for audio that is refused at upload or fails in analysis.

The table of which input ends in which code is docs/api.md, "Upload outcomes".

Shared by the import and analysis services, the API, admin, commands and the tests.
"""

# refused at upload: no track is made
DUPLICATE = "duplicate"
TOO_LARGE = "too_large"
UNSUPPORTED_FORMAT = "unsupported_format"
TOO_LONG = "too_long"
TOO_SHORT = "too_short"

# failed in analysis: the track is kept with status `failed`
UNDECODABLE = "undecodable"
SILENT = "silent"
WORKER_LOST = "worker_lost"
TIMEOUT = "timeout"
ANALYSIS_ERROR = "analysis_error"

DESCRIPTIONS = {
    DUPLICATE: "the same bytes are already a track",
    TOO_LARGE: "the file is over the upload size limit",
    UNSUPPORTED_FORMAT: "not audio in WAV, FLAC, OGG (Vorbis, Opus), MP3 or AIFF",
    TOO_LONG: "the audio is longer than the duration limit",
    TOO_SHORT: "the audio is shorter than 3 seconds",
    UNDECODABLE: "the header is valid but the audio data is corrupt or truncated",
    SILENT: "the audio is digital silence, or nearly",
    WORKER_LOST: "the analysis worker died on this file 3 times",
    TIMEOUT: "the analysis took longer than its time limit",
    ANALYSIS_ERROR: "an unexpected error in analysis (see the detail and the worker log)",
}


class AudioError(Exception):
    """A file that cannot become a track, or cannot be analysed. `code` is one of the above."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail
