"""Phone campaigns ("tag teaming"): one staff member calling many families about
missing work, and the hand-in curve that follows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engagement.estimate.events import _school_contacts


def find_campaigns(contacts: pd.DataFrame, *, min_families: int = 10, days: int = 5
                   ) -> pd.DataFrame:
    """Phone campaigns ("tag teaming"): one staff member contacting at least
    ``min_families`` families about missing work within ``days`` days."""
    c = _school_contacts(contacts)
    c = c[(c["purpose"].astype("str") == "missing_work") & c["staff_id"].notna()]
    c = c.assign(day=c["contact_at"].dt.normalize()).sort_values(["staff_id", "day"])
    out = []
    for staff, group in c.groupby("staff_id", observed=True):  # one pass per staff member
        day = group["day"].dt.tz_localize(None).to_numpy()
        end = np.searchsorted(day, day + np.timedelta64(days, "D"), side="left")
        count = end - np.arange(len(day))  # contacts in the days starting at each one
        best = int(np.argmax(count))
        window = group.iloc[best:end[best]]
        if window["student_id"].nunique() >= min_families:  # families, not calls
            out.append({"staff_id": staff, "start": window["day"].min(),
                        "end": window["day"].max(),
                        "n_families": window["student_id"].nunique(),
                        "students": sorted(window["student_id"].unique())})
    return pd.DataFrame(out, columns=["staff_id", "start", "end", "n_families", "students"])


def results_by_class(tables: dict[str, pd.DataFrame], staff: list[str] | None = None
                     ) -> pd.DataFrame:
    """Results with their assignment's class, title and due time, indexed by class (built
    once when several campaigns are examined); only the classes of ``staff`` if given."""
    assignments = tables["assignments"][["assignment_id", "class_id", "title", "due_at"]]
    results = tables["results"]
    if staff is not None:
        e = tables["enrollments"]
        classes = e.loc[e["teacher_id"].isin(staff), "class_id"].unique()
        assignments = assignments[assignments["class_id"].isin(classes)]
        results = results[results["assignment_id"].isin(assignments["assignment_id"])]
    return results.merge(assignments, on="assignment_id").set_index("class_id").sort_index()


def campaign_hand_in(tables: dict[str, pd.DataFrame], campaign: pd.Series, *,
                     days_after: int = 14, results: pd.DataFrame | None = None
                     ) -> pd.DataFrame:
    """The cumulative share of students who handed in the assignment the campaign was
    about, by day since the first call, for contacted students and for students who had
    also not handed it in but were not contacted.

    The assignment is the one (by title, across the staff member's sections) due in the
    14 days before the last call that most contacted students had not handed in.
    """
    results = results_by_class(tables) if results is None else results
    teaches = tables["enrollments"].loc[
        tables["enrollments"]["teacher_id"] == campaign["staff_id"], "class_id"].unique()
    start = campaign["start"]
    results = results.loc[results.index.intersection(teaches)].reset_index()
    window = results[(results["due_at"] < campaign["end"] + pd.Timedelta(days=1))
                     & (results["due_at"] >= start - pd.Timedelta(days=14))]
    contacted = set(campaign["students"])
    # Work not handed in when the calls began: missing, or handed in late after that.
    not_in = window[(window["status"] == "missing")
                    | ((window["status"] == "late") & (window["submitted_at"] >= start))]
    target = not_in[not_in["student_id"].isin(contacted)]["title"].value_counts()
    if target.empty:
        return pd.DataFrame()
    assignment = target.index[0]
    rows = not_in[not_in["title"] == assignment].assign(
        contacted=lambda f: f["student_id"].isin(contacted))
    handed = (rows["submitted_at"].dt.normalize() - start).dt.days
    out = []
    for group, label in ((True, "contacted"), (False, "not contacted")):
        part = handed[rows["contacted"] == group]
        n = len(part)
        for day in range(days_after + 1):
            share = float((part <= day).sum() / n) if n else np.nan
            out.append({"assignment": assignment, "group": label, "day": day,
                        "handed_in": int((part <= day).sum()), "n": n,
                        "share_handed_in": share})
    return pd.DataFrame(out)
