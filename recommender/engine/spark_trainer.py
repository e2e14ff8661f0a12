"""ALS on Apache Spark behind the `Trainer` interface: the same matrix in, the same factors out.

The users x items matrix goes to Spark as Parquet (`user`, `item`, `rating`) in a staging folder
that the driver and every executor can read (the shared data folder, or another path given by
MUSICREC_SPARK_STAGING); Spark MLlib's ALS fits it with implicit preferences; the factors come
back to the driver as Arrow and into numpy, so the artifact, evaluation, the gate and serving are
unchanged. docs/recommender.md ("Training on Spark") has the confidence mapping with a worked
example; docs/deployment.md has the cluster set-up and the settings that make a fit fast.

Almost all of a fit's time is Spark's per-row least-squares solves (a k x k Cholesky per
listener and per track, every iteration): Spark runs them through dev.ludovic.netlib, native
(the system's libblas.so.3 / liblapack.so.3, e.g. Debian's libopenblas0) when it finds them,
else in pure Java. `spark_session` logs which one the driver got.

No Django here; pyspark and pyarrow are imported only when a Spark trainer is used
(requirements-spark.txt), so the default `implicit` trainer needs neither.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

from recommender.engine.trainer import Factors, Params

logger = logging.getLogger(__name__)

# Spark's alpha. Spark turns a rating r into confidence 1 + alpha * |r| (preference 1 if r > 0,
# else 0); our stored value v already is the confidence, signed, so we hand Spark
# r = sign(v) * (|v| - 1) and alpha = 1: then 1 + alpha * |r| = |v| exactly.
SPARK_ALPHA = 1.0
# A liked entry whose confidence is exactly 1 (alpha = 0) still needs r > 0 to be preference 1.
_SMALLEST_POSITIVE = float(np.finfo(np.float32).tiny)
JAVA_HINT = "install Java 17 (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
PYSPARK_HINT = "install it with `pip install -r requirements-spark.txt`"


class SparkUnavailable(RuntimeError):
    """Spark cannot run here: pyspark or Java is missing. The message says what to install."""


def spark_ratings(values: np.ndarray) -> np.ndarray:
    """Our stored values (signed confidence, engine/confidence.py) as Spark ALS ratings.

    v > 0 (preference 1, confidence v)      -> r = v - 1  (at least the smallest positive float)
    v < 0 (preference 0, confidence |v|)    -> r = v + 1 = -(|v| - 1)  (<= 0: preference 0)
    With Spark's alpha = 1: c = 1 + |r| = |v| in both cases.
    """
    values = np.asarray(values, dtype=np.float64)
    magnitude = np.abs(values) - 1.0
    positive = np.maximum(magnitude, _SMALLEST_POSITIVE)
    return np.where(values > 0, positive, -magnitude).astype(np.float32)


def spark_reg_param(user_items: csr_matrix, regularization: float) -> float:
    """Spark's regParam for our regularization lambda.

    implicit adds lambda * I to every least-squares solve; Spark adds regParam * n * I, n the
    solve's count of positive entries (ALS-WR). With regParam = lambda / (mean positive entries
    per listener who has any), the average listener's solve gets the same lambda in both; a
    heavier listener gets more in Spark, a lighter one less, and so do popular tracks.
    """
    positives = np.diff((user_items > 0).astype(np.int8).tocsr().indptr)
    positives = positives[positives > 0]
    if len(positives) == 0:
        return float(regularization)
    return float(regularization) / float(positives.mean())


def spark_confidence(ratings: np.ndarray, alpha: float = SPARK_ALPHA) -> tuple:
    """(preference, confidence) as Spark's implicit ALS reads each rating: p = 1 if r > 0 else 0,
    c = 1 + alpha * |r| (Spark's ml.recommendation.ALS, implicitPrefs=True)."""
    ratings = np.asarray(ratings, dtype=np.float64)
    return (ratings > 0).astype(np.float64), 1.0 + alpha * np.abs(ratings)


def java_check(environ: dict | None = None) -> str:
    """The `java -version` banner of the Java Spark will start, or SparkUnavailable."""
    environ = os.environ if environ is None else environ
    home = environ.get("JAVA_HOME")
    if home:
        java = str(Path(home) / "bin" / "java")
        if not os.access(java, os.X_OK):
            raise SparkUnavailable(f"JAVA_HOME is {home} but it has no bin/java: {JAVA_HINT}")
    else:
        java = shutil.which("java", path=environ.get("PATH", ""))
        if java is None:
            raise SparkUnavailable(f"MUSICREC_TRAINER=spark needs Java, none on PATH: {JAVA_HINT}")
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, env=dict(environ)
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SparkUnavailable(f"{java} -version failed ({exc}): {JAVA_HINT}") from None
    if done.returncode != 0:
        raise SparkUnavailable(f"{java} -version exited {done.returncode}: {JAVA_HINT}")
    return (done.stderr or done.stdout).strip().splitlines()[0]


def pyspark_check() -> str:
    """The installed pyspark version, or SparkUnavailable."""
    try:
        import pyarrow  # noqa: F401  (the Parquet staging)
        import pyspark
    except ImportError as exc:
        raise SparkUnavailable(
            f"MUSICREC_TRAINER=spark needs pyspark and pyarrow ({exc}): {PYSPARK_HINT}"
        ) from None
    return pyspark.__version__


_session = None
_session_master: str | None = None


def spark_session(master: str):
    """One SparkSession per process, reused by every fit (starting a JVM takes seconds); a
    different master stops the old one first. Settings beyond the master come from Spark's own
    `spark-defaults.conf` (SPARK_CONF_DIR) or PYSPARK_SUBMIT_ARGS."""
    global _session, _session_master
    alive = _session is not None and _session.sparkContext._jsc is not None
    if alive and _session_master == master:
        return _session
    if _session is not None:
        _session.stop()
        _session = None
    from pyspark.sql import SparkSession

    logging.getLogger("py4j").setLevel(logging.WARNING)  # no "closing connection" lines at exit
    _session = (
        SparkSession.builder.master(master)
        .appName("musicrec-als")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
        # the solves are one small matrix each: a BLAS thread pool per executor task only
        # competes with the other tasks for the cores (a local master's JVM inherits our env)
        .config("spark.executorEnv.OPENBLAS_NUM_THREADS", "1")
        .getOrCreate()
    )
    _session.sparkContext.setLogLevel("ERROR")
    _session_master = master
    linear_algebra = spark_linear_algebra(_session)
    if linear_algebra["native"]:
        logger.info("Spark ALS: native BLAS/LAPACK (%s, %s)", *linear_algebra["classes"])
    else:
        logger.warning(
            "Spark ALS: pure-Java BLAS/LAPACK (%s, %s): no libblas.so.3/liblapack.so.3 found; "
            "a fit is faster with the native one (Debian: apt-get install libopenblas0)",
            *linear_algebra["classes"],
        )
    return _session


def spark_linear_algebra(spark) -> dict:
    """Which BLAS and LAPACK the driver JVM's netlib picked: {"classes": (blas, lapack),
    "native": both native}. On a cluster each executor picks its own, the same way."""
    netlib = spark._jvm.dev.ludovic.netlib
    blas = netlib.blas.BLAS.getInstance().getClass().getSimpleName()
    lapack = netlib.lapack.LAPACK.getInstance().getClass().getSimpleName()
    return {"classes": (blas, lapack), "native": blas == "JNIBLAS" and lapack == "JNILAPACK"}


def spark_stop() -> None:
    """Stop this process's SparkSession (tests; a worker process keeps it for the next fit)."""
    global _session, _session_master
    if _session is not None:
        _session.stop()
    _session, _session_master = None, None


class SparkAlsTrainer:
    """Spark MLlib ALS (implicitPrefs) on the users x items matrix. See the module docstring.

    `fit_seconds` is the whole round trip (Parquet out, fit, factors back), the cost of using
    Spark. Spark has no per-iteration callback: `on_iteration` is called once per iteration
    after the fit.
    """

    def __init__(self, *, master: str, staging: Path):
        self.master = master
        self.staging = Path(staging)
        self._banner: str | None = None

    def check(self) -> str:
        """Fail early, with the fix, when pyspark or Java is missing. Returns a one-line banner
        (checked once per trainer: a tuning grid fits dozens of times)."""
        if self._banner is None:
            version = pyspark_check()
            java = java_check()
            self._banner = f"pyspark {version}, {java}, master {self.master}"
        return self._banner

    def train(
        self,
        user_items: csr_matrix,
        params: Params,
        *,
        on_iteration: Callable[[int], None] | None = None,
    ) -> Factors:
        self.check()
        started = time.perf_counter()
        run = self.staging / f"run-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        run.mkdir(parents=True, exist_ok=True)
        try:
            interactions_write(user_items, run / "interactions.parquet")
            spark = spark_session(self.master)
            # ALS checkpoints every 10 iterations once there is a folder for it: without, a
            # long lineage overflows the executors' stacks (StackOverflowError)
            spark.sparkContext.setCheckpointDir(str(run / "checkpoints"))
            reg_param = spark_reg_param(user_items, params.regularization)
            model = _als(params, reg_param, spark).fit(
                spark.read.parquet(str(run / "interactions.parquet"))
            )
            n_users, n_items = user_items.shape
            user_factors = factors_dense(model.userFactors.toArrow(), n_users, params.factors)
            item_factors = factors_dense(model.itemFactors.toArrow(), n_items, params.factors)
        finally:
            shutil.rmtree(run, ignore_errors=True)
        seconds = time.perf_counter() - started
        if on_iteration is not None:
            for iteration in range(params.iterations):
                on_iteration(iteration)
        return Factors(user_factors, item_factors, seconds)


def _als(params: Params, reg_param: float, spark):
    from pyspark.ml.recommendation import ALS

    blocks = max(2, spark.sparkContext.defaultParallelism)
    return ALS(
        rank=params.factors,
        maxIter=params.iterations,
        regParam=reg_param,
        implicitPrefs=True,
        alpha=SPARK_ALPHA,
        userCol="user",
        itemCol="item",
        ratingCol="rating",
        seed=params.random_state,
        nonnegative=False,
        numUserBlocks=blocks,
        numItemBlocks=blocks,
    )


def interactions_write(user_items: csr_matrix, path: Path) -> int:
    """The matrix as Parquet rows (user row, item column, Spark rating); returns the row count.
    Explicit zeros carry nothing and are left out."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    coo = user_items.tocoo()
    keep = coo.data != 0
    table = pa.table(
        {
            "user": pa.array(coo.row[keep].astype(np.int32)),
            "item": pa.array(coo.col[keep].astype(np.int32)),
            "rating": pa.array(spark_ratings(coo.data[keep])),
        }
    )
    pq.write_table(table, path)
    return table.num_rows


def factors_dense(table, count: int, rank: int) -> np.ndarray:
    """Spark's factors (an Arrow table of `id`, `features`, from `DataFrame.toArrow()`) as a
    dense (count, rank) float32 array. An id Spark never saw (a row or column with no entries in
    this fit) gets zeros, as it would from implicit's solve with nothing to learn from."""
    out = np.zeros((count, rank), dtype=np.float32)
    if table.num_rows == 0:
        return out
    ids = table.column("id").to_numpy()
    features = table.column("features").combine_chunks().flatten().to_numpy()
    out[ids] = features.astype(np.float32).reshape(len(ids), rank)
    return out
