"""A catalogue built from imported history (no audio anywhere), in a real browser: for-you lists
recommendations, each without a play button (docs/recommender.md, "Serving")."""

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.models import AudioFeatures, Track
from tests.browser.test_player import fits, log_in_existing
from tests.helpers.world import build_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def test_for_you_lists_tracks_without_audio_and_offers_no_play_button(page, server, screenshot):
    world = build_world()
    Track.objects.update(status=Track.Status.NO_AUDIO, audio="")
    AudioFeatures.objects.all().delete()
    call_command("retrain", stdout=StringIO())
    log_in_existing(page, server, world.calm_users[0].username)
    page.goto(f"{server}/for-you/")
    rows = page.locator("main li.track-row")
    assert rows.count() >= 3
    assert page.locator("main li.track-row button.row-play").count() == 0
    assert page.locator("main li.track-row .row-play.no-audio img").count() == rows.count()
    assert page.locator("main .play-all").count() == 0  # nothing in these lists can play
    screenshot("for-you-no-audio")
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits(page), "for-you scrolls sideways at 390 px"
    screenshot("for-you-no-audio-390")
