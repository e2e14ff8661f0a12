"""One user's personal ranking, glued together: their taste from listening's read API, the
model's scores, the catalogue's sound and cards, and the pure ranking of `engine/ranking.py`
(docs/recommender.md, "Serving")."""

from __future__ import annotations

import numpy as np

from catalog import selectors as catalog
from listening import selectors as listening
from recommender.engine.ranking import (
    Pick,
    Selection,
    best_recommendable,
    blend,
    by_score,
    sound_score,
    top_indices,
)
from recommender.engine.taste import Taste, taste_build
from recommender.serving import Served

CONTENT_SEEDS = 5  # of the user's seeds, the ones searched for across the whole catalogue


def taste_of(user_id: int) -> Taste:
    """The user's taste now: their aggregate rows merged with their feedback."""
    now = listening.listening_for_user(user_id=user_id)
    rows = now.listening
    return taste_build(
        user_id=user_id,
        track_ids=rows.track_ids,
        completed=rows.completed,
        partial=rows.partial,
        skips=rows.skips,
        feedback=[(f.track_id, f.artist_id, f.kind) for f in now.feedback],
        newest=now.newest,
    )


def rank_personal(
    *, user_id: int, taste: Taste, served: Served, n: int, include_played: bool
) -> list[Pick]:
    """ALS candidates blended with audio similarity, plus unseen tracks by audio alone; the
    chosen picks carry their cards, and ALS-led ones the listened track that explains them."""
    model = served.model
    alpha, function = model.params.get("alpha", 10.0), model.params.get("confidence", "log")
    columns = model.columns_of(taste.track_ids)
    known = columns >= 0
    item_df = np.zeros(len(columns), dtype=np.asarray(model.item_users).dtype)
    item_df[known] = np.asarray(model.item_users)[columns[known]]
    values = taste.values(alpha, function, item_df=item_df, bm25_stats=model.params.get("bm25"))
    row = model.user_row(columns[known], values[known])
    listened_since = taste.newest is not None and (
        served.trained_at is None or taste.newest > served.trained_at
    )
    vector = model.user_vector(user_id, row, recalculate=listened_since)
    scores = model.scores(vector)

    want = n * 4 + 40  # enough to survive the filters and the per-artist cap
    order = top_indices(scores, want + len(taste.track_ids))
    als_tracks = model.track_ids[order].astype(np.int64)
    hidden = set() if include_played else taste.played
    top_score = best_recommendable(scores[order], np.isin(als_tracks, list(hidden)))
    seeds = taste.seeds()
    matches = catalog.content_matches(seed_ids=seeds, candidate_ids=als_tracks.tolist())
    found = [matches.get(t, (np.nan, None)) for t in als_tracks.tolist()]  # NaN: no sound
    picks = blend(
        track_ids=als_tracks,
        als_scores=scores[order],
        top_score=top_score,
        listeners=model.item_users[order],
        similarity=np.array([similarity for similarity, _ in found], dtype=np.float64),
        sound_seeds=[seed for _, seed in found],
    )
    hidden |= taste.blocked_tracks
    picks = [p for p in picks if p.track_id not in hidden]
    taken = {p.track_id for p in picks}
    for track_id, similarity, seed in catalog.content_top(
        seed_ids=seeds[:CONTENT_SEEDS],
        n=n * 2 + 10,
        exclude_ids=model.track_ids,
        exclude_key=served.version,
    ):
        if track_id not in taken and track_id not in hidden:
            score = float(sound_score(np.array([similarity]))[0])
            picks.append(Pick(track_id, score, "content", "sounds_like", seed))
            taken.add(track_id)

    chosen = choose(by_score(picks), taste=taste, n=n, include_played=include_played)
    _explain(chosen, model, row, user_id)
    return chosen


def choose(picks: list[Pick], *, taste: Taste, n: int, include_played: bool) -> list[Pick]:
    """Drop blocked and played (unless asked) tracks; at most 2 per artist, tracks by an
    unknown artist not counted together. Tracks without audio stay (cards say `playable`).

    Cards are read a chunk at a time, best picks first: the first chunk almost always fills the
    list, and reading 50 tracks instead of 200 is most of a request's database time.
    """
    hidden = (set() if include_played else taste.played) | taste.blocked_tracks
    selection = Selection(n=n, hidden=hidden, blocked_artists=taste.blocked_artists)
    chunk = 2 * n + 10
    for start in range(0, len(picks), chunk):
        batch = picks[start : start + chunk]
        cards = catalog.track_cards(p.track_id for p in batch)
        for pick in batch:
            card = cards.get(pick.track_id)
            selection.offer(
                pick,
                card,
                artist_id=card.artist_id if card else None,
                capped=card is not None and not card.artist_unknown,
            )
            if selection.full:
                return selection.chosen
    return selection.chosen


def _explain(picks: list[Pick], model, row, user_id: int) -> None:
    """Attribute each ALS pick to the listened track that contributes most to its score among
    those that share a listener with it (someone else played both): a reason must be true of
    the listening, not only of the factors. With none, the pick says "listened" unattributed."""
    als = [pick for pick in picks if pick.source == "als"]
    ranked = model.explain_ranked(row, [model.column_of(pick.track_id) for pick in als])
    seeds = [[int(model.track_ids[c]) for c in columns] for columns in ranked]
    first = listening.first_co_listened(
        seeds_of={pick.track_id: group for pick, group in zip(als, seeds, strict=True)},
        exclude_user_id=user_id,
    )
    for pick, group in zip(als, seeds, strict=True):
        if not group:
            pick.reason_type = "popular"
            continue
        pick.seed_id = first.get(pick.track_id)
