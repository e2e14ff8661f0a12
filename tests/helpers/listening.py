"""Assertions about listening data shared by the listening tests."""

from listening.models import ListeningEvent, UserTrackStats
from listening.services.stats import aggregate_from_events


def stored_aggregate() -> dict[tuple[int, int], dict]:
    """UserTrackStats as stored, in the shape aggregate_from_events() computes."""
    return {
        (s.user_id, s.track_id): {
            "completed_plays": s.completed_plays,
            "partial_plays": s.partial_plays,
            "skips": s.skips,
            "ms_played": s.ms_played,
            "first_listened_at": s.first_listened_at,
            "last_listened_at": s.last_listened_at,
        }
        for s in UserTrackStats.objects.all()
    }


def assert_aggregate_consistent() -> None:
    assert stored_aggregate() == aggregate_from_events(ListeningEvent.objects.all())
