"""Search that forgives: typos, missing accents, and "artist title" in one query.

On PostgreSQL the trigram extension (pg_trgm, GIN indexes from migration 0003) finds candidates
and ranks them; elsewhere (SQLite, the demo) the same trigram measures run in Python over the
catalogue's names. Either way the ranking is:

1. exact matches first: the title, the artist, "artist title" or "title artist" equal to the query;
2. then by score: the best of the title's similarity, the query found inside the title, the
   artist's (slightly discounted), and "both the artist and the title are in the query";
3. names that merely contain the query (a few letters typed so far) always make the list.

Names are compared by their keys (catalog.text.name_key: no accents, no case); the query is
folded the same way, so "Beyonce" finds "Beyoncé". docs/player.md, "Search".
"""

from __future__ import annotations

from django.db import connection, transaction

from catalog.models import Artist, Track
from catalog.text import name_key
from catalog.trigrams import (
    ARTIST_WEIGHT,
    CONTAINS_SCORE,
    similarity,
    track_score,
    word_similarity,
)

MAX_CANDIDATES = 300
MIN_SCORE = 0.3  # pg_trgm's default similarity threshold; the Python path uses the same
# "the query is a fuzzy part of this name": lower than pg_trgm's default (0.6), so that one
# dropped letter in a short word ("Morau" in "Jeanne Moreau", 0.5) still finds it
WORD_THRESHOLD = 0.45


def track_search_ids(*, q: str, limit: int = MAX_CANDIDATES) -> list[int]:
    """Track ids matching `q`, best first (at most `limit`). Empty query: empty list."""
    key = name_key(q)
    if not key:
        return []
    if connection.vendor == "postgresql":
        return _postgres_tracks(key, limit)
    return _python_tracks(key, limit)


def artist_search_ids(*, q: str, limit: int = 10) -> list[int]:
    """Artist ids whose name matches `q`, best first."""
    key = name_key(q)
    if not key:
        return []
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            _thresholds(cursor)
            cursor.execute(
                f"""
                SELECT id FROM {Artist._meta.db_table}
                WHERE name_key %% %(q)s OR name_key %%> %(q)s OR strpos(name_key, %(q)s) > 0
                ORDER BY (name_key = %(q)s) DESC,
                         GREATEST(similarity(name_key, %(q)s), word_similarity(%(q)s, name_key),
                                  word_similarity(name_key, %(q)s)) DESC, id
                LIMIT %(limit)s
                """,
                {"q": key, "limit": limit},
            )
            return [row[0] for row in cursor.fetchall()]
    rows = Artist.objects.values_list("pk", "name_key")[:50_000]
    scored = []
    for pk, artist_key in rows:
        score = max(similarity(artist_key, key), word_similarity(key, artist_key),
                    word_similarity(artist_key, key))  # fmt: skip
        if key in artist_key:
            score = max(score, CONTAINS_SCORE)
        if score >= MIN_SCORE:
            scored.append((artist_key != key, -score, pk))
    return [pk for *_, pk in sorted(scored)[:limit]]


def _thresholds(cursor) -> None:
    """The trigram operators' thresholds for this transaction only (SET LOCAL)."""
    cursor.execute(
        "SELECT set_config('pg_trgm.similarity_threshold', %s, true),"
        " set_config('pg_trgm.word_similarity_threshold', %s, true)",
        [str(MIN_SCORE), str(WORD_THRESHOLD)],
    )


def _postgres_tracks(key: str, limit: int) -> list[int]:
    track, artist = Track._meta.db_table, Artist._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        _thresholds(cursor)
        cursor.execute(
            f"""
            WITH candidates AS (
                SELECT id FROM {track}
                WHERE title_key %% %(q)s OR title_key %%> %(q)s OR strpos(title_key, %(q)s) > 0
                UNION
                SELECT t.id FROM {track} t
                WHERE t.artist_id IN (
                    SELECT id FROM {artist}
                    WHERE name_key %% %(q)s OR name_key %%> %(q)s OR strpos(name_key, %(q)s) > 0
                )
            )
            SELECT t.id,
                   (t.title_key = %(q)s OR a.name_key = %(q)s
                    OR a.name_key || ' ' || t.title_key = %(q)s
                    OR t.title_key || ' ' || a.name_key = %(q)s) AS exact,
                   GREATEST(
                       similarity(t.title_key, %(q)s),
                       word_similarity(%(q)s, t.title_key),
                       %(artist_weight)s * GREATEST(similarity(a.name_key, %(q)s),
                                                    word_similarity(%(q)s, a.name_key)),
                       (word_similarity(t.title_key, %(q)s)
                        + word_similarity(a.name_key, %(q)s)) / 2,
                       CASE WHEN strpos(t.title_key, %(q)s) > 0 OR strpos(a.name_key, %(q)s) > 0
                            THEN %(contains)s ELSE 0 END
                   ) AS score
            FROM {track} t JOIN {artist} a ON a.id = t.artist_id
            WHERE t.id IN (SELECT id FROM candidates)
            ORDER BY exact DESC, score DESC, t.id DESC
            LIMIT %(limit)s
            """,
            {"q": key, "limit": limit, "artist_weight": ARTIST_WEIGHT, "contains": CONTAINS_SCORE},
        )
        return [pk for pk, exact, score in cursor.fetchall() if exact or score >= MIN_SCORE]


def _python_tracks(key: str, limit: int) -> list[int]:
    rows = Track.objects.values_list("pk", "title_key", "artist__name_key").order_by()[:50_000]
    scored = []
    for pk, title_key, artist_key in rows:
        score, exact = track_score(key, title_key, artist_key)
        if exact or score >= MIN_SCORE:
            scored.append((not exact, -score, -pk))
    return [-negative for *_, negative in sorted(scored)[:limit]]
