"""The catalogue in Django admin: uploads of one or many files, filters, re-analysis."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import Track
from tests.factories import TrackFactory
from tests.helpers import audio, contract_files

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_page_imports_many_files_with_per_file_results(staff_client):
    files = [SimpleUploadedFile(name, data) for name, data in contract_files.valid_files()[:2]] + [
        SimpleUploadedFile("notes.txt", b"not audio" * 100)
    ]
    response = staff_client.post("/admin/catalog/track/upload/", {"files": files, "artist": "Band"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "2 of 3 file(s) imported" in page
    assert "unsupported_format" in page
    assert Track.objects.filter(artist__name="Band").count() == 2
    assert set(Track.objects.values_list("status", flat=True)) == {"done"}


def test_add_form_takes_a_single_file_with_a_title(staff_client):
    data = audio.encode(audio.click_track(105, seconds=6), "WAV")
    response = staff_client.post(
        "/admin/catalog/track/add/", {"files": SimpleUploadedFile("a.wav", data), "title": "Named"}
    )
    assert response.status_code == 200
    assert Track.objects.get().title == "Named"


def test_changelist_filters_and_search(staff_client):
    TrackFactory(title="Broken", status="failed", error_code="silent")
    TrackFactory(title="Fine", status="done")
    page = staff_client.get("/admin/catalog/track/?status__exact=failed").content.decode()
    assert "Broken" in page
    assert "Fine" not in page
    page = staff_client.get("/admin/catalog/track/?error_code=silent").content.decode()
    assert "Broken" in page
    assert "Fine" in staff_client.get("/admin/catalog/track/?q=fine").content.decode()


def test_reanalyse_action_queues_the_selection(staff_client, tmp_path):
    from catalog.services import track_import

    path = audio.write(tmp_path / "x.flac", audio.click_track(100, seconds=6), "FLAC")
    track = track_import(source=path, original_name="x.flac").track
    Track.objects.filter(pk=track.pk).update(status="failed", error_code="timeout")
    response = staff_client.post(
        "/admin/catalog/track/",
        {"action": "reanalyse", "_selected_action": [track.pk]},
        follow=True,
    )
    assert "1 track(s) queued" in response.content.decode()
    track.refresh_from_db()
    assert track.status == "done"


def test_track_page_shows_the_error_explained(staff_client):
    track = TrackFactory(status="failed", error_code="undecodable", error_detail="lost sync")
    page = staff_client.get(f"/admin/catalog/track/{track.pk}/change/").content.decode()
    assert "lost sync" in page
    assert "corrupt or truncated" in page


def test_uploads_need_the_add_permission(client):
    from tests.factories import UserFactory

    user = UserFactory(is_staff=True)  # staff, but no catalogue permissions
    client.force_login(user)
    assert client.get("/admin/catalog/track/upload/").status_code == 403
