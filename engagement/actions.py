"""Whom to call next: one school's action list, for the school alone.

A student is on the list when they missed at least two of their last three assignments
and nobody from the school has reached their family in person (a conversation: phone,
meeting, conference, home visit or video call, answered) in the last ``days`` days. A
family no one has ever reached in person is on it too, whatever the work shows: they are
the families a bulletin reaches and a call does not.

The list names students, so it is never part of the report, ``replicate`` or the export:
it is written only to a file the user names (``engagement actions``), with the ids as
they are in the cleaned data (keyed pseudonyms when the data was cleaned with a key).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engagement.dataset import Dataset
from engagement.metrics import result_flags

#: Missed among the last ``LAST`` assignments that puts a student on the list.
LAST, MISSED = 3, 2
COLUMNS = ["student_id", "grade_level", "teacher_id", "why", "missed_of_last_3",
           "last_missed_due", "last_contact_at", "last_contact_channel",
           "last_contact_outcome", "last_reached_at", "days_since_reached"]


def action_list(dataset: Dataset, *, school: str | None = None, days: int = 14,
                as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """The students of ``school`` to contact, most behind first (``COLUMNS``).

    ``as_of``: the day the list is for (default: the last due date in the data, the day
    the export was made, near enough); ``days``: how recent a conversation must be to
    take a student off the list. A division's data needs ``school``."""
    if days < 1:
        raise ValueError(f"days must be at least 1 (got {days})")
    tables = _school_tables(dataset, school)
    flags = result_flags(tables["results"], tables["assignments"])
    flags = flags[flags["counted"] & flags["due_at"].notna()]
    as_of = _as_of(as_of, flags["due_at"])
    flags = flags[flags["due_at"] <= as_of]
    enrollments = tables.get("enrollments")
    behind = _behind(flags, _teacher_by(enrollments, "class_id"))
    contacts = tables["contacts"]
    contacts = contacts[contacts["contact_at"] <= as_of]
    last = _last_contact(contacts)
    reached = contacts[(contacts["mode"].astype("str") == "personal")
                       & (contacts["outcome"].astype("str") == "reached")]
    last_reached = reached.groupby("student_id", observed=True)["contact_at"].max()

    students = tables["students"][["student_id", "grade_level"]].drop_duplicates("student_id")
    out = students.merge(behind, on="student_id", how="left").merge(
        last, on="student_id", how="left")
    # The teacher of the work last missed, else one who teaches the student.
    out["teacher_id"] = out["teacher_id"].fillna(out["student_id"].map(
        _teacher_by(enrollments, "student_id")))
    out["last_reached_at"] = out["student_id"].map(last_reached)
    out["days_since_reached"] = (as_of - out["last_reached_at"]).dt.days.astype("Int64")
    never = out["last_reached_at"].isna()
    recent = out["days_since_reached"].fillna(days) < days
    is_behind = out["missed_of_last_3"].fillna(0) >= MISSED
    out["why"] = np.select(
        [is_behind & never, is_behind & ~recent, never],
        [f"missed {MISSED}+ of the last {LAST}; family never reached in person",
         f"missed {MISSED}+ of the last {LAST}; not reached in the last {days} days",
         "family never reached in person"], default="")
    out = out[out["why"] != ""].assign(missed_of_last_3=lambda f: f["missed_of_last_3"]
                                       .fillna(0).astype("int64"))
    return (out.sort_values(["missed_of_last_3", "days_since_reached", "student_id"],
                            ascending=[False, False, True], na_position="first")
            [COLUMNS].reset_index(drop=True))


def _school_tables(dataset: Dataset, school: str | None) -> dict[str, pd.DataFrame]:
    schools = sorted(dataset.students["school_id"].astype("str").unique())
    if school is None:
        if len(schools) != 1:
            raise ValueError(f"the data holds {len(schools)} schools: an action list is for "
                             "one school; choose it with school=... (--school)")
        school = schools[0]
    return dataset.school(str(school)).tables


def _as_of(as_of, due: pd.Series) -> pd.Timestamp:
    if as_of is None:
        if due.empty:
            raise ValueError("no assignment with a due date: nothing to build a list from")
        return due.max()
    stamp = pd.Timestamp(as_of)
    zone = due.dt.tz if hasattr(due.dt, "tz") else None
    if stamp.tzinfo is None and zone is not None:
        # The whole day named: a contact at 4 pm on that day is before the list.
        stamp = (stamp.normalize() + pd.Timedelta(days=1, microseconds=-1)).tz_localize(zone)
    return stamp


def _teacher_by(enrollments: pd.DataFrame | None, key: str) -> pd.Series:
    """The first teacher named for each class or each student."""
    if enrollments is None or "teacher_id" not in enrollments:
        return pd.Series(dtype="str")
    named = enrollments[enrollments["teacher_id"].notna()].drop_duplicates(key)
    return named.set_index(key)["teacher_id"]


def _behind(flags: pd.DataFrame, teachers: pd.Series) -> pd.DataFrame:
    """Per student: missed among the last three assignments due, when the last one missed
    was due, and the teacher of its class (the one who would call)."""
    # Work due at the same moment puts missed work last, as the estimates do.
    ordered = flags.sort_values(["student_id", "due_at", "missing"], kind="stable")
    last = ordered.groupby("student_id", observed=True).tail(LAST)
    missed = last[last["missing"]]
    latest = missed.groupby("student_id", observed=True).tail(1).set_index("student_id")
    out = last.groupby("student_id", observed=True).agg(
        missed_of_last_3=("missing", "sum")).reset_index()
    out["last_missed_due"] = out["student_id"].map(latest["due_at"])
    out["teacher_id"] = out["student_id"].map(latest["class_id"].map(teachers))
    return out


def _last_contact(contacts: pd.DataFrame) -> pd.DataFrame:
    """Each family's latest contact of any kind, whoever started it."""
    latest = contacts.sort_values("contact_at", kind="stable").groupby(
        "student_id", observed=True).tail(1)
    return latest[["student_id", "contact_at", "channel", "outcome"]].rename(columns={
        "contact_at": "last_contact_at", "channel": "last_contact_channel",
        "outcome": "last_contact_outcome"})
