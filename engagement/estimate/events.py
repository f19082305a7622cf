"""The events each design treats, and what every estimate of a dataset shares.

``Prepared`` holds, computed once: the completion timeline, the (teacher, student)
timeline, the days of each kind of event per student, and the rows of each design.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engagement.estimate.design import Design
from engagement.estimate.matching import _did_rows, in_matched_cells, with_exposures, with_outcome
from engagement.estimate.panel import PairTimeline, decision_rows
from engagement.metrics import Timeline, day_number, result_flags
from engagement.vocabulary import PURPOSES


def _school_contacts(contacts: pd.DataFrame) -> pd.DataFrame:
    return contacts[contacts["initiator"].astype("str") == "school"]


def attempts_of_mode(contacts: pd.DataFrame, mode: str) -> pd.DataFrame:
    """School-initiated contacts of one mode, whatever their outcome: what a teacher
    decides to do (whether the family answers is not theirs to decide)."""
    c = _school_contacts(contacts)
    return c[c["mode"].astype("str") == mode]


# Contacts about something other than schoolwork are not the decision the contact designs
# compare: a call about behaviour or to praise, to a student who happens to be behind, is
# another intervention (counted as treated, they left the rows' own effect 0.1 points under
# that of the decisions about missing work on simulated divisions). They still make a
# student not fresh and still count as exposure. A purpose not recorded (``unknown``)
# counts as schoolwork: most exports do not record one.
SCHOOLWORK = ("missing_work", "academic", "unknown")
NOT_SCHOOLWORK = tuple(p for p in PURPOSES if p not in SCHOOLWORK)


def decisions_of_mode(contacts: pd.DataFrame, mode: str) -> pd.DataFrame:
    """School attempts of one mode about schoolwork (or of no recorded purpose): the
    treated decisions of the contact designs."""
    c = attempts_of_mode(contacts, mode)
    if "purpose" not in c:
        return c
    return c[~c["purpose"].astype("str").isin(NOT_SCHOOLWORK)]


def events_of_mode(contacts: pd.DataFrame, mode: str) -> pd.DataFrame:
    """School-initiated contacts of one mode; personal ones only when the family was reached
    (a voicemail is an attempt, not a conversation)."""
    c = _school_contacts(contacts)
    c = c[c["mode"].astype("str") == mode]
    if mode == "personal":
        c = c[c["outcome"].astype("str") == "reached"]
    return c


def _day_keys(tl: Timeline, frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    if frame.empty:  # a table with no rows may not even carry its time type
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    day = tl.day_number(frame[column])
    return tl.keys(frame["student_id"], day), day


def school_days(events: pd.DataFrame, time_column: str, timezone: str) -> pd.DataFrame:
    """The (school, day) pairs on which an event happened, sorted."""
    day = day_number(events[time_column], timezone) if len(events) else np.zeros(0, np.int64)
    days = pd.DataFrame({"school_id": events["school_id"].array, "day": day})
    return days.drop_duplicates().sort_values(["school_id", "day"]).reset_index(drop=True)


def _event_days(tl: Timeline, frame: pd.DataFrame, column: str) -> np.ndarray:
    """Sorted (student, day) keys of events, for binary searches."""
    keys, _ = _day_keys(tl, frame, column)
    return np.sort(keys[keys >= 0])


class Prepared:
    """What every estimate of a dataset shares, computed once: the completion timeline,
    the days of each kind of event per student, and the matched rows of each design.

    For a partition of a division, ``event_days`` are the division's (school, day) pairs of
    each kind of attempt and ``by_teacher`` the schools whose contacts name teachers."""

    def __init__(self, tables: dict[str, pd.DataFrame], design: Design, *,
                 event_days: dict[str, pd.DataFrame] | None = None,
                 by_teacher: frozenset[str] | None = None):
        self.tables = tables
        self.design = design
        self.event_days = event_days or {}  # the division's, when tables are a partition
        # Every result with its flags: computed once here and shared by every analysis.
        self.flags = result_flags(tables["results"], tables["assignments"])
        self.timeline = tl = Timeline(self.flags, design.timezone)
        contacts = tables["contacts"]
        self.pairs = PairTimeline(self.flags, tables["assignments"], tables.get("enrollments"),
                                  contacts, design.timezone, by_teacher)
        # Every school attempt, whatever its kind: what makes a student not fresh.
        self.attempted = _event_days(tl, _school_contacts(contacts), "contact_at")
        # The events whose effect each design's window may hold.
        self.exposures = {m: _event_days(tl, attempts_of_mode(contacts, m), "contact_at")
                          for m in ("personal", "written")}
        conf = tables["conferences"]
        self.exposures["conference"] = _event_days(
            tl, conf[conf["status"].astype("str") == "attended"], "scheduled_at")
        self._rows: dict[str, pd.DataFrame] = {}
        self.school_weeks: pd.DataFrame | None = None  # completion of each school week

    def rows(self, kind: str) -> pd.DataFrame:
        """Rows of one design (``personal``, ``written`` or ``conference``) in cells with
        both treated and comparison rows, with their exposure shares and outcome."""
        if kind not in self._rows:  # kept with this object, freed with it
            rows = in_matched_cells(self.all_rows(kind, matched_only=True), kind)
            rows = with_exposures(self.timeline, rows, self.exposures, self.design)
            self._rows[kind] = with_outcome(rows, kind)
        return self._rows[kind]

    def all_rows(self, kind: str, *, matched_only: bool = False) -> pd.DataFrame:
        """Every before/after row of one design, matched or not (without exposures): what
        a partition of a division contributes before cells are counted across it.
        ``matched_only``: the decision designs drop unmatched cells while building rows."""
        if kind == "conference":
            return _did_rows(self.timeline, self._conference_risk(), self.design)
        events = decisions_of_mode(self.tables["contacts"], kind)
        days = self.event_days.get(kind)
        if days is None:
            days = school_days(events, "contact_at", self.design.timezone)
        return decision_rows(self.timeline, self.pairs, events, self.tables["students"], days,
                             self.attempted, window_days=self.design.window_days,
                             hold_days=self.design.hold_days, matched_only=matched_only)

    def first_contacts(self) -> pd.DataFrame:
        """Each student's first reached personal school contact with completion in the
        window before and after: what a naive before/after compares."""
        first = first_contact_rows(self.timeline, self.tables["contacts"], self.design)
        school = self.tables["students"].drop_duplicates("student_id").set_index(
            "student_id")["school_id"]
        first = first.assign(school_id=school.reindex(first["student_id"]).to_numpy())
        return first.sort_values(["school_id", "student_id"], kind="stable").reset_index(
            drop=True)

    def _conference_risk(self) -> pd.DataFrame:
        conf = self.tables["conferences"]
        conf = conf[conf["status"].isin(["attended", "no_show"])]
        keys, day = _day_keys(self.timeline, conf, "scheduled_at")
        staff = (conf["staff_id"].astype("str").fillna("any") if "staff_id" in conf
                 else pd.Series("any", index=conf.index, dtype="str"))
        risk = pd.DataFrame({"student_id": conf["student_id"].to_numpy(),
                             "school_id": conf["school_id"].to_numpy(), "day": day,
                             "treated": (conf["status"] == "attended").to_numpy(),
                             "teacher_id": staff.to_numpy()})
        # One row per family and day (attended if any meeting that day was; the teacher
        # of its first booking, for the bootstrap), in (school, day, student) order like
        # the contacts' rows.
        return (risk[keys >= 0].groupby(["school_id", "day", "student_id"], observed=True)
                .agg(treated=("treated", "max"), teacher_id=("teacher_id", "min"))
                .reset_index())


def first_contact_rows(tl: Timeline, contacts: pd.DataFrame, design: Design) -> pd.DataFrame:
    """Each student's first reached personal school contact: ``school_id, student_id,
    before, after``, completion of work due in the ``window_days`` up to and including
    the contact day, and in those after it (students with work due in both)."""
    keys, _ = _day_keys(tl, events_of_mode(contacts, "personal"), "contact_at")
    first = np.unique(keys[keys >= 0])
    first = first[np.r_[True, np.diff(first // 100_000) > 0]] if len(first) else first
    w = design.window_days
    done_b, n_b = tl.window(first, 1 - w, 1)
    done_a, n_a = tl.window(first, 1, w + 1)
    ok = (n_b > 0) & (n_a > 0)
    student = tl.students[first[ok] // 100_000]
    out = pd.DataFrame({"student_id": student, "before": done_b[ok] / n_b[ok],
                        "after": done_a[ok] / n_a[ok]})
    return out


def _flags(tables: dict[str, pd.DataFrame], prepared: Prepared | None) -> pd.DataFrame:
    if prepared is not None:
        return prepared.flags
    return result_flags(tables["results"], tables["assignments"])
