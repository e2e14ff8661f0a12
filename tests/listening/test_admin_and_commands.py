"""Listening in Django admin, and rebuild_listening_stats."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from listening.models import ListeningEvent, UserTrackStats
from listening.services import ListenInput, listens_record
from tests.factories import TrackFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    ana, bo = UserFactory(username="ana"), UserFactory(username="bo")
    halo, creep = TrackFactory(title="Halo"), TrackFactory(title="Creep")
    listens_record(user=ana, listens=[ListenInput(track_id=halo.pk, completed=True)], source="api")
    listens_record(user=bo, listens=[ListenInput(track_id=creep.pk, skipped=True)], source="api")
    return ana, bo, halo, creep


def test_events_filter_by_username_and_track(staff_client, history):
    *_, creep = history
    page = staff_client.get("/admin/listening/listeningevent/?username=ana").content.decode()
    assert "Halo" in page
    assert "Creep" not in page
    page = staff_client.get(
        f"/admin/listening/listeningevent/?track_id={creep.pk}"
    ).content.decode()
    assert "Creep" in page
    assert "Halo" not in page


def test_events_are_read_only_in_admin(staff_client, history):
    event = ListeningEvent.objects.first()
    assert staff_client.get("/admin/listening/listeningevent/add/").status_code == 403
    response = staff_client.post(
        f"/admin/listening/listeningevent/{event.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert ListeningEvent.objects.filter(pk=event.pk).exists()


def test_rebuild_recomputes_a_damaged_aggregate(history):
    UserTrackStats.objects.all().update(completed_plays=99, skips=42)
    ana, _, halo, _ = history
    ListeningEvent.objects.create(
        user=ana, track=halo, listened_at=timezone.now(), source="api", excluded=True
    )
    out = StringIO()
    call_command("rebuild_listening_stats", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"pairs": 2}
    stats = {s.track.title: s for s in UserTrackStats.objects.select_related("track")}
    assert (stats["Halo"].completed_plays, stats["Halo"].skips) == (1, 0)
    assert (stats["Creep"].completed_plays, stats["Creep"].skips) == (0, 1)
