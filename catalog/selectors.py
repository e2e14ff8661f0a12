"""Reads on the catalogue: track and artist queries, "similar sounding"."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, Count, OuterRef, QuerySet, Subquery, Value, When

from catalog.models import Artist, AudioFeatures, Track
from catalog.search import artist_search_ids, track_search_ids
from catalog.similarity import ArtistMatch, Match
from catalog.similarity.store import get_index
from catalog.text import artist_unknown

EMOTIONS = AudioFeatures.MOODS


def tracks_query(
    *,
    q: str = "",
    artist_id: int | None = None,
    emotion: str = "",
    tempo_min: float | None = None,
    tempo_max: float | None = None,
    energy_min: float | None = None,
    energy_max: float | None = None,
    status: str = "",
) -> QuerySet[Track]:
    """Tracks, filtered; newest first, or best match first when `q` is given.

    `q` forgives typos and matches the title, the artist or both ("artist title"), ignoring case
    and accents (catalog.search); exact matches come first. The sound filters (`emotion`, tempo
    and energy ranges) keep only analysed tracks.
    """
    tracks = Track.objects.select_related("artist", "album", "features")
    if q:
        ids = track_search_ids(q=q)
        rank = Case(*[When(pk=pk, then=Value(i)) for i, pk in enumerate(ids)], default=Value(0))
        tracks = tracks.filter(pk__in=ids).annotate(search_rank=rank)
    if artist_id is not None:
        tracks = tracks.filter(artist_id=artist_id)
    if emotion:
        tracks = tracks.filter(**{f"features__{emotion}": True, "status": Track.Status.DONE})
    if tempo_min is not None:
        tracks = tracks.filter(features__tempo__gte=tempo_min)
    if tempo_max is not None:
        tracks = tracks.filter(features__tempo__lte=tempo_max)
    if energy_min is not None:
        tracks = tracks.filter(features__energy__gte=energy_min)
    if energy_max is not None:
        tracks = tracks.filter(features__energy__lte=energy_max)
    if any(v is not None for v in (tempo_min, tempo_max, energy_min, energy_max)):
        tracks = tracks.filter(status=Track.Status.DONE)
    if status:
        tracks = tracks.filter(status=status)
    if q:
        return tracks.order_by("search_rank", "-id")
    return tracks.order_by("-created_at", "-id")


def track_get(*, track_id: int) -> Track | None:
    return Track.objects.select_related("artist", "album", "features").filter(pk=track_id).first()


def tracks_by_ids(ids: list[int]) -> dict[int, Track]:
    """Tracks with their artist, keyed by id, in one query (for lists of results)."""
    return {t.pk: t for t in Track.objects.select_related("artist").filter(pk__in=ids)}


@dataclass(frozen=True)
class ArtistRef:
    id: int
    name: str


@dataclass(frozen=True)
class TrackCard:
    """What a list needs of a track: who made it, whether it can play. The API renders it as the
    compact track (catalog.serializers.card_data); templates read its attributes."""

    id: int
    title: str
    artist: ArtistRef
    duration_s: float | None
    has_audio: bool
    status: str

    @property
    def artist_id(self) -> int:
        return self.artist.id

    @property
    def playable(self) -> bool:
        """It has audio to stream (a track from imported history may have none)."""
        return self.has_audio

    @property
    def artist_unknown(self) -> bool:
        """Its artist is the "Unknown artist" of untagged files: not one artist for a cap."""
        return artist_unknown(self.artist.name)


def track_cards(ids) -> dict[int, TrackCard]:
    """Cards for these track ids, in one light query (tuples, not model instances).

    The artist's name comes from a per-row subquery on its primary key: a join makes PostgreSQL
    hash the whole artist table for a few dozen rows (1 ms at 5,000 artists, more as it grows).
    """
    artist_name = Artist.objects.filter(pk=OuterRef("artist_id")).order_by().values("name")[:1]
    rows = (
        Track.objects.filter(pk__in=list(ids))
        .order_by()
        .annotate(artist_name=Subquery(artist_name))
        .values_list("pk", "title", "artist_id", "artist_name", "duration_s", "audio", "status")
    )
    return {
        pk: TrackCard(
            id=pk,
            title=title,
            artist=ArtistRef(id=artist_id, name=artist_name),
            duration_s=duration_s,
            has_audio=bool(audio),
            status=status,
        )
        for pk, title, artist_id, artist_name, duration_s, audio, status in rows
    }


def artists_query(*, q: str = "") -> QuerySet[Artist]:
    """Artists with their track count; by name, or best match first when `q` is given."""
    artists = Artist.objects.annotate(track_count=Count("tracks"))
    if q:
        ids = artist_search_ids(q=q, limit=50)
        rank = Case(*[When(pk=pk, then=Value(i)) for i, pk in enumerate(ids)], default=Value(0))
        return artists.filter(pk__in=ids).annotate(search_rank=rank).order_by("search_rank", "id")
    return artists.order_by("name", "id")


@dataclass(frozen=True)
class SimilarTracks:
    track_id: int
    analysis_status: str
    matches: list[Match]


def similar_tracks(*, track: Track, n: int) -> SimilarTracks:
    """Tracks that sound like `track`, from the audio-feature index. Works for a track nobody has
    played; empty (with the track's analysis status saying why) for one without features."""
    index = get_index(wanted_track_id=track.pk)
    matches = index.similar(track.pk, n) if track.pk in index else []
    return SimilarTracks(track_id=track.pk, analysis_status=track.status, matches=matches)


def similar_artists(*, artist_id: int, n: int) -> list[ArtistMatch]:
    return get_index().similar_artists(artist_id, n)


def content_matches(
    *, seed_ids: list[int], candidate_ids: list[int]
) -> dict[int, tuple[float, int]]:
    """Each candidate's best audio similarity (0..1) to one of the seed tracks, and that seed.

    Used by the recommender to blend how tracks sound into its ranking.
    """
    return get_index().seed_matches(seed_ids, candidate_ids)


def content_top(
    *, seed_ids: list[int], n: int, exclude_ids, exclude_key: object = None
) -> list[tuple[int, float, int]]:
    """The n analysed tracks (outside `exclude_ids`) that sound most like any seed:
    (track id, similarity 0..1, seed id). Brings in tracks nobody has played yet."""
    return get_index().top_matches(seed_ids, n, exclude_ids=exclude_ids, exclude_key=exclude_key)
