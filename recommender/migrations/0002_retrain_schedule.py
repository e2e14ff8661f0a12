"""The daily retrain (editable in admin under Periodic tasks)."""

from django.conf import settings
from django.db import migrations

TASK_NAME = "recommender: daily retrain"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour=str(settings.MUSICREC_RETRAIN_HOUR_UTC),
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "recommender.retrain",
            "crontab": daily,
            "expire_seconds": 6 * 3600,  # a run missed by more than 6 hours is dropped
            "description": "Rebuild the interaction matrix, retrain ALS, evaluate against "
            "popularity and activate the new version if the gate passes.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("recommender", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
