"""Phone campaigns ("tag teaming"): staff calling many families about the same piece of
work within a few days, and the hand-in curve that follows.

A campaign is found from what the calls were about, not from who made them: a teacher
and the principal splitting the list are one campaign, and one teacher calling about
twelve different assignments is none. A call about missing work is taken to be about
the work the student had not handed in when called that fell due in the
``LOOK_BACK_DAYS`` before it: the caller's own such work when the caller set some (a
teacher calls about their class), otherwise all of it (a principal or counsellor calls
about whatever is out). One piece of work is a title set by one teacher: a project set in
five sections is one piece of work.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engagement.estimate.events import _school_contacts
from engagement.parsing import positions

#: How far back a call about missing work can reach for the work it is about.
LOOK_BACK_DAYS = 14

COLUMNS = ["campaign", "teacher_id", "assignment", "staff", "n_staff", "start", "end",
           "n_families", "students"]


def find_campaigns(tables: dict[str, pd.DataFrame], *, min_families: int = 10,
                   days: int = 7) -> pd.DataFrame:
    """Campaigns: at least ``min_families`` families called about the same piece of work
    by any staff, their first calls within ``days`` days (a school week, weekend
    included). One row each: the teacher who set the work, its title, the staff who
    called (``staff``, ``n_staff``), the first and last day, the families and (kept
    inside, never published) the students."""
    calls = _calls_about_work(tables)
    if calls.empty:
        return pd.DataFrame(columns=COLUMNS)
    # Each family counts once per piece of work, from its first call.
    first = (calls.sort_values("day").drop_duplicates(["work", "student_id"])
             .sort_values(["work", "day"], kind="stable").reset_index(drop=True))
    day = (first["day"].dt.tz_localize(None) - pd.Timestamp("2000-01-01")).dt.days
    key = first["work"].to_numpy().astype(np.int64) * 100_000 + day.to_numpy()
    end = np.searchsorted(key, key + days, side="left")
    families = pd.Series(end - np.arange(len(key)), index=first.index)  # first calls in window
    best = families.groupby(first["work"]).idxmax()
    best = best[families[best].to_numpy() >= min_families]
    largest_first = families[best.to_numpy()].sort_values(ascending=False, kind="stable")
    bounds = np.searchsorted(calls["work"].to_numpy(), np.arange(calls["work"].max() + 2))
    work = first["work"].to_numpy()
    found = [_campaign(first.iloc[row:end[row]], calls.iloc[bounds[work[row]]:
                                                             bounds[work[row] + 1]])
             for row in largest_first.index]  # a few pieces of work, not rows
    return _one_campaign_per_call(found)


def _calls_about_work(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """School calls about missing work, one row per piece of work each is about, with a
    ``work`` code (teacher who set it, title)."""
    c = _school_contacts(tables["contacts"])
    c = c.loc[c["purpose"].astype("str") == "missing_work",
              ["student_id", "staff_id", "contact_at"]].reset_index(drop=True)
    results, a = tables["results"], tables["assignments"]
    # Excused work was not in either when the call was made; it may be excused because of it.
    students = pd.Index(pd.unique(c["student_id"]))
    row = np.flatnonzero(results["status"].isin(["missing", "late", "excused"]).to_numpy()
                         & (positions(results["student_id"], students) >= 0))
    at = positions(results["assignment_id"].take(row), a["assignment_id"])
    due = np.append(a["due_at"].notna().to_numpy(), False)[at]  # work with a due time
    row, at = row[due], at[due]
    due = _microseconds(a["due_at"])[at]
    call, pair = _due_before(positions(c["student_id"], students), _microseconds(c["contact_at"]),
                             positions(results["student_id"].take(row), students), due)
    row, at = row[pair], at[pair]
    # Still out when called: not handed in, or handed in after the call.
    submitted = results["submitted_at"].take(row)
    out = submitted.isna().to_numpy() | (
        _microseconds(submitted) > _microseconds(c["contact_at"])[call])
    call, row, at = call[out], row[out], at[out]
    setter = (tables["enrollments"].dropna(subset=["teacher_id"])
              .drop_duplicates("class_id").set_index("class_id")["teacher_id"])
    teacher = a["class_id"].map(setter).fillna(a["class_id"])  # work with no teacher: its class
    pairs = pd.DataFrame({
        "call": call, "teacher_id": teacher.take(at).array, "title": a["title"].take(at).array,
        "student_id": results["student_id"].take(row).array,
        "staff_id": c["staff_id"].take(call).array,
        "contact_at": c["contact_at"].take(call).array})
    own = (pairs["staff_id"] == pairs["teacher_id"]).fillna(False).astype(bool)
    pairs = pairs[own | ~own.groupby(pairs["call"]).transform("any")]
    codes = pairs.groupby(["teacher_id", "title"], observed=True, sort=True).ngroup()
    return pairs.assign(work=codes, day=pairs["contact_at"].dt.normalize())[
        ["work", "teacher_id", "title", "student_id", "staff_id", "day"]].sort_values(
        "work", kind="stable")


def _due_before(call_student: np.ndarray, called_at: np.ndarray, work_student: np.ndarray,
                due: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each (call, piece of work) of the same student with the work due in the
    ``LOOK_BACK_DAYS`` up to the call (both ends included; times in microseconds): a
    binary search in the work's (student, due) order, not a merge of every call with all
    of its student's work (30M pairs in a division)."""
    since = called_at - np.int64(LOOK_BACK_DAYS * 86_400_000_000)
    # Times as their rank among all of them, so that (student, time) is one exact int64.
    times, rank = np.unique(np.concatenate([due, since, called_at]), return_inverse=True)
    rank = rank.reshape(-1)
    width = np.int64(len(times))
    key = work_student * width + rank[:len(due)]
    order = np.argsort(key, kind="stable")
    key = key[order]
    lo = np.searchsorted(key, call_student * width + rank[len(due):len(due) + len(since)])
    hi = np.searchsorted(key, call_student * width + rank[len(due) + len(since):],
                         side="right")
    n = np.where(call_student >= 0, hi - lo, 0)
    call = np.repeat(np.arange(len(n)), n)
    return call, order[np.arange(n.sum()) - np.repeat(np.cumsum(n) - n - lo, n)]


def _microseconds(times: pd.Series) -> np.ndarray:
    """Times in microseconds since the epoch, in UTC (a missing one: the smallest int64)."""
    return times.dt.as_unit("us").array.asi8


def _campaign(window: pd.DataFrame, calls: pd.DataFrame) -> dict:
    """One campaign from the first calls of its families (``window``); every staff member
    who called one of those families about that work (``calls``) in those days counts."""
    start, end = window["day"].min(), window["day"].max()
    students = sorted(window["student_id"].unique())
    mine = calls[calls["student_id"].isin(students) & calls["day"].between(start, end)]
    staff = sorted(mine["staff_id"].dropna().astype("str").unique())
    return {"teacher_id": window["teacher_id"].iloc[0], "assignment": window["title"].iloc[0],
            "staff": "; ".join(staff), "n_staff": len(staff), "start": start, "end": end,
            "n_families": len(students), "students": students}


def _one_campaign_per_call(found: list[dict]) -> pd.DataFrame:
    """Calls can be about two pieces of work at once (a student missing two of a
    teacher's assignments): the largest campaign keeps them, and a smaller one that is
    mostly the same families in overlapping days is the same campaign seen twice."""
    kept: list[dict] = []
    for c in found:  # largest first
        same = [k for k in kept if k["start"] <= c["end"] and c["start"] <= k["end"]
                and len(set(k["students"]) & set(c["students"])) * 2 > len(c["students"])]
        if not same:
            kept.append(c)
    out = pd.DataFrame(kept, columns=COLUMNS[1:]).sort_values(["start", "teacher_id"],
                                                              kind="stable")
    return out.assign(campaign=np.arange(1, len(out) + 1))[COLUMNS].reset_index(drop=True)


def results_by_class(tables: dict[str, pd.DataFrame], teachers: list[str] | None = None
                     ) -> pd.DataFrame:
    """Results with their assignment's class, title and due time, indexed by class (built
    once when several campaigns are examined); only the classes of ``teachers`` if given."""
    assignments = tables["assignments"][["assignment_id", "class_id", "title", "due_at"]]
    results = tables["results"]
    if teachers is not None:
        e = tables["enrollments"]
        classes = np.union1d(e.loc[e["teacher_id"].isin(teachers), "class_id"].unique(),
                             np.asarray(teachers, dtype=object))  # work set in a class
        assignments = assignments[assignments["class_id"].isin(classes)]
        results = results[results["assignment_id"].isin(assignments["assignment_id"])]
    return results.merge(assignments, on="assignment_id").set_index("class_id").sort_index()


def campaign_hand_in(tables: dict[str, pd.DataFrame], campaign: pd.Series, *,
                     days_after: int = 14, results: pd.DataFrame | None = None
                     ) -> pd.DataFrame:
    """The cumulative share of students who handed in the campaign's work, by day since
    the first call, for the students called and for those who had also not handed it in
    when the calls began but were not called.

    The work is the campaign's title in the classes of the teacher who set it, due in the
    ``LOOK_BACK_DAYS`` before the first call up to the last.
    """
    results = results_by_class(tables) if results is None else results
    e = tables["enrollments"]
    classes = set(e.loc[e["teacher_id"] == campaign["teacher_id"], "class_id"]) | {
        campaign["teacher_id"]}  # work with no teacher is known by its class
    start = campaign["start"]
    results = results.loc[results.index.intersection(list(classes))].reset_index()
    rows = results[(results["title"] == campaign["assignment"])
                   & (results["due_at"] < campaign["end"] + pd.Timedelta(days=1))
                   & (results["due_at"] >= start - pd.Timedelta(days=LOOK_BACK_DAYS))]
    # Not handed in when the calls began: missing, or handed in late after that.
    rows = rows[(rows["status"] == "missing")
                | ((rows["status"] == "late") & (rows["submitted_at"] >= start))]
    if rows.empty:
        return pd.DataFrame()
    contacted = rows["student_id"].isin(campaign["students"])
    handed = (rows["submitted_at"].dt.normalize() - start).dt.days
    out = []
    for group, label in ((True, "contacted"), (False, "not contacted")):
        part = handed[contacted == group]
        n = len(part)
        for day in range(days_after + 1):
            share = float((part <= day).sum() / n) if n else np.nan
            out.append({"assignment": campaign["assignment"], "group": label, "day": day,
                        "handed_in": int((part <= day).sum()), "n": n,
                        "share_handed_in": share})
    return pd.DataFrame(out)
