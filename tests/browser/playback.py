"""Driving the player bar's <audio> element from a browser test.

A test that needs a track to end seeks to just before its end instead of playing it through at
a high rate: how long a track takes to play out depends on the machine's load (a loaded CI
machine once took longer than a wait allowed), while the "ended" event and everything the player
does on it are the same either way. A wait that times out says what the element was doing.
"""

from playwright.sync_api import TimeoutError as PlaywrightTimeout

PLAYER = "document.getElementById('player-audio')"

AUDIO_STATE = """() => {
  const a = document.getElementById('player-audio');
  const p = window.musicrecPlayer;
  return {src: a.currentSrc, currentTime: a.currentTime, duration: a.duration, paused: a.paused,
    ended: a.ended, readyState: a.readyState, networkState: a.networkState,
    error: a.error && a.error.code, rate: a.playbackRate,
    index: p ? p.state().index : null, queue: p ? p.state().queue.length : null,
    title: (document.querySelector('#player .np-title') || {}).textContent};
}"""


def wait_in_player(page, expression: str, arg=None, timeout: float | None = None) -> None:
    """page.wait_for_function, failing with the audio element's state when it times out."""
    try:
        page.wait_for_function(expression, arg=arg, timeout=timeout)
    except PlaywrightTimeout as error:
        raise AssertionError(f"{error.message}; the player: {page.evaluate(AUDIO_STATE)}") from None


def play_out(page, seconds_left: float = 0.4) -> None:
    """Once the playing track's length is known, jump to `seconds_left` before its end: the
    track then ends by playing, as it would for a listener."""
    wait_in_player(page, f"() => !{PLAYER}.paused && isFinite({PLAYER}.duration)")
    page.evaluate(
        f"(left) => {{ const a = {PLAYER}; a.currentTime = Math.max(0, a.duration - left); }}",
        seconds_left,
    )
