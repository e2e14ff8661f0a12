"""Likes, dislikes and "don't recommend", on a track or an artist: one per user and target."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Artist, Track
from listening.models import Feedback


def feedback_set(
    *, user, kind: str, track_id: int | None = None, artist_id: int | None = None
) -> tuple[Feedback, bool]:
    """Record the user's feedback on a track or an artist, replacing the kind of an earlier one.

    Returns the feedback and whether it was new. Exactly one of track_id / artist_id.
    """
    if (track_id is None) == (artist_id is None):
        raise ValidationError({"track_id": ["give either track_id or artist_id"]})
    if kind not in Feedback.Kind.values:
        raise ValidationError({"kind": [f"must be one of {', '.join(Feedback.Kind.values)}"]})
    if track_id is not None and not Track.objects.filter(pk=track_id).exists():
        raise ValidationError({"track_id": [f"no track with id {track_id}"]})
    if artist_id is not None and not Artist.objects.filter(pk=artist_id).exists():
        raise ValidationError({"artist_id": [f"no artist with id {artist_id}"]})
    target = {"track_id": track_id} if track_id is not None else {"artist_id": artist_id}
    try:
        with transaction.atomic():
            feedback, created = Feedback.objects.get_or_create(
                user=user, **target, defaults={"kind": kind}
            )
    except IntegrityError:  # a concurrent request created it first
        feedback, created = Feedback.objects.get(user=user, **target), False
    if not created and feedback.kind != kind:
        feedback.kind = kind
        feedback.save(update_fields=["kind", "updated_at"])
    return feedback, created


def feedback_delete(*, user, feedback_id: int) -> None:
    """Delete the user's own feedback; another user's is DoesNotExist."""
    Feedback.objects.get(pk=feedback_id, user=user).delete()


def feedback_set_many(*, kinds: dict[tuple[int, int], str]) -> int:
    """Set the feedback of many (user id, track id) pairs at once (imports), replacing the kind
    of earlier feedback on the same track. Ids must exist. Returns how many pairs changed."""
    if not kinds:
        return 0
    with transaction.atomic():
        existing = {
            (f.user_id, f.track_id): f
            for f in Feedback.objects.select_for_update().filter(
                user_id__in={u for u, _ in kinds}, track_id__in={t for _, t in kinds}
            )
        }
        new = [
            Feedback(user_id=u, track_id=t, kind=kind)
            for (u, t), kind in kinds.items()
            if (u, t) not in existing
        ]
        changed = []
        for pair, feedback in existing.items():
            if pair in kinds and feedback.kind != kinds[pair]:
                feedback.kind = kinds[pair]
                feedback.updated_at = timezone.now()
                changed.append(feedback)
        Feedback.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        Feedback.objects.bulk_update(changed, ["kind", "updated_at"], batch_size=1000)
    return len(new) + len(changed)
