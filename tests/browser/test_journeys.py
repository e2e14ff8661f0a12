"""What people do on the site, in a real browser: sign up, play, history, for-you, search."""

import re
import time
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog.services import track_import
from listening.demo.synth import SR, STYLE_BY_NAME, render
from listening.models import ListeningEvent
from listening.services import ListenInput, listens_record
from tests.browser.playback import PLAYER, play_out
from tests.factories import PASSWORD, UserFactory
from tests.helpers import audio

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def catalogue(tmp_path):
    """Eight short tracks with real audio in two styles, and listeners of each style."""
    tracks = {"nocturne": [], "warehouse": []}
    for style_name, tracks_of_style in tracks.items():
        for i in range(4):
            signal = render(STYLE_BY_NAME[style_name], np.random.default_rng(100 + i), 8.0)
            path = audio.write(tmp_path / f"{style_name}{i}.flac", signal, "FLAC", sr=SR)
            result = track_import(
                source=path,
                original_name=path.name,
                title=f"{style_name.title()} {i}",
                artist_name=f"{style_name.title()} Band {i % 2}",
            )
            tracks_of_style.append(result.track)
    for style_name, group in tracks.items():
        for n in range(4):
            listener = UserFactory(username=f"{style_name}-fan{n}")
            listens_record(
                user=listener,
                listens=[ListenInput(track_id=t.pk, completed=True) for t in group[:3]],
                source="api",
            )
    return tracks


def play_to_the_end(page):
    """Press the track page's Play, then let the player bar play out the last moment."""
    title = page.locator("h1").inner_text()
    page.locator("main").get_by_role("button", name=f"Play {title}").click()
    play_out(page)
    page.get_by_text("Listen recorded: played through.").wait_for()
    page.evaluate(f"() => {PLAYER}.pause()")


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)
    return value


def log_in(page, server, username):
    page.goto(f"{server}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/for-you/$"))


def test_sign_up_play_see_history_and_for_you_after_a_retrain(page, server, catalogue, screenshot):
    page.goto(f"{server}/")
    screenshot("home-visitor")
    page.locator("header").get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("newlistener")
    page.get_by_label("Password", exact=True).fill("a long pass phrase 42")
    page.get_by_label("Password confirmation").fill("a long pass phrase 42")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(re.compile(r".*/for-you/$"))
    assert page.get_by_text("No recommendation model has been trained yet").is_visible()

    calm = catalogue["nocturne"]
    for track in calm[:2]:
        page.goto(f"{server}/tracks/{track.pk}/")
        play_to_the_end(page)
    screenshot("track")
    stored = ListeningEvent.objects.filter(user__username="newlistener")
    assert {(e.track_id, e.completed, e.skipped, e.source) for e in stored} == {
        (calm[0].pk, True, False, "player"),
        (calm[1].pk, True, False, "player"),
    }

    page.get_by_role("link", name="History").click()
    rows = page.locator("table.history tbody tr")
    expect(rows).to_have_count(2)  # pages change in place (htmx): wait for the new content
    assert "played through" in rows.first.inner_text()
    screenshot("history")

    call_command("retrain", stdout=StringIO())
    time.sleep(1.1)  # web processes look for a new model at most once a second
    page.goto(f"{server}/for-you/")
    headings = page.locator("main h2").all_inner_texts()
    assert any(h.startswith("Because you listened to Nocturne") for h in headings), headings
    shelf = page.locator("section.shelf").first.inner_text()
    assert "Nocturne" in shelf
    assert "Warehouse" not in shelf  # the other style does not earn "because you listened"
    screenshot("for-you")


def test_moving_on_within_thirty_seconds_is_a_skip(page, server, catalogue):
    UserFactory(username="skipper")
    log_in(page, server, "skipper")
    loud = catalogue["warehouse"]
    page.goto(f"{server}/tracks/{loud[0].pk}/")
    page.locator("main").get_by_role("button", name=f"Play {loud[0].title}").click()
    page.wait_for_function(f"() => {PLAYER}.currentTime > 1")
    page.goto(f"{server}/tracks/{loud[1].pk}/")  # the listener plays another track
    page.locator("main").get_by_role("button", name=f"Play {loud[1].title}").click()
    event = wait_for(lambda: ListeningEvent.objects.filter(user__username="skipper").first())
    assert (event.track_id, event.skipped, event.completed) == (loud[0].pk, True, False)
    assert 500 < event.ms_played < 30_000


def test_a_listen_that_failed_to_send_is_sent_again_once(page, server, catalogue):
    UserFactory(username="offline")
    log_in(page, server, "offline")
    track = catalogue["nocturne"][3]
    page.goto(f"{server}/tracks/{track.pk}/")
    failed = []

    def drop_first_listen(route):
        if not failed:
            failed.append(route.request.post_data)
            route.abort()  # the network drops the first attempt
        else:
            route.continue_()

    page.route("**/api/listens/", drop_first_listen)
    # Chromium reports the dropped request; nothing else may go wrong
    page.problems.allow(lambda text, source: "ERR_FAILED" in text and "/api/listens/" in source)
    with page.expect_event("requestfailed", lambda r: "/api/listens/" in r.url):
        page.locator("main").get_by_role("button", name=f"Play {track.title}").click()
        play_out(page)
    assert failed
    assert not ListeningEvent.objects.filter(user__username="offline").exists()
    page.evaluate(f"() => {PLAYER}.pause()")
    page.reload()  # the next page sends what is pending, with the same client event id
    wait_for(lambda: ListeningEvent.objects.filter(user__username="offline").exists())
    page.reload()
    page.goto(f"{server}/history/")
    assert ListeningEvent.objects.filter(user__username="offline").count() == 1


def test_search_and_follow_a_similar_sounding_link(page, server, catalogue, screenshot):
    page.goto(f"{server}/")
    search = page.get_by_role("searchbox", name="Search tracks and artists")
    search.fill("warehouse")
    search.press("Enter")
    page.wait_for_url(re.compile(r".*/search/\?q=warehouse"))
    expect(page.locator("main")).to_contain_text("4 tracks for")
    screenshot("search")
    page.locator("main ol.track-list a.title").first.click()
    first = page.url
    similar = page.locator("section[aria-labelledby=similar-heading] a.title").first
    similar_title = similar.inner_text()
    similar.click()
    page.wait_for_url(re.compile(r".*/tracks/\d+/$"))
    assert page.url != first
    expect(page.locator("h1")).to_have_text(similar_title)
    assert "Warehouse" in similar_title  # it sounds like what we came from


def test_exclude_a_listen_from_my_taste(page, server, catalogue, screenshot):
    user = UserFactory(username="curator")
    listens_record(user=user, listens=[ListenInput(track_id=catalogue["nocturne"][0].pk,
                                                   completed=True)], source="api")  # fmt: skip
    log_in(page, server, "curator")
    page.goto(f"{server}/history/")
    page.get_by_role("button", name=re.compile("Exclude this listen")).click()
    page.get_by_text("left out of your taste").wait_for()
    assert page.get_by_role("button", name=re.compile("Count this listen")).is_visible()
    assert ListeningEvent.objects.get(user=user).excluded
    screenshot("history-excluded")


def test_pages_are_usable_with_a_keyboard_and_labelled(page, server, catalogue):
    page.goto(f"{server}/tracks/{catalogue['nocturne'][0].pk}/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), button, audio, svg')]
            .filter(el => el.getAttribute('aria-hidden') !== 'true')
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !el.getAttribute('aria-labelledby') && !el.textContent.trim())
            .map(el => el.outerHTML.slice(0, 80))"""
    )
    assert unlabelled == []
