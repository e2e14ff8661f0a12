import json
import time

import numpy as np
from django.core.management.base import BaseCommand

from catalog.similarity import ann, store


class Command(BaseCommand):
    help = (
        "Bring the shared similarity graph up to date now (web processes then map it instead of "
        "building it), and measure its recall@10 against the exact scan (docs/features.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--recall", type=int, default=0, metavar="N",
                            help="measure recall@10 over N random tracks")  # fmt: skip
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        started = time.perf_counter()
        store.forget()
        index = store.get_index()
        report = {
            "tracks": len(index),
            "approximate": index.neighbours.approximate,
            "changes": index.neighbours.changes,
            "seconds": round(time.perf_counter() - started, 2),
        }
        if options["recall"] and len(index):
            rng = np.random.default_rng(0)
            rows = rng.choice(len(index), min(options["recall"], len(index)), replace=False)
            report["recall_at_10"] = ann.recall_at(index.neighbours, rows)
        if options["json"]:
            self.stdout.write(json.dumps(report))
        else:
            for name, value in report.items():
                self.stdout.write(f"{name}: {value}")
