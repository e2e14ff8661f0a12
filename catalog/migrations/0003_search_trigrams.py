"""Search that forgives typos: pg_trgm and trigram indexes on the name keys.

PostgreSQL only; on other databases (SQLite, the demo) it does nothing and catalog.search ranks
in Python. Accents need no unaccent() at query time: the keys are folded when they are written
(catalog.text.name_key, NFKD without marks, casefolded), and the query is folded the same way.
pg_trgm is a trusted extension: the database owner may create it (PostgreSQL 13+).
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS track_title_trgm ON catalog_track USING gin (title_key gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS artist_name_trgm ON catalog_artist USING gin (name_key gin_trgm_ops)",
]
BACKWARD = ["DROP INDEX IF EXISTS track_title_trgm", "DROP INDEX IF EXISTS artist_name_trgm"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_sweep_schedule")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
