"""The analysis stages one at a time, on a cleaned folder (not part of the test run).

    .venv/bin/python benchmarks/stages.py benchmarks/work/students_100000/clean

For each stage: wall time (median of ``--repeat`` runs) and the process's peak memory
so far. The stages are those the analysis issue compared engines on: each result
placed against the student's contacts (here, the before/after windows and exposure
shares of every matched row: binary searches on one sorted array), weekly completion
per school, the event-study table, and 1000 cluster-bootstrap resamples.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np

from engagement.dataset import load
from engagement.estimate import DESIGNS, Design, Prepared, event_study, school_week_counts
from engagement.estimate.fit import _Fit


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clean_dir")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    tables = load(args.clean_dir).tables
    print(f"load: {time.perf_counter() - start:.1f} s, {len(tables['results']):,} results, "
          f"peak {_peak_gb():.1f} GB")
    design = Design(n_boot=1000)
    state: dict = {}

    def timeline():
        state["prepared"] = Prepared(tables, design)

    def rows():
        prepared = state["prepared"]
        prepared._rows.clear()
        state["rows"] = {k: prepared.rows(k) for k in DESIGNS}

    def weeks():
        school_week_counts(state["prepared"].flags, design.timezone)

    def events():
        event_study(tables, design=Design(n_boot=200), prepared=state["prepared"])

    def bootstrap():
        _Fit(state["rows"], design, np.random.default_rng(0))

    stages = [("flags and timeline", timeline), ("matched rows (as-of windows)", rows),
              ("weekly completion per school", weeks), ("event-study table", events),
              ("1000 bootstrap resamples, 3 designs", bootstrap)]
    figures = []
    for name, run in stages:
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            run()
            times.append(time.perf_counter() - t)
        figures.append({"stage": name, "seconds": round(statistics.median(times), 2),
                        "peak_gb": round(_peak_gb(), 1)})
        print(f"{name}: {figures[-1]['seconds']} s (median of {args.repeat}), "
              f"peak so far {figures[-1]['peak_gb']} GB", flush=True)
    rows_n = sum(len(r) for r in state["rows"].values())
    print(f"matched rows: {rows_n:,}")
    print("| stage | seconds | peak GB so far |\n|---|---:|---:|")
    for f in figures:
        print(f"| {f['stage']} | {f['seconds']} | {f['peak_gb']} |")


if __name__ == "__main__":
    main()
