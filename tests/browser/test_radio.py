"""Radio in a real browser: the queue refills itself before it runs dry, never with a track it
holds, never three in a row by one artist, every pick with its reason; a skip goes back to the
station with the next refill."""

from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from catalog.services import track_import
from listening.demo.synth import SR, STYLE_BY_NAME, render
from listening.models import ListeningEvent
from tests.browser.playback import PLAYER
from tests.browser.test_player import fits, log_in, queue_ids, wait_for
from tests.factories import ArtistFactory, TrackFactory, features_from_vector
from tests.helpers import audio

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def airwaves(tmp_path):
    """One analysed track with real audio, and 30 more by six artists that sound close to it
    (their rows share its stored file: what the browser plays is real, the catalogue is big
    enough for three refills)."""
    signal = render(STYLE_BY_NAME["nocturne"], np.random.default_rng(7), 40.0)
    path = audio.write(tmp_path / "seed.flac", signal, "FLAC", sr=SR)
    seed = track_import(
        source=path, original_name=path.name, title="Seed Nocturne", artist_name="Seed Band"
    ).track
    base = seed.features.vector()
    rng = np.random.default_rng(11)
    for a in range(6):
        artist = ArtistFactory(name=f"Night Band {a}")
        for t in range(5):
            track = TrackFactory(title=f"Night {a}-{t}", artist=artist, audio=seed.audio.name,
                                 duration_s=seed.duration_s)  # fmt: skip
            jitter = [rng.normal(0, 0.02) * abs(v) for v in base]
            features_from_vector(track, [v + j for v, j in zip(base, jitter, strict=True)])
    return seed


def player_queue(page) -> list[dict]:
    return page.evaluate("() => window.musicrecPlayer.state().queue")


def test_radio_refills_before_it_runs_dry_without_repeats_and_hears_skips(
    page, server, airwaves, screenshot
):
    log_in(page, server, "night-owl")
    refills = []
    page.on("request", lambda r: refills.append(r.url) if "/api/radio/" in r.url else None)
    page.goto(f"{server}/tracks/{airwaves.pk}/")
    page.locator("main").get_by_role("button", name="Start radio").click()
    page.wait_for_function("() => document.querySelectorAll('#player .queue-list li').length >= 10")
    first = queue_ids(page)
    assert first[0] == airwaves.pk
    page.wait_for_function(f"() => {PLAYER}.currentTime > 1")

    # moving on within 30 s is a skip, and the station hears of it
    page.locator("#player").get_by_role("button", name="Next track").click()
    event = wait_for(lambda: ListeningEvent.objects.filter(user__username="night-owl").first())
    assert event.skipped
    page.wait_for_function(
        "(id) => (window.musicrecPlayer.state().radio.skipped || []).includes(id)", arg=first[0]
    )

    # jump near the end of what the station gave: the queue asks for more before it runs dry
    page.locator("#player").get_by_role("button", name="Queue").click()
    page.locator("#queue-panel li").nth(len(first) - 2).locator(".queue-jump").click()
    page.wait_for_function(
        "(n) => document.querySelectorAll('#player .queue-list li').length > n", arg=len(first)
    )
    assert len(refills) == 2
    assert "station=" in refills[1]
    assert f"skipped={first[0]}" in refills[1]
    query = parse_qs(urlparse(refills[1]).query)
    assert [int(t) for t in query["played"][0].split(",")] == first  # what the queue holds

    queue = player_queue(page)
    ids = [t["id"] for t in queue]
    assert len(ids) > len(first)
    assert len(ids) == len(set(ids)), "the station repeated a track"
    artists = [t["artistId"] for t in queue]
    runs = zip(artists, artists[1:], artists[2:], strict=False)
    assert all(not (a == b == c) for a, b, c in runs)
    reasons = page.locator("#player .queue-reason").all_inner_texts()
    assert len(reasons) == len(ids)
    assert all(reasons), "a pick without its reason"
    assert not page.evaluate(f"() => {PLAYER}.paused")
    screenshot("radio-refilled-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits(page)
    screenshot("radio-queue-390")
