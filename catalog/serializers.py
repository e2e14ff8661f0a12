"""JSON shapes for tracks and artists (docs/api.md, "Tracks" and "Artists")."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Artist, AudioFeatures, Track

if TYPE_CHECKING:
    from catalog.selectors import TrackCard


class ArtistCompactSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AlbumSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    year = serializers.IntegerField(allow_null=True)


@lru_cache(maxsize=1)
def _audio_url_template() -> str:
    return reverse("api:track-audio", args=[0]).replace("/0/", "/{}/")


@lru_cache(maxsize=1)
def _image_url_template() -> str:
    return reverse("api:track-art", args=[0]).replace("/0/", "/{}/")


def image_url(track_id: int) -> str:
    """The track's picture: its cover art, or the one drawn from its sound (never missing)."""
    return _image_url_template().format(track_id)


def audio_url(track: Track) -> str | None:
    if not track.audio:
        return None
    return _audio_url_template().format(track.pk)


def compact_fields(
    *, pk: int, title: str, artist_id: int, artist_name: str, duration_s, has_audio: bool
) -> dict:
    """{id, title, artist: {id, name}, duration_s, audio_url, image_url, playable}: the track
    inside other answers (docs/api.md, "Tracks inside other answers"). `playable`: it has audio to
    stream; tracks without (imported history) are still listed and recommended."""
    return {
        "id": pk,
        "title": title,
        "artist": {"id": artist_id, "name": artist_name},
        "duration_s": duration_s,
        "audio_url": _audio_url_template().format(pk) if has_audio else None,
        "image_url": _image_url_template().format(pk),
        "playable": bool(has_audio),
    }


def card_data(card: TrackCard) -> dict:
    """The compact shape of a catalog.selectors.TrackCard."""
    return compact_fields(
        pk=card.id,
        title=card.title,
        artist_id=card.artist.id,
        artist_name=card.artist.name,
        duration_s=card.duration_s,
        has_audio=card.has_audio,
    )


def compact_track(track: Track) -> dict:
    """The compact shape of a Track instance. A plain function: a serializer per item costs
    milliseconds on a list of 40; the serializer below documents the same shape and uses it."""
    return compact_fields(
        pk=track.pk,
        title=track.title,
        artist_id=track.artist_id,
        artist_name=track.artist.name,
        duration_s=track.duration_s,
        has_audio=bool(track.audio),
    )


class TrackFields(serializers.Serializer):
    """The fields every track shape starts with."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    artist = ArtistCompactSerializer()
    duration_s = serializers.FloatField(allow_null=True)
    audio_url = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField()
    playable = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_playable(self, track: Track) -> bool:
        return bool(track.audio)

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="null: no audio"))
    def get_audio_url(self, track: Track) -> str | None:
        return audio_url(track)

    @extend_schema_field(OpenApiTypes.STR)
    def get_image_url(self, track: Track) -> str:
        return image_url(track.pk)


class TrackCompactSerializer(TrackFields):
    """The track used inside other responses: {id, title, artist, duration_s, audio_url,
    image_url, playable}."""

    def to_representation(self, track: Track) -> dict:
        return compact_track(track)


class AnalysisStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Track.Status.choices)


class TrackListSerializer(TrackFields):
    analysis = serializers.SerializerMethodField()

    @extend_schema_field(AnalysisStatusSerializer)
    def get_analysis(self, track: Track) -> dict:
        return {"status": track.status}

    def to_representation(self, track: Track) -> dict:
        return {**compact_track(track), "analysis": {"status": track.status}}


class AnalysisSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Track.Status.choices)
    error_code = serializers.CharField(allow_null=True)
    detail = serializers.CharField(allow_null=True, help_text="why it failed, for people")
    extractor_version = serializers.CharField(allow_null=True)


class EmotionsSerializer(serializers.Serializer):
    happy = serializers.IntegerField()
    sad = serializers.IntegerField()
    energetic = serializers.IntegerField()
    calm = serializers.IntegerField()


class FeaturesSerializer(serializers.Serializer):
    mfcc = serializers.ListField(child=serializers.FloatField(), min_length=5, max_length=5)
    tempo = serializers.FloatField()
    beat_strength = serializers.FloatField()
    energy = serializers.FloatField()
    loudness = serializers.FloatField()
    spectral_centroid = serializers.FloatField()
    spectral_rolloff = serializers.FloatField()
    spectral_bandwidth = serializers.FloatField()
    emotions = EmotionsSerializer()


DECIMALS = 4  # the same in `features` and `vector`, so vector[5] == features.tempo


def features_data(features: AudioFeatures) -> dict:
    def value(name: str) -> float:
        return round(getattr(features, name), DECIMALS)

    return {
        "mfcc": [round(v, DECIMALS) for v in features.mfcc],
        **{
            name: value(name)
            for name in (
                "tempo",
                "beat_strength",
                "energy",
                "loudness",
                "spectral_centroid",
                "spectral_rolloff",
                "spectral_bandwidth",
            )
        },
        "emotions": {mood: int(getattr(features, mood)) for mood in AudioFeatures.MOODS},
    }


class TrackDetailSerializer(TrackFields):
    album = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    analysis = serializers.SerializerMethodField()
    features = serializers.SerializerMethodField()
    vector = serializers.SerializerMethodField()

    @extend_schema_field(AlbumSerializer(allow_null=True))
    def get_album(self, track: Track) -> dict | None:
        if track.album is None:
            return None
        return {"id": track.album.pk, "title": track.album.title, "year": track.album.year}

    @extend_schema_field(AnalysisSerializer)
    def get_analysis(self, track: Track) -> dict:
        features = track.done_features()
        return {
            "status": track.status,
            "error_code": track.error_code or None,
            "detail": track.error_detail or None,
            "extractor_version": features.extractor_version if features else None,
        }

    @extend_schema_field(FeaturesSerializer(allow_null=True))
    def get_features(self, track: Track) -> dict | None:
        features = track.done_features()
        return features_data(features) if features else None

    @extend_schema_field(serializers.ListField(child=serializers.FloatField(), allow_null=True))
    def get_vector(self, track: Track) -> list[float] | None:
        features = track.done_features()
        return [round(v, DECIMALS) for v in features.vector()] if features else None


class TrackUploadSerializer(serializers.Serializer):
    audio = serializers.FileField(allow_empty_file=True, use_url=False)
    title = serializers.CharField(required=False, allow_blank=True, max_length=255)
    artist = serializers.CharField(required=False, allow_blank=True, max_length=255)
    album = serializers.CharField(required=False, allow_blank=True, max_length=255)


class UploadRefusedSerializer(serializers.Serializer):
    """A refused upload; a form that fails its field checks (no file, a long title) is
    DRF's field-level body instead, as every 400: {"title": ["..."]}."""

    error_code = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)
    audio = serializers.ListField(child=serializers.CharField(), required=False)


class DuplicateSerializer(serializers.Serializer):
    error_code = serializers.CharField()
    detail = serializers.CharField()
    track_id = serializers.IntegerField()


class SimilarResultSerializer(serializers.Serializer):
    track = TrackCompactSerializer()
    similarity = serializers.FloatField(min_value=0, max_value=1)
    reasons = serializers.ListField(child=serializers.CharField())


class SimilarSerializer(serializers.Serializer):
    track_id = serializers.IntegerField()
    source = serializers.CharField()
    analysis_status = serializers.CharField()
    results = SimilarResultSerializer(many=True)


class ArtistSerializer(serializers.ModelSerializer):
    tracks = serializers.IntegerField(source="track_count", read_only=True)

    class Meta:
        model = Artist
        fields = ["id", "name", "tracks"]


class SimilarArtistSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    similarity = serializers.FloatField()


class ArtistDetailSerializer(ArtistSerializer):
    similar_artists = SimilarArtistSerializer(many=True, read_only=True)

    class Meta(ArtistSerializer.Meta):
        fields = [*ArtistSerializer.Meta.fields, "similar_artists"]
