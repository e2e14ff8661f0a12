"""Imports count their runs: an upload whose worker keeps being killed ends `failed` after three."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('listening', '0004_import_sweep'),
    ]

    operations = [
        migrations.AddField(
            model_name='importbatch',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0),
        ),
    ]
