import json

from django.core.management.base import BaseCommand, CommandError

from recommender.engine.pipeline import evaluate, matrix_for
from recommender.engine.trainer import ImplicitAlsTrainer
from recommender.services import training_defaults
from recommender.services.evaluation import catalogue_for
from recommender.services.interactions import interactions_read


class Command(BaseCommand):
    help = (
        "Held-out evaluation of ALS with the current training defaults, against popularity, and "
        "of the list as served (blend, filters, caps): coverage and the popularity lift."
    )

    def add_arguments(self, parser):
        parser.add_argument("--k", type=int, default=10)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        if options["k"] < 1:
            raise CommandError("--k must be at least 1")
        interactions = interactions_read()
        if len(interactions) == 0:
            raise CommandError("no listening data yet: record or import listens first")
        params = training_defaults().as_params()
        matrix = matrix_for(interactions, params)
        result = evaluate(matrix, params, ImplicitAlsTrainer(), k=options["k"],
                          catalogue=catalogue_for(matrix.track_ids),
                          interactions=interactions)  # fmt: skip
        body = result.as_dict()
        if options["json"]:
            self.stdout.write(json.dumps(body))
            return
        k = body["k"]
        self.stdout.write(f"Protocol: {body['protocol']} ({body['n_users']} users scored).")
        for name in ("als", "served", "popularity"):
            m = body[name]
            self.stdout.write(
                f"{name:10} precision@{k} {m['precision']:.4f}  MAP@{k} {m['map']:.4f}  "
                f"NDCG@{k} {m['ndcg']:.4f}"
            )
        ratio = (
            body["als"]["ndcg"] / body["popularity"]["ndcg"]
            if body["popularity"]["ndcg"]
            else float("inf")
        )
        self.stdout.write(self.style.SUCCESS(f"ALS NDCG@{k} is {ratio:.2f}x popularity's."))
        lift = body["served_popularity_lift"]
        self.stdout.write(
            f"coverage {body['coverage']:.1%} of the tracks; served popularity lift "
            + (f"{lift:.2f}" if lift is not None else "n/a")
            + f" over {body['n_niche_users']} niche users (1 = as mainstream as the model)"
        )
