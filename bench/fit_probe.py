"""One bare implicit ALS fit on the database's matrix, with the active training defaults.

    python bench/fit_probe.py
Prints {"fit_seconds", "nnz"}: the fit alone (implicit, BLAS at one thread), nothing around it.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")

import django

django.setup()

from threadpoolctl import threadpool_limits  # noqa: E402

from recommender.engine.pipeline import matrix_for  # noqa: E402
from recommender.engine.trainer import make_model  # noqa: E402
from recommender.services import training_defaults  # noqa: E402
from recommender.services.interactions import interactions_read  # noqa: E402

params = training_defaults().as_params()
matrix = matrix_for(interactions_read(), params)
with threadpool_limits(limits=1, user_api="blas"):
    model = make_model(params)
    started = time.perf_counter()
    model.fit(matrix.user_items, show_progress=False)
    seconds = time.perf_counter() - started
print(json.dumps({"fit_seconds": seconds, "nnz": matrix.nnz}))
