from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.audio.names import FEATURE_NAMES, MFCC_NAMES, MOOD_NAMES


class Artist(models.Model):
    name = models.CharField(max_length=255)
    # case-, accent- and space-insensitive form, unique: imports and uploads match on it
    name_key = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Album(models.Model):
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="albums")
    title = models.CharField(max_length=255)
    title_key = models.CharField(max_length=255)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["artist__name", "title"]
        constraints = [
            models.UniqueConstraint(fields=["artist", "title_key"], name="album_unique_per_artist")
        ]

    def __str__(self) -> str:
        return self.title


class Track(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        DONE = "done"
        FAILED = "failed"
        NO_AUDIO = "no_audio"

    title = models.CharField(max_length=255)
    title_key = models.CharField(max_length=255)
    artist = models.ForeignKey(Artist, on_delete=models.PROTECT, related_name="tracks")
    album = models.ForeignKey(
        Album, on_delete=models.SET_NULL, null=True, blank=True, related_name="tracks"
    )
    duration_s = models.FloatField(null=True, blank=True)

    # The stored file's name is generated (audio/ab/<uuid>.<ext>), never the client's.
    audio = models.FileField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64, unique=True, null=True, blank=True)
    audio_format = models.CharField(max_length=32, blank=True)
    mime_type = models.CharField(max_length=32, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    original_filename = models.CharField(max_length=255, blank=True)

    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=32, blank=True)
    error_detail = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(default=timezone.now)
    analysed_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "status_changed_at"], name="track_status_since"),
            models.Index(fields=["artist", "title_key"], name="track_artist_title"),
            models.Index(fields=["title_key"], name="track_title_key"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.artist})" if self.artist_id else self.title

    def done_features(self) -> "AudioFeatures | None":
        """The features of a finished analysis, else None (a re-analysis hides the old ones)."""
        if self.status != self.Status.DONE:
            return None
        try:
            return self.features
        except AudioFeatures.DoesNotExist:
            return None


class AudioFeatures(models.Model):
    """The analysis of one track: each named feature in its own column (docs/features.md)."""

    track = models.OneToOneField(
        Track, on_delete=models.CASCADE, primary_key=True, related_name="features"
    )
    extractor_version = models.CharField(max_length=32)
    mfcc_1 = models.FloatField()
    mfcc_2 = models.FloatField()
    mfcc_3 = models.FloatField()
    mfcc_4 = models.FloatField()
    mfcc_5 = models.FloatField()
    tempo = models.FloatField(help_text="beats per minute")
    beat_strength = models.FloatField(help_text="0..1")
    energy = models.FloatField(help_text="0..1")
    loudness = models.FloatField(help_text="dBFS, negative")
    spectral_centroid = models.FloatField(help_text="Hz")
    spectral_rolloff = models.FloatField(help_text="fraction of the Nyquist frequency")
    spectral_bandwidth = models.FloatField(help_text="fraction of the Nyquist frequency")
    happy = models.BooleanField()
    sad = models.BooleanField()
    energetic = models.BooleanField()
    calm = models.BooleanField()
    # what the mood rule saw, kept to explain the flags
    key = models.PositiveSmallIntegerField(help_text="0 = C ... 11 = B")
    mode = models.CharField(max_length=5, choices=[("major", "major"), ("minor", "minor")])
    arousal = models.FloatField(null=True, blank=True, help_text="none for non-music")
    valence = models.FloatField(null=True, blank=True, help_text="none for non-music")
    # speech, nature sounds, silence-heavy recordings: False, and no mood flags
    is_music = models.BooleanField(default=True, db_default=True)
    # the sound description "similar sounding" compares: float32, little-endian, in the order of
    # catalog.audio.description.DESCRIPTION_NAMES (docs/features.md); null before extractor
    # 2026.12-1 (run `manage.py analyse --all`)
    description = models.BinaryField(null=True, blank=True, editable=False)
    computed_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    # the columns above, named once in catalog/audio/names.py (a test checks they exist)
    VECTOR_FIELDS = FEATURE_NAMES
    MOODS = MOOD_NAMES

    class Meta:
        verbose_name_plural = "audio features"
        constraints = [
            models.CheckConstraint(
                condition=Q(beat_strength__gte=0, beat_strength__lte=1)
                & Q(energy__gte=0, energy__lte=1)
                & Q(spectral_rolloff__gte=0, spectral_rolloff__lte=1)
                & Q(spectral_bandwidth__gte=0, spectral_bandwidth__lte=1)
                & Q(tempo__gte=0),
                name="features_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"features of track {self.track_id}"

    def vector(self) -> list[float]:
        """The 16 numbers in the order of `FEATURE_NAMES` (moods as 1.0 / 0.0)."""
        return [float(getattr(self, name)) for name in self.VECTOR_FIELDS]

    @property
    def mfcc(self) -> list[float]:
        return [getattr(self, name) for name in MFCC_NAMES]
