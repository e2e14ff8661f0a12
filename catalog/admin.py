"""Django admin for the catalogue: status at a glance, uploads of one or many files, re-analysis."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from catalog.audio.errors import DESCRIPTIONS
from catalog.audio.names import (
    DYNAMICS_NAMES,
    MFCC_NAMES,
    MOOD_NAMES,
    RHYTHM_NAMES,
    SPECTRUM_NAMES,
)
from catalog.models import Album, Artist, AudioFeatures, Track
from catalog.services import (
    IMPORTED,
    album_save,
    artist_save,
    track_save_metadata,
    tracks_reanalyse,
    upload_import,
)
from catalog.text import name_key

STATUS_COLOURS = {
    Track.Status.PENDING: "#8a6d00",
    Track.Status.PROCESSING: "#1f5fa8",
    Track.Status.DONE: "#1d7a35",
    Track.Status.FAILED: "#b3261e",
    Track.Status.NO_AUDIO: "#666",
}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "audio/*"}))
        kwargs.setdefault("allow_empty_file", True)  # the import service reports empty files
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        clean_one = super().clean
        if isinstance(data, list | tuple):
            return [clean_one(item, initial) for item in data]
        return [clean_one(data, initial)]


class UploadForm(forms.Form):
    files = MultipleFileField(
        label="Audio files",
        help_text="WAV, FLAC, OGG (Vorbis, Opus), MP3 or AIFF. Choose one file or many.",
    )
    title = forms.CharField(
        max_length=255, required=False, help_text="Only for a single file; else tags or file name."
    )
    artist = forms.CharField(
        max_length=255, required=False, help_text="Overrides the tags for every file."
    )
    album = forms.CharField(max_length=255, required=False)


class AudioFeaturesInline(admin.StackedInline):
    model = AudioFeatures
    can_delete = False
    extra = 0
    max_num = 0
    fields = [
        ("extractor_version", "computed_at"),
        MFCC_NAMES,
        RHYTHM_NAMES,
        DYNAMICS_NAMES,
        SPECTRUM_NAMES,
        MOOD_NAMES,
        ("key", "mode", "arousal", "valence"),
    ]
    readonly_fields = [f for row in fields for f in (row if isinstance(row, tuple) else (row,))]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_fields(self, request, obj=None):
        return [tuple(_rounded_name(f) for f in row) for row in self.fields]

    def get_readonly_fields(self, request, obj=None):
        return [_rounded_name(f) for f in self.readonly_fields]


FEATURE_DECIMALS = 3


def _rounded_name(name: str) -> str:
    field = AudioFeatures._meta.get_field(name)
    return f"{name}_shown" if field.get_internal_type() == "FloatField" else name


def _rounded(name: str):
    field = AudioFeatures._meta.get_field(name)

    @admin.display(description=field.verbose_name)
    def show(self, features: AudioFeatures) -> str:
        value = getattr(features, name)
        return "-" if value is None else f"{value:.{FEATURE_DECIMALS}f}"

    return show


for _field in AudioFeatures._meta.get_fields():
    if getattr(_field, "get_internal_type", None) and _field.get_internal_type() == "FloatField":
        setattr(AudioFeaturesInline, f"{_field.name}_shown", _rounded(_field.name))


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "artist",
        "status_badge",
        "error_code",
        "audio_format",
        "duration",
        "attempts",
        "created_at",
    ]
    list_filter = ["status", "error_code", "audio_format", "created_at"]
    search_fields = ["title", "artist__name", "album__title", "original_filename", "sha256"]
    list_select_related = ["artist"]
    autocomplete_fields = ["artist", "album"]
    actions = ["reanalyse"]
    inlines = [AudioFeaturesInline]
    date_hierarchy = "created_at"
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["title", "artist", "album", "player"]}),
        (
            "Analysis",
            {"fields": ["status", "error_code", "error_explained", "error_detail", "attempts"]},
        ),
        (
            "File",
            {
                "fields": [
                    "audio_file",
                    "audio_format",
                    "mime_type",
                    "duration_s",
                    "sample_rate",
                    "channels",
                    "size_bytes",
                    "sha256",
                    "original_filename",
                ]
            },
        ),
        ("Times", {"fields": ["created_at", "status_changed_at", "analysed_at", "updated_at"]}),
    ]
    # everything but the names is read-only: files and analysis change only through services
    readonly_fields = [
        field
        for _, section in fieldsets
        for field in section["fields"]
        if field not in ("title", "artist", "album")
    ]

    @admin.display(description="status", ordering="status")
    def status_badge(self, track: Track) -> str:
        return format_html(
            '<strong style="color:{}">{}</strong>',
            STATUS_COLOURS.get(track.status, "#000"),
            track.get_status_display(),
        )

    @admin.display(description="duration", ordering="duration_s")
    def duration(self, track: Track) -> str:
        if track.duration_s is None:
            return "-"
        minutes, seconds = divmod(round(track.duration_s), 60)
        return f"{minutes}:{seconds:02d}"

    @admin.display(description="audio")
    def audio_file(self, track: Track) -> str:
        """The stored name, linked to the API's audio view (media files are never routed)."""
        if not track.pk or not track.audio:
            return "-"
        return format_html(
            '<a href="{}">{}</a>', reverse("api:track-audio", args=[track.pk]), track.audio.name
        )

    @admin.display(description="what the code means")
    def error_explained(self, track: Track) -> str:
        return DESCRIPTIONS.get(track.error_code, "-")

    @admin.display(description="listen")
    def player(self, track: Track) -> str:
        if not track.pk or not track.audio:
            return "-"
        return format_html(
            '<audio controls preload="none" src="{}"></audio>',
            reverse("api:track-audio", args=[track.pk]),
        )

    @admin.action(description="Re-analyse the selected tracks")
    def reanalyse(self, request: HttpRequest, queryset) -> None:
        queued = len(tracks_reanalyse(tracks=queryset))
        self.message_user(request, f"{queued} track(s) queued for analysis.", messages.SUCCESS)

    def save_model(self, request, obj, form, change) -> None:
        track_save_metadata(track=obj)

    def get_urls(self):
        upload = self.admin_site.admin_view(self.upload_view)
        return [
            path("upload/", upload, name="catalog_track_upload"),
            *super().get_urls(),
        ]

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None):
        return self.upload_view(request)

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        """Upload one or many files; every file goes through track_import, results per file."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        results = []
        if request.method == "POST":
            form = UploadForm(request.POST, request.FILES)
            if form.is_valid():
                results = self._import_uploads(form)
                form = UploadForm()
        else:
            form = UploadForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload audio",
            "opts": self.model._meta,
            "form": form,
            "results": results,
            "imported": sum(1 for r in results if r["result"] == IMPORTED),
            "pending": sum(
                1
                for r in results
                if r["track"] is not None
                and r["result"] == IMPORTED
                and r["track"].status in (Track.Status.PENDING, Track.Status.PROCESSING)
            ),
        }
        return TemplateResponse(request, "admin/catalog/track/upload.html", context)

    def _import_uploads(self, form: UploadForm) -> list[dict]:
        files = form.cleaned_data["files"]
        title = form.cleaned_data["title"] if len(files) == 1 else ""
        results = []
        for upload in files:
            outcome = upload_import(
                upload=upload,
                title=title,
                artist_name=form.cleaned_data["artist"],
                album_title=form.cleaned_data["album"],
            )
            track = Track.objects.filter(pk=outcome.track_id).first()
            results.append(
                {
                    "name": upload.name,
                    "result": outcome.result,
                    "track": track,
                    "error_code": outcome.error_code,
                    "detail": outcome.detail,
                }
            )
        return results


class ArtistForm(forms.ModelForm):
    class Meta:
        model = Artist
        fields = ["name"]

    def clean_name(self):
        name = self.cleaned_data["name"]
        clash = Artist.objects.filter(name_key=name_key(name)).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("An artist with this name already exists.")
        return name


@admin.register(Artist)
class ArtistAdmin(admin.ModelAdmin):
    form = ArtistForm
    list_display = ["name", "track_count", "created_at"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(track_count=Count("tracks"))

    @admin.display(description="tracks", ordering="track_count")
    def track_count(self, artist: Artist) -> int:
        return artist.track_count

    def save_model(self, request, obj, form, change) -> None:
        artist_save(artist=obj)


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ["title", "artist", "year"]
    list_select_related = ["artist"]
    search_fields = ["title", "artist__name"]
    autocomplete_fields = ["artist"]
    exclude = ["title_key"]

    def save_model(self, request, obj, form, change) -> None:
        album_save(album=obj)
