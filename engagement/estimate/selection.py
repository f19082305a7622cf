"""Who is contacted and who comes: descriptions that make selection visible (dose,
who started the contact, how families were invited), not effect estimates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engagement.estimate.design import PERSONAL_CHANNELS, Design
from engagement.estimate.events import Prepared, _day_keys, _flags, events_of_mode
from engagement.estimate.inference import _mean_ci, _wilson
from engagement.metrics import Timeline, by_grade, result_flags


def dose_response(tables: dict[str, pd.DataFrame], *, design: Design | None = None,
                  prepared: Prepared | None = None) -> pd.DataFrame:
    """Completion over the year by the number of personal school contacts that reached
    the family (0, 1, 2, 3, 4+), one value per student, with t intervals.

    Students contacted more are the ones who struggle most: this describes who gets
    contacted, it is not a dose-response effect.
    """
    design = design or Design()
    flags = _flags(tables, prepared)
    counted = flags.loc[flags["counted"], ["student_id", "completed"]]
    rate = counted.groupby("student_id", observed=True)["completed"].mean()
    calls = events_of_mode(tables["contacts"], "personal").groupby(
        "student_id", observed=True).size()
    doses = calls.reindex(rate.index, fill_value=0).clip(upper=4)
    out = []
    for dose, group in rate.groupby(doses.to_numpy()):
        mean, low, high = _mean_ci(group, design.confidence)
        out.append({"personal_contacts": "4+" if dose == 4 else str(dose),
                    "estimate": 100 * mean, "ci_low": 100 * low, "ci_high": 100 * high,
                    "ci_level": design.confidence, "n": len(group),
                    "method": "mean completion over the year of the students with this many "
                              "reached personal school contacts, t interval over students",
                    "caveat": "Describes who is contacted (struggling students are called "
                              "more), not what more calls do."})
    return pd.DataFrame(out)


def initiator_before_after(tables: dict[str, pd.DataFrame], *,
                           design: Design | None = None, prepared: Prepared | None = None
                           ) -> pd.DataFrame:
    """Completion in the window before and after each contact, for contacts the family
    started and contacts the school started, and the change, each averaged per student
    with a t interval: who reaches out, and what follows. Descriptive, no comparison group.

    Before is the work due in the ``window_days`` up to and including the contact day,
    after the work due in those that follow (as the naive before/after counts them); the
    change is over students with work due in both.
    """
    design = design or Design()
    tl = prepared.timeline if prepared is not None else Timeline(
        result_flags(tables["results"], tables["assignments"]), design.timezone)
    contacts = tables["contacts"]
    w = design.window_days
    out = []
    for initiator in ("parent", "school"):
        c = contacts[contacts["initiator"].astype("str") == initiator]
        keys, _ = _day_keys(tl, c, "contact_at")
        keys = keys[keys >= 0]
        done_b, n_b = tl.window(keys, 1 - w, 1)
        done_a, n_a = tl.window(keys, 1, w + 1)
        per = pd.DataFrame({"student": keys // 100_000, "done_b": done_b, "n_b": n_b,
                            "done_a": done_a, "n_a": n_a}).groupby("student").sum()
        before = (per["done_b"] / per["n_b"])[per["n_b"] > 0]
        after = (per["done_a"] / per["n_a"])[per["n_a"] > 0]
        change = (after - before).dropna()
        for period, rates in (("before", before), ("after", after), ("change", change)):
            mean, low, high = _mean_ci(rates, design.confidence)
            out.append({"initiator": initiator, "period": period, "estimate": 100 * mean,
                        "ci_low": 100 * low, "ci_high": 100 * high,
                        "ci_level": design.confidence, "n_contacts": len(keys),
                        "n_students": len(rates)})
    return pd.DataFrame(out).assign(
        method=f"completion of work due in the {w} days before each contact (the contact "
               f"day included) and in the {w} days after, averaged per student; the change "
               "over students with work due in both; t interval",
        caveat="Descriptive only, no comparison group: families who call the school are "
               "often the already-engaged ones, and the school calls after a bad stretch, "
               "so part of what follows its calls is the rebound that follows any bad "
               "stretch.")


PERSONAL_INVITATIONS = set(PERSONAL_CHANNELS) | {"letter", "email", "text", "portal_message"}


def invitations(tables: dict[str, pd.DataFrame], *, design: Design | None = None
                ) -> pd.DataFrame:
    """Conference attendance by how the family was invited (a personal call or note from
    the teacher, or a bulletin/newsletter), by school and grade, with Wilson intervals.

    Each family's first booking per conference day counts once; a rescheduled meeting
    counts as attended if the later one was."""
    design = design or Design()
    conf = tables["conferences"].merge(by_grade(tables["students"])[["student_id",
                                                                     "grade_level"]],
                                       on="student_id", how="left")
    conf = conf[conf["invited_via"].notna() & (conf["status"] != "cancelled")]
    conf = conf.assign(
        attended=conf["status"] == "attended",
        invitation=np.where(conf["invited_via"].isin(PERSONAL_INVITATIONS),
                            "personal (call or note)", "broadcast (bulletin, newsletter)"))
    rescheduled = conf["rescheduled_from"].notna()
    originals = conf[~rescheduled]
    later = conf.loc[rescheduled].set_index("rescheduled_from")["attended"]
    originals = originals.assign(attended=originals["attended"]
                                 | originals["conference_id"].map(later).fillna(False)
                                 .astype(bool))
    out = []
    for by in (["invitation"], ["school_id", "invitation"],
               ["school_id", "grade_level", "invitation"]):
        g = originals.groupby(by, observed=True)["attended"].agg(["sum", "size"]).reset_index()
        p, low, high = _wilson(g["sum"].to_numpy(), g["size"].to_numpy(), design.confidence)
        g = g.assign(level=" x ".join(by), estimate=100 * p, ci_low=100 * low,
                     ci_high=100 * high, ci_level=design.confidence,
                     n=g["size"]).drop(columns=["sum", "size"])
        out.append(g)
    table = pd.concat(out, ignore_index=True)
    return table.assign(method="share of invited families who attended, Wilson interval",
                        caveat="Teachers may call the families they expect to come, or those "
                               "they worry about: associated with, not caused by.")
