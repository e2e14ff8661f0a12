"""Trigram measures as PostgreSQL's pg_trgm counts them, and the track score built on them.

Pure Python (no Django): the search on SQLite uses these; on PostgreSQL the database computes the
same measures (catalog.search). Each word is padded with two spaces before and one after.
"""

from __future__ import annotations

ARTIST_WEIGHT = 0.9
CONTAINS_SCORE = 0.7


def track_score(key: str, title_key: str, artist_key: str) -> tuple[float, bool]:
    """(score, exact) of one track for a folded query: the Python twin of the SQL above."""
    exact = key in (title_key, artist_key, f"{artist_key} {title_key}", f"{title_key} {artist_key}")
    score = max(
        similarity(title_key, key),
        word_similarity(key, title_key),
        ARTIST_WEIGHT * max(similarity(artist_key, key), word_similarity(key, artist_key)),
        (word_similarity(title_key, key) + word_similarity(artist_key, key)) / 2,
        CONTAINS_SCORE if key in title_key or key in artist_key else 0.0,
    )
    return score, exact


def trigram_list(text: str) -> list[str]:
    """The trigrams of `text` in order, word by word."""
    grams: list[str] = []
    for word in "".join(ch if ch.isalnum() else " " for ch in text).split():
        padded = f"  {word} "
        grams.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def trigrams(text: str) -> set[str]:
    return set(trigram_list(text))


def similarity(a: str, b: str) -> float:
    """Shared trigrams over all trigrams of both (pg_trgm's similarity)."""
    x, y = trigrams(a), trigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


def word_similarity(a: str, b: str) -> float:
    """pg_trgm's word_similarity: the best similarity between the trigrams of `a` and a
    contiguous run of the trigrams of `b`; 1.0 when `a` appears in `b` as whole words."""
    x = trigrams(a)
    sequence = trigram_list(b)
    if not x or not sequence:
        return 0.0
    best = 0.0
    for start in range(len(sequence)):
        if sequence[start] not in x:
            continue  # the best run starts and ends on a shared trigram
        extent: set[str] = set()
        for gram in sequence[start:]:
            extent.add(gram)
            if gram in x:
                best = max(best, len(x & extent) / len(x | extent))
        if best == 1.0:
            break
    return best
