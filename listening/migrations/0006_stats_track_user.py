"""The aggregate's index on track becomes (track, user): a track's listeners in user order, so two
tracks' shared listeners are a merge of two index ranges (listening.selectors.first_co_listened).
Created before the old one is dropped, so cascades always have an index."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_sound_description"),
        ("listening", "0005_import_attempts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="usertrackstats",
            index=models.Index(fields=["track", "user"], name="stats_track_user"),
        ),
        migrations.AlterField(
            model_name="usertrackstats",
            name="track",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="user_stats",
                to="catalog.track",
            ),
        ),
    ]
