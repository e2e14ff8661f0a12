"""One way of building the interaction matrix, in its own process (for a clean peak memory).

    python bench/matrix_probe.py ours|naive|floor

ours:  recommender.services.interactions_read() + the confidence values + COO -> CSR + id maps.
naive: the ORM's events in a pandas DataFrame, groupby, COO, CSR (the issue's baseline).
floor: the aggregate rows alone, read with psycopg COPY into numpy.
Every mode imports the same modules first, so their process baselines are equal.
Prints {"seconds", "rows"}: seconds of the build itself, after start-up.
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

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.sparse import coo_matrix  # noqa: E402

from listening.models import ListeningEvent  # noqa: E402
from listening.selectors import listening_columns_copy  # noqa: E402
from recommender.engine.pipeline import matrix_for  # noqa: E402
from recommender.engine.trainer import Params  # noqa: E402
from recommender.services.interactions import interactions_read  # noqa: E402


def ours() -> int:
    matrix = matrix_for(interactions_read(), Params())
    return matrix.nnz


def naive() -> int:
    frame = pd.DataFrame(
        list(ListeningEvent.objects.values("user_id", "track_id", "completed", "skipped"))
    )
    grouped = frame.groupby(["user_id", "track_id"], as_index=False).agg(
        plays=("completed", "size"), completed=("completed", "sum"), skips=("skipped", "sum")
    )
    rows, users = pd.factorize(grouped["user_id"])
    columns, tracks = pd.factorize(grouped["track_id"])
    matrix = coo_matrix(
        (grouped["completed"].to_numpy(dtype=np.float32), (rows, columns)),
        shape=(len(users), len(tracks)),
    ).tocsr()
    return matrix.nnz


def floor() -> int:
    return len(listening_columns_copy()[0])


if __name__ == "__main__":
    mode = {"ours": ours, "naive": naive, "floor": floor}[sys.argv[1]]
    started = time.perf_counter()
    rows = mode()
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))
