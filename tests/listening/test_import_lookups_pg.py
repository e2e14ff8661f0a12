"""Imports find artists and tracks by exact name keys through the btree indexes, never through the
trigram indexes search uses: pg_trgm answers `=` too, and a 5,000-key lookup through it took
49-72 s against 10 ms (core/postgresql/lookups.py, docs/performance.md)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from catalog.models import Artist, Track
from catalog.services import tracks_create_metadata_only
from core.postgresql.lookups import exact_key_lookups
from listening.services.imports.resolve import tracks_resolve

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

KEYS = [f"new artist {i}" for i in range(300)]


def bitmap_scans() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_bitmapscan')")
        return cursor.fetchone()[0]


def plan_of_lookup() -> str:
    """The plan of an exact-key artist lookup with sequential scans priced out (as when the
    planner believes the table is large and the trigram index cheap)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    return Artist.objects.order_by().filter(name_key__in=KEYS).values_list("pk").explain()


@pytest.fixture
def catalogue():
    tracks_create_metadata_only(names=[(f"New Artist {i}", f"Song {i}") for i in range(300)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_artist, catalog_track")


def test_the_guard_keeps_lookups_off_the_trigram_index(catalogue):
    with transaction.atomic():
        unguarded = plan_of_lookup()
        with exact_key_lookups():
            guarded = plan_of_lookup()
    assert "artist_name_trgm" in unguarded  # the hazard is real on this server
    assert "artist_name_trgm" not in guarded
    assert "catalog_artist_name_key" in guarded  # the btree answers instead


def test_the_guard_restores_the_setting_on_exit_and_on_error():
    with transaction.atomic():
        with exact_key_lookups():
            assert bitmap_scans() == "off"
        assert bitmap_scans() == "on"
        seen = []

        def fail_inside():
            with exact_key_lookups():
                seen.append(bitmap_scans())
                raise ZeroDivisionError

        with pytest.raises(ZeroDivisionError):
            fail_inside()
        assert seen == ["off"]
        assert bitmap_scans() == "on"
    assert bitmap_scans() == "on"


def test_import_lookups_run_under_the_guard(catalogue):
    names = {(f"new artist {i}", f"song {i}"): (f"New Artist {i}", f"Song {i}") for i in range(400)}
    with CaptureQueriesContext(connection) as queries:
        found, created = tracks_resolve(names=names, create_missing=True)
    assert len(found) == 400
    assert created == 100
    guarded = False
    lookups = 0
    for query in queries.captured_queries:
        sql = query["sql"]
        if "set_config('enable_bitmapscan'" in sql:
            guarded = "'off'" in sql
        elif sql.startswith("SELECT") and ('_key" IN' in sql or '_key" = ANY' in sql):
            lookups += 1
            assert guarded, f"an exact-key lookup ran with bitmap scans on: {sql[:200]}"
    assert lookups >= 4  # tracks before and under the lock, artists before and after creating


def test_tracks_created_in_one_statement_match_the_models_own_save():
    """The unnest INSERT (catalog/services/bulk.py) writes every column as Django would."""
    ids = tracks_create_metadata_only(names=[("Zoë", "Ünder"), ("Zoë", "Over"), ("B", "Ünder")])
    assert len(ids) == 3
    saved = Track(title="Ünder", title_key="under", artist=Artist.objects.get(name_key="b"),
                  status=Track.Status.NO_AUDIO)  # fmt: skip
    saved.save()
    skip = {"id", "artist", "title", "title_key", "created_at", "updated_at", "status_changed_at"}
    columns = [f.attname for f in Track._meta.concrete_fields if f.name not in skip]
    expected = Track.objects.filter(pk=saved.pk).values(*columns).get()
    for pk in ids.values():
        assert Track.objects.filter(pk=pk).values(*columns).get() == expected
    made = Track.objects.filter(pk__in=ids.values())
    assert sorted(made.values_list("artist__name", "title", "title_key")) == [
        ("B", "Ünder", "under"), ("Zoë", "Over", "over"), ("Zoë", "Ünder", "under")
    ]  # fmt: skip
    assert all(t.created_at and t.updated_at and t.status_changed_at for t in made)
    assert ids == {(t.artist.name_key, t.title_key): t.pk for t in made}
