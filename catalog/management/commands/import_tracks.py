import json
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.models import Track
from catalog.services import IMPORTED, track_import
from core.progress import progress


class Command(BaseCommand):
    help = (
        "Import audio files the way an upload does. Content decides (never the file name); "
        "each file is reported as imported, duplicate or rejected with a code."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="files or folders")
        parser.add_argument("--recursive", action="store_true", help="descend into sub-folders")
        parser.add_argument("--artist", default="", help="artist for every file (overrides tags)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        files = list(self._files(options["paths"], recursive=options["recursive"]))
        report = []
        for path in progress(files, desc="importing", unit="file"):
            outcome = track_import(
                source=path, original_name=path.name, artist_name=options["artist"]
            )
            entry = {"path": str(path), "result": outcome.result}
            if outcome.track_id is not None:
                entry["track_id"] = outcome.track_id
            if outcome.error_code:
                entry["error_code"] = outcome.error_code
                entry["detail"] = outcome.detail
            if outcome.result == IMPORTED:
                track = Track.objects.get(pk=outcome.track_id)
                entry["analysis"] = {"status": track.status, "error_code": track.error_code or None}
            report.append(entry)
        counts = Counter(entry["result"] for entry in report)
        summary = {
            "imported": counts["imported"],
            "duplicates": counts["duplicate"],
            "rejected": counts["rejected"],
            "files": report,
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary))
            return
        for entry in report:
            line = f"{entry['result']:9} {entry['path']}"
            if "track_id" in entry:
                line += f"  -> track {entry['track_id']}"
            if "analysis" in entry:
                analysis = entry["analysis"]
                line += f" ({analysis['status']}"
                line += f": {analysis['error_code']})" if analysis["error_code"] else ")"
            if entry.get("error_code"):
                line += f"  [{entry['error_code']}] {entry['detail']}"
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary['imported']} imported, {summary['duplicates']} duplicate(s), "
                f"{summary['rejected']} rejected, of {len(report)} file(s)."
            )
        )

    def _files(self, paths: list[str], *, recursive: bool):
        for raw in paths:
            path = Path(raw)
            if path.is_file():
                yield path
            elif path.is_dir():
                candidates = path.rglob("*") if recursive else path.iterdir()
                yield from sorted(
                    p for p in candidates if p.is_file() and not p.name.startswith(".")
                )
            else:
                raise CommandError(f"{raw}: no such file or folder")
