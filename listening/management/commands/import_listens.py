import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from listening.services import ImportFormatError, listens_import
from listening.services.imports import FORMATS


class Command(BaseCommand):
    help = (
        "Import listening history: our CSV (user,artist,track and `plays` or `listened_at`), a "
        "Spotify streaming history (JSON or its zip), a ListenBrainz export or a Last.fm CSV, "
        "told apart by content (docs/listening.md). Idempotent, and a file cut short by a crash "
        "completes when run again; unusable rows are reported by line. One import runs at a "
        "time: a second waits for the first to finish."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--format",
            choices=["auto", *FORMATS],
            default="auto",
            help="the file's format (default: recognised from its content)",
        )
        parser.add_argument(
            "--user",
            help="whose history this is: every row goes to this listener (needed by files "
            "that do not name one: Spotify, ListenBrainz, Last.fm)",
        )
        parser.add_argument(
            "--create-missing",
            action="store_true",
            help="create unknown users (no password) and metadata-only tracks (no_audio)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        with tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc="importing",
            disable=None,
            leave=False,
        ) as bar:
            try:
                report = listens_import(
                    path=path,
                    file_format=options["format"],
                    user=options["user"],
                    create_missing=options["create_missing"],
                    progress=bar.update,
                    on_wait=lambda: self.stderr.write(
                        "another import is running: waiting for it to finish"
                    ),
                )
            except ImportFormatError as exc:
                raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json()))
            return
        for rejection in report.rejected[:20]:
            self.stdout.write(f"line {rejection['line']}: {rejection['reason']}")
        if report.rejected_total > 20:
            self.stdout.write(f"... and {report.rejected_total - 20} more rejected rows (--json)")
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.rows} rows ({report.format}, {report.kind}): {report.imported} "
                f"imported, {report.unchanged} unchanged, {report.merged} merged, "
                f"{report.left_out} left out (not music), {report.rejected_total} rejected; "
                f"{report.created_users} users and {report.created_tracks} tracks created."
            )
        )
