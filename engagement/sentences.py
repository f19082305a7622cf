"""The findings in plain sentences, each built from the result frame it cites (with its
interval and its n; counts under k said as "fewer than k"), so that a sentence can say
no more than the CSV beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from engagement.estimate.design import DESCRIPTIVE, ESTIMANDS
from engagement.metrics import REBOOKED
from engagement.privacy import count_text, staff_label

if TYPE_CHECKING:
    from engagement.results import Results

PLAIN_NAMES = {name: words for name, (words, _) in ESTIMANDS.items()}


def findings(results: Results, *, staff: bool = True) -> list[str]:
    """The key findings as plain sentences, each with its interval and its n (counts
    under k said as "fewer than k"). ``staff=False`` for pages shared beyond the
    school: no staff member is named, even by id."""
    out = [reach_sentence(results)] if len(results.frames.get("reachability", [])) else []
    head = results.headline().set_index("estimand")
    # A design whose groups already differed before is not a fair comparison: its
    # sentence says so instead of stating an association.
    unfair = {c.estimand.removeprefix("pretrend_").removesuffix("_contact"): c
              for c in results.pretrend.itertuples() if not c.passes}
    for estimand, row in head.iterrows():
        if estimand == "naive_before_after_personal":
            continue
        check = unfair.get(MODE_OF.get(estimand, ""))
        channels = results.frames.get("broadcasts", pd.DataFrame())
        if estimand == "att_broadcast" and len(channels):
            out.append(_broadcast_sentence(channels, results.k))
            continue
        out.append(_effect_sentence(estimand, row, results.design.window_days, results.k)
                   if check is None else _unfair_sentence(estimand, row, check))
    out += [_parallel_sentence(c) for c in results.pretrend.itertuples() if c.passes]
    if {"att_personal_contact", "naive_before_after_personal"} <= set(head.index):
        honest = head.loc["att_personal_contact", "estimate"]
        naive = head.loc["naive_before_after_personal", "estimate"]
        if pd.notna(honest) and pd.notna(naive):
            out.append(
                f"Looking only at contacted students before and after would have said "
                f"{naive:+.1f} points: about {naive - honest:.1f} of those points are the "
                f"rebound that follows a bad week, which the comparison group removes.")
    if "period" in results.frames.get("initiator", pd.DataFrame()):
        out.append(_initiator_sentence(results.initiator, results.design.window_days, results.k))
    inv = results.invitations
    inv = inv[(inv["level"] == "invitation") & inv["estimate"].notna()]
    if len(inv) == 2:
        parts = [f"{r.estimate:.0f}% when invited by {r.invitation} ({r.ci_level:.0%} CI "
                 f"{r.ci_low:.0f} to {r.ci_high:.0f}%; n = {count_text(r.n, results.k)})"
                 for r in inv.itertuples()]
        out.append("Conference attendance: " + "; ".join(parts) + ". Teachers choose whom "
                   "to call, so this is associated with, not caused by, the invitation.")
    if len(results.frames.get("conference_formats", [])):
        out.append(_formats_sentence(results.conference_formats, results.k))
    if len(results.campaigns):
        out.append(_campaign_sentence(results.campaigns, results.campaign_hand_in, results.k,
                                      staff=staff))
    return out

def reach_sentence(results: Results) -> str:
    """Families reached in person, from the rows ``reachability.csv`` shows (a hidden
    grade is left out of the total too: a total would give it away)."""
    shown = results.reachability[~results.reachability["suppressed"].astype(bool)]
    families = int(shown["n_families"].sum())
    reached = int(shown["n_reached"].sum())
    hidden = int(results.reachability["suppressed"].astype(bool).sum())
    groups = "group" if hidden == 1 else "groups"
    where = (f" in the grades shown ({hidden} school-grade {groups} hidden for privacy)"
             if hidden else "")
    return (f"Of {count_text(families, results.k)} families{where}, "
            f"{count_text(reached, results.k)} were reached in person (a call or meeting "
            f"that got through) at least once; {count_text(families - reached, results.k)} "
            f"never were.")


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
