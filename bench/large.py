"""The `--large` profile of bench/run.py: ten times the full run's data on one machine.

    .venv/bin/python bench/run.py --large --json > large.json

One throwaway database grows in two stages, each measured in the same run:
  1. 100,000 listeners, 100,000 tracks, 1,000,000 events: fits (implicit, Spark local[2]) and the
     serving latency at 100,000 tracks (the similarity index scans: below the graph's threshold);
  2. 900,000 more tracks (a million) and 9,000,000 more events (ten million): the matrix build
     against its COPY floor, a full retrain at 64 factors, the fits again, the similarity graph
     (its build, recall@10 against the exact scan) and the serving latency at a million tracks,
     as ratios to stage 1, with each web process's memory.
Figure names: docs/performance.md ("The large profile"). 16 minutes on two cores without the
Spark fits, which add 6-15 (measured alone: 1.5-2 at a million events, 4 at ten million on two
free cores, 11 under a load average of 6); BENCH_LARGE_NO_SPARK=1 leaves them out, and
`--large-scale 0.1` runs every step at a tenth of the sizes (a check of the steps).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import load
import psutil
from common import (
    PYTHON,
    REPO,
    child_env,
    free_port,
    manage,
    percentile,
    run_json,
    throwaway_database,
    timed_child,
)

FACTORS = 64
# Stage sizes: (listeners, tracks, events, active tracks). Stage 2 adds to stage 1.
STAGE_1 = (100_000, 100_000, 1_000_000, 50_000)
STAGE_2 = (0, 900_000, 9_000_000, 500_000)
LATENCY_REQUESTS = 300
SPARK_ENV = {"PYSPARK_SUBMIT_ARGS": "--driver-memory 6g pyspark-shell"}


def run(log, redis_env: dict, scale: float = 1.0) -> tuple[dict[str, float], dict]:
    figures: dict[str, float] = {}
    context: dict = {"scale": scale, "factors": FACTORS}
    one, two = ([max(0, int(v * scale)) for v in stage] for stage in (STAGE_1, STAGE_2))
    with (
        tempfile.TemporaryDirectory(prefix="musicrec-large-") as folder,
        throwaway_database() as url,
    ):
        data = Path(folder)
        # a scaled-down check of the steps scales the graph's threshold too
        scaled = {} if scale == 1 else {"MUSICREC_ANN_MIN_TRACKS": str(int(200_000 * scale))}
        env = child_env(url, data, **redis_env, **scaled)
        log(f"large: database {url.rsplit('/', 1)[-1]}, data in {data}")
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
        subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=REPO,
                       env=env, check=True)  # fmt: skip

        _grow(env, one, seed=1, log=log, context=context)
        context["matrix_1m"] = _matrix(env, log)
        small = _fits(env, log)
        context["fits_1m"] = small
        manage(["retrain", "--json", "--force", "--factors", str(FACTORS)], env, timeout=3600)
        context["index_100k"] = manage(["similarity_index", "--json"], env)
        before = _serve(env, data, one[1], log)
        context["serving_100k"] = before

        _grow(env, two, seed=2, log=log, context=context)
        figures.update(_matrix(env, log))
        started = time.perf_counter()
        body = manage(["retrain", "--json", "--force", "--factors", str(FACTORS)], env,
                      timeout=7200)  # fmt: skip
        figures["retrain_seconds"] = time.perf_counter() - started
        context["retrain"] = body.get("seconds")
        log(f"large: retrain at {FACTORS} factors {figures['retrain_seconds']:.0f} s")
        index = manage(["similarity_index", "--recall", "1000", "--json"], env, timeout=7200)
        context["index_1m"] = index
        log(f"large: similarity index {json.dumps(index)}")
        figures["ann_recall_at_10"] = index.get("recall_at_10", float("nan"))
        figures["ann_build_seconds"] = index["seconds"]
        after = _serve(env, data, one[1] + two[1], log)
        context["serving_1m"] = after
        for name in ("recommend_p50_ms", "recommend_p99_ms", "similar_p50_ms", "similar_p99_ms"):
            figures[name] = after[name]
            figures[name.replace("_ms", "_vs_100k")] = after[name] / before[name]
        figures["web_rss_mb"] = after["rss_mb"]
        figures["web_pss_mb"] = after["pss_mb"]
        log(f"large: figures so far {json.dumps(figures)}")
        big = _fits(env, log)  # last: Spark at ten million events is the longest step
        context["fits_10m"] = big
        figures["implicit_fit_seconds"] = big["implicit"]
        figures["spark_fit_seconds"] = big["spark"]
        figures["implicit_fit_seconds_1m"] = small["implicit"]
        figures["spark_fit_seconds_1m"] = small["spark"]
    return figures, context


def _grow(env, stage: list[int], *, seed: int, log, context: dict) -> None:
    users, tracks, events, active = stage
    catalogue = run_json(["bench/populate.py", "catalogue", "--users", str(users), "--tracks",
                          str(tracks), "--seed", str(seed)], env, timeout=7200)  # fmt: skip
    _, peak, stdout = timed_child(
        ["bench/populate.py", "events", "--events", str(events), "--active-tracks", str(active),
         "--seed", str(seed)], env, timeout=7200,
    )  # fmt: skip
    grown = json.loads(stdout.strip().splitlines()[-1])
    grown["peak_mb"] = round(peak)
    context[f"populate_{seed}"] = {"catalogue": catalogue, "events": grown}
    log(f"large: catalogue {json.dumps(catalogue)}; events {json.dumps(grown)}")


def _fits(env, log) -> dict:
    """One `implicit` and one Spark local[2] fit; wall and CPU seconds (the CPU time moves less
    with the machine's other work), and the BLAS/LAPACK Spark's solves ran on."""
    implicit = run_json(["bench/fit_probe.py", "--factors", str(FACTORS)], env, timeout=7200)
    fits = {"implicit": implicit["fit_seconds"], "implicit_cpu": implicit["cpu_seconds"],
            "spark": float("nan"), "nnz": implicit["nnz"]}  # fmt: skip
    if not os.environ.get("BENCH_LARGE_NO_SPARK"):
        spark = run_json(["bench/fit_probe.py", "--trainer", "spark", "--master", "local[2]",
                          "--factors", str(FACTORS)], {**env, **SPARK_ENV},
                         timeout=7200)  # fmt: skip
        fits["spark"] = spark["fit_seconds"]
        fits["spark_cpu"] = spark["cpu_seconds"]
        fits["spark_linear_algebra"] = f"{spark['blas']}, {spark['lapack']}"
    fits["load_average"] = os.getloadavg()[0]
    log(f"large: fits {json.dumps(fits)}")
    return fits


def _matrix(env, log) -> dict[str, float]:
    """Our build and the COPY floor, best of two each (the naive build is left out: ten million
    ORM rows in a DataFrame need more memory than the machine has to spare)."""
    best = {}
    for mode in ("floor", "ours"):
        runs = [timed_child(["bench/matrix_probe.py", mode], env, timeout=3600) for _ in range(2)]
        best[mode] = min(json.loads(out.strip().splitlines()[-1])["seconds"] for *_, out in runs)
        best[f"{mode}_peak_mb"] = min(peak for _, peak, _ in runs)
    log(f"large: matrix {json.dumps(best)}")
    return {"matrix_build_seconds": best["ours"],
            "matrix_build_vs_floor": best["ours"] / best["floor"],
            "matrix_build_peak_mb": best["ours_peak_mb"]}  # fmt: skip


def _serve(env, data: Path, tracks: int, log) -> dict[str, float]:
    """Two gunicorn workers; recommendations (a different listener each time) and similar
    tracks, one request at a time; then each worker's memory."""
    from run import TOKENS, _ok, _wait

    tokens = run_json(["bench/populate.py", "tokens", "--count", str(TOKENS)], env)["tokens"]
    auth = [{"Authorization": f"Token {t}"} for t in tokens]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "musicrec.wsgi", "--bind", f"127.0.0.1:{port}", "--workers",
         "2", "--timeout", "900", "--log-level", "warning"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL,
        stderr=(data.parent / f"musicrec-large-gunicorn-{tracks}.log").open("w"),  # kept
    )  # fmt: skip
    try:
        _wait(f"{base}/api/health/", server)
        rng = random.Random(tracks)
        started = time.perf_counter()
        for what in ("recommendations/?n=20", "tracks/1/similar/?n=20"):
            warm = load.run(lambda s, c, n, w=what: s.get(f"{base}/api/{w}", headers=auth[n % 8],
                                                          timeout=900),
                            concurrency=4, per_client=4)  # fmt: skip
            _ok(warm, f"warm-up {what}")
        log(f"large: {tracks} tracks, both workers warm in {time.perf_counter() - started:.0f} s")
        fresh = iter(auth[8:])
        recommend = load.run(
            lambda s, c, n: s.get(f"{base}/api/recommendations/?n=20", headers=next(fresh)),
            concurrency=1, per_client=LATENCY_REQUESTS,
        )  # fmt: skip
        _ok(recommend, "recommendations")
        similar = load.run(
            lambda s, c, n: s.get(f"{base}/api/tracks/{rng.randrange(1, tracks)}/similar/?n=20"),
            concurrency=1, per_client=LATENCY_REQUESTS,
        )  # fmt: skip
        _ok(similar, "similar")
        workers = psutil.Process(server.pid).children()
        memory = [w.memory_full_info() for w in workers]
        found = {
            "recommend_p50_ms": percentile(recommend.latencies_ms, 50),
            "recommend_p99_ms": percentile(recommend.latencies_ms, 99),
            "similar_p50_ms": percentile(similar.latencies_ms, 50),
            "similar_p99_ms": percentile(similar.latencies_ms, 99),
            "rss_mb": max(m.rss for m in memory) / 2**20,
            "pss_mb": max(m.pss for m in memory) / 2**20,
            "uss_mb": max(m.uss for m in memory) / 2**20,
        }
        log(f"large: serving at {tracks} tracks {json.dumps(found)}")
        return found
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
