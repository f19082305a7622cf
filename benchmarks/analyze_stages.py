"""Each step of ``engagement analyze``, timed, with its peak memory (not part of the tests).

    .venv/bin/python benchmarks/analyze_stages.py benchmarks/work/students_100000/clean /tmp/out

The analysis's own steps are wrapped where ``results.analyze`` calls them, and the process's
resident memory is sampled every 0.1 s: each line gives a step's seconds, its peak and the
memory held after it. (``run.py`` gives the whole command's time and peak; this says where
they go.)
"""

from __future__ import annotations

import functools
import sys
import threading
import time

STEPS = ["Prepared", "effects", "effect_frames", "event_study", "completion_by",
         "protect_counts", "school_completion", "assignment_summary", "broadcast_association",
         "dose_response", "initiator_before_after", "invitations", "find_campaigns",
         "results_by_class", "analyze"]
peak = [0.0]


def resident_gb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1e6
    return 0.0


def sample() -> None:
    while True:
        peak[0] = max(peak[0], resident_gb())
        time.sleep(0.1)


def timed(module, name: str) -> None:
    """Replace ``module.name`` with itself, printing its time, peak and memory after."""
    step = getattr(module, name)

    @functools.wraps(step)
    def wrapper(*args, **kwargs):
        start, outer = time.perf_counter(), peak[0]
        peak[0] = resident_gb()
        try:
            return step(*args, **kwargs)
        finally:
            print(f"{name:24s} {time.perf_counter() - start:6.1f} s  peak {peak[0]:5.2f} GB  "
                  f"after {resident_gb():5.2f} GB", flush=True)
            peak[0] = max(peak[0], outer)

    setattr(module, name, wrapper)


def main() -> None:
    threading.Thread(target=sample, daemon=True).start()
    start = time.perf_counter()
    import engagement.dataset
    import engagement.results
    from engagement.cli import main as cli

    for name in STEPS:
        timed(engagement.results, name)
    timed(engagement.dataset, "load")
    timed(engagement.results.Results, "write")
    cli(["analyze", sys.argv[1], "--out", sys.argv[2], "--quiet"])
    print(f"total {time.perf_counter() - start:.1f} s, peak {peak[0]:.2f} GB")


if __name__ == "__main__":
    main()
