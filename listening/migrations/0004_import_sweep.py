"""Uploads remember when their task was sent; the periodic sweep that re-sends imports left
pending (editable in admin, like the catalogue's analysis sweep)."""

from django.db import migrations, models

TASK_NAME = "listening: re-queue stuck imports"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_two_minutes, _ = IntervalSchedule.objects.get_or_create(every=2, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "listening.sweep_stuck_imports",
            "interval": every_two_minutes,
            "expire_seconds": 110,  # a missed run is dropped, not piled up
            "description": "Re-send imports of uploaded history files left pending "
            "(broker down when they were queued, message lost).",
        },
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("listening", "0003_import_formats_and_uploads"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="importbatch",
            name="queued_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
