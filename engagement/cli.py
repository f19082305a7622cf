"""The ``engagement`` command: one sub-command per stage of the work."""

from __future__ import annotations

import argparse
import sys
import time
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


def _clean(args: argparse.Namespace) -> int:
    from engagement.cleaning import clean_folder

    dataset = clean_folder(args.raw_dir, args.out, config=args.config, key_file=args.key_file,
                           keep_notes=args.keep_notes, dayfirst=args.dayfirst)
    if not args.quiet:
        print(dataset.report.summary())
        print(f"Wrote {', '.join(dataset.tables)} (Parquet), quarantine.csv and "
              f"cleaning_report.json/.md to {args.out}")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from engagement.analysis import (
        Design,
        Prepared,
        broadcast_association,
        campaign_hand_in,
        dose_response,
        effects,
        event_study,
        find_campaigns,
        initiator_selection,
        invitations,
        results_by_class,
    )
    from engagement.cleaning import load
    from engagement.metrics import assignment_summary, completion_by, reachability, result_flags
    from engagement.pooling import pool_schools
    from engagement.privacy import suppress

    dataset = load(args.data_dir)
    design = Design(window_days=args.window_days, seed=args.seed)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    prepared = Prepared(dataset.tables, design)  # the timeline and matched rows, built once
    table = effects(dataset.tables, design=design, prepared=prepared)
    table.to_csv(out / "effects.csv", index=False)
    flags = result_flags(dataset.results, dataset.assignments)
    local = flags["due_at"].dt.tz_convert(design.timezone).dt.tz_localize(None).dt.normalize()
    flags = flags.assign(week=(local - pd.to_timedelta(local.dt.day_of_week, unit="D")).dt.date)
    # Small groups are blanked in every table written (k = 10).
    suppress(completion_by(flags, ["school_id", "week"]), n="n",
             values=["completed", "completion_rate"]).to_csv(out / "completion_by_week.csv",
                                                             index=False)
    suppress(assignment_summary(dataset.results, dataset.assignments), n="n_students",
             values=["n_submitted", "pct_submitted", "pct_late", "mean_score", "sd_score"]
             ).to_csv(out / "assignment_summary.csv", index=False)
    suppress(reachability(dataset.contacts, dataset.students), n="n_families",
             values=["n_reached", "n_attempted", "unanswered_attempts", "share_reached"]
             ).to_csv(out / "reachability.csv", index=False)
    pool_schools(table).to_csv(out / "effects_by_school.csv", index=False)
    broadcast_association(dataset.tables, design=design).to_csv(out / "broadcasts.csv",
                                                                index=False)
    studies = [event_study(dataset.tables, mode=mode, design=design, prepared=prepared)
               for mode in ("personal", "written")]
    pd.concat([curve for curve, _ in studies]).to_csv(out / "event_study.csv", index=False)
    pd.DataFrame([check for _, check in studies if check]).to_csv(out / "pretrend.csv",
                                                                  index=False)
    suppress(dose_response(dataset.tables, design=design), n="n",
             values=["estimate", "ci_low", "ci_high"]).to_csv(out / "dose_response.csv",
                                                             index=False)
    initiator_selection(dataset.tables, design=design).to_csv(out / "initiator.csv", index=False)
    suppress(invitations(dataset.tables, design=design), n="n",
             values=["estimate", "ci_low", "ci_high"]).to_csv(out / "invitations.csv",
                                                             index=False)
    campaigns = find_campaigns(dataset.contacts)
    campaigns.drop(columns="students").to_csv(out / "campaigns.csv", index=False)
    graded = results_by_class(dataset.tables) if len(campaigns) else None
    curves = [campaign_hand_in(dataset.tables, c, results=graded).assign(staff_id=c["staff_id"])
              for _, c in campaigns.iterrows()]  # a handful of campaigns, not rows
    if curves:
        suppress(pd.concat(curves), n="n", values=["handed_in", "share_handed_in"]).to_csv(
            out / "campaign_hand_in.csv", index=False)
    if not args.quiet:
        shown = table[(table["scope"] == "division") & (table["subgroup"] == "all")]
        for row in shown.itertuples():
            if pd.isna(row.estimate):
                print(f"{row.estimand}: {row.method}")
            else:
                against = (f"{row.n_comparison:,} comparison students" if row.n_comparison
                           else "no comparison group")
                print(f"{row.estimand}: {row.estimate:+.1f} points "
                      f"({row.ci_level:.0%} CI {row.ci_low:+.1f} to {row.ci_high:+.1f}; "
                      f"{row.n_treated:,} events, {against})")
        print(f"Wrote effects.csv and summaries to {out}")
    return 0


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
    order = p.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", dest="dayfirst", action="store_true", default=None)
    order.add_argument("--monthfirst", dest="dayfirst", action="store_false")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(run=_clean)

    p = sub.add_parser("analyze", help="estimate how contact relates to completion")
    p.add_argument("data_dir", type=Path, help="a raw or a cleaned folder")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--window-days", type=int, default=21)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(run=_analyze)
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
