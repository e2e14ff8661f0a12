from django.conf import settings
from django.db import models
from django.db.models import F, Q

from catalog.models import Artist, Track


class ImportBatch(models.Model):
    """One run of `import_listens` or one upload on /import/: what came in and what was
    refused. An upload waits `pending` (its file in `upload`) until its task runs it."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class Format(models.TextChoices):
        EVENTS = "events", "one row per listen"
        TOTALS = "totals", "aggregated play counts"

    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, db_index=True, blank=True)
    format = models.CharField(max_length=8, choices=Format, blank=True)
    file_format = models.CharField(max_length=16, blank=True, help_text="csv, spotify, ...")
    # The listener who uploaded it on /import/ (their history only); empty for the command.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="import_batches",
    )
    upload = models.CharField(max_length=255, blank=True, help_text="the uploaded file, until read")
    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status, default=Status.RUNNING)
    # Runs started (an upload's task may be delivered again after its worker was killed)
    attempts = models.PositiveSmallIntegerField(default=0)
    rows = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    left_out = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    created_tracks = models.PositiveIntegerField(default=0)
    created_users = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="the first rejected rows")
    failure = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    # When an upload's task was last sent: the sweep re-sends one left `pending`
    queued_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.file_name} ({self.started_at:%Y-%m-%d %H:%M})"


class ListeningEvent(models.Model):
    """One listen (play_count 1), or an imported total of N plays of a track by a user."""

    class Source(models.TextChoices):
        PLAYER = "player", "web player"
        API = "api", "API client"
        SCROBBLE = "scrobble", "scrobbler (ListenBrainz API)"
        IMPORT = "import", "imported listen"
        IMPORT_TOTAL = "import_total", "imported play count"
        DEMO = "demo", "demo world"

    # No index of its own on `user`: event_history and event_user_track both start with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="listening_events",
        db_index=False,
    )
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="listening_events")
    listened_at = models.DateTimeField()
    ms_played = models.PositiveIntegerField(null=True, blank=True)
    completed = models.BooleanField(default=False)
    skipped = models.BooleanField(default=False)
    play_count = models.PositiveIntegerField(default=1)
    source = models.CharField(max_length=16, choices=Source)
    # NULL, not "": many events have none, and the per-user unique constraint skips NULLs
    client_event_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    excluded = models.BooleanField(default=False, help_text="left out of the user's taste")
    # Not indexed: every imported row would pay for it, and batches are history (never deleted).
    import_batch = models.ForeignKey(
        ImportBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-listened_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-listened_at", "-id"], name="event_history"),
            models.Index(fields=["user", "track"], name="event_user_track"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "client_event_id"],
                condition=Q(client_event_id__isnull=False),
                name="event_client_id_unique_per_user",
            ),
            models.UniqueConstraint(
                fields=["user", "track", "listened_at"],
                condition=Q(source="import"),
                name="event_imported_listen_unique",
            ),
            models.UniqueConstraint(
                fields=["user", "track"],
                condition=Q(source="import_total"),
                name="event_imported_total_unique",
            ),
            models.CheckConstraint(
                condition=~(Q(completed=True) & Q(skipped=True)),
                name="event_not_completed_and_skipped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} played {self.track_id} at {self.listened_at:%Y-%m-%d %H:%M}"


class UserTrackStats(models.Model):
    """Per (user, track): what the recommender reads. Kept up to date in the same transaction
    as every event write; excluded events are left out. `rebuild_listening_stats` recomputes it.
    """

    # No index of its own on `user`: the unique (user, track) constraint starts with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="track_stats",
        db_index=False,
    )
    # No index of its own on `track`: stats_track_user starts with it.
    track = models.ForeignKey(
        Track, on_delete=models.CASCADE, related_name="user_stats", db_index=False
    )
    completed_plays = models.PositiveIntegerField(default=0)
    partial_plays = models.PositiveIntegerField(default=0)
    skips = models.PositiveIntegerField(default=0)
    ms_played = models.BigIntegerField(default=0)
    first_listened_at = models.DateTimeField()
    last_listened_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "user track stats"
        indexes = [
            # A track's listeners in user order, the keys only (never changed by a play, so
            # play-count updates stay HOT): two tracks' shared listeners are a merge of two
            # index ranges (selectors.first_co_listened).
            models.Index(fields=["track", "user"], name="stats_track_user"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "track"], name="stats_one_per_user_track"),
            models.CheckConstraint(
                condition=Q(last_listened_at__gte=F("first_listened_at")),
                name="stats_first_before_last",
            ),
        ]

    def __str__(self) -> str:
        return f"user {self.user_id} / track {self.track_id}"

    @property
    def plays(self) -> int:
        return self.completed_plays + self.partial_plays


class Feedback(models.Model):
    class Kind(models.TextChoices):
        LIKE = "like"
        DISLIKE = "dislike"
        DONT_RECOMMEND = "dont_recommend", "don't recommend"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback"
    )
    track = models.ForeignKey(
        Track, on_delete=models.CASCADE, null=True, blank=True, related_name="feedback"
    )
    artist = models.ForeignKey(
        Artist, on_delete=models.CASCADE, null=True, blank=True, related_name="feedback"
    )
    kind = models.CharField(max_length=16, choices=Kind)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name_plural = "feedback"
        constraints = [
            models.CheckConstraint(
                condition=(Q(track__isnull=False) & Q(artist__isnull=True))
                | (Q(track__isnull=True) & Q(artist__isnull=False)),
                name="feedback_on_a_track_or_an_artist",
            ),
            models.UniqueConstraint(
                fields=["user", "track"],
                condition=Q(track__isnull=False),
                name="feedback_one_per_track",
            ),
            models.UniqueConstraint(
                fields=["user", "artist"],
                condition=Q(artist__isnull=False),
                name="feedback_one_per_artist",
            ),
        ]

    def __str__(self) -> str:
        target = f"track {self.track_id}" if self.track_id else f"artist {self.artist_id}"
        return f"{self.user_id} {self.kind} {target}"
