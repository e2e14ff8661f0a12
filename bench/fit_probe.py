"""One bare implicit ALS fit on the database's matrix, with the active training defaults.

    python bench/fit_probe.py [--trainer implicit|spark] [--master local[2]] [--factors N]
Prints {"fit_seconds", "cpu_seconds", "nnz"}: the fit alone (implicit, BLAS at one thread),
nothing around it; for Spark the whole round trip (Parquet out, fit, factors back), its session
started first, with the JVM's CPU time and the BLAS and LAPACK it used ("blas", "lapack").
"""

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")

import django

django.setup()

import psutil  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from recommender.engine.pipeline import matrix_for  # noqa: E402
from recommender.engine.trainer import make_model  # noqa: E402
from recommender.services import training_defaults  # noqa: E402
from recommender.services.interactions import interactions_read  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--trainer", choices=("implicit", "spark"), default="implicit")
parser.add_argument("--master", default="local[2]")
parser.add_argument("--factors", type=int)
args = parser.parse_args()


def _cpu_seconds() -> float:
    """User + system CPU of this process and its children (Spark's JVM): on a machine shared
    with other work the wall time moves with the load, the CPU time much less."""
    processes = [psutil.Process(), *psutil.Process().children(recursive=True)]
    return sum(sum(p.cpu_times()[:2]) for p in processes)


params = training_defaults().as_params()
if args.factors:
    params = dataclasses.replace(params, factors=args.factors)
matrix = matrix_for(interactions_read(), params)
if args.trainer == "spark":
    from django.conf import settings

    from recommender.engine.spark_trainer import (
        SparkAlsTrainer,
        spark_linear_algebra,
        spark_session,
    )

    spark = spark_session(args.master)  # the JVM's start-up is not the fit
    trainer = SparkAlsTrainer(master=args.master, staging=settings.MUSICREC_SPARK_STAGING)
    cpu = _cpu_seconds()
    seconds = trainer.train(matrix.user_items, params).fit_seconds
    cpu = _cpu_seconds() - cpu
    blas, lapack = spark_linear_algebra(spark)["classes"]
    print(json.dumps({"fit_seconds": seconds, "cpu_seconds": cpu, "nnz": matrix.nnz,
                      "blas": blas, "lapack": lapack}))  # fmt: skip
    sys.exit(0)
with threadpool_limits(limits=1, user_api="blas"):
    model = make_model(params)
    cpu = _cpu_seconds()
    started = time.perf_counter()
    model.fit(matrix.user_items, show_progress=False)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu
print(json.dumps({"fit_seconds": seconds, "cpu_seconds": cpu, "nnz": matrix.nnz}))
