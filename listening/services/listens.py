"""Recording listens (web player, API clients, the demo world) and excluding them from taste."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import Track
from listening.models import ListeningEvent
from listening.services.sql import adapt_time, values_execute
from listening.services.stats import Contribution, stats_add, stats_recompute
from listening.services.validation import listen_problems

MAX_BATCH = 1000
EVENTS_TABLE = ListeningEvent._meta.db_table


@dataclass(frozen=True)
class ListenInput:
    track_id: int
    listened_at: datetime | None = None
    ms_played: int | None = None
    completed: bool = False
    skipped: bool = False
    client_event_id: str | None = None


@dataclass(frozen=True)
class RecordResult:
    created: int
    duplicates: int


class ListenBatchError(ValidationError):
    """Some items of a batch are invalid. `item_errors[i]` is {field: [messages]} or {}."""

    def __init__(self, item_errors: list[dict[str, list[str]]]):
        self.item_errors = item_errors
        super().__init__("invalid listens")


def listens_record(*, user, listens: list[ListenInput], source: str) -> RecordResult:
    """Store a batch of 1 to 1000 listens for `user`, all or nothing.

    Every item is validated first (unknown track, `listened_at` in the future or before 2000,
    `ms_played` negative or above 2^31-1, completed and skipped both true); one bad item raises
    ListenBatchError and nothing is stored. A `client_event_id` already stored for this user, or
    repeated inside the batch, is a duplicate: counted, not stored again. Events and the
    per-(user, track) aggregate are written in one transaction. Safe to retry.
    """
    if not 1 <= len(listens) <= MAX_BATCH:
        raise ValidationError(f"send between 1 and {MAX_BATCH} listens at a time")
    now = timezone.now()
    _validate(listens, now)

    unique: list[ListenInput] = []
    seen_ids: set[str] = set()
    for item in listens:
        if item.client_event_id is not None:
            if item.client_event_id in seen_ids:
                continue
            seen_ids.add(item.client_event_id)
        unique.append(item)

    with transaction.atomic():
        stored = _insert(user.pk, unique, source, now)
        stats_add(
            Contribution(
                user_id=user.pk,
                track_id=item.track_id,
                listened_at=item.listened_at or now,
                completed=item.completed,
                skipped=item.skipped,
                play_count=1,
                ms_played=item.ms_played,
            )
            for item in stored
        )
    return RecordResult(created=len(stored), duplicates=len(listens) - len(stored))


def listen_set_excluded(*, user, event_id: int, excluded: bool) -> ListeningEvent:
    """Leave a listen out of the user's taste, or take it back in. Raises DoesNotExist for
    another user's event. The aggregate of that (user, track) is recomputed in the same
    transaction."""
    with transaction.atomic():
        event = ListeningEvent.objects.select_for_update().get(pk=event_id, user=user)
        if event.excluded != excluded:
            event.excluded = excluded
            event.save(update_fields=["excluded"])
            stats_recompute([(event.user_id, event.track_id)])
    return event


def _validate(listens: list[ListenInput], now: datetime) -> None:
    known = set(
        Track.objects.filter(pk__in={item.track_id for item in listens}).values_list(
            "pk", flat=True
        )
    )
    errors: list[dict[str, list[str]]] = []
    for item in listens:
        problems = {
            name: [message]
            for name, message in listen_problems(
                listened_at=item.listened_at,
                ms_played=item.ms_played,
                completed=item.completed,
                skipped=item.skipped,
                now=now,
            ).items()
        }
        if item.track_id not in known:
            problems = {"track_id": [f"no track with id {item.track_id}"], **problems}
        errors.append(problems)
    if any(errors):
        raise ListenBatchError(errors)


def _insert(user_id: int, items: list[ListenInput], source: str, now: datetime):
    """Insert, skipping client ids the user already has; return the items actually stored."""
    returned = values_execute(
        statement=f"INSERT INTO {EVENTS_TABLE} (user_id, track_id, listened_at, ms_played,"
        " completed, skipped, play_count, source, client_event_id, excluded, created_at)"
        " VALUES {values} ON CONFLICT DO NOTHING RETURNING client_event_id",
        rows=[
            (
                user_id,
                item.track_id,
                adapt_time(item.listened_at or now),
                item.ms_played,
                item.completed,
                item.skipped,
                1,
                source,
                item.client_event_id,
                False,
                adapt_time(now),
            )
            for item in items
        ],
    )
    inserted_ids = {row[0] for row in returned}
    return [
        item
        for item in items
        if item.client_event_id is None or item.client_event_id in inserted_ids
    ]
