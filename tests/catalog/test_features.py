"""The extractor on audio with known properties (docs/features.md defines each number)."""

import numpy as np
import pytest
import soxr

from catalog.audio import analyse_file
from catalog.audio.features import compute
from catalog.audio.names import FEATURE_NAMES
from catalog.models import AudioFeatures
from tests.helpers import audio


def analyse(tmp_path, signal, fmt="FLAC", name="x.flac"):
    path = audio.write(tmp_path / name, signal, fmt)
    frames = len(signal)
    return analyse_file(path, expected_frames=frames, max_seconds=1200)


@pytest.mark.parametrize("bpm", [90, 140])
def test_click_track_tempo_within_three_percent(tmp_path, bpm):
    features = analyse(tmp_path, audio.click_track(bpm))
    assert features.tempo == pytest.approx(bpm, rel=0.03)


def test_tempo_is_folded_into_one_octave():
    # One chord per bar reads as a very slow pulse; the documented fold brings it to 60..200.
    features = compute(
        audio.progression("major", bpm=30, level=0.3, percussive=False, seconds=24)[::2], 22_050
    )
    assert 60 <= features.tempo < 200


def test_bright_noise_has_higher_centroid_and_rolloff_than_dark(tmp_path):
    bright = analyse(tmp_path, audio.noise("bright"), name="b.flac")
    dark = analyse(tmp_path, audio.noise("dark"), name="d.flac")
    assert bright.spectral_centroid > 3 * dark.spectral_centroid
    assert bright.spectral_rolloff > dark.spectral_rolloff + 0.3
    assert 0 <= dark.spectral_rolloff < bright.spectral_rolloff <= 1
    assert 0 <= dark.spectral_bandwidth <= 1
    assert 0 <= bright.spectral_bandwidth <= 1


def test_loud_signal_has_more_energy_and_loudness_than_quiet(tmp_path):
    loud = analyse(tmp_path, audio.tone(level=0.8), name="loud.flac")
    quiet = analyse(tmp_path, audio.tone(level=0.02), name="quiet.flac")
    assert loud.energy > quiet.energy
    assert loud.loudness > quiet.loudness + 20  # 0.8 / 0.02 is 32 dB
    assert quiet.loudness < loud.loudness < 0
    assert 0 <= quiet.energy < loud.energy <= 1


def test_major_progression_is_happy(tmp_path):
    features = analyse(
        tmp_path, audio.progression("major", bpm=120, level=0.5, percussive=True, bright=True)
    )
    assert features.mode == "major"
    assert features.moods.happy
    assert not features.moods.sad


def test_slow_soft_minor_progression_is_sad_and_calm(tmp_path):
    features = analyse(tmp_path, audio.progression("minor", bpm=66, level=0.08, percussive=False))
    assert features.mode == "minor"
    assert features.moods.sad
    assert features.moods.calm
    assert not features.moods.happy
    assert not features.moods.energetic


def test_fast_loud_percussive_is_energetic(tmp_path):
    features = analyse(
        tmp_path, audio.progression("major", bpm=160, level=0.95, percussive=True, bright=True)
    )
    assert features.moods.energetic
    assert not features.moods.calm


def test_vector_has_sixteen_numbers_in_seed_order(tmp_path):
    features = analyse(tmp_path, audio.click_track(120, seconds=8))
    vector = features.vector()
    assert len(vector) == 16 == len(FEATURE_NAMES)
    assert list(features.columns()) == list(FEATURE_NAMES) == list(AudioFeatures.VECTOR_FIELDS)
    assert vector[:5] == list(features.mfcc)
    assert vector[5] == features.tempo
    assert vector[9] == features.spectral_centroid
    assert set(vector[12:]) <= {0.0, 1.0}


def test_stereo_is_mixed_to_mono_and_resampled(tmp_path):
    # The same music in stereo at 48 kHz and in mono at 44.1 kHz describes the same way.
    mono = audio.progression("major", bpm=120, level=0.5, percussive=True)
    at_48k = soxr.resample(mono, audio.SR, 48_000).astype(np.float32)
    a = analyse(tmp_path, mono, name="mono.flac")
    path = audio.write(tmp_path / "st.flac", np.stack([at_48k, at_48k], axis=1), "FLAC", sr=48_000)
    b = analyse_file(path, expected_frames=len(at_48k), max_seconds=1200)
    assert b.tempo == pytest.approx(a.tempo, rel=0.03)
    assert (b.key, b.mode) == (a.key, a.mode)
    assert b.spectral_centroid == pytest.approx(a.spectral_centroid, rel=0.05)


def test_mode_survives_a_recording_tuned_between_semitones(tmp_path):
    # Played back 8.8% fast, the major progression is 47 cents sharp of any A440 note.
    music = audio.progression("major", bpm=120, level=0.5, percussive=True, bright=True)
    sharp = audio.write(tmp_path / "sharp.flac", music, "FLAC", sr=48_000)
    features = analyse_file(sharp, expected_frames=len(music), max_seconds=1200)
    assert features.mode == "major"


def test_every_named_feature_is_a_column_of_the_model():
    # the names are defined once (catalog/audio/names.py); the model declares a column for each
    fields = {field.name: field for field in AudioFeatures._meta.get_fields()}
    for name in FEATURE_NAMES:
        assert fields[name].get_internal_type() in ("FloatField", "BooleanField"), name
