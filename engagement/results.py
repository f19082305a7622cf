"""Every analysis of a dataset, run once, small cells suppressed, ready to write, show or
put in a report.

``analyze(dataset)`` is what ``engagement analyze``, the report and the notebooks share,
so a number is computed one way wherever a person sees it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engagement.dataset import Dataset
from engagement.estimate import (
    DESCRIPTIVE,
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
    REBOOKED,
    assignment_summary,
    completion_by,
    conference_formats,
    contact_activity,
    reachability,
    school_completion,
    week_start,
)
from engagement.pooling import pool_schools
from engagement.privacy import MIN_CELL, count_text, staff_label, suppress, write_csv
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
PLAIN_NAMES = {name: words for name, (words, _) in ESTIMANDS.items()}


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
        """The key findings as plain sentences, each with its interval and its n (counts
        under k said as "fewer than k"). ``staff=False`` for pages shared beyond the
        school: no staff member is named, even by id."""
        out = [self.reach_sentence()] if len(self.frames.get("reachability", [])) else []
        head = self.headline().set_index("estimand")
        # A design whose groups already differed before is not a fair comparison: its
        # sentence says so instead of stating an association.
        unfair = {c.estimand.removeprefix("pretrend_").removesuffix("_contact"): c
                  for c in self.pretrend.itertuples() if not c.passes}
        for estimand, row in head.iterrows():
            if estimand == "naive_before_after_personal":
                continue
            check = unfair.get(MODE_OF.get(estimand, ""))
            channels = self.frames.get("broadcasts", pd.DataFrame())
            if estimand == "att_broadcast" and len(channels):
                out.append(_broadcast_sentence(channels, self.k))
                continue
            out.append(_effect_sentence(estimand, row, self.design.window_days, self.k)
                       if check is None else _unfair_sentence(estimand, row, check))
        out += [_parallel_sentence(c) for c in self.pretrend.itertuples() if c.passes]
        if {"att_personal_contact", "naive_before_after_personal"} <= set(head.index):
            honest = head.loc["att_personal_contact", "estimate"]
            naive = head.loc["naive_before_after_personal", "estimate"]
            if pd.notna(honest) and pd.notna(naive):
                out.append(
                    f"Looking only at contacted students before and after would have said "
                    f"{naive:+.1f} points: about {naive - honest:.1f} of those points are the "
                    f"rebound that follows a bad week, which the comparison group removes.")
        if "period" in self.frames.get("initiator", pd.DataFrame()):
            out.append(_initiator_sentence(self.initiator, self.design.window_days, self.k))
        inv = self.invitations
        inv = inv[(inv["level"] == "invitation") & inv["estimate"].notna()]
        if len(inv) == 2:
            parts = [f"{r.estimate:.0f}% when invited by {r.invitation} ({r.ci_level:.0%} CI "
                     f"{r.ci_low:.0f} to {r.ci_high:.0f}%; n = {count_text(r.n, self.k)})"
                     for r in inv.itertuples()]
            out.append("Conference attendance: " + "; ".join(parts) + ". Teachers choose whom "
                       "to call, so this is associated with, not caused by, the invitation.")
        if len(self.frames.get("conference_formats", [])):
            out.append(_formats_sentence(self.conference_formats, self.k))
        if len(self.campaigns):
            out.append(_campaign_sentence(self.campaigns, self.campaign_hand_in, self.k,
                                          staff=staff))
        return out

    def reach_sentence(self) -> str:
        """Families reached in person, from the rows ``reachability.csv`` shows (a hidden
        grade is left out of the total too: a total would give it away)."""
        shown = self.reachability[~self.reachability["suppressed"].astype(bool)]
        families = int(shown["n_families"].sum())
        reached = int(shown["n_reached"].sum())
        hidden = int(self.reachability["suppressed"].astype(bool).sum())
        groups = "group" if hidden == 1 else "groups"
        where = (f" in the grades shown ({hidden} school-grade {groups} hidden for privacy)"
                 if hidden else "")
        return (f"Of {count_text(families, self.k)} families{where}, "
                f"{count_text(reached, self.k)} were reached in person (a call or meeting "
                f"that got through) at least once; {count_text(families - reached, self.k)} "
                f"never were.")

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


MODE_OF = {"att_personal_attempt": "personal", "att_personal_contact": "personal",
           "att_written_contact": "written"}


BROADCAST_NAMES = {"sis_bulletin": "an SIS bulletin", "newsletter": "a newsletter",
                   "website": "a website post", "social_media": "a social media post",
                   "mass_email": "a mass email", "robocall": "a robocall"}


def _broadcast_sentence(channels: pd.DataFrame, k: int) -> str:
    """Every broadcast channel's weeks against weeks without it, as ``broadcasts.csv``
    has them: descriptive only."""
    rows = channels[(channels["scope"] == "division") & (channels["subgroup"] == "all")]
    parts = []
    for r in rows.itertuples():
        channel = r.estimand.removeprefix("broadcast_")
        name = BROADCAST_NAMES.get(channel, channel.replace("_", " "))
        if pd.isna(r.estimate):
            parts.append(f"after {name}, not shown (fewer than {k} weeks or too few to "
                         "compare)")
            continue
        parts.append(f"after {name}, {r.estimate:+.1f} points ({r.ci_level:.0%} CI "
                     f"{r.ci_low:+.1f} to {r.ci_high:+.1f}; {count_text(r.n_treated, k)} "
                     f"weeks against {count_text(r.n_comparison, k)})")
    return ("Weeks in which a broadcast went out, against weeks without it, in completion "
            "of the work due the week after: " + "; ".join(parts) + ". Descriptive only, "
            "not an effect: every family gets a broadcast in the same week as whatever "
            "else that week brings.")


def _parallel_sentence(check) -> str:
    mode = check.estimand.removeprefix("pretrend_").removesuffix("_contact")
    return (f"Before a {mode} contact, the contacted and comparison students moved in "
            f"parallel: weeks 6 to 4 before it, they differed by {check.estimate:+.1f} points "
            f"({check.ci_level:.0%} CI {check.ci_low:+.1f} to {check.ci_high:+.1f}), "
            f"a check that the comparison is fair.")


def _unfair_sentence(estimand: str, row: pd.Series, check) -> str:
    what = PLAIN_NAMES[estimand]
    return (f"{what.capitalize()}: no fair comparison. Weeks before the contact, contacted "
            f"students already differed from their comparison by {check.estimate:+.1f} points "
            f"(CI {check.ci_low:+.1f} to {check.ci_high:+.1f}), so the groups were not on "
            f"parallel paths and the estimate ({row['estimate']:+.1f} points) should not be "
            f"relied on.")


def _effect_sentence(estimand: str, row: pd.Series, window: int, k: int) -> str:
    what = PLAIN_NAMES[estimand]
    if pd.isna(row["estimate"]) and row.get("suppressed", False):
        return f"{what.capitalize()}: not shown, fewer than {k} cases (privacy)."
    if pd.isna(row["estimate"]):
        reason = row["method"].removeprefix("not estimable: ")
        return f"{what.capitalize()}: not estimable ({reason})."
    low, high = row["ci_low"], row["ci_high"]
    if row["method"].startswith(DESCRIPTIVE):
        return (f"Weeks after {what.removesuffix(' going out')} went out "
                f"had completion {row['estimate']:+.1f} points different from weeks after "
                f"none ({row['ci_level']:.0%} CI {low:+.1f} to {high:+.1f}; "
                f"{count_text(row['n_treated'], k)} weeks against "
                f"{count_text(row['n_comparison'], k)}): "
                f"descriptive only, not an effect, since every family gets it in the same "
                f"week as whatever else that week brings.")
    after = f"the {window} days after"
    if low > 0 or high < 0:
        verb = "higher" if row["estimate"] > 0 else "lower"
        said = (f"was associated with completion {abs(row['estimate']):.1f} points {verb} in "
                f"{after}")
    else:
        said = "showed no clear association with completion"
    n = f"{count_text(row['n_treated'], k)} "
    if estimand == "att_conference_attended":
        n += (f"conferences attended, against {count_text(row['n_comparison'], k)} families "
              "booked the same week who did not come")
    else:
        n += f"contacts, against {count_text(row['n_comparison'], k)} comparison students"
    text = (f"{what.capitalize()} {said} ({row['ci_level']:.0%} CI {low:+.1f} to {high:+.1f}; "
            f"{n}).")
    gap = row.get("baseline_difference_sd", np.nan)
    if estimand == "att_conference_attended" and pd.notna(gap) and abs(gap) > 0.05:
        text += (f" The families who came already differed before ({gap:+.2f} standard "
                 "deviations in work completed): the comparison is of the change, which "
                 "allows for a steady difference but not for one that would have grown "
                 "anyway.")
    return text


FORMAT_NAMES = {"three_way": "3-way conferences (student, family and teacher)",
                "parent_teacher": "parent-teacher conferences",
                REBOOKED: "slots booked again after a reschedule"}


def _formats_sentence(formats: pd.DataFrame, k: int) -> str:
    """Attendance by conference format and at rebooked slots, as conference_formats.csv
    has it: descriptive, since families choose both the format and whether to come."""
    parts = []
    for r in formats.itertuples():
        name = FORMAT_NAMES.get(r.kind, str(r.kind).replace("_", " "))
        parts.append(f"{name}: not shown (fewer than {k} families)" if r.suppressed else
                     f"{name}: {r.share_attended:.0%} of {count_text(r.n, k)} attended")
    return ("Conferences that took place or were missed, by kind: " + "; ".join(parts)
            + ". Descriptive only: families and teachers choose the kind of conference.")


def _initiator_sentence(frame: pd.DataFrame, window: int, k: int) -> str:
    """Completion before and after contacts the family started and the school started,
    as initiator.csv has it: descriptive, with the reason it is not an effect."""
    rows = frame.set_index(["initiator", "period"])
    parts = []
    for initiator, who in (("parent", "the family"), ("school", "the school")):
        if (initiator, "change") not in rows.index:
            continue
        before, after = rows.loc[(initiator, "before")], rows.loc[(initiator, "after")]
        change = rows.loc[(initiator, "change")]
        if pd.isna([before["estimate"], after["estimate"], change["estimate"]]).any():
            parts.append(f"when {who} started it, fewer than {k} students")
            continue
        parts.append(f"when {who} started it, {before['estimate']:.0f}% before and "
                     f"{after['estimate']:.0f}% after ({change['estimate']:+.1f} points, "
                     f"{change['ci_level']:.0%} CI {change['ci_low']:+.1f} to "
                     f"{change['ci_high']:+.1f}; {count_text(change['n_students'], k)} "
                     "students)")
    return (f"Work completed in the {window} days before and after a contact: "
            + "; ".join(parts) + ". Descriptive only, with no comparison group: families "
            "who call the school are often the already-engaged ones, and the school calls "
            "after a bad stretch, so part of what follows its calls is the rebound that "
            "follows any bad stretch (the estimates above allow for it).")


def _campaign_sentence(campaigns: pd.DataFrame, curve: pd.DataFrame, k: int, *,
                       staff: bool) -> str:
    """The campaigns found, and the largest in words with its hand-in curve."""
    c = campaigns.loc[campaigns["n_families"].idxmax()]
    callers = [s for s in str(c["staff"]).split("; ") if s and s != "nan"]
    if not staff:
        who = "a staff member" if len(callers) < 2 else f"{len(callers)} staff members"
    elif len(callers) < 2:
        who = staff_label(callers[0] if callers else "")
    else:
        others = [staff_label(s).removeprefix("staff member ") for s in callers
                  if s != c["teacher_id"]]
        lead = (f"{staff_label(c['teacher_id'])}, who set the work, with "
                if c["teacher_id"] in callers else "staff members ")
        who = lead + ", ".join(others)
    text = (f"{len(campaigns)} phone campaigns ({max(10, k)} or more families called about "
            f"the same piece of work within a week); the largest: " if len(campaigns) > 1
            else "A phone campaign: ")
    text += (f"{who} contacted {c['n_families']} families about '{c['assignment']}' between "
             f"{c['start']:%d %b} and {c['end']:%d %b %Y}.")
    mine = curve[curve["campaign"] == c["campaign"]]
    contacted = mine[(mine["group"] == "contacted") & mine["handed_in"].notna()]
    if len(contacted):
        week, last = contacted[contacted["day"] == 7], contacted.iloc[-1]
        text += (f" Of the {count_text(last['n'], k)} contacted students who had not handed "
                 f"it in when the calls began, {count_text(week['handed_in'].iloc[0], k)} had "
                 f"within 7 days of the first call and {count_text(last['handed_in'], k)} "
                 f"within {last['day']} days.")
    others = mine[(mine["group"] == "not contacted")]
    if len(others) and others["suppressed"].all():
        text += f" Fewer than {k} students missing it were not called, too few to compare."
    elif len(others):
        text += (f" {count_text(others['n'].iloc[0], k)} students who had not handed it in "
                 f"were not called; {_uncalled(others, k)}. The staff chose whom to call, so "
                 "they are not a fair comparison.")
    return text


def _uncalled(others: pd.DataFrame, k: int) -> str:
    """What the students not called did: their own hand-in curve, in words."""
    done = others[others["share_handed_in"] >= 1]
    if len(done):
        return f"all of them had handed it in by day {int(done['day'].iloc[0])}"
    last = others.iloc[-1]
    return (f"{last['share_handed_in']:.0%} of them had handed it in within "
            f"{int(last['day'])} days")


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
