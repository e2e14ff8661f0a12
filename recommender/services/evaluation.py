"""The catalogue as the served-list evaluation needs it (engine/served.py): each matrix track's
artist, whether the per-artist cap counts it, and the sound index."""

from __future__ import annotations

import numpy as np

from catalog import selectors as catalog
from recommender.engine.served import Catalogue

CHUNK = 5000


def catalogue_for(track_ids: np.ndarray) -> Catalogue:
    """Artists and sound for these (matrix column) track ids; a track no longer in the
    catalogue counts as its own artist."""
    ids = [int(t) for t in track_ids]
    artist_ids = np.full(len(ids), -1, dtype=np.int64)
    capped = np.ones(len(ids), dtype=bool)
    for start in range(0, len(ids), CHUNK):
        cards = catalog.track_cards(ids[start : start + CHUNK])
        for i in range(start, min(start + CHUNK, len(ids))):
            card = cards.get(ids[i])
            if card is None:
                artist_ids[i] = -1 - i
            else:
                artist_ids[i] = card.artist_id
                capped[i] = not card.artist_unknown
    return Catalogue(
        artist_ids=artist_ids,
        capped=capped,
        sound=lambda seeds, candidates: catalog.content_matches(
            seed_ids=seeds, candidate_ids=candidates
        ),
    )
