from django.db import models
from django.db.models import Q

from recommender.engine.confidence import CONFIDENCE_FUNCTIONS
from recommender.engine.trainer import Params

DEFAULTS = Params()


class ModelVersion(models.Model):
    """One trained model: its parameters, sizes, timings, metrics and artifact file."""

    class Status(models.TextChoices):
        TRAINING = "training"
        READY = "ready"  # trained and saved, not serving (refused by --no-activate, or retired)
        ACTIVE = "active"
        REJECTED = "rejected"  # refused by the gate
        FAILED = "failed"

    status = models.CharField(max_length=10, choices=Status, default=Status.TRAINING)
    params = models.JSONField(default=dict)
    n_users = models.PositiveIntegerField(default=0)
    n_tracks = models.PositiveIntegerField(default=0)
    nnz = models.PositiveBigIntegerField(default=0)
    seconds = models.JSONField(default=dict, help_text="seconds per stage")
    metrics = models.JSONField(default=dict, blank=True)
    artifact = models.CharField(max_length=255, blank=True, help_text="file in MODELS_DIR")
    artifact_bytes = models.PositiveBigIntegerField(default=0)
    reason = models.TextField(blank=True, help_text="why it was activated, refused or failed")
    created_at = models.DateTimeField(auto_now_add=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="active"),
                name="at_most_one_active_model",
            )
        ]

    def __str__(self) -> str:
        return f"model {self.pk} ({self.status})"

    @property
    def ndcg(self) -> float | None:
        return (self.metrics or {}).get("als", {}).get("ndcg")


class TrainingDefaults(models.Model):
    """The parameters `retrain` uses unless told otherwise. One row; a tune (`retrain --tune`,
    the weekly beat entry) changes it only when its winner beats it; admins may edit it."""

    factors = models.PositiveSmallIntegerField(default=DEFAULTS.factors)
    iterations = models.PositiveSmallIntegerField(default=DEFAULTS.iterations)
    regularization = models.FloatField(default=DEFAULTS.regularization)
    alpha = models.FloatField(default=DEFAULTS.alpha, help_text="c = 1 + alpha * f(r)")
    confidence = models.CharField(
        max_length=8,
        default=DEFAULTS.confidence,
        choices=[(name, name) for name in CONFIDENCE_FUNCTIONS],
        help_text="f in c = 1 + alpha * f(r)",
    )
    tuned_at = models.DateTimeField(null=True, blank=True)
    tuned_metrics = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "training defaults"

    def __str__(self) -> str:
        return "training defaults"

    def as_params(self) -> Params:
        return Params(
            factors=self.factors,
            iterations=self.iterations,
            regularization=self.regularization,
            alpha=self.alpha,
            confidence=self.confidence,
        )
