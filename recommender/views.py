"""Pages that mix the catalogue, listening and the model: home, for-you, a track."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from catalog import selectors as catalog
from catalog.audio.moods import key_name
from catalog.models import AudioFeatures, Track
from listening import selectors as listening
from recommender import selectors

HOME_SHELVES, HOME_SHELF_SIZE = 2, 6
FOR_YOU_SHELVES, FOR_YOU_SHELF_SIZE = 5, 10


def home(request):
    popular_ids = selectors.popular_track_ids(limit=12)
    recent_ids = selectors.new_track_ids(limit=12)
    tracks = catalog.tracks_by_ids(popular_ids + recent_ids)
    context = {
        "popular": [{"track": tracks[i]} for i in popular_ids if i in tracks],
        "recent": [{"track": tracks[i]} for i in recent_ids if i in tracks],
        "shelves": [],
    }
    if request.user.is_authenticated:
        context["shelves"] = selectors.shelves_for_user(
            user=request.user, shelves=HOME_SHELVES, n=HOME_SHELF_SIZE
        ).shelves
    return render(request, "recommender/home.html", context)


@login_required
def for_you(request):
    body = selectors.shelves_for_user(
        user=request.user, shelves=FOR_YOU_SHELVES, n=FOR_YOU_SHELF_SIZE
    )
    has_listens = listening.user_has_listened(user_id=request.user.pk)
    picks = []
    if not body.shelves:
        picks = selectors.recommendations_for_user(user=request.user, n=12).results
    return render(
        request,
        "recommender/for_you.html",
        {
            "shelves": body.shelves,
            "model_version": body.model_version,
            "trained_at": body.trained_at,
            "has_listens": has_listens,
            "picks": [{"track": p.track, "detail": p.reason.text} for p in picks],
        },
    )


def track_detail(request, pk: int):
    track = get_object_or_404(Track.objects.select_related("artist", "album"), pk=pk)
    features = track.done_features()
    similar = catalog.similar_tracks(track=track, n=8)
    similar_tracks = catalog.tracks_by_ids([m.track_id for m in similar.matches])
    also = selectors.also_played(track=track, n=8)
    return render(
        request,
        "recommender/track.html",
        {
            "track": track,
            "features": features,
            "bars": _bars(features) if features else [],
            "moods": [m for m in AudioFeatures.MOODS if features and getattr(features, m)],
            "key": key_name(features.key, features.mode) if features else "",
            "similar": [
                {
                    "track": similar_tracks[m.track_id],
                    "badge": f"{round(100 * m.similarity)}% alike",
                    "detail": ", ".join(m.reasons),
                }
                for m in similar.matches
                if m.track_id in similar_tracks
            ],
            "also_played": [{"track": r.track} for r in also.results],
            "model_version": also.model_version,
        },
    )


def _bars(features: AudioFeatures) -> list[dict]:
    """The 0..1 features drawn as bars (inline SVG), each with its value for screen readers."""
    rows = [
        ("Energy", features.energy),
        ("Beat strength", features.beat_strength),
        ("Roll-off", features.spectral_rolloff),
        ("Bandwidth", features.spectral_bandwidth),
    ]
    return [
        {
            "label": label,
            "value": round(value, 2),
            "width": round(max(0.0, min(1.0, value)) * 300, 1),
            "y": 8 + i * 32,
        }
        for i, (label, value) in enumerate(rows)
    ]
