"""Every analysis of a dataset, run once, small cells suppressed, ready to write, show or
put in a report.

``analyze(dataset)`` is what ``engagement analyze``, the report and the notebooks share,
so a number is computed one way wherever a person sees it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from engagement.dataset import Dataset
from engagement.estimate import (
    ESTIMANDS,
    Design,
    Prepared,
    broadcast_association,
    campaign_hand_in,
    dose_response,
    effects,
    event_study,
    find_campaigns,
    initiator_before_after,
    invitations,
    results_by_class,
)
from engagement.metrics import (
    assignment_summary,
    completion_by,
    conference_formats,
    contact_activity,
    reachability,
    school_completion,
    week_start,
)
from engagement.pooling import pool_schools
from engagement.privacy import MIN_CELL, suppress, write_csv
from engagement.publish import (
    protect_counts,
    school_sizes,
    shown_conference_formats,
    shown_conference_outcomes,
    shown_reachability,
)
from engagement.schema import TABLES

EVENT_STUDY_COLUMNS = ["mode", "relative_week", "contacted", "comparison", "difference",
                       "ci_low", "ci_high", "ci_level", "n_treated", "n_comparison"]
HEADLINE = list(ESTIMANDS)  # in the order people ask


@dataclass
class Results:
    """The result frames of every analysis, by name (``results.effects``...), with small
    cells already blanked (``suppressed`` column) at ``k``."""

    frames: dict[str, pd.DataFrame]
    design: Design
    k: int = MIN_CELL

    def __getattr__(self, name: str) -> pd.DataFrame:
        frames = self.__dict__.get("frames", {})
        if name in frames:
            return frames[name]
        raise AttributeError(name)

    def write(self, out_dir: str | Path) -> Path:
        """One CSV per result frame in ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self.frames.items():
            write_csv(frame, out / f"{name}.csv")
        return out

    @classmethod
    def read(cls, folder: str | Path) -> Results:
        """The results ``engagement analyze`` wrote to ``folder``, with the settings its
        run record names: what the report shows, without computing anything again."""
        import json

        folder = Path(folder)
        record = folder / "manifest.json"
        if not (folder / "effects.csv").is_file() or not record.is_file():
            raise ValueError(f"{folder} holds no results of engagement analyze (effects.csv "
                             "and manifest.json); run engagement analyze CLEANED --out "
                             f"{folder}")
        parameters = json.loads(record.read_text(encoding="utf-8"))["parameters"]
        missing = [name for name in FRAMES if not (folder / f"{name}.csv").is_file()]
        if missing:
            raise ValueError(f"{folder} lacks {', '.join(f'{m}.csv' for m in missing)}: it "
                             "was written by another version or engine; run engagement "
                             f"analyze again with --out {folder}")
        fields = Design.__dataclass_fields__
        design = Design(**{k: v for k, v in parameters.items() if k in fields})
        frames = {name: _read_frame(folder / f"{name}.csv", design.timezone)
                  for name in FRAMES}
        return cls(frames, design, int(parameters["k"]))

    def headline(self) -> pd.DataFrame:
        """The division's estimates, one row per estimand, in the order people ask."""
        e = self.effects
        rows = e[(e["scope"] == "division") & (e["subgroup"] == "all")]
        return rows.set_index("estimand").reindex(
            [h for h in HEADLINE if h in set(rows["estimand"])]).reset_index()

    def findings(self, *, staff: bool = True) -> list[str]:
        """The key findings as plain sentences (``engagement.sentences``); ``staff=False``
        for pages shared beyond the school: no staff member is named, even by id."""
        from engagement.sentences import findings

        return findings(self, staff=staff)

    def _repr_html_(self) -> str:
        rows = "".join(f"<li>{html.escape(s)}</li>" for s in self.findings())
        names = ", ".join(f"<code>{n}</code> ({len(f):,})" for n, f in self.frames.items())
        return (f"<div><strong>Results</strong> ({self.design.window_days}-day windows, "
                f"{self.design.confidence:.0%} intervals, groups under {self.k} "
                f"suppressed)<ul>{rows}</ul><small>Tables: {names}</small></div>")

    def __repr__(self) -> str:
        return "Results:\n" + "\n".join(f"- {s}" for s in self.findings())


def school_comparison(by_school: pd.DataFrame, estimand: str = "att_personal_contact"
                      ) -> pd.DataFrame:
    """Each school's estimate beside the pooled one, in school order (not ranked), with
    ``noisy`` marking a school whose interval is more than twice as wide as the typical
    school's: its estimate says little on its own."""
    e = by_school[by_school["estimand"] == estimand]
    schools = e[e["scope"] != "pooled"].sort_values("scope")
    width = schools["ci_high"] - schools["ci_low"]
    schools = schools.assign(noisy=width > 2 * width.median())
    pooled = e[e["scope"] == "pooled"].assign(noisy=False)
    out = pd.concat([schools, pooled], ignore_index=True)
    return out.assign(i2_percent=100 * out["i2"])


#: Every frame analyze writes, in the order it writes them.
FRAMES = ("effects", "effects_by_school", "event_study", "pretrend", "completion_by_week",
          "contact_activity", "school_completion", "assignment_summary", "reachability",
          "broadcasts", "dose_response", "initiator", "invitations", "conference_outcomes",
          "conference_formats", "campaigns", "campaign_hand_in", "data_summary", "cleaning",
          "quarantine_reasons")
#: Columns read back as dates (a week's Monday) or times (a campaign's first call).
DATES = ("week",)
TIMES = ("start", "end")


def _read_frame(path: Path, timezone: str) -> pd.DataFrame:
    """A result CSV as ``analyze`` made it: ids stay text, dates and times are dates."""
    frame = pd.read_csv(path, dtype={c: "str" for c in ("school_id", "staff_id", "teacher_id",
                                                        "staff", "scope", "assignment",
                                                        "file")})
    for column in DATES:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column]).dt.date
    for column in TIMES:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(timezone)
    return frame


def analyze(dataset: Dataset | dict[str, pd.DataFrame], *, design: Design | None = None,
            k: int = MIN_CELL, progress: bool = False) -> Results:
    """Run every analysis on the canonical tables and suppress groups under ``k``.

    ``progress`` shows a bar (in Jupyter or the terminal) over the steps.
    """
    tables = dataset.tables if isinstance(dataset, Dataset) else dataset
    if missing := [t for t in TABLES if t not in tables]:
        raise ValueError(f"the analysis needs all seven tables; missing: {', '.join(missing)}. "
                         "Add the exports that hold them (an empty table is fine)")
    design = design or Design()
    from tqdm.auto import tqdm  # imported here: a progress bar only when asked for

    steps = tqdm(total=8, desc="analysis", disable=not progress, leave=False)
    frames: dict[str, pd.DataFrame] = {}

    def step(name: str) -> None:
        steps.set_postfix_str(name)
        steps.update()

    prepared = Prepared(tables, design)  # the timeline and matched rows, built once
    step("matched rows")
    frames.update(effect_frames(effects(tables, design=design, prepared=prepared), k))
    step("effects")
    studies = [event_study(tables, mode=m, design=design, prepared=prepared)
               for m in ("personal", "written")]
    curves = pd.concat([curve for curve, _ in studies if len(curve)]) if any(
        len(curve) for curve, _ in studies) else pd.DataFrame(columns=EVENT_STUDY_COLUMNS)
    frames["event_study"] = suppress(curves, n=["n_treated", "n_comparison"], k=k, values=[
        "contacted", "comparison", "difference", "ci_low", "ci_high"])
    frames["pretrend"] = pd.DataFrame([check for _, check in studies if check])
    step("event study")
    flags = prepared.flags
    by_week = completion_by(flags.assign(week=week_start(flags["due_at"], design.timezone)),
                            ["school_id", "week"])
    frames["completion_by_week"] = suppress(by_week.assign(week=by_week["week"].dt.date),
                                            n="n", values=["completed", "completion_rate"], k=k)
    frames["contact_activity"] = suppress(contact_activity(tables["contacts"],
                                                           timezone=design.timezone),
                                          n="n_students", values=["contacts", "n_students"], k=k)
    # Counts the export also publishes come from its decision: hidden in the same cells.
    counts = protect_counts(tables, k, flags=flags)
    sizes = school_sizes(counts["students_by_completion"])
    by_school = school_completion(flags, tables["students"])
    size = by_school["school_id"].astype("str").map(sizes).astype("Int64")
    frames["school_completion"] = by_school.assign(
        n_students=size, completion=by_school["completion"].where(size.notna()),
        suppressed=size.isna())
    frames["assignment_summary"] = suppress(
        assignment_summary(tables["results"], tables["assignments"], flags=flags),
        n="n_students", k=k,
        values=["n_counted", "n_submitted", "pct_submitted", "pct_late", "mean_score",
                "sd_score"])
    frames["reachability"] = shown_reachability(
        reachability(tables["contacts"], tables["students"]), counts["families_by_contact"], k)
    step("summaries")
    del flags
    frames["broadcasts"] = broadcast_association(tables, design=design, prepared=prepared)
    step("broadcasts")
    frames["dose_response"] = suppress(dose_response(tables, design=design, prepared=prepared),
                                       n="n", k=k, values=["estimate", "ci_low", "ci_high"])
    frames["initiator"] = suppress(
        initiator_before_after(tables, design=design, prepared=prepared), n="n_students", k=k,
        values=["estimate", "ci_low", "ci_high"])
    del prepared  # the timeline and matched rows: the largest objects of the analysis
    step("dose and initiator")
    frames["invitations"] = suppress(invitations(tables, design=design), n="n", k=k,
                                     values=["estimate", "ci_low", "ci_high"])
    frames["conference_outcomes"] = shown_conference_outcomes(counts["conferences_by_outcome"])
    frames["conference_formats"] = shown_conference_formats(
        conference_formats(tables["conferences"]), k)
    step("conferences")
    campaigns = find_campaigns(tables, min_families=max(10, k))
    graded = (results_by_class(tables, teachers=list(campaigns["teacher_id"]))
              if len(campaigns) else None)
    hand_in = [campaign_hand_in(tables, c, results=graded).assign(campaign=c["campaign"])
               for _, c in campaigns.iterrows()]  # a handful of campaigns, not rows
    # The list of students contacted stays inside: only counts leave.
    frames["campaigns"] = campaigns.drop(columns="students")
    frames["campaign_hand_in"] = suppress(
        pd.concat(hand_in) if hand_in else pd.DataFrame(
            columns=["assignment", "group", "day", "handed_in", "n", "share_handed_in",
                     "campaign"]),
        n="n", values=["handed_in", "share_handed_in"], k=k)
    step("campaigns")
    frames.update(data_frames(dataset, k))
    steps.close()
    return Results(frames, design, k)


def data_frames(dataset: Dataset | dict[str, pd.DataFrame], k: int = MIN_CELL
                ) -> dict[str, pd.DataFrame]:
    """What went in, for the report's opening and closing lines: rows per table and the
    number of schools (``data_summary``), each file's accounting (``cleaning``) and the
    quarantined rows counted by reason (``quarantine_reasons``: never a value)."""
    from engagement.accounting import quarantine_summary

    tables = dataset.tables if isinstance(dataset, Dataset) else dataset
    counts = {name: len(frame) for name, frame in tables.items()}
    counts["schools"] = tables["students"]["school_id"].nunique()
    summary = pd.DataFrame({"what": list(counts), "rows": list(counts.values())})
    if isinstance(dataset, Dataset):
        accounts, reasons = dataset.report.to_frame(), quarantine_summary(dataset.quarantine)
    else:
        accounts = pd.DataFrame(columns=["file", "kind", "table", "rows_in", "rows_kept",
                                         "rows_duplicate", "rows_quarantined"])
        reasons = quarantine_summary(pd.DataFrame())
    return {"data_summary": summary, "cleaning": accounts,
            "quarantine_reasons": reasons[["file", "column", "reason", "rows"]]}


#: The groups behind an estimate: it is shown only when each has k or more.
GROUPS = ["n_treated", "n_comparison"]


def effect_frames(table: pd.DataFrame, k: int = MIN_CELL) -> dict[str, pd.DataFrame]:
    """``effects`` and ``effects_by_school`` (pooled, with I² and adjusted p-values) from
    the estimates, small cells suppressed."""
    return {"effects": suppress(table, n=GROUPS, values=_estimates(table), k=k),
            "effects_by_school": suppress(pool_schools(table), n=GROUPS, k=k,
                                          values=_estimates(table) + ["p_value",
                                                                      "p_adjusted"])}


def _estimates(table: pd.DataFrame) -> list[str]:
    return [c for c in ("estimate", "ci_low", "ci_high", "odds_ratio", "or_ci_low",
                        "or_ci_high", "baseline_difference_sd") if c in table]
