import json
import time
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from catalog.models import Track
from catalog.services import track_analyse, tracks_reanalyse
from core.progress import progress
from musicrec.celery import app


class Command(BaseCommand):
    help = (
        "(Re)run audio analysis. With a broker the tracks are queued for the workers (--wait "
        "follows them with a progress bar); with tasks inline (no REDIS_URL) they are analysed "
        "here, with a progress bar."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--pending", action="store_true", help="tracks not analysed yet")
        which.add_argument("--failed", action="store_true", help="tracks whose analysis failed")
        which.add_argument("--all", action="store_true", help="every track with audio")
        which.add_argument("--track", type=int, nargs="+", metavar="ID", help="these tracks")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--wait",
            action="store_true",
            help="with a broker: show the workers' progress until every track is done or failed",
        )

    def handle(self, *args, **options):
        if options["pending"]:
            tracks = Track.objects.filter(
                status__in=[Track.Status.PENDING, Track.Status.PROCESSING]
            )
        elif options["failed"]:
            tracks = Track.objects.filter(status=Track.Status.FAILED)
        elif options["all"]:
            tracks = Track.objects.all()
        else:
            tracks = Track.objects.filter(pk__in=options["track"])
            missing = set(options["track"]) - set(tracks.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"no such track(s): {', '.join(map(str, sorted(missing)))}")

        inline = app.conf.task_always_eager
        ids = tracks_reanalyse(tracks=tracks, enqueue=not inline)
        if not inline and not options["wait"]:
            summary = {"queued": len(ids)}
            message = f"{len(ids)} track(s) queued for analysis."
        elif not inline:
            for _ in progress(_finishing(ids), total=len(ids), desc="analysed", unit="track"):
                pass
            statuses = Counter(Track.objects.filter(pk__in=ids).values_list("status", flat=True))
            summary = {"queued": len(ids), "status": dict(statuses)}
            message = f"{len(ids)} track(s) analysed by the workers: " + ", ".join(
                f"{count} {status}" for status, count in sorted(statuses.items())
            )
        else:
            outcomes = Counter(
                track_analyse(track_id=track_id)
                for track_id in progress(ids, desc="analysing", unit="track")
            )
            statuses = Counter(Track.objects.filter(pk__in=ids).values_list("status", flat=True))
            summary = {"analysed": len(ids), "outcomes": dict(outcomes), "status": dict(statuses)}
            message = f"{len(ids)} track(s) analysed: " + ", ".join(
                f"{count} {status}" for status, count in sorted(statuses.items())
            )
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        else:
            self.stdout.write(self.style.SUCCESS(message if ids else "Nothing to analyse."))


POLL_SECONDS = 1.0


def _finishing(ids: list[int]):
    """Yields once for each of `ids` that reaches `done` or `failed` (polled from the rows, which
    the workers move: the broker is only a doorbell)."""
    finished = 0
    while finished < len(ids):
        now = Track.objects.filter(
            pk__in=ids, status__in=[Track.Status.DONE, Track.Status.FAILED]
        ).count()
        yield from range(now - finished)
        finished = now
        if finished < len(ids):
            time.sleep(POLL_SECONDS)
