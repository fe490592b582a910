#!/usr/bin/python3
"""Times Flower-style numpy implementations of the robust rules on an (n, d) float32 matrix.

The C# benchmark (loadtests/FedAgg.Benchmarks, run through ./bench.sh) calls this once per shape and reads the
JSON it prints on stdout; it can also be run by hand:

    /usr/bin/python3 loadtests/baselines/numpy_rules.py --n 100 --d 1e6 --runs 3

The implementations follow Flower's legacy flwr/server/strategy/aggregate.py: np.mean / np.median over axis 0,
_trim_mean (np.partition on the two cut points, then the mean of the middle slice), Krum from the pairwise
distance loop (_compute_distances) and, as the fast variant, from one float32 Gram matrix X·Xᵀ (BLAS sgemm).
Timings are wall clock (time.perf_counter), one warm-up, then the median of --runs runs. Data are standard
normal float32 from a seeded numpy Generator: the same shape and distribution as the C# side, not the same bits
(the rules' running time does not depend on the particular values).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, required=True, help="number of updates")
    p.add_argument("--d", type=float, required=True, help="parameters per update (1e6 accepted)")
    p.add_argument("--rules", default="mean,median,trimmed_mean,sort,krum_gram,multikrum_gram,krum_loop",
                   help="comma-separated subset of the rules above")
    p.add_argument("--beta", type=float, default=0.1, help="trimmed-mean fraction per side (default 0.1)")
    p.add_argument("--f", type=int, default=None, help="Krum's f (default max(0, min(n//10, (n-3)//4)))")
    p.add_argument("--runs", type=int, default=5, help="timed runs per rule; the median is reported (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    p.add_argument("--loop-limit", type=float, default=1e9,
                   help="run Flower's O(n²·d) distance loop only when n²·d is at most this (default 1e9)")
    p.add_argument("--seed", type=int, default=42)
    return p.parse_args()


def trim_mean(array, proportiontocut):
    # Flower's _trim_mean, verbatim apart from names.
    import numpy as np
    axis = 0
    nobs = array.shape[axis]
    lowercut = int(proportiontocut * nobs)
    uppercut = nobs - lowercut
    if lowercut > uppercut:
        raise ValueError("Proportion too big.")
    atmp = np.partition(array, (lowercut, uppercut - 1), axis)
    slice_list = [slice(None)] * atmp.ndim
    slice_list[axis] = slice(lowercut, uppercut)
    return np.mean(atmp[tuple(slice_list)], axis=axis)


def krum_scores(distance_matrix, n, f):
    # Flower's aggregate_krum: the n−f−2 closest (argsort, skipping the first = itself), summed.
    import numpy as np
    num_closest = max(1, n - f - 2)
    closest = [np.argsort(row)[1:num_closest + 1].tolist() for row in distance_matrix]
    return [np.sum(distance_matrix[i, closest[i]]) for i in range(len(distance_matrix))]


def distances_loop(x):
    # Flower's _compute_distances: a Python loop over all ordered pairs.
    import numpy as np
    m = np.zeros((len(x), len(x)))
    for i, xi in enumerate(x):
        for j, xj in enumerate(x):
            delta = xi - xj
            norm = np.linalg.norm(delta)
            m[i, j] = norm ** 2
    return m


def distances_gram(x):
    import numpy as np
    g = x @ x.T  # float32 sgemm through the BLAS numpy is linked to
    sq = np.diag(g).astype(np.float64)
    d = sq[:, None] + sq[None, :] - 2.0 * g.astype(np.float64)
    np.maximum(d, 0.0, out=d)
    np.fill_diagonal(d, 0.0)
    return d


def main():
    args = parse_args()
    import numpy as np

    n, d = args.n, int(args.d)
    f = args.f if args.f is not None else max(0, min(n // 10, (n - 3) // 4))
    rng = np.random.default_rng(args.seed)
    x = rng.standard_normal((n, d), dtype=np.float32)

    def krum(distance):
        scores = krum_scores(distance, n, f)
        return x[int(np.argmin(scores))]

    def multikrum(distance):
        scores = krum_scores(distance, n, f)
        chosen = np.argsort(scores, kind="stable")[: n - f]
        return np.mean(x[np.sort(chosen)], axis=0)

    rules = {
        "mean": lambda: np.mean(x, axis=0),
        "median": lambda: np.median(x, axis=0),
        "trimmed_mean": lambda: trim_mean(x, args.beta),
        "sort": lambda: np.sort(x, axis=0),
        "krum_gram": lambda: krum(distances_gram(x)),
        "multikrum_gram": lambda: multikrum(distances_gram(x)),
        "krum_loop": lambda: krum(distances_loop(x)),
    }

    results, skipped = {}, {}
    for name in [r for r in args.rules.split(",") if r]:
        if name not in rules:
            skipped[name] = "unknown rule"
            continue
        if name == "krum_loop" and float(n) * n * d > args.loop_limit:
            skipped[name] = f"n²·d = {float(n) * n * d:.3g} > --loop-limit {args.loop_limit:.3g}"
            continue
        fn = rules[name]
        for _ in range(args.warmup):
            fn()
        runs = []
        for _ in range(max(1, args.runs)):
            t0 = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - t0)
        results[name] = {"seconds": statistics.median(runs), "runs": runs}

    try:
        blas = np.__config__.blas_opt_info.get("libraries", [])  # numpy < 2
    except AttributeError:
        blas = []
    json.dump({
        "n": n, "d": d, "f": f, "beta": args.beta,
        "numpy": np.__version__, "python": platform.python_version(), "blas": blas,
        "blas_library": os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3"),
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "results": results, "skipped": skipped,
    }, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
