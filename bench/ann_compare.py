"""How the nearest-neighbour libraries compare on "similar sounding" vectors at a million tracks.

    python bench/ann_compare.py exact|hnswlib|faiss-hnsw|faiss-ivf|usearch [TRACKS]

Generated features spread like bench/populate.py's catalogue, embedded by catalog/similarity/
embedding.py (unit vectors), TRACKS of them (default 1,000,000). Builds the library's index on
two threads, then answers 300 queries (tracks of the catalogue) one at a time on one thread,
asking for 50 neighbours. Prints {"lib", "n", "dim", "build_s", "mem_mb", "p50_ms", "p99_ms",
"recall10"}: recall@10 against the exact scan, memory the growth of this process's RSS while
building. Only musicrec's chosen library (usearch) is in requirements.txt; install the others
to compare (pip install hnswlib==0.8.0 faiss-cpu==1.15.1). Results: docs/performance.md.
"""

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from catalog.similarity.embedding import embed

THREADS = 2
M, EF_CONSTRUCTION, EF = 16, 100, 64


def vectors(count: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    mfcc = rng.normal([-250, 90, -10, 30, -5], [60, 30, 20, 15, 10], size=(count, 5))
    moods = (rng.random((count, 4)) < [0.35, 0.3, 0.3, 0.3]).astype(float)
    uniform = [rng.uniform(low, high, count) for low, high in
               ((60, 200), (0, 1), (0, 1), (-40, -5), (500, 5000), (0, 1), (0, 0.6))]  # fmt: skip
    return np.ascontiguousarray(embed(np.column_stack([mfcc, *uniform, moods])).unit)


def searcher(which: str, data: np.ndarray):
    """Build `which` over `data`; returns query(vector, k) -> row ids."""
    if which == "exact":

        def query(v, k):
            scores = data @ v
            top = np.argpartition(-scores, k)[:k]
            return top[np.argsort(-scores[top])]
    elif which == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="ip", dim=data.shape[1])
        index.init_index(max_elements=len(data), M=M, ef_construction=EF_CONSTRUCTION)
        index.set_num_threads(THREADS)
        index.add_items(data, np.arange(len(data)))
        index.set_num_threads(1)

        def query(v, k):
            index.set_ef(max(EF, k))
            return index.knn_query(v, k=k)[0][0]
    elif which.startswith("faiss"):
        import faiss

        faiss.omp_set_num_threads(THREADS)
        if which == "faiss-hnsw":
            index = faiss.IndexHNSWFlat(data.shape[1], M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = EF_CONSTRUCTION
            index.add(data)
            index.hnsw.efSearch = EF
        else:
            coarse = faiss.IndexFlatIP(data.shape[1])
            index = faiss.IndexIVFFlat(coarse, data.shape[1], 2048, faiss.METRIC_INNER_PRODUCT)
            sample = np.random.default_rng(2).choice(len(data), 100_000, replace=False)
            index.train(data[sample])
            index.add(data)
            index.nprobe = 16
        faiss.omp_set_num_threads(1)

        def query(v, k):
            return index.search(v[None], k)[1][0]
    elif which == "usearch":
        from usearch.index import Index

        index = Index(ndim=data.shape[1], metric="ip", dtype="f32", connectivity=M,
                      expansion_add=EF_CONSTRUCTION, expansion_search=EF)  # fmt: skip
        index.add(np.arange(len(data)), data, threads=THREADS)

        def query(v, k):
            return index.search(v, k, threads=1).keys
    else:
        raise SystemExit(f"unknown library {which}")
    return query


def main() -> None:
    which = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    data = vectors(count)
    rng = np.random.default_rng(1)
    queries = rng.choice(count, 300, replace=False)
    truth = np.argsort(-(data[queries] @ data.T), axis=1)[:, :10]
    process = psutil.Process()
    before = process.memory_info().rss
    started = time.perf_counter()
    query = searcher(which, data)
    build = time.perf_counter() - started
    memory = (process.memory_info().rss - before) / 2**20
    latencies, hits = [], 0
    for i, row in enumerate(queries):
        started = time.perf_counter()
        found = query(data[row], 50)
        latencies.append((time.perf_counter() - started) * 1000)
        hits += len(set(np.asarray(found[:10]).tolist()) & set(truth[i].tolist()))
    print(json.dumps({
        "lib": which, "n": count, "dim": data.shape[1], "build_s": round(build, 1),
        "mem_mb": round(memory), "p50_ms": round(float(np.percentile(latencies, 50)), 3),
        "p99_ms": round(float(np.percentile(latencies, 99)), 3),
        "recall10": hits / (10 * len(queries)),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
