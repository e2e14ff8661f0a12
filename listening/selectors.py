"""Reads on listening history."""

from django.db.models import QuerySet

from listening.models import Feedback, ListeningEvent, UserTrackStats


def history_for_user(*, user) -> QuerySet[ListeningEvent]:
    """The user's own listens, newest first (served by the `event_history` index)."""
    return (
        ListeningEvent.objects.filter(user=user)
        .select_related("track__artist")
        .order_by("-listened_at", "-id")
    )


def feedback_for_user(*, user) -> QuerySet[Feedback]:
    return Feedback.objects.filter(user=user).order_by("-updated_at", "-id")


def stats_for_user(*, user_id: int) -> QuerySet[UserTrackStats]:
    return UserTrackStats.objects.filter(user_id=user_id)
