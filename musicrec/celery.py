"""The Celery app. Its configuration is the CELERY_* block of settings.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")

app = Celery("musicrec")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class WorkerTimedTask(app.Task):
    """A task whose time limits are the worker's own.

    Celery copies the *sender's* task_time_limit / task_soft_time_limit into every message and a
    worker obeys the message over its own configuration. Sending none lets the worker that runs
    the task apply its limits (MUSICREC_ANALYSIS_SOFT_TIME_LIMIT where the workers run).
    """

    def apply_async(self, args=None, kwargs=None, **options):
        options.setdefault("time_limit", None)
        options.setdefault("soft_time_limit", None)
        return super().apply_async(args, kwargs, **options)
