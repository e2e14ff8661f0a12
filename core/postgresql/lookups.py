"""Exact-key lookups that never read a trigram index.

The catalogue's name keys carry two indexes on PostgreSQL: a btree (unique on artists) for exact
matches and a GIN trigram index for search (catalog/migrations/0003). pg_trgm 1.6 (PostgreSQL
14+) lets that GIN index answer `=` as well, and the planner prices it far too low for a long
`name_key IN (...)` list: each element is a separate trigram search, and each search also reads
the whole GIN pending list (rows inserted since the last vacuum, up to gin_pending_list_limit).
An import that had just created 5,000 artists spent 49-72 s on one 5,000-key lookup that way,
against 10 ms through the btree (docs/performance.md, "Imports that create what is missing").

GIN indexes can only be read through bitmap scans, so turning bitmap scans off for the lookup
leaves the planner the btree, a hash join or a sequential scan, all of them linear in the keys.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection, transaction


@contextlib.contextmanager
def exact_key_lookups() -> Iterator[None]:
    """Run the statements inside without bitmap scans (PostgreSQL; elsewhere nothing changes).

    The setting is transaction-local and restored on the way out; if the block raises, the
    rollback of its transaction or savepoint restores it."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('enable_bitmapscan'),"
                " set_config('enable_bitmapscan', 'off', true)"
            )
            previous = cursor.fetchone()[0]
        yield
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('enable_bitmapscan', %s, true)", [previous])
