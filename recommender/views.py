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
        context["shelves"] = _shelf_rows(
            selectors.shelves_for_user(
                user=request.user, shelves=HOME_SHELVES, n=HOME_SHELF_SIZE
            ).shelves
        )
    return render(request, "recommender/home.html", context)


def _shelf_rows(shelves) -> list[dict]:
    """Shelves as the page shows them: the seed (named and linked with its artist by the
    template), and each item with its own reason in words."""
    return [
        {
            "seed": shelf.seed,
            "title": shelf.title,
            "items": [{"track": r.track, "detail": r.reason.text} for r in shelf.results],
        }
        for shelf in shelves
    ]


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
            "shelves": _shelf_rows(body.shelves),
            "model_version": body.model_version,
            "trained_at": body.trained_at,
            "has_listens": has_listens,
            "picks": [{"track": p.track, "detail": p.reason.text} for p in picks],
        },
    )


def track_detail(request, pk: int):
    track = get_object_or_404(Track.objects.select_related("artist", "album"), pk=pk)
    feedback = None
    if request.user.is_authenticated:
        feedback = (
            listening.feedback_for_user(user=request.user)
            .filter(track_id=track.pk)
            .values_list("kind", flat=True)
            .first()
        )
    features = track.done_features()
    similar = catalog.similar_tracks(track=track, n=8)
    similar_tracks = catalog.tracks_by_ids([m.track_id for m in similar.matches])
    also = selectors.also_played(track=track, n=8)
    return render(
        request,
        "recommender/track.html",
        {
            "track": track,
            "feedback": feedback,
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
            "also_played": [
                {"track": r.track, "detail": f"Listeners of {track.title} also played it"}
                for r in also.results
            ],
            "model_version": also.model_version,
        },
    )


# The 0..1 features in a listener's words; the technical name is in each bar's tooltip.
BARS = (
    ("Energy", "energy", "how intense and active it feels"),
    ("Beat strength", "beat_strength", "how strong and steady the beat is"),
    ("Brightness", "spectral_rolloff", "spectral roll-off: how much of the sound is in the highs"),
    ("Fullness", "spectral_bandwidth", "spectral bandwidth: how wide a range of pitches it fills"),
)
LEVEL_WORDS = ((0.25, "low"), (0.5, "medium"), (0.75, "high"), (1.01, "very high"))
BAR_UNITS = 160  # a full bar, in the chart's viewBox (templates/recommender/track.html)


def _bars(features: AudioFeatures) -> list[dict]:
    """The 0..1 features drawn as bars (inline SVG), each with a word and its value."""
    bars = []
    for i, (label, name, help_text) in enumerate(BARS):
        value = max(0.0, min(1.0, getattr(features, name)))
        bars.append(
            {
                "label": label,
                "technical": name,
                "help": help_text,
                "value": round(value, 2),
                "word": next(word for limit, word in LEVEL_WORDS if value < limit),
                "width": round(value * BAR_UNITS, 1),
                "y": 8 + i * 32,
            }
        )
    return bars


def radio(request):
    """Stations to start: moods, the listener's taste, their recent artists, popular tracks."""
    popular_ids = selectors.popular_track_ids(limit=8)
    tracks = catalog.tracks_by_ids(popular_ids)
    artists = {}
    for track_id in popular_ids:
        if track_id in tracks:
            artists.setdefault(tracks[track_id].artist_id, tracks[track_id].artist)
    return render(
        request,
        "recommender/radio.html",
        {
            "moods": AudioFeatures.MOODS,
            "tracks": [tracks[i] for i in popular_ids if i in tracks][:6],
            "artists": list(artists.values())[:6],
        },
    )
