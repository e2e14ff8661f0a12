"""Imports count their runs: an upload whose worker keeps being killed ends `failed` after three.
The import sweep also resumes uploads left `running` by a dead worker: its description says so."""

from django.db import migrations, models

TASK_NAME = "listening: re-queue stuck imports"
BEFORE = (
    "Re-send imports of uploaded history files left pending "
    "(broker down when they were queued, message lost)."
)
AFTER = (
    "Re-send imports of uploaded history files left pending (broker down when they were "
    "queued, message lost) or left running by a worker that died (docs/listening.md)."
)


def describe(text):
    def update(apps, schema_editor):
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        PeriodicTask.objects.filter(name=TASK_NAME).update(description=text)

    return update


class Migration(migrations.Migration):
    dependencies = [
        ("listening", "0004_import_sweep"),
    ]

    operations = [
        migrations.AddField(
            model_name="importbatch",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.RunPython(describe(AFTER), describe(BEFORE)),
    ]
