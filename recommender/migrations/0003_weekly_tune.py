"""The weekly tune (editable in admin under Periodic tasks), and bm25 among the confidence
functions the training defaults may hold."""

from django.conf import settings
from django.db import migrations, models

TASK_NAME = "recommender: weekly tune"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    weekly, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour=str(settings.MUSICREC_TUNE_HOUR_UTC),
        day_of_week=str(settings.MUSICREC_TUNE_DAY_OF_WEEK),
        day_of_month="*",
        month_of_year="*",
        timezone="UTC",
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "recommender.tune",
            "crontab": weekly,
            "expire_seconds": 12 * 3600,  # a run missed by more than 12 hours is dropped
            "description": "Walk the tuning grid on a validation split; the winner becomes the "
            "training defaults only if it beats them there; then retrain.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("recommender", "0002_retrain_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AlterField(
            model_name="trainingdefaults",
            name="confidence",
            field=models.CharField(
                choices=[
                    ("log", "log"),
                    ("linear", "linear"),
                    ("clipped", "clipped"),
                    ("binary", "binary"),
                    ("bm25", "bm25"),
                ],
                default="log",
                help_text="f in c = 1 + alpha * f(r)",
                max_length=8,
            ),
        ),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
