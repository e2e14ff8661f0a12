"""The two bulk-write shapes every listening writer uses: multi-row VALUES and COPY via a
temporary table. Table and column names come from the callers (model metadata), never input."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# Rows per multi-row statement: well inside SQLite's 32,766 placeholders at 11 columns.
VALUES_ROWS = 1000


def values_execute(
    *, statement: str, rows: Sequence[Sequence], casts: Sequence[str] | None = None
) -> list[tuple]:
    """Run `statement` once per VALUES_ROWS rows, with `{values}` in it replaced by the rows as
    a multi-row VALUES list; returns what the statements return (RETURNING), in order.

    `casts` (PostgreSQL only) gives each column a type, e.g. "integer": a column that is NULL in
    every row of a VALUES list would otherwise be text.
    """
    if not rows:
        return []
    width = len(rows[0])
    row_sql = "(" + ", ".join(["%s"] * width) + ")"
    # Only the first row carries the casts: PostgreSQL types a VALUES column as UNION does, so
    # the other rows' untyped parameters (NULL, text) take the first row's type. A cast on every
    # parameter would make the statement several times longer, and psycopg parses every
    # statement too long for its cache anew (about 10% of a listen batch's CPU).
    if casts and connection.vendor == "postgresql":
        first_sql = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    else:
        first_sql = row_sql
    returned: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), VALUES_ROWS):
            chunk = rows[start : start + VALUES_ROWS]
            params = [value for row in chunk for value in row]
            values = ", ".join([first_sql, *[row_sql] * (len(chunk) - 1)])
            cursor.execute(statement.format(values=values), params)
            if cursor.description is not None:
                returned += cursor.fetchall()
    return returned


@contextlib.contextmanager
def copy_staged(*, table: str, columns: str, data: str | Iterable[Sequence]) -> Iterator:
    """PostgreSQL: COPY `data` (COPY text, or rows) into the session temporary table `table`
    (created on first use with `columns`, emptied at commit) and yield a cursor to read it with;
    the table is emptied again afterwards. Call inside a transaction."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({columns}) ON COMMIT DELETE ROWS")
        with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
            if isinstance(data, str):
                copy.write(data)
            else:
                for row in data:
                    copy.write_row(row)
        yield cursor
        cursor.execute(f"TRUNCATE {table}")


def as_datetime(value) -> datetime:
    """A timestamp as the database returns it from raw SQL: a datetime on PostgreSQL, text on
    SQLite (naive UTC)."""
    if not isinstance(value, datetime):
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def adapt_time(value: datetime):
    """A datetime as a raw-SQL parameter for this database (psycopg takes an aware datetime as
    it is: the shortcut saves a call per row of a listen batch)."""
    if connection.vendor == "postgresql":
        return value
    return connection.ops.adapt_datetimefield_value(value)
