"""Model versions and training defaults in Django admin: metrics at a glance, retrain now,
activate a version."""

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from recommender.models import ModelVersion, TrainingDefaults
from recommender.services import dispatch, retrain_request, version_activate

STATUS_COLOURS = {
    ModelVersion.Status.ACTIVE: "#1d7a35",
    ModelVersion.Status.READY: "#1f5fa8",
    ModelVersion.Status.TRAINING: "#8a6d00",
    ModelVersion.Status.REJECTED: "#b36b00",
    ModelVersion.Status.FAILED: "#b3261e",
}

RETRAIN_MESSAGE_LEVELS = {
    dispatch.RAN: messages.SUCCESS,
    dispatch.QUEUED: messages.SUCCESS,
    dispatch.BUSY: messages.WARNING,
    dispatch.NOTHING_TO_LEARN: messages.WARNING,
    dispatch.BROKER_DOWN: messages.ERROR,
    dispatch.TRAINER_UNAVAILABLE: messages.ERROR,
}


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "version",
        "status_badge",
        "ndcg",
        "popularity_ndcg",
        "n_users",
        "n_tracks",
        "nnz",
        "total_seconds",
        "trained_at",
        "reason",
    ]
    list_filter = ["status", "trained_at"]
    actions = ["activate"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    change_list_template = "admin/recommender/modelversion/change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="version", ordering="pk")
    def version(self, version: ModelVersion) -> int:
        return version.pk

    @admin.display(description="status", ordering="status")
    def status_badge(self, version: ModelVersion) -> str:
        return format_html(
            '<strong style="color:{}">{}</strong>',
            STATUS_COLOURS.get(version.status, "#000"),
            version.get_status_display(),
        )

    @admin.display(description="NDCG@10")
    def ndcg(self, version: ModelVersion) -> str:
        value = version.ndcg
        return "-" if value is None else f"{value:.4f}"

    @admin.display(description="popularity NDCG@10")
    def popularity_ndcg(self, version: ModelVersion) -> str:
        value = (version.metrics or {}).get("popularity", {}).get("ndcg")
        return "-" if value is None else f"{value:.4f}"

    @admin.display(description="seconds")
    def total_seconds(self, version: ModelVersion) -> str:
        value = (version.seconds or {}).get("total")
        return "-" if value is None else f"{value:.1f}"

    @admin.action(description="Activate this version (one)", permissions=["activate"])
    def activate(self, request: HttpRequest, queryset) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version.", messages.ERROR)
            return
        version = queryset.get()
        try:
            version_activate(version=version, reason=f"activated by {request.user.username}")
        except ValueError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"Model {version.pk} is now active.", messages.SUCCESS)

    def has_activate_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or request.user.has_perm("recommender.change_modelversion")

    def get_urls(self):
        retrain = self.admin_site.admin_view(self.retrain_view)
        return [path("retrain/", retrain, name="recommender_retrain"), *super().get_urls()]

    def retrain_view(self, request: HttpRequest):
        """POST: queue a retrain (or run it, with tasks inline)."""
        back = HttpResponseRedirect(reverse("admin:recommender_modelversion_changelist"))
        if request.method != "POST" or not self.has_activate_permission(request):
            return back
        answer = retrain_request()
        level = RETRAIN_MESSAGE_LEVELS[answer.outcome]
        if answer.outcome == dispatch.RAN and answer.result.rejected:
            level = messages.WARNING
        self.message_user(request, answer.detail, level)
        return back


@admin.register(TrainingDefaults)
class TrainingDefaultsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "factors", "regularization", "alpha", "confidence", "tuned_at"]
    readonly_fields = ["tuned_at", "tuned_metrics", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return not TrainingDefaults.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
