"""A recording that is not music, in a real browser: its page shows no mood, and its "Sounds
similar" list holds only other non-music (docs/features.md, "Music and non-music")."""

import numpy as np
import pytest
import soxr

from tests.browser.test_player import fits
from tests.helpers import audio, families

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def test_speech_page_shows_no_mood_and_only_non_music_as_similar(
    page, server, screenshot, imported_track
):
    rng = np.random.default_rng(5)

    def clip(family):
        sound = families.clip(family, rng, 6.0)
        return soxr.resample(sound, families.SR, audio.SR).astype(np.float32)

    speech = [imported_track(clip("speech"), name=f"talk{i}.flac", title=f"Talk {i}")
              for i in range(2)]  # fmt: skip
    music = [imported_track(clip("plucked"), name=f"song{i}.flac", title=f"Song {i}")
             for i in range(2)]  # fmt: skip
    page.goto(f"{server}/tracks/{speech[0].pk}/")
    assert page.get_by_text("not music: no mood").is_visible()
    similar = page.locator("#similar-list").inner_text()
    assert "Talk 1" in similar
    assert not any(track.title in similar for track in music)
    screenshot("track-non-music")
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits(page), "the track page scrolls sideways at 390 px"
    screenshot("track-non-music-390")
