"""musicrec benchmarks: each stage against its naive way or its floor, measured in the same run.

    .venv/bin/python bench/run.py [--quick | --large] [--json] [--chart PATH]

Creates a throwaway PostgreSQL database (on DATABASE_URL's server when that is PostgreSQL, else
the local one) and drops it at the end; starts its own gunicorn and Celery worker on free local
ports; loads go only to 127.0.0.1 and stop by themselves. `--quick` uses small sizes (under three
minutes); `--large` is ten times the full run's data (bench/large.py). Figures and targets:
docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load
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

BENCH_REDIS = "redis://127.0.0.1:6379/13"
# Listeners with API tokens: latency asks for a different one each time (nothing cached), the
# load mix draws from the first REPEAT_POOL (people reloading), the uncached load from the rest.
TOKENS = 2_500
REPEAT_POOL = 200


@dataclass(frozen=True)
class Sizes:
    users: int
    tracks: int
    active_tracks: int
    events: int
    import_rows: int
    ingest_seconds: float
    latency_requests: int
    load_seconds: float
    steps: tuple[int, ...]  # event counts for the cost-against-size curves (full run only)


FULL = Sizes(10_000, 100_000, 50_000, 1_000_000, 1_000_000, 15.0, 400, 10.0,
             (125_000, 250_000, 500_000, 1_000_000))  # fmt: skip
QUICK = Sizes(2_000, 20_000, 10_000, 200_000, 100_000, 5.0, 150, 4.0, ())


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="musicrec benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes, under three minutes")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--chart", help="write the cost-against-size chart here (full run)")
    parser.add_argument("--large", action="store_true", help="10x the data (bench/large.py)")
    parser.add_argument("--large-scale", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.large:
        import large

        figures, context = large.run(log, _redis_env(), args.large_scale)
        print(json.dumps({**{k: round(v, 4) for k, v in figures.items()}, "context": context}))
        return
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    figures: dict[str, float] = {}
    context: dict = {"sizes": sizes.__dict__, "curves": []}
    with (
        tempfile.TemporaryDirectory(prefix="musicrec-bench-") as folder,
        throwaway_database() as url,
    ):
        data = Path(folder)
        # pages need the collected static files' manifest (production storage, DEBUG off)
        env = child_env(url, data, **_redis_env())
        log(f"database {url.rsplit('/', 1)[-1]}, data in {data}")
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
        subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=REPO,
                       env=env, check=True)  # fmt: skip
        _catalogue(env, sizes)
        log("events: " + json.dumps(run_json(
            ["bench/populate.py", "events", "--events", str(sizes.events), "--active-tracks",
             str(sizes.active_tracks)], env)))  # fmt: skip
        figures.update(_matrix(env))
        figures.update(_retrain(env))
        figures.update(_serving(env, sizes, data))
        figures.update(_import(env, sizes, data))
        figures.update(_import_create(env, data))
        figures.update(_analysis(env, data))
        figures.update(run_json(["bench/similar_family.py"], env))  # docs/features.md
        figures.update(_evaluate_demo(data))
    if sizes.steps:
        context["curves"] = _curves(sizes)
    context["seconds"] = round(time.perf_counter() - started, 1)
    if args.chart and context["curves"]:
        import chart

        chart.draw(context["curves"], Path(args.chart))
        log(f"chart written to {args.chart}")
    if args.json:
        print(json.dumps({**{k: round(v, 4) for k, v in figures.items()},
                          "context": context}))  # fmt: skip
    else:
        for name, value in figures.items():
            print(f"{name} {value:.4g}")
        print(f"# {context['seconds']} s", file=sys.stderr)


def _redis_env() -> dict[str, str]:
    """Production-like: Redis as cache (throttle counters) and broker, when it answers."""
    try:
        client = redis.Redis.from_url(BENCH_REDIS, socket_connect_timeout=2)
        client.flushdb()
        return {"REDIS_URL": BENCH_REDIS}
    except redis.RedisError:
        log("no Redis at 127.0.0.1:6379: local-memory cache, tasks inline")
        return {}


def _catalogue(env, sizes: Sizes) -> None:
    log("catalogue: " + json.dumps(run_json(
        ["bench/populate.py", "catalogue", "--users", str(sizes.users), "--tracks",
         str(sizes.tracks)], env)))  # fmt: skip


def _curves(sizes: Sizes) -> list[dict]:
    """Cost against size, in a database of its own: grow the events in steps; at each step
    measure the matrix build, one ALS fit and an import of 100,000 listens."""
    points = []
    with (
        tempfile.TemporaryDirectory(prefix="musicrec-curve-") as folder,
        throwaway_database() as url,
    ):
        data = Path(folder)
        env = child_env(url, data)
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
        _catalogue(env, sizes)
        done = 0
        for seed, step in enumerate(sizes.steps, start=1):
            grown = run_json(["bench/populate.py", "events", "--events", str(step - done),
                              "--active-tracks", str(sizes.active_tracks), "--seed", str(seed)],
                             env)  # fmt: skip
            done = step
            build = _probe(env, "ours")
            fit = run_json(["bench/fit_probe.py"], env)
            csv = _listens_csv(data / "step.csv", 100_000, sizes, seed=100 + seed)
            seconds, _, _ = timed_child(["manage.py", "import_listens", str(csv), "--json"], env)
            point = {"events": grown["events"], "pairs": grown["pairs"],
                     "matrix_seconds": build["seconds"], "fit_seconds": fit["fit_seconds"],
                     "import_100k_seconds": seconds}  # fmt: skip
            points.append(point)
            log(f"curve: {json.dumps(point)}")
    return points


def _probe(env, mode: str) -> dict:
    _, peak, stdout = timed_child(["bench/matrix_probe.py", mode], env)
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_mb"] = peak
    return result


def _matrix(env) -> dict[str, float]:
    runs = {mode: [_probe(env, mode) for _ in range(3 if mode != "naive" else 2)]
            for mode in ("floor", "ours", "naive")}  # fmt: skip
    best = {mode: min(r["seconds"] for r in results) for mode, results in runs.items()}
    peak = {mode: min(r["peak_mb"] for r in results) for mode, results in runs.items()}
    log(f"matrix: seconds {best}, peak MB {peak}, rows {runs['ours'][0]['rows']}")
    return {
        "matrix_build_seconds": best["ours"],
        "matrix_build_vs_naive": best["naive"] / best["ours"],
        "matrix_build_peak_mb_vs_naive": peak["ours"] / peak["naive"],
        "matrix_build_vs_floor": best["ours"] / best["floor"],
    }


def _retrain(env) -> dict[str, float]:
    body = manage(["retrain", "--json", "--force"], env)
    bare = min(run_json(["bench/fit_probe.py"], env)["fit_seconds"] for _ in range(2))
    seconds = body["seconds"]
    overhead = seconds["total"] - seconds["als_fits"]
    log(f"retrain: {json.dumps(seconds)}; bare fit {bare:.2f} s")
    return {"retrain_overhead_vs_fit": overhead / bare}


def _serving(env, sizes: Sizes, data: Path) -> dict[str, float]:
    tokens = run_json(["bench/populate.py", "tokens", "--count", str(TOKENS)], env)["tokens"]
    track_ids = list(range(1, sizes.tracks + 1))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "musicrec.wsgi", "--bind", f"127.0.0.1:{port}", "--workers",
         "2", "--timeout", "120", "--log-level", "warning"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=(data / "gunicorn.log").open("w"),
    )  # fmt: skip
    try:
        _wait(f"{base}/api/health/", server)
        figures = {}
        auth = [{"Authorization": f"Token {t}"} for t in tokens]

        # warm both workers: model and similarity index loaded in each
        load.run(lambda s, c, n: s.get(f"{base}/api/recommendations/?n=20", headers=auth[n % 8]),
                 concurrency=4, per_client=6)  # fmt: skip
        load.run(lambda s, c, n: s.get(f"{base}/api/tracks/{track_ids[n]}/similar/?n=20"),
                 concurrency=4, per_client=6)  # fmt: skip

        rng = random.Random(7)
        fresh = iter(auth[REPEAT_POOL:])  # each listener once: the answer is computed
        latency = load.run(
            lambda s, c, n: s.get(f"{base}/api/recommendations/?n=20", headers=next(fresh)),
            concurrency=1, per_client=sizes.latency_requests,
        )  # fmt: skip
        _ok(latency, "recommendations")
        figures["recommend_p50_ms"] = percentile(latency.latencies_ms, 50)
        figures["recommend_p99_ms"] = percentile(latency.latencies_ms, 99)
        similar = load.run(
            lambda s, c, n: s.get(f"{base}/api/tracks/{rng.choice(track_ids)}/similar/?n=20"),
            concurrency=1, per_client=sizes.latency_requests,
        )  # fmt: skip
        _ok(similar, "similar")
        figures["similar_p50_ms"] = percentile(similar.latencies_ms, 50)
        figures["similar_p99_ms"] = percentile(similar.latencies_ms, 99)

        mixed = load.run(
            lambda s, c, n: s.get(f"{base}/api/recommendations/?n=20",
                                  headers=auth[rng.randrange(REPEAT_POOL)]),
            concurrency=16, seconds=sizes.load_seconds,
        )  # fmt: skip
        fresh_pool = iter(auth[REPEAT_POOL + sizes.latency_requests :])
        uncached = load.run(
            lambda s, c, n: s.get(f"{base}/api/recommendations/?n=20", headers=next(fresh_pool)),
            concurrency=16, seconds=min(sizes.load_seconds, 4.0),
        )  # fmt: skip
        detail = load.run(
            lambda s, c, n: s.get(f"{base}/api/tracks/{rng.choice(track_ids)}/"),
            concurrency=16, seconds=sizes.load_seconds,
        )  # fmt: skip
        for result, what in ((mixed, "recommendations"), (uncached, "recommendations, uncached"),
                             (detail, "track detail")):  # fmt: skip
            _ok(result, f"{what} under load")
        figures["recommend_rps_vs_track_detail"] = mixed.rps / detail.rps
        figures["recommend_uncached_rps_vs_track_detail"] = uncached.rps / detail.rps
        log(f"load: recommendations {mixed.rps:.0f} rps (reloads among {REPEAT_POOL} "
            f"listeners), {uncached.rps:.0f} rps (every request a new listener); track detail "
            f"{detail.rps:.0f} rps")  # fmt: skip
        workers = psutil.Process(server.pid).children()
        figures["serving_rss_mb"] = max(w.memory_info().rss for w in workers) / 2**20

        figures.update(_pages(env, base, sizes, track_ids))
        figures["listens_ingest_per_s"] = _ingest(base, auth, sizes)
        return figures
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


PAGE_REQUESTS = 100


def _pages(env, base: str, sizes: Sizes, track_ids: list[int]) -> dict[str, float]:
    """Server time of the two busiest pages, one request at a time on 127.0.0.1: a track page
    (player, chart, similar, also played) and the home page of a signed-in listener whose
    shelves are computed for that request (each request a different listener: no cache)."""
    sessions = run_json(["bench/populate.py", "sessions", "--count", str(PAGE_REQUESTS + 8)], env)
    cookies = iter({"sessionid": key} for key in sessions["sessions"])
    rng = random.Random(11)
    load.run(lambda s, c, n: s.get(f"{base}/tracks/{track_ids[n]}/"), concurrency=2, per_client=4)
    load.run(lambda s, c, n: s.get(f"{base}/", cookies=next(cookies)), concurrency=2, per_client=4)
    track = load.run(
        lambda s, c, n: s.get(f"{base}/tracks/{rng.choice(track_ids)}/"),
        concurrency=1, per_client=PAGE_REQUESTS,
    )  # fmt: skip
    _ok(track, "track page")
    home = load.run(
        lambda s, c, n: s.get(f"{base}/", cookies=next(cookies)),
        concurrency=1, per_client=PAGE_REQUESTS,
    )  # fmt: skip
    _ok(home, "home page")
    log(f"pages: track p50 {percentile(track.latencies_ms, 50):.1f} ms, home (signed in, "
        f"uncached) p50 {percentile(home.latencies_ms, 50):.1f} ms")  # fmt: skip
    return {
        "page_track_p50_ms": percentile(track.latencies_ms, 50),
        "page_track_p99_ms": percentile(track.latencies_ms, 99),
        "page_home_p50_ms": percentile(home.latencies_ms, 50),
        "page_home_p99_ms": percentile(home.latencies_ms, 99),
    }


def _ingest(base: str, auth: list[dict], sizes: Sizes) -> float:
    """Four clients, each its own listener, posting batches of 100 new listens."""
    now = datetime.now(UTC)
    batches = []
    for client in range(4):
        rng = random.Random(client)
        batches.append([
            [{"track_id": rng.randrange(1, sizes.active_tracks), "completed": rng.random() < 0.8,
              "listened_at": (now - timedelta(seconds=rng.randrange(86400))).isoformat(),
              "client_event_id": f"ingest-{client}-{n}-{i}"} for i in range(100)]
            for n in range(2000)
        ])  # fmt: skip
    result = load.run(
        lambda s, c, n: s.post(f"{base}/api/listens/", json=batches[c][n],
                               headers=auth[32 + c]),
        concurrency=4, seconds=sizes.ingest_seconds,
        count=lambda response: response.json()["created"],
    )  # fmt: skip
    _ok(result, "listens ingest")
    p50 = percentile(result.latencies_ms, 50)
    log(f"ingest: {result.payload_total} listens in {result.seconds:.1f} s "
        f"({result.requests} requests, p50 {p50:.0f} ms)")  # fmt: skip
    return result.payload_total / result.seconds


def _import(env, sizes: Sizes, data: Path) -> dict[str, float]:
    csv = _listens_csv(data / "import.csv", sizes.import_rows, sizes, seed=99)
    seconds, peak, stdout = timed_child(["manage.py", "import_listens", str(csv), "--json"], env)
    report = json.loads(stdout.strip().splitlines()[-1])
    log(f"import: {report['rows']} rows ({report['imported']} new) in {seconds:.1f} s, "
        f"peak {peak:.0f} MB")  # fmt: skip
    return {"import_listens_rows_per_s": report["rows"] / seconds, "import_listens_peak_mb": peak}


def _import_create(env, data: Path, rows: int = 100_000) -> dict[str, float]:
    """An import whose listeners, artists and tracks all have to be created first."""
    path = data / "import-create.csv"
    base = datetime.now(UTC) - timedelta(days=30)
    with path.open("w") as out:
        out.write("user,artist,track,listened_at,ms_played,completed\n")
        for n in range(rows):
            when = (base + timedelta(seconds=n)).isoformat()
            out.write(f"newcomer{n % 5000},New Artist {n % 17588},New Track {n % 17588},"
                      f"{when},1000,true\n")  # fmt: skip
    command = ["manage.py", "import_listens", str(path), "--create-missing", "--json"]
    # PostgreSQL: into the bench's database, which already holds the catalogue, the listeners
    # and their listens (as a real user's import would); SQLite: a new demo-style database.
    seconds, peak, _ = timed_child(command, env)
    (data / "sqlite").mkdir(exist_ok=True)
    lite = child_env(f"sqlite:///{data}/import-create.sqlite3", data / "sqlite")
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=REPO, env=lite, check=True)
    lite_seconds, lite_peak, _ = timed_child(command, lite)
    log(f"import creating users and tracks: {rows} rows in {seconds:.1f} s, peak {peak:.0f} MB "
        f"(SQLite {lite_seconds:.1f} s, peak {lite_peak:.0f} MB)")  # fmt: skip
    return {"import_listens_create_rows_per_s": rows / seconds,
            "import_listens_create_peak_mb": peak,
            "import_listens_create_sqlite_rows_per_s": rows / lite_seconds,
            "import_listens_create_sqlite_peak_mb": lite_peak}  # fmt: skip


def _listens_csv(path: Path, rows: int, sizes: Sizes, *, seed: int) -> Path:
    rng = random.Random(seed)
    artists = max(1, sizes.tracks // 20)
    base = datetime.now(UTC) - timedelta(days=60)
    with path.open("w") as out:
        out.write("user,artist,track,listened_at,ms_played,completed,skipped\n")
        for n in range(rows):
            track = rng.randrange(sizes.active_tracks)
            when = (base + timedelta(seconds=rng.randrange(50 * 86400) + n * 1e-3)).isoformat()
            done = rng.random() < 0.8
            skipped = not done and rng.random() < 0.5
            out.write(f"bench{rng.randrange(sizes.users)},Bench Artist {track % artists},"
                      f"Bench Track {track},{when},180000,{done},{skipped}\n")  # fmt: skip
    return path


def _analysis(env, data: Path) -> dict[str, float]:
    probe = run_json(["bench/analysis_probe.py", str(data)], {**env, "NUMBA_NUM_THREADS": "1"})
    figures = {"analysis_realtime_factor": probe["realtime_factor"]}
    if "REDIS_URL" not in env:
        log("analysis_cold_vs_warm needs Redis for a real worker: skipped")
        return figures
    figures["analysis_cold_vs_warm"] = _cold_vs_warm(env, data)
    return figures


def _cold_vs_warm(env, data: Path) -> float:
    """Queue analyses of three 3-minute files, then start a worker: the first task it runs is
    its first since start-up (its warm-up ran before it reported ready)."""
    sys.path.insert(0, str(REPO / "bench"))
    from analysis_probe import three_minute_flac

    files = [three_minute_flac(data, seed=seed) for seed in (11, 12, 13)]
    manage(["import_tracks", *map(str, files), "--json"], env)  # queued: the broker is Redis
    log_path = data / "worker.log"
    worker = subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "musicrec", "worker", "--pool", "prefork",
         "--concurrency", "1", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
         "--without-heartbeat"],
        cwd=REPO, env={**env, "NUMBA_NUM_THREADS": "1", "MUSICREC_LOG_LEVEL": "INFO"},
        stdout=log_path.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while log_path.read_text().count("succeeded in") < 3:
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError(f"worker did not finish:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    seconds = [float(line.split("succeeded in ")[1].split("s:")[0])
               for line in log_path.read_text().splitlines() if "succeeded in" in line]  # fmt: skip
    log(f"analysis in a fresh worker: {', '.join(f'{s:.2f} s' for s in seconds)}")
    return seconds[0] / statistics.median(seconds[1:])


def _evaluate_demo(data: Path) -> dict[str, float]:
    env = child_env(f"sqlite:///{data}/demo.sqlite3", data / "demo")
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    manage(["seed_demo", "--no-audio", "--json"], env)
    body = manage(["evaluate", "--json"], env)
    return {"evaluate_ndcg_vs_popularity": body["als"]["ndcg"] / body["popularity"]["ndcg"]}


def _wait(url: str, process: subprocess.Popen) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} never answered")


def _ok(result: load.LoadResult, what: str) -> None:
    bad = {code: n for code, n in result.statuses.items() if code >= 300}
    if bad:
        raise RuntimeError(f"{what}: unexpected statuses {bad}")


if __name__ == "__main__":
    main()
