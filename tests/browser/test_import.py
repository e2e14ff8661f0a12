"""/import/ in a real browser: a listener uploads a Spotify history file, a real Celery worker
imports it, and the page that waited shows the report; the scrobbling token fits a phone."""

import json
import re

import pytest
from playwright.sync_api import expect

from listening.models import ImportBatch, ListeningEvent
from tests.browser.test_player import fits, log_in, wait_for
from tests.helpers import history_files as files
from tests.helpers.worker import start_worker

pytestmark = [
    pytest.mark.browser,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def test_a_spotify_upload_is_imported_by_the_worker_and_reported(
    page, server, screenshot, tmp_path
):
    log_in(page, server, "importer")
    page.goto(f"{server}/import/")
    entries, expected, left_out = files.spotify_extended()
    page.get_by_label("History file").set_input_files(
        files={
            "name": "Streaming_History_Audio_2024.json",
            "mimeType": "application/json",
            "buffer": json.dumps(entries).encode(),
        }
    )
    page.locator("main").get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r".*/import/\d+/$"))
    # no worker yet: the task waits in Redis and the page says so, updating itself
    expect(page.get_by_role("status").filter(has_text="Waiting to start")).to_be_visible()
    screenshot("import-waiting-desktop")
    worker = start_worker(tmp_path)
    try:
        finished = wait_for(
            lambda: ImportBatch.objects.filter(
                user__username="importer", status__in=("done", "failed")
            ).first(),
            timeout=60,
        )
    except AssertionError:
        raise AssertionError(f"the import never finished; worker log:\n{worker.log()}") from None
    finally:
        worker.stop()
    report = page.get_by_test_id("import-report")
    report.wait_for()  # the page refreshes itself every 2 s
    batch = ImportBatch.objects.get(pk=finished.pk)
    assert (batch.status, batch.file_format) == ("done", "spotify")
    assert page.get_by_test_id("imported").inner_text() == str(len(expected))
    expect(report).to_contain_text(f"Left out (podcasts, audiobooks){left_out}")
    assert ListeningEvent.objects.filter(user__username="importer").count() == len(expected)
    screenshot("import-report-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("import-report-390")
    assert fits(page), "the report scrolls sideways at 390 px"
    page.goto(f"{server}/import/")
    token = page.get_by_test_id("scrobble-token")
    box = token.bounding_box()
    assert box["x"] + box["width"] <= 390, "the API token runs off a phone's screen"
    screenshot("import-390")
    assert fits(page), "/import/ scrolls sideways at 390 px"
    expect(page.locator("main")).to_contain_text(batch.file_name)
    assert page.problems.left() == []  # no console error or CSP violation on the way
