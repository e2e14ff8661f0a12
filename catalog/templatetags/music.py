"""Template helpers for music pages: one shape for a track row, durations as m:ss."""

from __future__ import annotations

from django import template

from catalog.models import Track
from catalog.selectors import TrackCard
from catalog.serializers import card_data, compact_track, image_url

register = template.Library()


@register.filter
def track_row(track) -> dict:
    """What a row needs of a track: a TrackCard, a Track (artist loaded) or a compact dict."""
    if isinstance(track, TrackCard):
        track = card_data(track)
    elif isinstance(track, Track):
        track = compact_track(track)
    artist = track.get("artist") or {}
    return {
        "id": track.get("id"),
        "title": track.get("title"),
        "artist_id": artist.get("id"),
        "artist_name": artist.get("name"),
        "duration_s": track.get("duration_s"),
        "audio_url": track.get("audio_url") or "",
        "playable": bool(track.get("playable", track.get("audio_url"))),
        "image_url": track.get("image_url") or image_url(track.get("id")),
    }


@register.filter
def any_playable(items) -> bool:
    """Whether a list (items of {"track": ...}) holds a track with audio: "Play all" needs one."""
    return any(track_row(item["track"])["playable"] for item in items or ())


@register.filter
def duration(seconds) -> str:
    """212.4 -> "3:32"; nothing for an unknown duration."""
    try:
        total = round(float(seconds))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
