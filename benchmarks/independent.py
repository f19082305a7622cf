"""Coverage of the contact-effect estimates on worlds of a generator we did not write,
``../shared/worlds/division_sim.py`` (not part of the test run).

    .venv/bin/python benchmarks/independent.py --worlds 40 --students 1200

Each world is written as CSV exports with its truth moved out of the folder, read back
with ``engagement.load`` as a school's exports would be, and estimated with
``contact_effects(tables, design=Design(n_boot=200))``. Scenarios: ``null`` (contacts do
nothing), ``effect`` (the simulator's effects) and ``everyone_called`` (every student
who fell behind was called). The truth is the simulator's ``truth.json`` key of the
same name (probability units, shown here in points). World ``i`` has seed ``1 + i``.

Writes ``INDEPENDENT.md`` and ``independent.csv`` into ``--out`` (this folder by default),
with the columns of ``GRID.md``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

HERE = Path(__file__).resolve().parent
SIMULATOR = HERE.parent.parent / "shared" / "worlds" / "division_sim.py"
SCENARIOS = ("null", "effect", "everyone_called")
N_BOOT = 200


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


grid = _load("grid", HERE / "grid.py")


def run_world(task: tuple[str, int, int]) -> list[dict]:
    """Write, read and estimate one world; one row per estimand."""
    scenario, seed, students = task
    import engagement
    from engagement.estimate import Design, contact_effects

    simulator = _load("division_sim", SIMULATOR)
    start = time.perf_counter()
    base = {"cell": f"sim:{scenario}", "effects": scenario, "mechanism": "division_sim",
            "seed": seed, "students": students}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "world"
        simulator.write_world(str(folder), n_students=students, scenario=scenario, seed=seed)
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        shutil.move(folder / "truth.json", Path(tmp) / "truth.json")
        table, error = None, ""
        try:
            table = contact_effects(engagement.load(folder).tables,
                                    design=Design(n_boot=N_BOOT))
        except Exception as err:  # a failed world is a finding
            error = f"{type(err).__name__}: {err}"
    seconds = time.perf_counter() - start
    out = []
    for estimand in grid.ESTIMANDS:
        value = truth.get(estimand)
        row = (table[(table["estimand"] == estimand) & (table["subgroup"] == "all")
                     & (table["scope"] == "division")] if table is not None else pd.DataFrame())
        r = row.iloc[0] if len(row) else {}
        estimate = float(r["estimate"]) if len(row) else np.nan
        out.append({**base, "estimand": estimand,
                    "truth": 100 * (value if value is not None else 0.0),
                    "estimate": estimate,
                    "ci_low": float(r["ci_low"]) if len(row) else np.nan,
                    "ci_high": float(r["ci_high"]) if len(row) else np.nan,
                    "n_treated": int(r["n_treated"]) if len(row) else 0,
                    "n_comparison": int(r["n_comparison"]) if len(row) else 0,
                    "method": str(r["method"]) if len(row) else "",
                    "error": error if table is None else "",
                    "seconds": seconds})
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", type=int, default=20)
    parser.add_argument("--students", type=int, default=1200)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    if not SIMULATOR.exists():
        raise SystemExit(f"{SIMULATOR} is not here: this benchmark needs ../shared/worlds")
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    tasks = [(s, 1 + i, args.students) for s in scenarios for i in range(args.worlds)]
    print(f"{len(tasks)} worlds of {args.students:,} students, {args.processes} processes",
          flush=True)
    start = time.perf_counter()
    rows: list[dict] = []
    with multiprocessing.get_context("spawn").Pool(args.processes, maxtasksperchild=10) as pool:
        for done, result in enumerate(pool.imap_unordered(run_world, tasks), start=1):
            rows += result
            print(f"[{done}/{len(tasks)}] {result[0]['cell']} seed {result[0]['seed']}: "
                  f"{result[0]['seconds']:.1f} s", flush=True)
    elapsed = time.perf_counter() - start
    frame = pd.DataFrame(rows).sort_values(["cell", "seed", "estimand"], kind="stable")
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "independent.csv", index=False)
    command = "python benchmarks/independent.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    header = [
        "# Coverage on worlds of a generator we did not write",
        "",
        f"Date: {datetime.date.today().isoformat()}. Command: `{command.strip()}`. "
        f"Generator: `../shared/worlds/division_sim.py`, scenarios {', '.join(scenarios)}; "
        f"{args.worlds} worlds each (seeds 1-{args.worlds}), {args.students:,} students, "
        f"{N_BOOT} bootstrap resamples; {len(tasks)} worlds in {elapsed / 60:.1f} min on "
        f"{args.processes} processes. Each world is read from its CSV exports with its "
        "truth moved out first.",
        "",
        "Columns as in `GRID.md`; the last, the spread of the errors (estimate - truth) "
        "between worlds over the mean standard error the intervals state (width / 3.92): "
        "near 1 when the intervals are as wide as the estimates' own noise, above 1 when "
        "they are too narrow.",
    ]
    summary = grid.summarise(frame)
    (args.out / "INDEPENDENT.md").write_text(grid.markdown(summary, header), encoding="utf-8")
    print(grid.markdown(summary, []))


if __name__ == "__main__":
    main()
