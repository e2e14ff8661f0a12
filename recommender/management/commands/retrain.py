import json
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from recommender.engine.confidence import CONFIDENCE_FUNCTIONS
from recommender.services import (
    Hooks,
    NothingToLearn,
    RetrainBusy,
    TrainerUnavailable,
    model_train,
    trainer_configured,
    training_defaults,
)

# The command's exit codes (docs/recommender.md); 1 is Django's for a CommandError.
EXIT_ACTIVE = 0
EXIT_REJECTED = 2
EXIT_BUSY = 3


class Command(BaseCommand):
    help = (
        "Rebuild the users x tracks matrix from the database, train ALS, evaluate it against "
        "popularity, save a version and activate it if the gate passes. Exit codes: 0 trained "
        "and activated (or --no-activate), 2 refused by the gate, 3 another retrain is running, "
        "1 failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--factors", type=int)
        parser.add_argument("--iterations", type=int)
        parser.add_argument("--regularization", type=float)
        parser.add_argument("--alpha", type=float, help="alpha of c = 1 + alpha * f(r)")
        parser.add_argument(
            "--confidence", choices=CONFIDENCE_FUNCTIONS, help="f in c = 1 + alpha * f(r)"
        )
        parser.add_argument(
            "--tune",
            action="store_true",
            help="walk the tuning grid on a validation split first; its winner becomes the "
            "defaults only if it beats them there (docs/recommender.md)",
        )
        parser.add_argument("--force", action="store_true", help="activate whatever the gate says")
        parser.add_argument("--no-activate", action="store_true", help="train and save only")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        try:
            trainer = trainer_configured()  # no Java, no pyspark: one line, before any work
        except TrainerUnavailable as exc:
            raise CommandError(str(exc)) from None
        overrides = {
            name: options[name]
            for name in ("factors", "iterations", "regularization", "alpha", "confidence")
            if options[name] is not None
        }
        iterations = overrides.get("iterations", training_defaults().iterations)
        bar = tqdm(total=2 * iterations, desc="retrain", unit="it", disable=None, leave=False,
                   file=sys.stderr)  # fmt: skip
        hooks = Hooks(
            stage=lambda name: bar.set_description(f"retrain: {name}"),
            iteration=lambda number: bar.update(1),
        )
        try:
            result = model_train(
                overrides=overrides,
                tune_grid=options["tune"],
                force=options["force"],
                activate=not options["no_activate"],
                hooks=hooks,
                trainer=trainer,
            )
        except RetrainBusy as exc:
            bar.close()
            self._say(options, {"status": "busy", "reason": str(exc)}, error=True)
            sys.exit(EXIT_BUSY)
        except NothingToLearn as exc:
            bar.close()
            raise CommandError(str(exc)) from None
        bar.close()
        body = result.as_json()
        if options["json"]:
            self.stdout.write(json.dumps(body))
        else:
            metrics = body["metrics"]
            style = self.style.WARNING if result.rejected else self.style.SUCCESS
            self.stdout.write(
                style(
                    f"model {body['version']}: {body['status']} ({body['reason']}). "
                    f"{body['n_users']} users x {body['n_tracks']} tracks, {body['nnz']} "
                    f"entries; NDCG@10 {metrics['als']['ndcg']:.4f} vs popularity "
                    f"{metrics['popularity']['ndcg']:.4f}; {body['seconds']['total']:.1f} s."
                )
            )
        if result.rejected:
            sys.exit(EXIT_REJECTED)

    def _say(self, options, body: dict, *, error: bool = False) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(body))
        else:
            (self.stderr if error else self.stdout).write(body["reason"])
