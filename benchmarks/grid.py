"""Coverage of the contact-effect estimates over a grid of simulated worlds (not part of
the test run).

    .venv/bin/python benchmarks/grid.py                        # every cell, 20 worlds each
    .venv/bin/python benchmarks/grid.py --worlds 60 --students 900
    .venv/bin/python benchmarks/grid.py --worlds 2 --students 600 --cells baseline,everyone_called

Cells: planted effects ``null`` (all 0) or ``effect`` (the defaults), crossed with a
setting of the sample generator's contact mechanisms (``SampleConfig``, see
``engagement/sample/simulate.py``):

- ``baseline``: all defaults;
- ``reach``: ``reach_engagement=1.0`` (engaged families answer the phone more often);
- ``hold``: ``decline_hold_days=21`` (a pair passed over is not reconsidered for 21 days);
- ``depth``: ``depth_propensity=1.0`` (the deeper the dip, the likelier the contact);
- ``unreached``: ``unreached_effect_share=0.3`` (an unanswered call does 30% as much;
  effect cells only);
- ``drives``: ``drive_weeks=1`` (a school-wide contact drive per school);
- ``dips``: ``dip_depth_sd=1.0`` (dips of varying depth);
- ``all``: all of the above at once;
- ``everyone_called``: ``everyone_called=True`` (no eligible student left uncontacted;
  null cell only).

``--cells`` takes mechanism names (both effect settings) or full cell names such as
``null:reach``. World ``i`` of every cell has seed ``1000 + i``, so cells differ by their
setting, not by their luck. Each world is estimated with
``contact_effects(canonical_tables(world), design=Design(n_boot=200))`` and each
estimand's division-wide estimate (subgroup ``all``) is compared with the planted truth,
``world.truth[estimand]["realised_per_decision"]`` for the decisions (attempts and written
messages: per fresh decision about missing work, see ``_decisions`` in the generator),
``realised_per_event`` for the others (None counts as 0), in percentage points.

Writes ``GRID.md`` (a table per cell and estimand) and ``grid.csv`` (one row per world and
estimand) into ``--out`` (this folder by default). Two processes (``--processes``).
"""

from __future__ import annotations

import os

# One BLAS thread per process: the worlds run in parallel instead.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

HERE = Path(__file__).resolve().parent
ESTIMANDS = ("att_personal_attempt", "att_personal_contact", "att_written_contact",
             "att_conference_attended")
N_BOOT = 200
FIRST_SEED = 1000
NULL = {"personal_contact": 0.0, "written_contact": 0.0, "conference_attended": 0.0,
        "broadcast": 0.0}
MECHANISMS = {
    "baseline": {},
    "reach": {"reach_engagement": 1.0},
    "hold": {"decline_hold_days": 21},
    "depth": {"depth_propensity": 1.0},
    "unreached": {"unreached_effect_share": 0.3},
    "drives": {"drive_weeks": 1},
    "dips": {"dip_depth_sd": 1.0},
}
MECHANISMS["all"] = {k: v for m in list(MECHANISMS.values()) for k, v in m.items()}
MECHANISMS["everyone_called"] = {"everyone_called": True}
ONLY = {"unreached": ("effect",), "everyone_called": ("null",)}  # else both


def all_cells() -> list[tuple[str, str]]:
    """(effects, mechanism) pairs, in table order."""
    return [(effects, mechanism) for mechanism in MECHANISMS
            for effects in ONLY.get(mechanism, ("null", "effect"))]


def select(cells: list[tuple[str, str]], spec: str | None) -> list[tuple[str, str]]:
    if not spec:
        return cells
    wanted = [s.strip() for s in spec.split(",") if s.strip()]
    known = {m for _, m in cells} | {f"{e}:{m}" for e, m in cells}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise SystemExit(f"unknown cell(s) {', '.join(unknown)}; known: "
                         f"{', '.join(MECHANISMS)} or effects:mechanism (effects null/effect)")
    return [(e, m) for e, m in cells if m in wanted or f"{e}:{m}" in wanted]


def run_world(task: tuple[str, str, int, int]) -> list[dict]:
    """Simulate and estimate one world; one row per estimand (NaN when not estimable,
    or when the run failed: then ``error`` says why)."""
    effects_label, mechanism, seed, students = task
    from engagement.config import Effects, SampleConfig
    from engagement.estimate import Design, contact_effects
    from engagement.sample import canonical_tables, simulate

    effects = Effects(**NULL) if effects_label == "null" else Effects()
    config = SampleConfig(seed=seed, students=students, students_per_school=students // 3,
                          effects=effects, **MECHANISMS[mechanism])
    start = time.perf_counter()
    base = {"cell": f"{effects_label}:{mechanism}", "effects": effects_label,
            "mechanism": mechanism, "seed": seed, "students": students}
    try:
        world = simulate(config)
        table = contact_effects(canonical_tables(world), design=Design(n_boot=N_BOOT))
    except Exception as err:  # a failed world is a finding, not a reason to stop the grid
        return [{**base, "estimand": e, "truth": np.nan, "estimate": np.nan,
                 "ci_low": np.nan, "ci_high": np.nan, "n_treated": 0, "n_comparison": 0,
                 "method": "", "error": f"{type(err).__name__}: {err}",
                 "seconds": time.perf_counter() - start} for e in ESTIMANDS]
    seconds = time.perf_counter() - start
    out = []
    for estimand in ESTIMANDS:
        planted = world.truth.get(estimand, {})
        truth = planted.get("realised_per_decision", planted.get("realised_per_event"))
        row = table[(table["estimand"] == estimand) & (table["subgroup"] == "all")
                    & (table["scope"] == "division")]
        found = not row.empty
        r = row.iloc[0] if found else {}
        out.append({**base, "estimand": estimand,
                    "truth": 100 * (truth if truth is not None else 0.0),
                    "estimate": float(r["estimate"]) if found else np.nan,
                    "ci_low": float(r["ci_low"]) if found else np.nan,
                    "ci_high": float(r["ci_high"]) if found else np.nan,
                    "n_treated": int(r["n_treated"]) if found else 0,
                    "n_comparison": int(r["n_comparison"]) if found else 0,
                    "method": str(r["method"]) if found else "",
                    "error": "" if found else "no such row in the estimates",
                    "seconds": seconds})
    return out


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per cell and estimand. Coverage, found, bias and width are over the worlds with an
    estimate; not estimable counts the others (failed runs included)."""
    ok = rows["estimate"].notna()
    rows = rows.assign(
        estimable=ok,
        covered=(rows["ci_low"] <= rows["truth"]) & (rows["truth"] <= rows["ci_high"]),
        found=(rows["ci_low"] > 0) | (rows["ci_high"] < 0),
        bias=rows["estimate"] - rows["truth"],
        width=rows["ci_high"] - rows["ci_low"],
        failed=rows["error"].fillna("").astype(str).ne(""))
    keys = ["cell", "estimand"]
    est = rows[rows["estimable"]].groupby(keys, sort=False)
    out = rows.groupby(keys, sort=False).agg(
        worlds=("seed", "size"), not_estimable=("estimable", lambda s: 1 - s.mean()),
        failed=("failed", "sum"), truth=("truth", "mean"))
    out = out.join(est.agg(coverage=("covered", "mean"), found=("found", "mean"),
                           bias=("bias", "mean"), width=("width", "mean"),
                           error_sd=("bias", "std")))
    # The errors' spread between worlds over the standard error the intervals state
    # (a 95% interval is 3.92 of them wide): above 1, the intervals are too narrow.
    out["spread_ratio"] = out["error_sd"] / (out["width"] / 3.92)
    return out.reset_index()


def markdown(summary: pd.DataFrame, header: list[str]) -> str:
    def pct(x):
        return "–" if pd.isna(x) else f"{100 * x:.0f}%"

    def pts(x):
        return "–" if pd.isna(x) else f"{x:+.2f}"

    def num(x):
        return "–" if pd.isna(x) else f"{x:.2f}"

    lines = header + [
        "",
        "| cell | estimand | worlds | not estimable | coverage | found (CI excludes 0) "
        "| mean truth (pts) | mean bias (pts) | mean CI width (pts) | error SD / stated SE |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in summary.itertuples():
        failed = f" ({r.failed} failed)" if r.failed else ""
        lines.append(f"| {r.cell} | {r.estimand} | {r.worlds} | {pct(r.not_estimable)}{failed} "
                     f"| {pct(r.coverage)} | {pct(r.found)} | {num(r.truth)} | {pts(r.bias)} "
                     f"| {num(r.width)} | {num(r.spread_ratio)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", type=int, default=20, help="worlds per cell (seeds 1000+i)")
    parser.add_argument("--students", type=int, default=900,
                        help="students per world (students_per_school = students // 3)")
    parser.add_argument("--cells", default=None,
                        help="comma-separated mechanisms or effects:mechanism cells "
                             "(default: all)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE,
                        help="folder for GRID.md and grid.csv (default: benchmarks/)")
    args = parser.parse_args(argv)
    cells = select(all_cells(), args.cells)
    tasks = [(e, m, FIRST_SEED + i, args.students) for e, m in cells
             for i in range(args.worlds)]
    print(f"{len(cells)} cells x {args.worlds} worlds = {len(tasks)} worlds of "
          f"{args.students:,} students, {args.processes} processes", flush=True)

    start = time.perf_counter()
    rows: list[dict] = []
    context = multiprocessing.get_context("spawn")
    with context.Pool(args.processes, maxtasksperchild=20) as pool:
        for done, result in enumerate(pool.imap_unordered(run_world, tasks), start=1):
            rows += result
            r = result[0]
            status = f" FAILED {r['error']}" if r["error"] and np.isnan(r["estimate"]) else ""
            print(f"[{done}/{len(tasks)}] {r['cell']} seed {r['seed']}: "
                  f"{r['seconds']:.1f} s{status}", flush=True)
    elapsed = time.perf_counter() - start

    frame = pd.DataFrame(rows)
    cell_order = {c: i for i, c in enumerate(f"{e}:{m}" for e, m in cells)}
    estimand_order = {e: i for i, e in enumerate(ESTIMANDS)}
    frame = (frame.assign(_c=frame["cell"].map(cell_order),
                          _e=frame["estimand"].map(estimand_order))
             .sort_values(["_c", "seed", "_e"], kind="stable")
             .drop(columns=["_c", "_e"]).reset_index(drop=True))
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "grid.csv", index=False)
    summary = summarise(frame)
    command = "python benchmarks/grid.py " + " ".join(sys.argv[1:] if argv is None else argv)
    header = [
        "# Coverage over a grid of simulated worlds",
        "",
        f"Date: {datetime.date.today().isoformat()}. Command: `{command.strip()}`. "
        f"Sizes: {args.worlds} worlds per cell (seeds {FIRST_SEED}-"
        f"{FIRST_SEED + args.worlds - 1}), {args.students:,} students per world "
        f"({args.students // 3:,} per school), {N_BOOT} bootstrap resamples, "
        f"{len(tasks)} worlds in {elapsed / 60:.1f} min on {args.processes} processes.",
        "",
        "Cells: `null` (planted effects 0) or `effect` (the defaults), crossed with the "
        "sample generator's contact mechanisms: " + "; ".join(
            f"`{m}` ({', '.join(f'{k}={v}' for k, v in s.items()) or 'all defaults'})"
            for m, s in MECHANISMS.items() if m in {m for _, m in cells}) + ".",
        "",
        "Division-wide estimates (subgroup `all`) against the truth "
        "`realised_per_decision` for attempts and written messages (per fresh decision "
        "about missing work: no school contact in the 28 days before), `realised_per_event` "
        "for the others (None = 0), in percentage points. Coverage: the truth inside "
        "[ci_low, ci_high]; found: the interval excludes 0; coverage, found, bias and width "
        "are over the worlds with an estimate, not estimable counts the others (runs that "
        "failed included, shown in brackets). Per-world rows: `grid.csv`.",
    ]
    (args.out / "GRID.md").write_text(markdown(summary, header), encoding="utf-8")
    print(markdown(summary, []))
    print(f"wrote {args.out / 'GRID.md'} and {args.out / 'grid.csv'} in {elapsed:.0f} s")


if __name__ == "__main__":
    main()
