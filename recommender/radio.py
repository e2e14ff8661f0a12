"""Radio: an endless station from a track, an artist, a mood or the listener's taste.

Each batch blends three voices: how tracks sound (catalog's "similar sounding" index, around the
station's anchors), what the same listeners played (the model's item factors) and, for a
signed-in listener, their own ALS scores. Rules (docs/player.md, "Radio"):

- no track comes twice within a station (the station remembers everything it has handed out);
- at most two tracks in a row by one artist;
- a skipped track pushes away the tracks that sound like it, and an artist skipped twice rests;
- the tracks the listener let play become anchors too, so the station follows them.

The station's state lives in the cache (Redis in production) for STATION_SECONDS; the station id
is signed and carries the seed, so an expired state restarts the same station rather than failing.
The player also sends the ids already in its queue (`played`, oldest first): a state the cache
lost (Redis down or restarted, evicted, another process's memory in the demo) is rebuilt from
them, so a station never repeats a track the listener still has, whatever the cache did.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

import numpy as np
from django.core import signing
from django.core.cache import cache

from catalog import selectors as catalog
from catalog.models import Track
from recommender.selectors import recommendations_for_user
from recommender.serving import served_model

STATION_SECONDS = 12 * 3600
SALT = "musicrec.radio"
MAX_IN_A_ROW = 2
ANCHORS = 6
POOL = 120  # candidates scored per batch
WEIGHTS = {"sound": 0.5, "also": 0.3, "taste": 0.2}
SKIP_PENALTY = 1.2
CLOSE_SOUND = 0.3  # below this closeness a pick is "the closest left", not "sounds like"
# a station plays what it lists: tracks with audio whose analysis has not failed
PLAYABLE = (Track.Status.DONE, Track.Status.PENDING, Track.Status.PROCESSING)
MOOD_WORDS = {"happy": "Happy", "sad": "Sad", "energetic": "Energetic", "calm": "Calm"}


class StationError(ValueError):
    """The station id is not one this server handed out to this listener."""


@dataclass
class Pick:
    track_id: int
    score: float
    reason_type: str  # seed | sounds_like | also_played | taste | mood
    reason_track: int | None = None
    taste_text: str = ""
    sound: float = 0.0  # the sound voice's 0..1 closeness, to word the reason honestly


@dataclass
class Station:
    id: str
    seed: dict
    user_id: int | None
    played: list[int] = field(default_factory=list)
    artists: list[int] = field(default_factory=list)  # artist of each handed-out track, last few
    skipped: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class RadioBatch:
    station: str
    picks: list[tuple[catalog.TrackCard, dict]]  # (card, reason {type, text, track: card|None})


def station_start(*, seed: dict, user_id: int | None) -> Station:
    token = signing.dumps({"s": seed, "u": user_id, "n": secrets.token_hex(6)}, salt=SALT)
    return Station(id=token, seed=seed, user_id=user_id)


def station_get(*, station_id: str, user_id: int | None) -> Station:
    try:
        data = signing.loads(station_id, salt=SALT)
    except signing.BadSignature as exc:
        raise StationError("Unknown station.") from exc
    if data.get("u") != user_id:
        raise StationError("This station belongs to another listener.")
    station = Station(id=station_id, seed=data["s"], user_id=user_id)
    saved = cache.get(_key(station_id)) or {}
    station.played = saved.get("played", [])
    station.artists = saved.get("artists", [])
    station.skipped = saved.get("skipped", [])
    return station


def _key(station_id: str) -> str:
    return "radio:" + station_id[-40:]


def radio_next(
    *, station: Station, user, n: int, skipped: list[int], filters: dict, played: list[int] = ()
) -> RadioBatch:
    """The next `n` tracks of `station` (fewer only when the catalogue runs out), with reasons.

    `skipped` are track ids of this station the listener skipped and `played` the ids already in
    the listener's queue, oldest first (the player sends both); `filters` narrow by sound
    (emotion, tempo_min/max, energy_min/max). Saves the station state.
    """
    _remember(station, list(played))
    played = set(station.played)
    station.skipped = sorted(set(station.skipped) | {t for t in skipped if t in played})
    picks = _candidates(station, user, exclude=played, filters=filters)
    chosen = _choose(station, picks, n)
    cards = catalog.track_cards([p.track_id for p in chosen] + [p.reason_track for p in chosen
                                                                 if p.reason_track])  # fmt: skip
    out = []
    for pick in chosen:
        card = cards[pick.track_id]
        station.played.append(pick.track_id)
        station.artists = ([*station.artists, card.artist_id])[-MAX_IN_A_ROW:]
        out.append((card, _reason(pick, cards, station.seed)))
    cache.set(
        _key(station.id),
        {"played": station.played, "artists": station.artists, "skipped": station.skipped},
        STATION_SECONDS,
    )
    return RadioBatch(station=station.id, picks=out)


def _remember(station: Station, played: list[int]) -> None:
    """Add what the client says it has to what the cache remembered; where the cache kept no
    state, the client's last tracks also give the artists of the last picks."""
    if not played:
        return
    if not station.artists:
        cards = catalog.track_cards(played[-MAX_IN_A_ROW:])
        station.artists = [cards[t].artist_id for t in played[-MAX_IN_A_ROW:] if t in cards]
    station.played = list(dict.fromkeys([*station.played, *played]))


def _anchors(station: Station, user) -> list[int]:
    seed = station.seed
    anchors: list[int] = []
    if "track" in seed:
        anchors = [seed["track"]]
    elif "artist" in seed:
        tracks = catalog.tracks_query(artist_id=seed["artist"], status="done")
        anchors = list(tracks.values_list("pk", flat=True)[:ANCHORS])
    elif "mood" in seed:
        pool = list(catalog.tracks_query(emotion=seed["mood"]).values_list("pk", flat=True)[:500])
        rng = np.random.default_rng(int(hashlib.sha1(station.id.encode()).hexdigest()[:8], 16))
        anchors = [int(t) for t in rng.permutation(pool)[:ANCHORS]] if pool else []
    elif "taste" in seed and user is not None:
        results = recommendations_for_user(user=user, n=ANCHORS).results
        anchors = [r.reason.track.id for r in results if r.reason.track is not None]
        anchors = anchors or [r.track.id for r in results]
    liked = [t for t in station.played[-4:] if t not in station.skipped]
    return list(dict.fromkeys(anchors + liked))


def _candidates(station: Station, user, *, exclude: set[int], filters: dict) -> list[Pick]:
    anchors = _anchors(station, user)
    exclude_ids = np.fromiter(exclude, dtype=np.int64, count=len(exclude))
    scores: dict[int, dict] = {}

    def add(track_id: int, voice: str, value: float, reason_track: int | None, text: str = ""):
        entry = scores.setdefault(track_id, {"sound": 0.0, "also": 0.0, "taste": 0.0, "why": {}})
        if value > entry[voice] or voice not in entry["why"]:
            entry[voice] = max(value, entry[voice])
            entry["why"][voice] = (reason_track, text)

    for track_id, similarity, anchor in catalog.content_top(
        seed_ids=anchors, n=POOL, exclude_ids=exclude_ids
    ):
        add(track_id, "sound", max(0.0, (similarity - 0.5) * 2), anchor)
    served = served_model()
    if served is not None:
        for anchor in anchors[:3]:
            column = served.model.column_of(anchor)
            if column is None:
                continue
            similar = served.model.similar_items(column, POOL // 3)
            best = max((score for _, score in similar), default=0.0) or 1.0
            for c, score in similar:
                add(int(served.model.track_ids[c]), "also", max(0.0, score / best), anchor)
    if user is not None and served is not None:
        results = recommendations_for_user(user=user, n=40).results
        for rank, result in enumerate(results):
            add(result.track.id, "taste", 1 - rank / len(results), None, result.reason.text)

    if "track" in station.seed and not station.played:
        add(station.seed["track"], "sound", 10.0, None)  # a track's station opens with it
    scores = {t: s for t, s in scores.items() if t not in exclude}
    if filters or "mood" in station.seed:
        wanted = {**filters}
        if "mood" in station.seed:
            wanted["emotion"] = station.seed["mood"]
        matching = catalog.tracks_query(**wanted).filter(pk__in=list(scores))
        keep = set(matching.values_list("pk", flat=True))
        scores = {t: s for t, s in scores.items() if t in keep}

    penalty = _skip_penalty(station, list(scores))
    picks = []
    for track_id, entry in scores.items():
        total = sum(WEIGHTS[v] * entry[v] for v in WEIGHTS) - penalty.get(track_id, 0.0)
        voice = max(WEIGHTS, key=lambda v: WEIGHTS[v] * entry[v])
        reason_track, text = entry["why"].get(voice, (None, ""))
        reason_type = {"sound": "sounds_like", "also": "also_played", "taste": "taste"}[voice]
        if entry["sound"] >= 10.0:
            reason_type = "seed"
        elif "mood" in station.seed and voice == "sound":
            reason_type = "mood"
        picks.append(Pick(track_id, total, reason_type, reason_track, text, entry["sound"]))
    picks.sort(key=lambda p: (-p.score, p.track_id))
    return picks


def _skip_penalty(station: Station, candidate_ids: list[int]) -> dict[int, float]:
    """How much each candidate sounds like what the listener skipped in this station."""
    if not station.skipped or not candidate_ids:
        return {}
    matches = catalog.content_matches(seed_ids=station.skipped, candidate_ids=candidate_ids)
    return {t: SKIP_PENALTY * max(0.0, (s - 0.5) * 2) ** 2 for t, (s, _) in matches.items()}


def _choose(station: Station, picks: list[Pick], n: int) -> list[Pick]:
    """Best first, playable only, never a third track in a row by one artist, and artists the
    listener skipped twice in this station left out."""
    cards = catalog.track_cards([p.track_id for p in picks[: n * 6 + 20]] + station.skipped)
    skipped_artists: dict[int, int] = {}
    for track_id in station.skipped:
        if track_id in cards:
            artist = cards[track_id].artist_id
            skipped_artists[artist] = skipped_artists.get(artist, 0) + 1
    recent = list(station.artists)
    chosen: list[Pick] = []
    postponed: list[Pick] = []
    for pick in picks[: n * 6 + 20]:
        card = cards.get(pick.track_id)
        if card is None or card.status not in PLAYABLE or not card.playable:
            continue
        if skipped_artists.get(card.artist_id, 0) >= 2:
            continue
        if len(recent) >= MAX_IN_A_ROW and all(a == card.artist_id for a in recent[-MAX_IN_A_ROW:]):
            postponed.append(pick)
            continue
        chosen.append(pick)
        recent = ([*recent, card.artist_id])[-MAX_IN_A_ROW:]
        for waiting in list(postponed):  # a postponed track fits once another artist played
            other = cards[waiting.track_id].artist_id
            if not all(a == other for a in recent[-MAX_IN_A_ROW:]) and len(chosen) < n:
                chosen.append(waiting)
                postponed.remove(waiting)
                recent = ([*recent, other])[-MAX_IN_A_ROW:]
        if len(chosen) >= n:
            break
    return chosen[:n]


def _reason(pick: Pick, cards: dict, seed: dict) -> dict:
    other = cards.get(pick.reason_track) if pick.reason_track else None
    title = f"{other.title} by {other.artist.name}" if other else ""
    if pick.reason_type == "seed":
        text = "The track this station started from"
    elif pick.reason_type == "mood":
        text = f"{MOOD_WORDS[seed['mood']]}" + (f", and sounds like {title}" if title else "")
    elif pick.reason_type == "sounds_like" and other and pick.sound < CLOSE_SOUND:
        text = f"The closest left to {title}"  # nothing near remains: say so, not "sounds like"
    elif pick.reason_type == "sounds_like" and other:
        text = f"Sounds like {title}"
    elif pick.reason_type == "also_played" and other:
        text = f"Listeners of {title} also played it"
    elif pick.reason_type == "taste":
        text = pick.taste_text or "From your taste"
    else:
        text = "Fits this station"
    return {"type": pick.reason_type, "text": text, "track": other}
