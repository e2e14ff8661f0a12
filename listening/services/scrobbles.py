"""Listens sent live by scrobblers (media servers, browser extensions, phone apps) through the
ListenBrainz-compatible endpoint (docs/listening.md)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from listening.models import ListeningEvent
from listening.services.imports.resolve import tracks_resolve
from listening.services.imports.rows import clean, key
from listening.services.listens import MAX_BATCH, ListenInput, RecordResult, listens_record


@dataclass(frozen=True)
class Scrobble:
    listened_at: datetime
    artist: str
    title: str


def scrobbles_record(*, user, scrobbles: list[Scrobble]) -> RecordResult:
    """Store scrobbled listens for `user`, all or nothing; 1 to MAX_BATCH at a time.

    Tracks are matched by artist and title (as imports match them) and created without audio
    when missing. A scrobble is a play, neither completed nor skipped (scrobblers send a listen
    once half the track or four minutes were heard, and do not say more). A listen is identified
    by its time, artist and title: sending it again is a duplicate, never a second listen.
    Names are the caller's to check; `listens_record` checks the times.
    """
    if not 1 <= len(scrobbles) <= MAX_BATCH:
        raise ValueError(f"send between 1 and {MAX_BATCH} scrobbles at a time")
    names = {(key(s.artist), key(s.title)): (clean(s.artist), clean(s.title)) for s in scrobbles}
    # New tracks are committed first (under the creation lock), then the listens in one go.
    tracks, _ = tracks_resolve(names=names, create_missing=True)
    items = [
        ListenInput(
            track_id=tracks[(key(s.artist), key(s.title))],
            listened_at=s.listened_at,
            client_event_id=_event_id(s),
        )
        for s in scrobbles
    ]
    return listens_record(user=user, listens=items, source=ListeningEvent.Source.SCROBBLE)


def _event_id(scrobble: Scrobble) -> str:
    identity = f"{int(scrobble.listened_at.timestamp())}\x1f{key(scrobble.artist)}\x1f" + key(
        scrobble.title
    )
    return "lb:" + hashlib.sha256(identity.encode()).hexdigest()[:61]
