"""The periodic sweep that re-queues analyses stuck in pending or processing (editable in admin)."""

from django.db import migrations

TASK_NAME = "catalog: re-queue stuck analyses"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_two_minutes, _ = IntervalSchedule.objects.get_or_create(every=2, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "catalog.sweep_stuck_tracks",
            "interval": every_two_minutes,
            "expire_seconds": 110,  # a missed run is dropped, not piled up
            "description": "Re-send analysis for tracks left pending (message lost, broker down) "
            "or processing (worker died).",
        },
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
