"""The ``engagement`` command: one sub-command per stage of the work."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd


def _sample(args: argparse.Namespace) -> int:
    from engagement.config import SampleConfig
    from engagement.sample import write_sample

    overrides = {"seed": args.seed}
    if args.students is not None:
        overrides["students"] = args.students
    if args.config:
        config = SampleConfig.from_toml(args.config, **overrides)
    else:
        config = SampleConfig.from_dict(overrides)
    start = time.perf_counter()
    division = write_sample(args.out_dir, config)
    if not args.quiet:
        print(f"wrote a sample division of {len(division.students):,} students, "
              f"{len(division.results):,} results and {len(division.contacts):,} contacts "
              f"to {args.out_dir} in {time.perf_counter() - start:.1f} s")
    return 0


def _record(out: Path, data_dir: Path, command: str, parameters: dict, dataset=None,
            quiet: bool = False, private: list[Path] = ()) -> None:
    """Write the run record into ``out``; say so if the inputs changed since the last run
    written there."""
    from engagement import manifest

    if (out / manifest.NAME).is_file() and not quiet:
        before = manifest.read(out)
        if before["inputs"]["folder"] == str(data_dir.resolve()):
            changed = manifest.changes(before["inputs"])
            if changed:
                print("Inputs changed since the last run written here: " + "; ".join(changed))
    report = dataset.report if dataset is not None and dataset.report.accounts else None
    manifest.write(out, manifest.build(data_dir, command=command, parameters=parameters,
                                       report=report, private=private))


def _clean(args: argparse.Namespace) -> int:
    from engagement.dataset import clean_folder
    from engagement.privacy import PRIVATE_QUARANTINE, read_key

    pseudonyms = read_key(args.key_file) is not None  # a weak key stops here, before reading
    dataset = clean_folder(args.raw_dir, args.out, config=args.config, key_file=args.key_file,
                           keep_notes=args.keep_notes, dayfirst=args.dayfirst,
                           keep_raw_quarantine=args.keep_raw_quarantine,
                           progress=not args.quiet)
    private = [args.key_file] if args.key_file else []
    _record(args.out, args.raw_dir, "clean", {
        "config": str(args.config) if args.config else None, "keep_notes": args.keep_notes,
        "pseudonyms": pseudonyms, "dayfirst": args.dayfirst,
        "keep_raw_quarantine": args.keep_raw_quarantine}, dataset, args.quiet, private)
    report = dataset.report
    if not args.quiet:
        print(report.summary())
        print(f"Wrote {', '.join(dataset.tables)} (Parquet), quarantine.csv and "
              f"cleaning_report.json/.md to {args.out}")
        if args.keep_raw_quarantine:
            print(f"{PRIVATE_QUARANTINE} holds the quarantined rows as read, names and ids "
                  "included: for the data steward only; do not share it")
    if not any(a.rows_kept for a in report.accounts):
        print(f"engagement clean: no row of {args.raw_dir} could be kept; the reasons are "
              f"in {args.out}/cleaning_report.md", file=sys.stderr)
        return 1
    if args.strict and (report.not_read or any(a.rows_quarantined for a in report.accounts)):
        print(f"engagement clean --strict: {len(report.not_read)} file(s) not read and "
              f"{sum(a.rows_quarantined for a in report.accounts):,} row(s) quarantined "
              f"(see {args.out}/cleaning_report.md)", file=sys.stderr)
        return 1
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from engagement.cleaning import load_settings
    from engagement.inspect import inspect_folder, mapping_config, summary

    _, options = load_settings(args.config)
    print(summary(inspect_folder(args.raw_dir, config=options)))
    if args.write_config:
        args.write_config.write_text(mapping_config(args.raw_dir, config=options),
                                     encoding="utf-8")
        print(f"Wrote the column mapping used to {args.write_config}: correct it and run "
              f"engagement clean {args.raw_dir} --config {args.write_config}")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from engagement.dataset import load
    from engagement.estimate import Design
    from engagement.results import analyze

    design = Design(window_days=args.window_days, seed=args.seed)
    parameters = {**asdict(design), "k": args.k, "engine": args.engine}
    if args.scheduler and args.engine != "dask":
        raise ValueError("--scheduler is for --engine dask")
    if args.engine == "dask":
        results, dataset = _analyze_on_dask(args, design), None
    else:
        dataset = load(args.data_dir, traced=False)
        results = analyze(dataset, design=design, k=args.k, progress=not args.quiet)
    results.write(args.out)
    _record(args.out, args.data_dir, "analyze", parameters, dataset, args.quiet)
    if not args.quiet:
        for row in results.headline().itertuples():
            if pd.isna(row.estimate):
                print(f"{row.estimand}: {row.method}")
            else:
                against = (f"{row.n_comparison:,.0f} comparison students" if row.n_comparison
                           else "no comparison group")
                print(f"{row.estimand}: {row.estimate:+.1f} points "
                      f"({row.ci_level:.0%} CI {row.ci_low:+.1f} to {row.ci_high:+.1f}; "
                      f"{row.n_treated:,.0f} events, {against})")
        print(f"Wrote {', '.join(f'{n}.csv' for n in results.frames)} to {args.out}")
    return 0


def _analyze_on_dask(args: argparse.Namespace, design):
    """The effect estimates on a Dask cluster (``--scheduler``) or a local one."""
    from engagement.distributed import effects
    from engagement.results import Results, effect_frames

    if not (args.data_dir / "results.parquet").is_file():
        raise ValueError(f"--engine dask reads a cleaned folder; {args.data_dir} has no "
                         f"results.parquet. Clean it first: engagement clean "
                         f"{args.data_dir} --out CLEANED")
    client = None
    if args.scheduler:
        from dask.distributed import Client

        client = Client(args.scheduler)
    try:
        table = effects(args.data_dir, design=design, client=client)
    finally:
        if client is not None:
            client.close()
    return Results(effect_frames(table, args.k), design, args.k)


def _report(args: argparse.Namespace) -> int:
    from engagement.estimate import Design
    from engagement.report import build_report

    path = build_report(args.data_dir, args.out, k=args.k, window_days=args.window_days,
                        seed=args.seed, progress=not args.quiet)
    _record(args.out, args.data_dir, "report", {
        **asdict(Design(window_days=args.window_days, seed=args.seed)),
        "k": args.k}, quiet=args.quiet)  # None: the results folder's own
    if not args.quiet:
        print(f"Wrote {path}: open it in a browser")
    return 0


def _actions(args: argparse.Namespace) -> int:
    from engagement.actions import action_list
    from engagement.dataset import load
    from engagement.privacy import write_csv

    if args.out.is_dir() or args.out.suffix.lower() != ".csv":
        raise ValueError(f"--out names the CSV file to write (say, actions.csv), not "
                         f"{args.out}")
    table = action_list(load(args.data_dir), school=args.school, days=args.days,
                        as_of=args.as_of)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, args.out)
    if not args.quiet:
        print(f"Wrote {len(table):,} students to {args.out}. It lists students by id: keep "
              "it within the school.")
    return 0


def _check(args: argparse.Namespace) -> int:
    from engagement.dataset import load
    from engagement.estimate import Design
    from engagement.findings import check, format_check, read_findings
    from engagement.privacy import write_csv
    from engagement.results import analyze

    claims = read_findings(args.findings)  # a bad file fails before the long part
    dataset = load(args.data)
    design = Design(window_days=args.window_days, seed=args.seed)
    results = analyze(dataset, design=design, k=args.k, progress=not args.quiet)
    table = check(claims, results, dataset.tables)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_csv(table, args.out)
    print(format_check(table, design.confidence))
    # Non-zero unless every claim is reproduced, so a division's own CI can run it.
    return 0 if (table["verdict"] == "reproduced").all() else 1


def _export(args: argparse.Namespace) -> int:
    from engagement.dataset import load
    from engagement.estimate import Design
    from engagement.publish import export
    from engagement.results import analyze

    if not args.publishable:
        raise ValueError("only publishable exports exist: add --publishable (the cleaned, "
                         "student-level tables come from `engagement clean`)")
    dataset = load(args.data_dir)
    design = Design(window_days=args.window_days, seed=args.seed)
    results = analyze(dataset, design=design, k=args.k, progress=not args.quiet)
    written = export(dataset.tables, args.out, effects=results.effects, k=args.k)
    _record(args.out, args.data_dir, "export", {**asdict(design), "k": args.k}, dataset,
            args.quiet)
    if not args.quiet:
        print(f"Wrote {', '.join(p.name for p in written)} and README.md to {args.out}: "
              f"counts by school and grade, cells under {args.k} hidden (x), and enough "
              "others hidden that none can be worked out from the totals")
    return 0


def _replicate(args: argparse.Namespace) -> int:
    from engagement.estimate import Design
    from engagement.report import replicate

    pages = replicate(args.data_dir, args.out, k=args.k, window_days=args.window_days,
                      seed=args.seed, progress=not args.quiet)
    _record(args.out, args.data_dir, "replicate", {
        **asdict(Design(window_days=args.window_days, seed=args.seed)), "k": args.k,
        "by": args.by}, quiet=args.quiet)
    if not args.quiet:
        print(f"Wrote {pages[0]} (the division, pooled) and {len(pages) - 1} school reports "
              f"to {args.out}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from engagement import manifest

    record = manifest.read(args.folder)
    changed = manifest.changes(record["inputs"], args.data)
    if "cleaned_from" in record:
        changed += [f"(raw) {c}" for c in manifest.changes(record["cleaned_from"])]
    if changed:
        print(f"{args.folder}: inputs differ from the run record:")
        print("\n".join(f"- {c}" for c in changed))
        return 1
    n = len(record["inputs"]["files"])
    print(f"{args.folder}: all {n} input files are byte-for-byte those of the run record")
    return 0


def _analysis_options(p: argparse.ArgumentParser) -> None:
    """The options every command that analyses a folder shares."""
    p.add_argument("data_dir", type=Path, help="a raw or a cleaned folder")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--window-days", type=int, default=21)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--k", type=int, default=10,
                   help="groups smaller than this are suppressed (default 10, at least 6)")
    p.add_argument("--quiet", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="engagement",
        description="Clean school exports and test how parent contact relates to "
                    "assignment completion.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample", help="write the seeded sample division's raw exports")
    p.add_argument("out_dir", type=Path)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--students", type=int, default=None,
                   help="number of students (default 1,200; 100,000 makes a division)")
    p.add_argument("--config", type=Path, default=None, help="a TOML file of parameters")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(run=_sample)

    p = sub.add_parser("clean", help="read raw exports into canonical tables")
    p.add_argument("raw_dir", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--config", type=Path, default=None, help="engagement.toml")
    p.add_argument("--key-file", type=Path, default=None,
                   help="a secret key file: ids become keyed pseudonyms (HMAC-SHA256)")
    p.add_argument("--keep-notes", action="store_true",
                   help="keep free-text notes (dropped by default: they name people)")
    p.add_argument("--keep-raw-quarantine", action="store_true",
                   help="also write the quarantined rows as read (names, ids) to a private "
                        "file for the data steward; quarantine.csv never holds them")
    order = p.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", dest="dayfirst", action="store_true", default=None)
    order.add_argument("--monthfirst", dest="dayfirst", action="store_false")
    p.add_argument("--strict", action="store_true",
                   help="exit 1 when any file was not read or any row was quarantined "
                        "(default: exit 0 when anything was cleaned)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(run=_clean)

    p = sub.add_parser("inspect", help="which reader takes each file of a folder, and why "
                                       "a file would be passed over (nothing is written)")
    p.add_argument("raw_dir", type=Path)
    p.add_argument("--config", type=Path, default=None, help="engagement.toml")
    p.add_argument("--write-config", type=Path, default=None, metavar="TOML",
                   help="write the column mapping used for files read by their headers, "
                        "to correct and pass to clean --config")
    p.set_defaults(run=_inspect)

    p = sub.add_parser("analyze", help="estimate how contact relates to completion")
    _analysis_options(p)
    p.add_argument("--engine", choices=["pandas", "dask"], default="pandas",
                   help="dask: the effect estimates (effects.csv, effects_by_school.csv) on "
                        "a Dask cluster, partitioned by student; needs a cleaned folder")
    p.add_argument("--scheduler", default=None,
                   help="with --engine dask: a running scheduler's address (tcp://host:8786); "
                        "without it, a local cluster of this machine's cores")
    p.set_defaults(run=_analyze)

    p = sub.add_parser("report", help="a single HTML report a principal can open, from "
                                      "analyze's results (or exports, analysed first)")
    _analysis_options(p)
    p.set_defaults(run=_report, k=None)  # a results folder's own k, unless one is asked for

    p = sub.add_parser("actions", help="one school's students to contact: behind on work "
                                       "and not reached lately (a private list)")
    p.add_argument("data_dir", type=Path, help="a raw or a cleaned folder")
    p.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    p.add_argument("--school", default=None, help="the school (needed when there are several)")
    p.add_argument("--days", type=int, default=14,
                   help="a conversation this recent takes a student off the list (default 14)")
    p.add_argument("--as-of", default=None, metavar="DATE",
                   help="the day the list is for (default: the last due date in the data)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(run=_actions)

    p = sub.add_parser("check", help="recompute published claims and judge each one")
    p.add_argument("findings", type=Path, help="a findings file (TOML) of claims")
    p.add_argument("--data", type=Path, required=True, help="a raw or a cleaned folder")
    p.add_argument("--out", type=Path, default=None, help="also write the verdicts as CSV")
    p.add_argument("--window-days", type=int, default=21)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(run=_check)

    p = sub.add_parser("replicate", help="the same report for every school, and the pooled "
                                         "division summary")
    p.add_argument("--by", choices=["school"], default="school")
    _analysis_options(p)
    p.set_defaults(run=_replicate)

    p = sub.add_parser("export", help="aggregates safe to share between schools")
    p.add_argument("--publishable", action="store_true",
                   help="suppressed aggregates only (required: the only kind of export)")
    _analysis_options(p)
    p.set_defaults(run=_export)

    p = sub.add_parser("verify", help="check a results folder's inputs against its run record")
    p.add_argument("folder", type=Path, help="a folder the engagement command wrote")
    p.add_argument("--data", type=Path, default=None,
                   help="the input folder, if it has moved since the run")
    p.set_defaults(run=_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, KeyError, FileNotFoundError) as err:
        # Errors the package raises are sentences meant for a person: no traceback.
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"engagement {args.command}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
