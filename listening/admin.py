"""Django admin for listening: events (read-only), the aggregate, feedback, import batches."""

from django.contrib import admin

from listening.models import Feedback, ImportBatch, ListeningEvent, UserTrackStats


class InputFilter(admin.SimpleListFilter):
    """A list filter typed into a box (a user or track among thousands), not picked from a list."""

    template = "admin/input_filter.html"
    lookup_field = ""

    def lookups(self, request, model_admin):
        return [("", "")]  # the filter only needs to render

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        return queryset.filter(**{self.lookup_field: value})

    def choices(self, changelist):
        query = changelist.get_filters_params()
        query.pop(self.parameter_name, None)
        yield {"get_query": query, "value": self.value() or "", "name": self.parameter_name}


class UserFilter(InputFilter):
    title = "user (username)"
    parameter_name = "username"
    lookup_field = "user__username"


class TrackFilter(InputFilter):
    title = "track (id)"
    parameter_name = "track_id"
    lookup_field = "track_id"

    def queryset(self, request, queryset):
        if self.value() and not self.value().strip().isdigit():
            return queryset.none()
        return super().queryset(request, queryset)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ListeningEvent)
class ListeningEventAdmin(ReadOnlyAdmin):
    list_display = [
        "listened_at",
        "user",
        "track",
        "source",
        "completed",
        "skipped",
        "play_count",
        "ms_played",
        "excluded",
    ]
    list_filter = [
        UserFilter,
        TrackFilter,
        "source",
        "completed",
        "skipped",
        "excluded",
        "listened_at",
    ]
    list_select_related = ["user", "track__artist"]
    date_hierarchy = "listened_at"
    search_fields = ["user__username", "track__title", "client_event_id"]
    show_full_result_count = False  # counting millions of rows on every page is slow

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deleting events would leave the aggregate stale: exclude them instead


@admin.register(UserTrackStats)
class UserTrackStatsAdmin(ReadOnlyAdmin):
    list_display = [
        "user",
        "track",
        "completed_plays",
        "partial_plays",
        "skips",
        "ms_played",
        "last_listened_at",
    ]
    list_filter = [UserFilter, TrackFilter]
    list_select_related = ["user", "track__artist"]
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "track", "artist", "updated_at"]
    list_filter = [UserFilter, "kind", "updated_at"]
    list_select_related = ["user", "track", "artist"]
    raw_id_fields = ["user", "track", "artist"]
    search_fields = ["user__username", "track__title", "artist__name"]


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "file_name",
        "status",
        "format",
        "rows",
        "imported",
        "unchanged",
        "rejected_count",
        "created_users",
        "created_tracks",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status", "format", "started_at"]
    search_fields = ["file_name", "file_sha256"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the record of where listens came from
