from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared plumbing every app may use: locks, enqueue-after-commit, progress, API base
    classes, the health endpoint and request middleware. It owns no tables."""

    name = "core"
    verbose_name = "Core"
