"""The rule every door applies to one listen before it is stored (the API, the player, imports)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# A client's clock may run a little ahead of ours; more than this is "in the future".
CLOCK_SKEW = timedelta(minutes=5)
# The largest value the integer columns hold (PostgreSQL `integer`).
MAX_INT = 2**31 - 1


def listen_problems(
    *,
    listened_at: datetime | None,
    ms_played: int | None,
    completed: bool,
    skipped: bool,
    now: datetime,
) -> dict[str, str]:
    """What is wrong with one listen, as {field: message}; empty when it can be stored."""
    problems: dict[str, str] = {}
    if listened_at is not None:
        if listened_at > now + CLOCK_SKEW:
            problems["listened_at"] = "is in the future"
        elif listened_at < EARLIEST:
            problems["listened_at"] = "is before 2000-01-01"
    if ms_played is not None:
        if ms_played < 0:
            problems["ms_played"] = "must not be negative"
        elif ms_played > MAX_INT:
            problems["ms_played"] = f"must be at most {MAX_INT}"
    if completed and skipped:
        problems["skipped"] = "a listen cannot be both completed and skipped"
    return problems
