"""Local workers against a 2-worker Dask LocalCluster, tuning the jet 3-layer MLP.

The realdata ``jet_KERAS_3layer`` model on its synthetic inputs (standard normal features, as
`tests.benchmarks.realdata_cases` draws them: 4,000 to tune on), agreement >= 0.99, tuned three
times in this process: one job, 2 loky workers (``--jobs 2``), and a ``LocalCluster`` of 2
single-threaded worker processes (``--cluster local:2``, its start-up included). Prints the wall
time, the search's candidates per second and whether each config equals the one-job run's (the
2-worker runs search in batches of 2, so they may take another path than one job; they must
agree with each other). Needs ``dask[distributed]`` and the realdata folder.
"""

from __future__ import annotations

import json
import os
import time

from tests.benchmarks.realdata_cases import cases

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _plain(config) -> str:
    return json.dumps(config, sort_keys=True, default=str)


def main() -> None:
    from emulation.io.keras_files import load
    from tuner.cluster import connect
    from tuner.tune import TuneOptions, tune

    (case,) = [c for c in cases() if c.name == "jet 3-layer"]
    if not case.model.exists():
        print(f"skipped: {case.model} not found")
        return
    model, _ = load(case.model)
    x, _ = case.data()
    rows = []
    for name, jobs, cluster in (("1 job", 1, None), ("2 loky", 2, None), ("local:2", 2, "local:2")):
        start = time.perf_counter()
        if cluster:
            with connect(cluster) as dask:
                started = time.perf_counter() - start
                result = tune(model, x, None, TuneOptions(jobs=dask.workers))
        else:
            started = 0.0
            result = tune(model, x, None, TuneOptions(jobs=jobs))
        seconds = time.perf_counter() - start
        rate = result.evaluations_per_second
        rows.append((name, seconds, started, rate, len(result.candidates), _plain(result.config)))
        print(f"{name}: {seconds:.1f} s ({started:.1f} s start-up), {rate:.1f} candidates/s")
    print("\n| run | wall time | of it start-up | candidates | candidates / s | config |")
    print("|---|---|---|---|---|---|")
    for name, seconds, started, rate, n, config in rows:
        same = "= 1 job" if config == rows[0][5] else "= 2 loky" if config == rows[1][5] else "?"
        print(f"| {name} | {seconds:.1f} s | {started:.1f} s | {n} | {rate:.1f} | {same} |")
