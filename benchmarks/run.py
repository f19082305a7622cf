"""Speed and memory of engagement at division scale (not part of the test run).

    .venv/bin/python benchmarks/run.py                  # 1,200, 10k, 30k, 100k students
    .venv/bin/python benchmarks/run.py --sizes 1200 10000 --stages report
    .venv/bin/python benchmarks/run.py --sizes 30000 --stages analyze_dask --contact-rows 0

Each stage runs in its own process, so its peak memory (max RSS) is its own.
Figures go to benchmarks/results.json and benchmarks/RESULTS.md; data to
benchmarks/work/ (ignored by git).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"

STAGE = r'''
import json, resource, sys, threading, time
from pathlib import Path
import psutil
stage, size, folder = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
tree_peak = 0
def watch():  # the report's kernel is a process of its own: sample the whole tree
    global tree_peak
    me = psutil.Process()
    while True:
        try:
            rss = sum(p.memory_info().rss for p in [me, *me.children(recursive=True)])
        except psutil.Error:
            continue
        tree_peak = max(tree_peak, rss)
        time.sleep(0.2)
threading.Thread(target=watch, daemon=True).start()
start = time.perf_counter()
if stage == "sample":
    from engagement.config import SampleConfig
    from engagement.sample import write_sample
    division = write_sample(folder / "raw", SampleConfig(students=size))
    rows = len(division.results)
elif stage == "clean":
    from engagement.dataset import clean_folder
    dataset = clean_folder(folder / "raw", folder / "clean")
    rows = sum(a.rows_in for a in dataset.report.accounts)
elif stage == "analyze":
    import pandas as pd
    from engagement.cli import main
    main(["analyze", str(folder / "clean"), "--out", str(folder / "results"), "--quiet"])
    rows = len(pd.read_parquet(folder / "clean" / "results.parquet", columns=["status"]))
elif stage == "analyze_dask":  # the effect estimates only, on a local Dask cluster
    import pandas as pd
    from engagement.cli import main
    main(["analyze", str(folder / "clean"), "--out", str(folder / "results_dask"), "--quiet",
          "--engine", "dask"])
    rows = len(pd.read_parquet(folder / "clean" / "results.parquet", columns=["status"]))
elif stage == "report":  # from analyze's results, as make report does
    import pandas as pd
    from engagement.cli import main
    main(["report", str(folder / "results"), "--out", str(folder / "report"), "--quiet"])
    rows = len(pd.read_parquet(folder / "clean" / "results.parquet", columns=["status"]))
elif stage == "contact_log":
    import numpy as np, pandas as pd
    from engagement.dataset import clean_folder
    raw = folder / "contacts_only"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    n = size
    ids = pd.Series(rng.integers(1, 999_999, n)).map("{:06d}".format)
    days = pd.Timestamp("2025-09-02") + pd.to_timedelta(rng.integers(0, 290, n), unit="D")
    pd.DataFrame({"student_id": ids.unique(), "school_id": "101", "grade_level": 8}).to_csv(
        raw / "students.csv", index=False)
    pd.DataFrame({
        "Student Number": ids, "School": "101", "Teacher": "T0001",
        "Date": days.strftime("%m/%d/%Y") + " 2:15 PM",
        "Type": rng.choice(["Phone", "PH", "e-mail", "txt", "Mtg", "Note home"], n),
        "Initiated by": rng.choice(["Teacher", "Parent"], n),
        "Reason": rng.choice(["Missing work", "Behaviour", "Positive call"], n),
        "Outcome": rng.choice(["Spoke with parent", "Left message", "No answer"], n),
        "Notes": "Called about the project.",
    }).to_csv(raw / "contact_log.csv", index=False)
    start = time.perf_counter()
    dataset = clean_folder(raw, folder / "contacts_clean")
    rows = sum(a.rows_in for a in dataset.report.accounts if a.table == "contacts")
seconds = time.perf_counter() - start
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1e3, tree_peak) / 1e9
print(json.dumps({"stage": stage, "students": size, "rows": rows,
                  "seconds": round(seconds, 1), "peak_gb": round(peak, 2),
                  "rows_per_second": round(rows / seconds)}))
'''


def run_stage(stage: str, size: int, folder: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", STAGE, stage, str(size), str(folder)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"stage": stage, "students": size, "error": done.stderr.strip()[-500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1200, 10_000, 30_000, 100_000])
    parser.add_argument("--stages", nargs="+",
                        default=["sample", "clean", "analyze", "report"])
    parser.add_argument("--contact-rows", type=int, default=1_500_000)
    args = parser.parse_args()
    figures = []
    for size in args.sizes:
        folder = WORK / f"students_{size}"
        for stage in args.stages:
            figures.append(run_stage(stage, size, folder))
            print(json.dumps(figures[-1]), flush=True)
    if args.contact_rows:
        figures.append(run_stage("contact_log", args.contact_rows, WORK / "contact_log"))
        print(json.dumps(figures[-1]), flush=True)
    write_results(figures)


def write_results(figures: list[dict]) -> None:
    """Merge with earlier figures (stages and sizes not rerun) and write both files."""
    machine = f"{platform.machine()}, {platform.python_version()}, 2 cores, 24 GB"
    results = HERE / "results.json"
    earlier = json.loads(results.read_text(encoding="utf-8"))["figures"] if results.exists() else []
    fresh = {(f["stage"], f["students"]) for f in figures}
    order = {"sample": 0, "clean": 1, "analyze": 2, "analyze_dask": 3, "report": 4,
             "contact_log": 5}
    figures = sorted([f for f in earlier if (f["stage"], f["students"]) not in fresh] + figures,
                     key=lambda f: (f["stage"] == "contact_log", f["students"],
                                    order[f["stage"]]))
    results.write_text(json.dumps({"machine": machine, "figures": figures}, indent=2) + "\n",
                       encoding="utf-8")
    lines = ["# Benchmark results", "", f"Machine: {machine}. Command: "
             "`.venv/bin/python benchmarks/run.py`. Each stage runs in its own process; "
             "`analyze` runs every analysis, `analyze_dask` only the effect estimates, on a "
             "local Dask cluster (LocalCluster defaults); "
             "`contact_log` cleans a generated 1.5M-row teacher contact log (size = rows).", "",
             "| stage | size | rows | seconds | peak GB | rows/s |",
             "|---|---:|---:|---:|---:|---:|"]
    for f in figures:
        if "error" in f:
            lines.append(f"| {f['stage']} | {f['students']:,} | failed: {f['error'][-80:]} |||")
        else:
            lines.append(f"| {f['stage']} | {f['students']:,} | {f['rows']:,} | {f['seconds']} "
                         f"| {f['peak_gb']} | {f['rows_per_second']:,} |")
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")

if __name__ == "__main__":
    main()
