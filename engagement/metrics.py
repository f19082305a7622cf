"""Completion metrics from the canonical tables: long frames in, long frames out.

Completion: ``completed = on_time + late``; the completion rate is completed over
on_time + late + missing. Excused and pending work is outside the denominator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engagement.parsing import positions

COUNTED = ("on_time", "late", "missing")


def result_flags(results: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """One row per result with its assignment's class, school and due time, and flags.

    Returns
    -------
    DataFrame
        ``student_id, assignment_id, class_id, school_id, due_at, status, completed,
        on_time, late, missing, counted`` (``counted``: inside the denominator).
    """
    # Each result's assignment by position, not a merge: half the memory at 30M rows.
    at = positions(results["assignment_id"], assignments["assignment_id"])
    known = at >= 0
    out = results[["student_id", "assignment_id", "status"]].reset_index(drop=True)
    for column in ("class_id", "school_id"):
        # Categorical, its categories sorted as the text would be: a division's class and
        # school of every result as text would take 0.7 GB.
        codes, names = pd.factorize(assignments[column], sort=True)
        out[column] = pd.Categorical.from_codes(np.where(known, codes[at], -1), names)
    due = assignments["due_at"].take(np.where(known, at, 0)).reset_index(drop=True)
    out["due_at"] = due if known.all() else due.where(known)
    status = out["status"].astype("str")
    return out.assign(on_time=status.eq("on_time"), late=status.eq("late"),
                      missing=status.eq("missing"), completed=status.isin(["on_time", "late"]),
                      counted=status.isin(COUNTED))


def completion_by(flags: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Completion rate by any grouping (school, class, week...), with its n."""
    counted = flags.loc[flags["counted"], [*by, "completed"]]  # only these: ids are text
    out = counted.groupby(by, observed=True, dropna=False).agg(
        n=("completed", "size"), completed=("completed", "sum")).reset_index()
    return out.assign(completion_rate=out["completed"] / out["n"])


def assignment_summary(results: pd.DataFrame, assignments: pd.DataFrame, *,
                       flags: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per assignment: n_students, n_counted (work that counts: not excused, not
    pending), n_submitted, pct_submitted (of n_counted), pct_late (late among
    submitted), mean_score, sd_score (scores of submitted work). ``flags``: the
    results' ``result_flags`` when already computed."""
    flags = result_flags(results, assignments) if flags is None else flags
    flags = flags.assign(score=results["score"].to_numpy())
    submitted = flags["completed"]
    grouped = flags.assign(
        sub_score=flags["score"].where(submitted)).groupby("assignment_id", observed=True)
    out = grouped.agg(n_students=("student_id", "size"), n_submitted=("completed", "sum"),
                      n_counted=("counted", "sum"), n_late=("late", "sum"),
                      mean_score=("sub_score", "mean"), sd_score=("sub_score", "std"))
    out["pct_submitted"] = 100 * out["n_submitted"] / out["n_counted"].where(out["n_counted"] > 0)
    out["pct_late"] = 100 * out["n_late"] / out["n_submitted"].where(out["n_submitted"] > 0)
    # pct_submitted's denominator is in the file: work that counts (excused and not yet
    # graded work left out), not every student listed.
    cols = ["n_students", "n_counted", "n_submitted", "pct_submitted", "pct_late",
            "mean_score", "sd_score"]
    return out[cols].reset_index()


NO_GRADE = "not given"


def grade_name(grade) -> str:
    """A grade as a school says it: "pre-K", "K", "7", or "not given"."""
    return {-1: "pre-K", 0: "K"}.get(grade, str(grade)) if not isinstance(grade, str) \
        else grade


def by_grade(students: pd.DataFrame) -> pd.DataFrame:
    """``students`` with a grade to group by: the grade, or "not given" where no export
    gave one (grouping would otherwise drop those students without a word)."""
    grade = students["grade_level"]
    if not grade.isna().any():
        return students
    return students.assign(grade_level=grade.astype("object").where(grade.notna(), NO_GRADE))


def reachability(contacts: pd.DataFrame, students: pd.DataFrame) -> pd.DataFrame:
    """For each school and grade: the share of families reached by at least one personal
    contact, and attempts that did not reach them (left message, no answer)."""
    personal = contacts[contacts["mode"].astype("str") == "personal"]
    reached = personal[personal["outcome"].astype("str") == "reached"]
    missed = personal[personal["outcome"].isin(["left_message", "no_answer"])]
    students = by_grade(students)
    s = students[["student_id", "school_id", "grade_level"]].assign(
        reached=students["student_id"].isin(reached["student_id"]),
        attempted=students["student_id"].isin(personal["student_id"]))
    out = s.groupby(["school_id", "grade_level"], observed=True).agg(
        n_families=("student_id", "size"), n_reached=("reached", "sum"),
        n_attempted=("attempted", "sum")).reset_index()
    attempts = missed.merge(students[["student_id", "grade_level"]], on="student_id")
    failed = attempts.groupby(["school_id", "grade_level"], observed=True).size()
    out["unanswered_attempts"] = (out.set_index(["school_id", "grade_level"]).index
                                  .map(failed).fillna(0).astype("int64"))
    out["share_reached"] = out["n_reached"] / out["n_families"]
    return out


def _distinct(times: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Each time's position among the distinct times, and those: a division's 30M due
    times hold a few thousand distinct ones, and converting time zones costs per value."""
    codes, distinct = pd.factorize(times)
    return codes, pd.Series(distinct)


def day_number(times: pd.Series, timezone) -> np.ndarray:
    """Whole local days since 2000-01-01 (the school's calendar day)."""
    codes, distinct = _distinct(times)
    local = distinct.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()
    days = (local - pd.Timestamp("2000-01-01")).dt.days
    if (codes < 0).any():  # a missing time: no day (NaN, cast with the others, as before)
        days = pd.concat([days, pd.Series([np.nan])], ignore_index=True)
    return days.to_numpy(np.int64)[codes]


KEY = 100_000  # a key is unit * KEY + day; day numbers (since 2000) stay below it


def running_count(flags: np.ndarray) -> np.ndarray:
    """How many of ``flags`` are true before each position, and in all (one entry more):
    32-bit where that fits, half the memory of a division's counts over 30M results."""
    out = np.zeros(len(flags) + 1, dtype=np.int32 if len(flags) < 2**31 else np.int64)
    np.cumsum(flags, out=out[1:])
    return out


class DayIndex:
    """Where keys (unit * KEY + day) fall in a sorted array of such keys, as numpy's
    ``searchsorted`` (side left) would say, read from a table of every unit's every day
    in the span of the keys: millions of binary searches over a year's results cost
    seconds, a table read a fraction of one. Keys spread over many years (a stray date)
    would make the table huge: then it searches."""

    def __init__(self, key: np.ndarray, n_units: int):
        self.key, self.n_units = key, n_units
        day = key % KEY
        self.first = int(day.min()) if len(key) else 0
        # One day past the last: a unit's slot there counts all of its keys.
        self.width = (int(day.max()) - self.first + 2) if len(key) else 1
        self.before = None
        if n_units * self.width > max(8 * len(key), 2**25):
            return
        slot = (key // KEY) * self.width + (day - self.first)  # sorted, as the keys are
        # Keys before each slot: where its first key is, or the next filled slot's.
        starts = np.flatnonzero(np.diff(slot, prepend=-1)) if len(key) else []
        # A leading 0: the slot of a query before the first unit (a unit of -1).
        before = np.full(n_units * self.width + 2, len(key),
                         dtype=np.int32 if len(key) < 2**31 else np.int64)
        before[0] = 0
        before[slot[starts] + 1] = starts
        np.minimum.accumulate(before[::-1], out=before[::-1])
        self.before = before

    def __call__(self, queries: np.ndarray) -> np.ndarray:
        if self.before is None:
            return np.searchsorted(self.key, queries)
        unit = queries // KEY
        day = np.clip(queries - unit * KEY - self.first, 0, self.width - 1)
        slot = np.clip(unit * self.width + day, -1, self.n_units * self.width)
        return self.before[slot + 1].astype(np.int64)


class Timeline:
    """Each student's counted results in due order, as integer arrays, so that windows
    ('assignments due in the 21 days after day d') are two lookups."""

    def __init__(self, flags: pd.DataFrame, timezone: str):
        # The counted results with a due time, as arrays (a frame of them would copy the
        # student ids of every result).
        counted = (flags["counted"] & flags["due_at"].notna()).to_numpy()
        self.students = pd.Index(pd.unique(flags["student_id"]))
        self.origin = pd.Timestamp("2000-01-01", tz=timezone)
        stu = positions(flags["student_id"], self.students)[counted]
        due = flags["due_at"][counted]
        day = self.day_number(due)
        # In due order; work due at the same moment puts missed work last, so "the last
        # three" do not depend on the order rows came in.
        instant = due.to_numpy(dtype="datetime64[ns]").view(np.int64)
        missing = flags["missing"].to_numpy()[counted]
        order = np.lexsort((missing, instant, stu))
        del due, instant  # a value per counted result each: freed as soon as they served
        self.key = (stu * KEY + day)[order]
        del stu, day
        self.done = running_count(flags["completed"].to_numpy()[counted][order])
        self.missed = running_count(missing[order])
        del order, missing
        self.position = DayIndex(self.key, len(self.students))

    def day_number(self, times: pd.Series) -> np.ndarray:
        return day_number(times, self.origin.tz)

    def keys(self, student_id: pd.Series, day: np.ndarray) -> np.ndarray:
        return positions(student_id, self.students) * KEY + day

    def window(self, keys: np.ndarray, start: np.ndarray, stop: np.ndarray):
        """Completed and counted work due in [day+start, day+stop) for each key."""
        lo = self.position(keys + start)
        hi = self.position(keys + stop)
        return self.done[hi] - self.done[lo], hi - lo

    def missed_last(self, keys: np.ndarray, k: int = 3) -> np.ndarray:
        """Missed among the student's last ``k`` counted assignments due before the day."""
        end = self.position(keys)
        start = np.maximum(end - k, self.position((keys // KEY) * KEY))
        return self.missed[end] - self.missed[start]


def week_start(times: pd.Series, timezone: str) -> pd.Series:
    """The Monday (local date) of each time's school week (missing where the time is)."""
    codes, distinct = _distinct(times)
    local = distinct.dt.tz_convert(timezone).dt.tz_localize(None).dt.normalize()
    monday = (local - pd.to_timedelta(local.dt.day_of_week, unit="D")).to_numpy()
    return pd.Series(monday[codes], index=times.index).where(codes >= 0)


def student_week_panel(tables: dict[str, pd.DataFrame], *,
                       timezone: str = "America/Edmonton") -> pd.DataFrame:
    """One row per student and school week (weeks start on Monday): assignments due,
    completed and counted, the completion rate, contacts by mode, initiator and purpose,
    whether a conference was attended, and the school's broadcasts that week.

    Weeks in which a student had nothing due and no contact are left out.
    """
    flags = result_flags(tables["results"], tables["assignments"])
    flags = flags[flags["due_at"].notna()].assign(week=lambda f: week_start(f["due_at"],
                                                                             timezone))
    keys = ["student_id", "week"]
    panel = flags.groupby(keys, observed=True).agg(
        assignments_due=("assignment_id", "size"), counted=("counted", "sum"),
        completed=("completed", "sum"))
    contacts = tables["contacts"].assign(week=lambda c: week_start(c["contact_at"], timezone))
    for column in ("mode", "initiator", "purpose"):
        counts = pd.crosstab([contacts["student_id"], contacts["week"]],
                             contacts[column].astype("str"))
        counts.columns = [f"contacts_{column}_{c}" for c in counts.columns]
        panel = panel.join(counts, how="outer")
    conf = tables["conferences"]
    attended = conf[conf["status"].astype("str") == "attended"].assign(
        week=lambda c: week_start(c["scheduled_at"], timezone))
    marked = attended.groupby(keys, observed=True).size().rename("conference_attended")
    panel = panel.join(marked > 0, how="left").fillna(0).reset_index()
    panel["conference_attended"] = panel["conference_attended"].astype(bool)
    school = tables["students"].set_index("student_id")["school_id"]
    panel.insert(1, "school_id", panel["student_id"].map(school))
    b = tables["broadcasts"].assign(week=lambda f: week_start(f["sent_at"], timezone))
    sent = b.groupby(["school_id", "week"], observed=True).size().rename("broadcasts")
    panel = panel.merge(sent.reset_index(), on=["school_id", "week"], how="left")
    panel["broadcasts"] = panel["broadcasts"].fillna(0).astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        panel["completion_rate"] = panel["completed"] / panel["counted"].where(
            panel["counted"] > 0)
    counts = [c for c in panel if c.startswith("contacts_")] + [
        "assignments_due", "counted", "completed"]
    panel[counts] = panel[counts].astype("int64")
    return panel


def contact_activity(contacts: pd.DataFrame, *, timezone: str = "America/Edmonton"
                     ) -> pd.DataFrame:
    """School-initiated contacts per week and mode, across the schools given, with the
    number of students contacted (the count that small-cell suppression looks at)."""
    c = contacts[contacts["initiator"].astype("str") == "school"]
    c = c.assign(week=week_start(c["contact_at"], timezone).dt.date,
                 mode=c["mode"].astype("str"))
    return c.groupby(["week", "mode"], observed=True).agg(
        contacts=("contact_id", "size"), n_students=("student_id", "nunique")).reset_index()


def conference_outcomes(conferences: pd.DataFrame, students: pd.DataFrame) -> pd.DataFrame:
    """Conferences by school, grade and what happened (attended, rescheduled, no-show,
    cancelled...): ``school_id, grade_level, status, n``."""
    conf = conferences[["student_id", "status"]].merge(
        by_grade(students)[["student_id", "school_id", "grade_level"]], on="student_id",
        how="left")
    conf = conf.assign(status=conf["status"].astype("str"))
    return conf.groupby(["school_id", "grade_level", "status"], observed=True).size(
        ).rename("n").reset_index()


REBOOKED = "rebooked after a reschedule"


def conference_formats(conferences: pd.DataFrame) -> pd.DataFrame:
    """Conferences that took place or were missed, by format (3-way, parent-teacher), and
    the slots booked again after a reschedule: ``kind, n, attended, not_attended,
    share_attended``. Rescheduled and cancelled bookings are not counted: their slot
    did not happen (the new booking is counted where it was made)."""
    held = conferences[conferences["status"].astype("str").isin(["attended", "no_show"])]
    attended = held["status"].astype("str") == "attended"
    kinds = pd.concat([held["format"].astype("str").fillna("format not given"),
                       pd.Series(REBOOKED, index=held.index)
                       [held["rescheduled_from"].notna()]])
    out = attended.reindex(kinds.index).groupby(kinds.to_numpy()).agg(["size", "sum"])
    out = out.rename(columns={"size": "n", "sum": "attended"}).rename_axis("kind")
    out = out.reset_index().assign(attended=lambda f: f["attended"].astype("int64"))
    order = out["kind"].map({"three_way": 0, "parent_teacher": 1, REBOOKED: 9}).fillna(5)
    out = out.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
    return out.assign(not_attended=out["n"] - out["attended"],
                      share_attended=out["attended"] / out["n"])


def school_completion(flags: pd.DataFrame, students: pd.DataFrame) -> pd.DataFrame:
    """Each school's completion (the mean of its students' rates) against its size, with
    the division's mean and the spread between students that a funnel plot's limits need.

    Returns ``school_id, n_students, completion, division_completion, student_sd``.
    """
    counted = flags.loc[flags["counted"], ["student_id", "completed"]]
    per_student = counted.groupby("student_id", observed=True)["completed"].mean()
    school = students.set_index("student_id")["school_id"].astype("str")
    frame = per_student.rename("rate").to_frame().assign(
        school_id=school.reindex(per_student.index).to_numpy())
    out = frame.groupby("school_id", observed=True)["rate"].agg(
        n_students="size", completion="mean").reset_index()
    return out.assign(completion=100 * out["completion"],
                      division_completion=100 * frame["rate"].mean(),
                      student_sd=100 * frame["rate"].std(ddof=1))
