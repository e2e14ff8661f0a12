"""The strict Content-Security-Policy (docs/reliability.md, row 17) holds on every page loaded
whole: no page, the player or the API docs needs an inline script or style (Chromium reports
none)."""

import pytest

from tests.factories import TrackFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def test_the_pages_pass_the_policy(server, page):
    track = TrackFactory()
    for path in ["/", "/accounts/login/", "/accounts/signup/", f"/tracks/{track.pk}/",
                 f"/artists/{track.artist_id}/", "/search/?q=a", "/api/docs/"]:  # fmt: skip
        response = page.goto(f"{server}{path}", wait_until="networkidle")
        assert response.status < 400, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert page.csp_violations == [], path
    # the docs page really rendered (its script is a file, allowed)
    page.wait_for_selector(".swagger-ui .information-container", timeout=15_000)
    # an inline script is refused and reported: the check above can see violations
    probe = (
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__inline = 1'; document.body.appendChild(s); }"
    )
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate(probe)
    assert page.evaluate("() => window.__inline") is None
    assert page.csp_violations, "the probe's inline script should have been reported"
    page.csp_violations.clear()
