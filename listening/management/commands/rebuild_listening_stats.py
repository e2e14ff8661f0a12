import json

from django.core.management.base import BaseCommand

from listening.services import stats_rebuild


class Command(BaseCommand):
    help = "Recompute the per-(user, track) listening aggregate from the events."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        pairs = stats_rebuild()
        if options["json"]:
            self.stdout.write(json.dumps({"pairs": pairs}))
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Aggregate rebuilt: {pairs} (user, track) pairs.")
            )
