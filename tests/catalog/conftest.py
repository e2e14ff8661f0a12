import itertools

import pytest

from catalog.services import track_import
from tests.helpers import audio


@pytest.fixture
def imported_track(tmp_path, django_capture_on_commit_callbacks):
    """A real track: synthesised audio through the import service, analysed inline."""

    tempos = itertools.count(100, 7)  # each default track sounds different: no duplicates

    def make(signal=None, name="song.flac", **fields):
        signal = audio.click_track(next(tempos), seconds=6) if signal is None else signal
        path = audio.write(tmp_path / name, signal, "FLAC")
        with django_capture_on_commit_callbacks(execute=True):
            result = track_import(source=path, original_name=name, **fields)
        assert result.result == "imported", result
        result.track.refresh_from_db()
        return result.track

    return make
