"""Catalogue pages (an artist, browse and search) and track pictures."""

from __future__ import annotations

from itertools import groupby

from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_cache_control
from django.utils.http import quote_etag
from django.views.decorators.http import condition, require_GET

from catalog import selectors
from catalog.art.covers import cover_path
from catalog.art.draw import picture_svg
from catalog.forms import SoundFilterForm
from catalog.models import Artist, Track

PAGE_SIZE = 20
ART_MAX_AGE = 300  # seconds; then revalidated with the ETag (a finished analysis redraws it)


def artist_detail(request, pk: int):
    artist = get_object_or_404(Artist, pk=pk)
    tracks = selectors.tracks_query(artist_id=artist.pk).order_by(
        "album__year", "album__title", "album_id", "title", "id"
    )
    matches = selectors.similar_artists(artist_id=artist.pk, n=8)
    names = dict(
        Artist.objects.filter(pk__in=[m.artist_id for m in matches]).values_list("pk", "name")
    )
    similar = [
        {"id": m.artist_id, "name": names[m.artist_id], "similarity": round(100 * m.similarity)}
        for m in matches
        if m.artist_id in names
    ]
    page = Paginator(tracks, 50).get_page(request.GET.get("page"))
    groups = [
        {"album": album, "items": [{"track": t} for t in group]}
        for album, group in groupby(page, key=lambda t: t.album)
    ]
    return render(
        request,
        "catalog/artist.html",
        {
            "artist": artist,
            "page": page,
            "groups": groups,
            "items": [{"track": t} for t in page],
            "pictures": [t.pk for t in page][:4],
            "similar": similar,
        },
    )


def search(request):
    """Browse (no query) or search, both narrowed by mood, tempo and energy."""
    form = SoundFilterForm(request.GET)
    filters = form.filters()
    query = (form.cleaned_data.get("q") or "").strip() if form.is_valid() else ""
    browsing = not query
    tracks = selectors.tracks_query(q=query, **filters)
    if browsing and not form.active():
        tracks = tracks.filter(status=Track.Status.DONE)
    page = Paginator(tracks, PAGE_SIZE).get_page(request.GET.get("page"))
    artists = list(selectors.artists_query(q=query)[:10]) if query else []
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "catalog/search.html",
        {
            "query": query,
            "form": form,
            "filtered": form.active(),
            "page": page,
            "page_query": params.urlencode(),
            "items": [{"track": t, "badge": t.get_status_display() if t.status != "done" else ""}
                      for t in page],
            "artists": artists,
        },
    )  # fmt: skip


def _art_etag(request, pk: int) -> str | None:
    track = Track.objects.filter(pk=pk).values("status", "updated_at").first()
    if track is None:
        return None
    cover = cover_path(pk)
    stamp = int(cover.stat().st_mtime) if cover.exists() else track["updated_at"].timestamp()
    return f"art-{pk}-{stamp}-{track['status']}"


@require_GET
@condition(etag_func=_art_etag)
def track_art(request, pk: int):
    """The track's picture: its embedded cover art (JPEG), or one drawn from its sound (SVG)."""
    track = get_object_or_404(Track.objects.select_related("artist", "features"), pk=pk)
    cover = cover_path(pk)
    if cover.exists():
        response = FileResponse(cover.open("rb"), content_type="image/jpeg")
    else:
        features = track.done_features()
        svg = picture_svg(
            features.vector() if features else None, key=f"{track.title}|{track.artist.name}"
        )
        response = HttpResponse(svg, content_type="image/svg+xml")
    response["ETag"] = quote_etag(_art_etag(request, pk))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    patch_cache_control(response, public=True, max_age=ART_MAX_AGE)
    return response
