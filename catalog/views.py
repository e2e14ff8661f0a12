"""Catalogue pages: an artist, search."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from catalog import selectors
from catalog.models import Artist, Track

PAGE_SIZE = 20


def artist_detail(request, pk: int):
    artist = get_object_or_404(Artist, pk=pk)
    tracks = selectors.tracks_query(artist_id=artist.pk)
    matches = selectors.similar_artists(artist_id=artist.pk, n=8)
    names = dict(
        Artist.objects.filter(pk__in=[m.artist_id for m in matches]).values_list("pk", "name")
    )
    similar = [
        {"id": m.artist_id, "name": names[m.artist_id], "similarity": round(100 * m.similarity)}
        for m in matches
        if m.artist_id in names
    ]
    page = Paginator(tracks, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/artist.html",
        {"artist": artist, "page": page, "items": [{"track": t} for t in page], "similar": similar},
    )


def search(request):
    query = request.GET.get("q", "").strip()[:200]
    tracks = selectors.tracks_query(q=query) if query else Track.objects.none()
    page = Paginator(tracks, PAGE_SIZE).get_page(request.GET.get("page"))
    artists = list(selectors.artists_query(q=query)[:10]) if query else []
    return render(
        request,
        "catalog/search.html",
        {
            "query": query,
            "page": page,
            "items": [{"track": t, "badge": t.get_status_display() if t.status != "done" else ""}
                      for t in page],
            "artists": artists,
        },
    )  # fmt: skip
