"""Decision rows: who was contacted, and who could have been but was not.

A teacher decides about a student in one of their classes, so the unit is the
(teacher, student) pair on a day a contact was made at the school. A row is *treated*
when that teacher attempted a contact with that student's family that day (any outcome:
a left message is an attempt), and a *comparison* when nobody from the school attempted
one that day. Both must be fresh: no school attempt with that family in the
``hold_days`` before, so neither is in a hold after an earlier decision and neither
carries an earlier contact's effect.

What the teacher saw when deciding is the pair's record in the teacher's own classes
(missed in the last 7 days, completion over 14 days, missed among the last three, a
missed test or project, a miss in the last 3 days): rows are matched on it exactly, with
the school, the week and the student's longer-run completion. Students on track (nothing
missed in the teacher's classes in the ``window_days`` before) are not rows: a call about
missing work is what is estimated, and such students are not candidates for one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engagement.metrics import KEY, DayIndex, Timeline, day_number, running_count
from engagement.parsing import positions

MAJOR = ("test", "project", "exam", "final", "summative", "assessment", "major")
# Lagged completion (days relative to the decision day) that the outcome is adjusted for.
LAGS = ((-7, 0), (-14, -7), (-21, -14), (-63, -21))
DECISION_CELL = ["school_id", "week", "missed_7", "completion_14", "missed_last3",
                 "missed_major", "baseline", "missed_3"]
# The order rows are kept in, whichever engine built them: two rows that tie on it are
# the same student on the same day with the same record, equal in every column.
ROW_ORDER = ["school_id", "day", "student_id", "teacher_id", "treated", "reached",
             *DECISION_CELL[2:]]


class PairTimeline:
    """Each (teacher, student) pair's counted results in due order: the teacher's view.

    In a school whose classes have no teacher, or whose contacts do not name a staff
    member who teaches the student (a display name, say), every class of a student counts
    as one pair (``teacher='any'``). ``by_teacher``: the schools whose contacts name
    teachers, for a part of a division (the division's answer)."""

    def __init__(self, flags: pd.DataFrame, assignments: pd.DataFrame,
                 enrollments: pd.DataFrame | None, contacts: pd.DataFrame, timezone: str,
                 by_teacher: frozenset[str] | None = None):
        # The counted results with a due time, as arrays: a frame of them would copy every
        # text column of a division's results (gigabytes).
        counted = (flags["counted"] & flags["due_at"].notna()).to_numpy()
        work = positions(flags["assignment_id"], assignments["assignment_id"])[counted]
        if enrollments is None:
            enrollments = pd.DataFrame({"student_id": [], "class_id": [], "teacher_id": []})
        teacher = _teacher_of_class(enrollments)
        self.by_teacher = (schools_naming_teachers(contacts, enrollments) if by_teacher is None
                           else by_teacher)
        # Each result's teacher (its class's, where the school's contacts name teachers,
        # else "any"), by position in the names, through its assignment (whose class and
        # school the result's are): a string per row costs seconds.
        listed = pd.concat([teacher, pd.Series(["any"], dtype="str")])
        names = pd.Index(pd.unique(listed))
        of_class = positions(listed, names)  # each class's name, then "any" (position -1)
        # Per assignment, then a last entry for a result without one.
        class_at = np.append(positions(assignments["class_id"].astype("str"), teacher.index), -1)
        named_school = np.append(assignments["school_id"].astype("str").isin(self.by_teacher)
                                 .to_numpy(), False)
        at = class_at[work]
        name = of_class[np.where((at >= 0) & named_school[work], at, -1)]
        seen = pd.unique(name)  # in order of first appearance, as the names would be
        self.students = pd.Index(pd.unique(flags["student_id"]))
        self.teachers = names[seen]
        of_name = np.zeros(len(names), dtype=np.int64)
        of_name[seen] = np.arange(len(seen))
        code = (positions(flags["student_id"], self.students)[counted] * len(self.teachers)
                + of_name[name])
        # np.unique(code, return_inverse=True), by hashing the rows and sorting the pairs.
        pair, found = pd.factorize(code)
        order = np.argsort(found, kind="stable")
        self.pairs = found[order]
        rank = np.empty(len(found), dtype=np.int64)
        rank[order] = np.arange(len(found))
        pair = rank[pair]
        major = np.zeros(len(work), dtype=bool)
        if "category" in assignments:
            is_major = np.append(assignments["category"].astype("str").str.lower().isin(MAJOR)
                                 .to_numpy(), False)  # ends with False, for no assignment
            major = is_major[work]
        # Each array here holds a value per counted result (240 MB each in a division):
        # freed as soon as it has served, not all held until the end.
        del work, at, name, code
        due = flags["due_at"][counted]
        day = day_number(due, timezone)
        instant = due.to_numpy(dtype="datetime64[ns]").view(np.int64)
        missing = flags["missing"].to_numpy()[counted]
        order = np.lexsort((missing, instant, pair))
        del due, instant
        self.key = (pair.astype(np.int64) * KEY + day)[order]
        del pair, day
        self.done = running_count(flags["completed"].to_numpy()[counted][order])
        self.missed = running_count(missing[order])
        self.missed_major = running_count((missing & major)[order])
        del order, missing, major
        self.position = DayIndex(self.key, len(self.pairs))

    def pair_code(self, student_id: pd.Series, teacher: pd.Series) -> np.ndarray:
        s = positions(student_id, self.students).astype(np.int64)
        t = positions(teacher.astype("str"), self.teachers).astype(np.int64)
        return np.where((s >= 0) & (t >= 0), s * len(self.teachers) + t, -1)

    def keys(self, code: np.ndarray, day: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.pairs, code)
        known = (i < len(self.pairs)) & (self.pairs[np.minimum(i, len(self.pairs) - 1)] == code)
        return np.where(known, i * KEY + day, -1)

    def record(self, keys: np.ndarray) -> tuple[np.ndarray, ...]:
        """The pair's record before the day of each key (``keys``: pair position * KEY +
        day): work completed and counted in the 14 days before, missed and missed tests or
        projects in the 7 days before, missed among the last three, and missed in the 3
        days before; each bound one lookup, shared by the counts that end there."""
        now, three, week, fortnight = (self.position(keys + x) for x in (0, -3, -7, -14))
        last3 = np.maximum(now - 3, self.position((keys // KEY) * KEY))
        return (self.done[now] - self.done[fortnight], now - fortnight,
                self.missed[now] - self.missed[week],
                self.missed_major[now] - self.missed_major[week],
                self.missed[now] - self.missed[last3], self.missed[now] - self.missed[three])


def _teacher_of_class(enrollments: pd.DataFrame) -> pd.Series:
    e = enrollments[enrollments["teacher_id"].notna()]
    return e.drop_duplicates("class_id").set_index(e.drop_duplicates("class_id")["class_id"]
                                                   .astype("str"))["teacher_id"].astype("str")


def schools_naming_teachers(contacts: pd.DataFrame, enrollments: pd.DataFrame
                            ) -> frozenset[str]:
    """The schools where most school attempts name a staff member who teaches that
    student (by the id the class lists)."""
    c = contacts[contacts["initiator"].astype("str") == "school"]
    if c.empty or "staff_id" not in c or "teacher_id" not in enrollments:
        return frozenset()
    taught = pd.MultiIndex.from_arrays([enrollments["student_id"].astype("str"),
                                        enrollments["teacher_id"].astype("str")])
    named = pd.MultiIndex.from_arrays([c["student_id"].astype("str"),
                                       c["staff_id"].astype("str")])
    share = pd.Series(named.isin(taught)).groupby(c["school_id"].astype("str").to_numpy()).mean()
    return frozenset(share.index[share >= 0.5])


def windows(tl: Timeline, keys: np.ndarray, spans) -> list[tuple[np.ndarray, np.ndarray]]:
    """``tl.window`` for each (start, stop) of ``spans``, each bound looked up once
    (consecutive windows share one)."""
    at = {x: tl.position(keys + x) for x in sorted({x for span in spans for x in span})}
    return [(tl.done[at[stop]] - tl.done[at[start]], at[stop] - at[start])
            for start, stop in spans]


def _behind(pl: PairTimeline, students: pd.DataFrame, days: pd.DataFrame, w: int
            ) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """The (pair, day) candidates: days of ``days`` (the school's contact days) on which
    the pair had missed work in the ``w`` days before, i.e. the contact days in (t, t + w]
    after each missed item due on day t. Built from the missed items, not from every pair
    on every day: a division has far more of the second.

    Returns the schools (sorted), and each candidate's school (its position in them) and
    key (the pair's position in ``pl.pairs`` * KEY + day), in key order."""
    schools = pd.Index(days["school_id"].astype("str").unique()).sort_values()
    day_key = np.sort(positions(days["school_id"].astype("str"), schools).astype(np.int64)
                      * KEY + days["day"].to_numpy())
    # Each pair's school (through its student).
    school = students.drop_duplicates("student_id")
    of_student = np.full(len(pl.students), -1, dtype=np.int64)
    where = positions(school["student_id"], pl.students)
    of_student[where[where >= 0]] = positions(school["school_id"].astype("str"),
                                              schools)[where >= 0]
    missed = pl.key[np.diff(pl.missed) > 0]  # sorted: by pair, then due day
    index, due = missed // KEY, missed % KEY
    code = pl.pairs[index]
    s = of_student[code // len(pl.teachers)]
    # A pair's windows overlap when its misses are close: each starts where the ones
    # before it ended, so that every (pair, day) comes once, already in order.
    end = missed + w + 1
    start = missed + 1
    same = np.r_[False, index[1:] == index[:-1]]
    start[same] = np.maximum(start[same], end[:-1][same[1:]])
    lo = np.searchsorted(day_key, s * KEY + start % KEY)
    hi = np.where(s >= 0, np.searchsorted(day_key, s * KEY + due + w + 1), lo)
    n = np.maximum(hi - lo, 0)
    at = np.repeat(lo - (np.cumsum(n) - n), n) + np.arange(n.sum())
    found = np.repeat(index, n) * KEY + day_key[at] % KEY
    return schools, of_student[pl.pairs[found // KEY] // len(pl.teachers)], found


def decision_rows(tl: Timeline, pl: PairTimeline, events: pd.DataFrame,
                  students: pd.DataFrame, days: pd.DataFrame, attempted: np.ndarray,
                  *, window_days: int, hold_days: int, matched_only: bool = False
                  ) -> pd.DataFrame:
    """Treated and comparison pair rows on each (school, day) of ``days``.

    ``events``: the school's attempts of one kind (with ``staff_id``); ``attempted``: the
    sorted (student, day) keys of every school attempt, of any kind. Returns, in
    ``ROW_ORDER``: ``school_id, day, student_id, teacher_id, treated, reached, week``, the
    decision cell (``DECISION_CELL``), ``before`` and ``after`` (the student's completion
    in the window before and after), the lagged completion ``lag_*``, and
    ``attempted_after`` (a school attempt in the 7 days after).

    ``matched_only``: only rows of cells that hold both treated and comparison rows (the
    rows every estimate uses; a part of a division cannot tell, its cells go on)."""
    w = window_days
    staff = events["staff_id"] if "staff_id" in events else pd.Series("any", index=events.index)
    teacher = staff.astype("str").where(
        events["school_id"].astype("str").isin(pl.by_teacher), "any")
    day = tl.day_number(events["contact_at"]) if len(events) else np.zeros(0, np.int64)
    # The (pair, day) keys on which the teacher attempted a contact, and whether one that
    # day reached the family.
    attempts = pd.Series((events["outcome"].astype("str") == "reached").to_numpy()).groupby(
        pl.keys(pl.pair_code(events["student_id"], teacher), day)).max()
    attempts = attempts[attempts.index >= 0]
    attempt_at = DayIndex(attempted, len(tl.students))
    # A few schools at a time: every pair behind on every contact day of a division, as
    # integer arrays, would take gigabytes at once. Rows never straddle schools (the school
    # is the first column of a cell and of the order), so the parts, in school order, are
    # the rows the division would give in one.
    parts = [_school_rows(tl, pl, attempts, attempt_at, students, part, window_days=w,
                          hold_days=hold_days, matched_only=matched_only)
             for part in _school_groups(days, students)]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


#: Students whose candidate rows are built at once (a school is never split).
STUDENTS_AT_ONCE = 20_000


def _school_groups(days: pd.DataFrame, students: pd.DataFrame) -> list[pd.DataFrame]:
    """``days`` split by groups of schools, in school order, of about ``STUDENTS_AT_ONCE``
    students each (one group, maybe empty, at least)."""
    school = days["school_id"].astype("str")
    names = pd.Index(school.unique()).sort_values()
    size = (students["school_id"].astype("str").value_counts()
            .reindex(names, fill_value=0).to_numpy())
    group = (np.cumsum(size) - size) // STUDENTS_AT_ONCE  # by the students before each
    if len(names) == 0 or group[-1] == 0:
        return [days]
    of_day = group[positions(school, names)]
    return [days[of_day == g] for g in np.unique(group)]


def _school_rows(tl: Timeline, pl: PairTimeline, attempts: pd.Series, attempt_at: DayIndex,
                 students: pd.DataFrame, days: pd.DataFrame, *, window_days: int,
                 hold_days: int, matched_only: bool) -> pd.DataFrame:
    """``decision_rows`` of the schools of ``days``; ``attempts``: whether each (pair, day)
    key's attempts reached the family; ``attempt_at``: every school attempt's keys."""
    w = window_days
    # The candidates, as integer arrays until the rows are final: school (position in
    # ``schools``), pair key and student key. Strings are made for the rows kept only.
    schools, school, pkey = _behind(pl, students, days, w)
    at = _lookup(attempts.index.to_numpy(), pkey)
    treated = at >= 0
    reached = np.zeros(len(at), dtype=bool)
    reached[treated] = attempts.to_numpy()[at[treated]]
    of_student = positions(pl.students, tl.students)  # tl.keys, by position
    skey = of_student[pl.pairs[pkey // KEY] // len(pl.teachers)] * KEY + pkey % KEY

    def attempts_between(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return attempt_at(hi) - attempt_at(lo)

    fresh = attempts_between(skey - hold_days, skey) == 0
    keep = fresh & (treated | (attempts_between(skey, skey + 1) == 0))
    school, pkey, skey, treated, reached = (x[keep] for x in (school, pkey, skey, treated,
                                                               reached))

    done_b, n_b = tl.window(skey, -w, 0)
    done_a, n_a = tl.window(skey, 1, w + 1)
    seen = (n_b > 0) & (n_a > 0)  # work due on both sides of the day
    school, pkey, skey, treated, reached = (x[seen] for x in (school, pkey, skey, treated,
                                                               reached))
    done_b, n_b, done_a, n_a = done_b[seen], n_b[seen], done_a[seen], n_a[seen]
    day, pair = pkey % KEY, pl.pairs[pkey // KEY]
    done14, n14, missed7, major7, missed_last3, missed3 = pl.record(pkey)
    done_l, n_l = tl.window(skey, -63, -w)
    with np.errstate(invalid="ignore", divide="ignore"):
        columns = {
            "school_id": school, "day": day, "student_id": pair // len(pl.teachers),
            "teacher_id": pair % len(pl.teachers),
            "treated": treated, "reached": reached,
            "week": day // 7,
            "missed_7": np.minimum(missed7, 3),
            "completion_14": np.digitize(np.where(n14 > 0, done14 / n14, 1.0),
                                         [0.5, 0.75, 1.0]),
            "missed_last3": missed_last3,
            "missed_major": (major7 > 0).astype(np.int64),
            "baseline": np.digitize(np.where(n_l > 0, done_l / n_l, -1.0), [0, 0.6, 0.8, 0.9]),
            # When the misses fell: contacts follow a fresh miss, and the week's count
            # alone paired them with students whose misses were days older, who rebound on
            # another schedule (0.4-0.6 points low on simulated divisions with drives or
            # dips of varying depth; 0.3-0.4 with this).
            "missed_3": np.minimum(missed3, 1),
            "before": done_b / n_b, "after": done_a / n_a}
    if matched_only:
        cell = _cells([columns[c] for c in DECISION_CELL])
        treated = columns["treated"]
        both = ((np.bincount(cell, weights=treated.astype(float)) > 0)
                & (np.bincount(cell, weights=(~treated).astype(float)) > 0))[cell]
        columns = {c: v[both] for c, v in columns.items()}
        skey = skey[both]
    columns["attempted_after"] = attempts_between(skey + 1, skey + 8) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        for i, (done, n) in enumerate(windows(tl, skey, LAGS)):
            columns[f"lag_{i}"] = np.where(n > 0, done / n, np.nan)
    # In ROW_ORDER. The ids are positions in indexes: ranked as their text sorts, then
    # gathered as (Arrow) string arrays, not a Python object per row.
    ids = {"school_id": schools, "student_id": pl.students, "teacher_id": pl.teachers}
    rank = [pd.factorize(ids[c], sort=True)[0][columns[c]] if c in ids else columns[c]
            for c in ROW_ORDER]
    order = np.lexsort(rank[::-1])
    return pd.DataFrame({c: pd.array(ids[c].take(v[order]), dtype="str") if c in ids
                         else v[order] for c, v in columns.items()})


def _cells(columns: list[np.ndarray]) -> np.ndarray:
    """Each row's cell (rows equal in every column), numbered in order of first
    appearance. The columns are small whole numbers (positions, weeks, counts, bands):
    the digits of one number per row, much faster to number than a grouping over the
    columns."""
    code = np.zeros(len(columns[0]), dtype=np.int64)
    for v in columns:
        v = v - v.min() if len(v) else v
        code = code * (int(v.max()) + 1 if len(v) else 1) + v
    return pd.factorize(code)[0]


def cell_numbers(rows: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Each row's cell on ``columns``, numbered as ``groupby(columns, sort=False).ngroup()``
    would (in order of first appearance; -1 where a column is blank), in a fraction of
    its time: each column's values become positions, the positions digits."""
    codes = [pd.factorize(rows[c])[0] for c in columns]
    known = np.all([c >= 0 for c in codes], axis=0) if len(rows) else np.zeros(0, bool)
    cell = np.full(len(rows), -1, dtype=np.int64)
    if known.any():
        cell[known] = _cells([c[known] for c in codes])
    return cell


def _lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Where each of ``keys`` is in ``sorted_keys`` (-1 where it is not)."""
    at = np.searchsorted(sorted_keys, keys)
    found = at < len(sorted_keys)
    found[found] = sorted_keys[at[found]] == keys[found]
    return np.where(found, at, -1)


def lag_adjustment(rows: pd.DataFrame, cell: list[str], y: np.ndarray) -> np.ndarray:
    """The part of each row's values ``y`` (rows x columns) that its lagged completion
    predicts, fitted on comparison rows within cells (a pooled within-cell regression).

    Contacts follow a bad spell, and a bad spell passes: the groups are compared on
    completion after, adjusted for the weeks before, rather than on the change (a change
    from the bottom of a dip rebounds whatever the call did)."""
    lags = [c for c in rows if c.startswith("lag_")]
    x = rows[lags].to_numpy(dtype=float)
    blank = np.isnan(x)
    means = np.nanmean(np.where(blank, np.nan, x), axis=0) if len(x) else np.zeros(len(lags))
    x = np.where(blank, np.nan_to_num(means)[None, :], x)
    x = np.column_stack([x, blank.astype(float)])
    comparison = ~rows["treated"].to_numpy()
    if comparison.sum() <= x.shape[1]:
        return np.zeros_like(y)
    group = cell_numbers(rows, cell)

    def within(v: np.ndarray) -> np.ndarray:
        s = np.bincount(group[comparison], weights=v[comparison], minlength=group.max() + 1)
        n = np.bincount(group[comparison], minlength=group.max() + 1)
        return v - (s / np.maximum(n, 1))[group]

    xd = np.column_stack([within(x[:, j]) for j in range(x.shape[1])])
    yd = np.column_stack([within(y[:, j]) for j in range(y.shape[1])])
    beta, *_ = np.linalg.lstsq(xd[comparison], yd[comparison], rcond=None)
    return x @ beta
