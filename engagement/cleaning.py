"""From raw readings to canonical tables, with every input row accounted for.

For each file: ``rows_in == rows_kept + rows_duplicate + rows_quarantined``.
A row is quarantined with a reason a person can act on; exact re-exports are
counted as duplicates; fixes (padded ids, matched names, decoded dates) are
counted. The order matters: the roster (students) is cleaned first, because
names and damaged ids in other files are matched against it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engagement.accounting import QUARANTINE_COLUMNS, FileAccount
from engagement.io.text import Reading
from engagement.io.wide import STUDENTS_KIND
from engagement.parsing import (
    distinct,
    map_vocabulary,
    normalise_ids,
    parse_numbers,
    parse_times,
    positions,
    restore_leading_zeros,
    spread,
)
from engagement.privacy import FREE_TEXT, free_text
from engagement.schema import COLUMNS, REQUIRED, TABLES, validate
from engagement.vocabulary import mode_of

TRACE = ["source_file", "source_row"]
NAME_MATCH_THRESHOLD = 0.85
#: Columns holding free text about people; dropped unless notes are kept.
NOTE_COLUMNS = ("notes",)
#: Columns that only serve matching; never written out.
NAME_COLUMNS = ("student_name", "given_name", "family_name", "guardian_name")
COMPLETED_WORDS = {"fully graded", "partially graded", "graded", "submitted", "turned in",
                   "collected", "complete", "completed", "handed in"}


@dataclass
class Settings:
    """What cleaning needs to know about a division (engagement.toml, ``[cleaning]``)."""

    timezone: str = "America/Edmonton"
    dayfirst: bool | None = None
    excel_1904: bool = False
    year_pivot: int = 70
    #: The school year ["YYYY-MM-DD", "YYYY-MM-DD"]: dates further than
    #: ``date_margin_days`` outside it are implausible. Without it, only placeholder
    #: years are (before 2000, or more than two years from today: 1900, 2099).
    school_year: list[str] | None = None
    date_margin_days: int = 30
    vocabulary: dict[str, dict[str, str]] = field(default_factory=dict)

    def plausible_dates(self) -> tuple[pd.Timestamp, pd.Timestamp, str]:
        """The first and last plausible dates (UTC) and how to say so."""
        if self.school_year:
            start, end = (pd.Timestamp(d, tz=self.timezone) for d in self.school_year)
            margin = pd.Timedelta(days=self.date_margin_days)
            return (start - margin, end + margin + pd.Timedelta(days=1),
                    f"outside the school year {self.school_year[0]} to "
                    f"{self.school_year[1]} (and {self.date_margin_days} days either side)")
        today = pd.Timestamp.now(tz=self.timezone)
        return (pd.Timestamp("2000-01-01", tz=self.timezone), today + pd.DateOffset(years=2),
                "a placeholder year (before 2000 or years from now), not a real date")


class _Batch:
    """One reading being cleaned: the surviving rows, and what happened to the rest."""

    def __init__(self, reading: Reading):
        self.account = FileAccount(reading.file, reading.kind, reading.table,
                                   rows_in=len(reading.frame))
        self.frame = reading.frame.reset_index(drop=True)
        self.raw = self.frame  # copy-on-write: later changes never reach these originals
        self.quarantined: list[pd.DataFrame] = []

    def release(self) -> None:
        """Let go of the frames once the table holds the kept rows: the raw values
        were only kept to quarantine rows, and the columns the table does not keep
        would otherwise stay in memory until the end of cleaning."""
        self.frame = self.raw = None

    def quarantine(self, reasons: pd.Series, column: str | None = None,
                   values: pd.Series | None = None) -> None:
        """Set aside the rows with a reason, the column at fault and its value (the
        file's own value unless ``values`` are given); keep their original values. A
        reason never holds the value: what may be shown of it is the output's decision."""
        reasons = reasons.reindex(self.frame.index)
        bad = reasons.notna()
        if bad.any():
            rows = self.frame.index[bad]
            original = self.raw.loc[rows]
            if values is None and column is not None:
                values = original[column] if column in original else self.frame[column]
            value = (pd.Series(pd.NA, index=rows, dtype="str") if values is None
                     else values.reindex(rows).astype("str"))
            self.quarantined.append(pd.DataFrame({
                "file": self.account.file, "line": original["source_row"],
                "table": self.account.table, "column": column, "value": value,
                "reason": reasons[bad].astype("str"), "record": _records(original)}))
            self.frame = self.frame.loc[~bad]
            self.account.rows_quarantined += int(bad.sum())

    def set_aside(self, reason: str) -> None:
        """Quarantine every row still kept, for one reason (the file could not be cleaned)."""
        self.quarantine(pd.Series(reason, index=self.frame.index, dtype="str"))

    def drop_duplicates(self) -> None:
        """Exact re-exports: identical in every column but the line number."""
        columns = [c for c in self.frame.columns if c not in ("source_row", "reader_issue")]
        blank = self.frame["reader_issue"].eq("blank line").fillna(False)
        # An exact duplicate repeats its first two columns too: compare whole rows only
        # there (a quarter of the time and memory on a 30M-row results file).
        maybe = self.frame.duplicated(subset=columns[:2], keep=False)
        dup = pd.Series(False, index=self.frame.index)
        if maybe.any():
            dup[maybe] = self.frame.loc[maybe].duplicated(subset=columns, keep="first")
        dup &= ~blank
        self.frame = self.frame.loc[~dup]
        self.account.rows_duplicate += int(dup.sum())

    def unknown(self, column: str, spellings: pd.Series) -> None:
        """Count the spellings a vocabulary does not know; prose (a note that landed in
        the column) is counted as free text, never listed."""
        spellings = spellings.dropna()
        spellings = spellings.mask(free_text(spellings), FREE_TEXT)
        counts = spellings.value_counts()
        if len(counts):
            found = self.account.unknown_spellings.setdefault(column, {})
            for spelling, n in counts.items():
                found[str(spelling)] = found.get(str(spelling), 0) + int(n)


def _records(frame: pd.DataFrame) -> pd.Series:
    """The original values of each row, as JSON (free-text notes left out)."""
    keep = [c for c in frame.columns if c not in ("source_file", "source_row", "reader_issue")
            and c not in NOTE_COLUMNS]
    lines = frame[keep].astype("str").to_json(orient="records", lines=True, force_ascii=False)
    return pd.Series(lines.splitlines(), index=frame.index, dtype="str")


def _name_key(names: pd.Series) -> pd.Series:
    """'Last, First' -> 'first last'; case, accents and spacing ignored."""
    text = names.astype("str").str.strip()
    swapped = text.str.replace(r"^\s*([^,]+),\s*(.+)$", r"\2 \1", regex=True)
    # Accents folded ('Hélène' = 'Helene'); syllabics and other scripts kept as they are.
    folded = swapped.str.normalize("NFKD").str.replace("[\u0300-\u036f]", "", regex=True)
    return folded.str.casefold().str.replace(r"[^\w]+", " ", regex=True).str.strip()


class Roster:
    """The students we know, to match names and damaged ids against."""

    def __init__(self, students: pd.DataFrame):
        self.ids = pd.Index(students["student_id"].dropna().unique())
        self.school = students.drop_duplicates("student_id").set_index("student_id")["school_id"]
        blank = pd.Series("", index=students.index, dtype="str")
        given = students["given_name"] if "given_name" in students else blank
        family = students["family_name"] if "family_name" in students else blank
        names = students.assign(key=_name_key(given.fillna("") + " " + family.fillna("")))
        names["key"] = names["key"].where(names["key"] != "")
        self.by_name = names[["key", "student_id", "school_id"]].dropna(subset=["key"])

    def knows(self, ids: pd.Series) -> pd.Series:
        """Whether each id is on the roster (``isin`` on Arrow strings makes a Python
        object per roster id on every call; this stays in Arrow)."""
        return pd.Series(positions(ids, self.ids) >= 0, index=ids.index)

    def match_names(self, names: pd.Series, schools: pd.Series | None
                    ) -> tuple[pd.Series, pd.Series, int]:
        """Exact match on the normalised name (within the school when known), then a
        fuzzy match above the threshold among the few names left over.

        Returns (student_id, reason for unmatched rows, number of fuzzy matches).
        """
        key = _name_key(names)
        school = schools if schools is not None else pd.Series(pd.NA, index=names.index)
        table = self.by_name.drop_duplicates(["school_id", "key"], keep=False)
        exact = pd.merge(pd.DataFrame({"key": key, "school_id": school}).reset_index(),
                         table, on=["school_id", "key"], how="left").set_index("index")
        if school.isna().all():
            unique_name = self.by_name.drop_duplicates("key", keep=False).set_index("key")
            exact["student_id"] = key.map(unique_name["student_id"])
        ids = exact["student_id"].reindex(names.index).astype("str")
        reasons = pd.Series(pd.NA, index=names.index, dtype="str")
        left = ids.isna() & key.notna()
        fuzzy = 0
        # Only the distinct leftover names go through the fuzzy matcher (a handful),
        # against the roster of their school when the file says which.
        leftovers = pd.DataFrame({"key": key, "school": school})[left].drop_duplicates()
        for name, school_id in leftovers.itertuples(index=False):
            pool = self.by_name if pd.isna(school_id) else \
                self.by_name[self.by_name["school_id"] == school_id]
            pool = pool.drop_duplicates("key", keep=False)
            lookup = pool.set_index("key")["student_id"]
            scored = sorted(((difflib.SequenceMatcher(None, name, c).ratio(), c)
                             for c in difflib.get_close_matches(name, lookup.index.tolist(),
                                                                n=3, cutoff=0.6)),
                            reverse=True)
            rows = left & (key == name) & (school.isna() if pd.isna(school_id)
                                           else school.eq(school_id).fillna(False))
            if scored and scored[0][0] >= NAME_MATCH_THRESHOLD and (
                    len(scored) == 1 or scored[0][0] - scored[1][0] > 0.02):
                ids[rows] = lookup[scored[0][1]]
                fuzzy += int(rows.sum())
            else:
                # The candidates are other students' names: their scores only.
                closest = (f"the closest scores {scored[0][0]:.2f}, under "
                           f"{NAME_MATCH_THRESHOLD:.2f} or too close to the next"
                           if scored else "no roster name is close to it")
                reasons[rows] = (f"the student's name matches no roster name ({closest}); "
                                 "fix the name in the file or add the student to the roster")
        reasons[key.isna()] = "no student name or number"
        return ids, reasons, fuzzy


def _student_ids(batch: _Batch, roster: Roster | None) -> None:
    """Fill student_id from the student number, a damaged id, or the name; then the
    school from the roster where the file does not say."""
    _match_students(batch, roster)
    f = batch.frame
    if roster is not None:
        school = _column(f, "school_id")
        # Look up only the rows without a school (map makes a Python string of each id).
        missing = school.isna()
        filled = school.fillna(f.loc[missing, "student_id"].map(roster.school)) \
            if missing.any() else school
        batch.account.add_fix("school_taken_from_roster", int(school.isna().sum()
                                                              - filled.isna().sum()))
        batch.frame = f.assign(school_id=filled.astype("str"))
    elif batch.account.table == "enrollments":
        # A class list where no file is a roster: its students are at a school no file
        # gives, as a gradebook's are.
        school = _column(f, "school_id")
        batch.account.add_fix("school_not_given_in_any_file",
                              int((school.isna() & f["reader_issue"].isna()).sum()))
        batch.frame = f.assign(school_id=school.fillna(NO_SCHOOL))


def _match_students(batch: _Batch, roster: Roster | None) -> None:
    f = batch.frame
    acc = batch.account
    ids = _column(f, "student_id")
    if "student_number" in f and f["student_number"].notna().any():
        ids = f["student_number"].fillna(ids)
    ids, changed = normalise_ids(ids)
    acc.add_fix("ids_float_artefacts_removed", changed)
    if roster is not None:
        ids, padded = restore_leading_zeros(ids, roster.ids)
        acc.add_fix("ids_leading_zeros_restored", padded)
        if "student_name" in f:
            need = ids.isna() | ~roster.knows(ids)
            school = f["school_id"] if "school_id" in f and f["school_id"].notna().any() else None
            matched, reasons, fuzzy = roster.match_names(
                f.loc[need, "student_name"], None if school is None else school[need])
            ids = ids.where(~need, matched)
            acc.add_fix("names_matched_exactly", int(need.sum() - reasons.notna().sum() - fuzzy))
            acc.add_fix("names_matched_fuzzy", fuzzy)
            batch.frame = f.assign(student_id=ids)
            batch.quarantine(reasons, "student_name")
            return
        unknown = ids.notna() & ~roster.knows(ids)
        reasons = pd.Series(pd.NA, index=f.index, dtype="str").mask(
            unknown, "the student is not on the roster")
        batch.frame = f.assign(student_id=ids)
        batch.quarantine(reasons.mask(ids.isna(), "no student id"), "student_id", ids)
        return
    batch.frame = f.assign(student_id=ids)
    batch.quarantine(pd.Series(pd.NA, index=f.index, dtype="str").mask(ids.isna(), "no student id"))


def _times(batch: _Batch, column: str, settings: Settings, *, required: bool) -> None:
    """Parse a date column. An implausible date (a placeholder such as 1900 or 2099, or
    one outside the school year when engagement.toml gives it) sets its row aside where
    the date is required, and is blanked (a counted fix) where it is optional: a due
    date of 2099-12-31 means "no due date"."""
    f = batch.frame
    if column not in f:
        batch.frame = f.assign(**{column: pd.Series(pd.NaT, index=f.index)
                                  .dt.tz_localize(settings.timezone)})
        return
    times, reasons, fixes = parse_times(
        f[column], timezone=settings.timezone, column=column, file=batch.account.file,
        dayfirst=settings.dayfirst, excel_1904=settings.excel_1904,
        year_pivot=settings.year_pivot)
    for name, n in fixes.items():
        batch.account.add_fix(name, n)
    first, last, why = settings.plausible_dates()
    implausible = ((times < first) | (times >= last)).to_numpy(dtype=bool, na_value=False)
    if not required:
        reasons = reasons.where(f[column].notna())
    if implausible.any():  # rare: the 30M-row copies only when there is something to do
        if required:
            reasons = reasons.mask(implausible, f"{why} (column '{column}')")
        else:
            batch.account.add_fix("implausible_dates_blanked", int(implausible.sum()))
            times = times.where(~implausible)
    batch.frame = f.assign(**{column: times})
    batch.quarantine(reasons, column, f[column])


def _vocab(batch: _Batch, column: str, vocabulary: str, settings: Settings, *,
           required: bool, default: str = "unknown") -> None:
    f = batch.frame
    raw = _column(f, column)
    values, unknown = map_vocabulary(raw, vocabulary, extra=settings.vocabulary.get(vocabulary))
    batch.unknown(column, unknown)
    if required:
        reasons = pd.Series(pd.NA, index=f.index, dtype="str")
        reasons = reasons.mask(unknown.notna(), f"not a {column} engagement knows; add the "
                               f"spelling to [vocabulary.{vocabulary}] in engagement.toml")
        reasons = reasons.mask(raw.isna(), f"no {column}")
        batch.frame = f.assign(**{column: values})
        batch.quarantine(reasons, column, raw)
    else:
        batch.frame = f.assign(**{column: values.fillna(default)})


def _make_ids(batch: _Batch, column: str, prefix: str) -> None:
    """Exports without their own row id get one from the file and line, stable across runs."""
    f = batch.frame
    made = prefix + ":" + f["source_file"].astype("str") + ":" + f["source_row"].astype("str")
    existing = _column(f, column)
    batch.frame = f.assign(**{column: existing.fillna(made)})


def _column(f: pd.DataFrame, name: str) -> pd.Series:
    """A column of the file, or blanks where the file has none."""
    return f[name] if name in f else pd.Series(pd.NA, index=f.index, dtype="str")


def _clean_students(batch: _Batch) -> None:
    f = batch.frame
    # A roster may give only the student number: it is then the id.
    ids, changed = normalise_ids(_column(f, "student_id").fillna(_column(f, "student_number")))
    batch.account.add_fix("ids_float_artefacts_removed", changed)
    grade = _column(f, "grade_level").astype("str").str.strip().str.upper().str.replace(
        r"^(GRADE|GR\.?)\s*", "", regex=True)  # "Grade 7" (a UK "Year 9" is not grade 9)
    # CEDS codes too (TK transitional K, PR preschool), and Clever's words.
    grade = grade.replace({"KG": "0", "K": "0", "TK": "0", "KINDERGARTEN": "0",
                           "TRANSITIONALKINDERGARTEN": "0", "PK": "-1", "PR": "-1",
                           "PREK": "-1", "PRE-K": "-1", "PREKINDERGARTEN": "-1"})
    level = pd.to_numeric(grade, errors="coerce")
    given = _column(f, "grade_level").notna()
    batch.account.add_fix("students_without_grade_level", int((~given).sum()))
    reasons = pd.Series(pd.NA, index=f.index, dtype="str")
    reasons = reasons.mask(given & (level.isna() | ~level.between(-1, 12)),
                           "not a grade (expected PK, KG or 1-12)")
    school = _column(f, "school_id")
    reasons = reasons.mask(school.isna(), "no school_id: add the student's school")
    reasons = reasons.mask(ids.isna(), "no student id")
    batch.frame = f.assign(student_id=ids, grade_level=level)
    bad_grade = reasons.str.startswith("not a grade").fillna(False)
    batch.quarantine(reasons.where(bad_grade), "grade_level")
    batch.quarantine(reasons)
    batch.frame = batch.frame.assign(grade_level=batch.frame["grade_level"].astype("Int64"))


def _clean_contacts(batch: _Batch, settings: Settings, roster: Roster | None) -> None:
    _student_ids(batch, roster)
    _times(batch, "contact_at", settings, required=True)
    _vocab(batch, "channel", "channel", settings, required=True)
    batch.frame = batch.frame.assign(mode=batch.frame["channel"].map(mode_of))
    for column in ("initiator", "purpose", "outcome"):
        _vocab(batch, column, column, settings, required=False)
    _make_ids(batch, "contact_id", "contact")


def _clean_broadcasts(batch: _Batch, settings: Settings) -> None:
    _times(batch, "sent_at", settings, required=True)
    _vocab(batch, "channel", "broadcast_channel", settings, required=True)
    f = batch.frame
    audience = f["audience"].astype("str").str.lower() if "audience" in f else None
    audience = (pd.Series("school", index=f.index, dtype="str") if audience is None else
                audience.str.extract(r"(school|grade|class)", expand=False).fillna("school"))
    audience_id = f["audience_id"] if "audience_id" in f else f["school_id"]
    batch.frame = f.assign(audience=audience, audience_id=audience_id.astype("str"))
    _make_ids(batch, "broadcast_id", "broadcast")


def _clean_conferences(batch: _Batch, settings: Settings, roster: Roster | None) -> None:
    _student_ids(batch, roster)
    _times(batch, "scheduled_at", settings, required=True)
    _vocab(batch, "status", "conference_status", settings, required=True)
    f = batch.frame
    fmt = f["format"].astype("str").str.lower() if "format" in f else None
    fmt_value = pd.Series("other", index=f.index, dtype="str") if fmt is None else (
        pd.Series(np.select([fmt.str.contains(r"3|three|student", na=False),
                             fmt.str.contains(r"parent", na=False)],
                            ["three_way", "parent_teacher"], "other"), index=f.index))
    who = f["attended_by"].astype("str").str.lower() if "attended_by" in f else None
    attended = f["status"] == "attended"
    parent = (attended if who is None else who.str.contains(r"parent|guardian|mom|dad",
                                                              na=False)).astype("boolean")
    student = (fmt_value.eq("three_way") & attended if who is None
               else who.str.contains("student", na=False)).astype("boolean")
    invited = f["invited_via"] if "invited_via" in f else pd.Series(pd.NA, index=f.index)
    via_contact, unknown_c = map_vocabulary(invited, "channel")
    via_broadcast, unknown_b = map_vocabulary(invited, "broadcast_channel")
    batch.unknown("invited_via", unknown_c.where(unknown_b.notna()))
    rescheduled = f["rescheduled_from"] if "rescheduled_from" in f else pd.Series(
        pd.NA, index=f.index, dtype="str")
    batch.frame = f.assign(format=fmt_value, parent_present=parent, student_present=student,
                           invited_via=via_contact.fillna(via_broadcast).astype("str"),
                           rescheduled_from=rescheduled.astype("str"))
    _make_ids(batch, "conference_id", "conference")


def _clean_assignments(batch: _Batch, settings: Settings) -> None:
    _times(batch, "assigned_at", settings, required=False)
    _times(batch, "due_at", settings, required=False)
    f = batch.frame
    points, _, unreadable = parse_numbers(f["points_possible"]) if "points_possible" in f else (
        pd.Series(np.nan, index=f.index), None, pd.Series(False, index=f.index))
    batch.frame = f.assign(points_possible=points)
    batch.quarantine(pd.Series(pd.NA, index=f.index, dtype="str").mask(
        unreadable, "points possible is not a number"), "points_possible")
    no_due = int(batch.frame["due_at"].isna().sum())
    batch.account.add_fix("assignments_without_due_date", no_due)


MAX_SCORE_SHARE = 3.0


def _reason(index: pd.Index, where, reason) -> pd.Series:
    """A reason on the rows ``where`` is true, NA elsewhere."""
    return pd.Series(pd.NA, index=index, dtype="str").mask(where, reason)


def _clean_results(batch: _Batch, settings: Settings, due: pd.Series,
                   points: pd.Series) -> None:
    """Statuses, scores and times of results whose students are already known."""
    _times(batch, "submitted_at", settings, required=False)
    f = batch.frame
    acc = batch.account
    value, percent, word = parse_numbers(f["score"]) if "score" in f else (
        pd.Series(np.nan, index=f.index), pd.Series(False, index=f.index),
        pd.Series(False, index=f.index))
    # A word in the score column ('EX', 'M', 'INC', '—') is a status, not a score.
    raw_status = f["status"].astype("str") if "status" in f else pd.Series(
        pd.NA, index=f.index, dtype="str")
    raw_status = raw_status.where(~word | raw_status.notna(), f.get("score"))
    del word
    # Each distinct spelling once (a few dozen), not 30M stripped and lowered copies.
    codes, spellings = distinct(raw_status)
    completed_word = spread(spellings.str.strip().str.lower().isin(COMPLETED_WORDS), codes,
                            f.index, fill=False).astype(bool)
    del codes, spellings
    status, unknown = map_vocabulary(raw_status.where(~completed_word), "result_status",
                                     extra=settings.vocabulary.get("result_status"))
    del raw_status
    batch.unknown("status", unknown)
    # One lookup of each result's assignment serves points, due time and the check.
    where = positions(f["assignment_id"], points.index)
    known_assignment = pd.Series(where >= 0, index=f.index)
    if len(points):
        pp = pd.Series(points.to_numpy()[where], index=f.index).where(known_assignment)
        due_at = due.iloc[where].set_axis(f.index).where(known_assignment)
    else:
        pp = pd.Series(np.nan, index=f.index)
        due_at = pd.Series(pd.NaT, index=f.index, dtype="datetime64[us, UTC]")
    del where
    score = value.where(~percent, value / 100 * pp)
    score_pct = (value / 100).where(percent, value / pp)
    del pp, percent
    # Derive on time / late from hand-in and due times when the export only says "done".
    # No status word: a score or a hand-in time means the work was handed in.
    handed_in = completed_word | (status.isna() & unknown.isna()
                                  & (value.notna() | f["submitted_at"].notna()))
    del completed_word
    timed, early = _handed_in_by_due_day(f["submitted_at"], due_at, handed_in,
                                         settings.timezone)
    del due_at
    status = status.mask(timed & early, "on_time").mask(timed & ~early, "late")
    acc.add_fix("statuses_derived_from_due_and_hand_in_times", int(timed.sum()))
    untimed = handed_in & ~timed
    status = status.mask(untimed, "on_time")
    acc.add_fix("handed_in_without_times_counted_on_time", int(untimed.sum()))
    # Blank = no score and no status: not graded yet, never silently 'missing'.
    blank = status.isna() & unknown.isna() & value.isna()
    status = status.mask(blank, "pending")
    acc.add_fix("blank_results_as_pending", int(blank.sum()))
    # Exports that write 0 for work never handed in: the 0 is not a score.
    zero_for_missing = status.isin(["missing", "excused", "pending"]) & value.notna()
    acc.add_fix("scores_removed_from_missing_or_excused_work", int(zero_for_missing.sum()))
    score = score.where(~zero_for_missing)
    score_pct = score_pct.where(~zero_for_missing)
    # Implausible marks: below zero, or more than three times the points possible (extra
    # credit seldom doubles a mark; a typo such as 850 for 8.50 does much more).
    negative = (value < 0).to_numpy(dtype=bool, na_value=False)
    too_high = (score_pct > MAX_SCORE_SHARE).to_numpy(dtype=bool, na_value=False)
    batch.frame = f.assign(status=status.astype("str"), score=score.astype("float64"),
                           score_pct=score_pct.astype("float64"))
    # Each reason column is made only when a row needs it (30M-row string columns).
    if unknown.notna().any():
        batch.quarantine(_reason(f.index, unknown.notna(), (
            "not a result status engagement knows; add the spelling to "
            "[vocabulary.result_status] in engagement.toml")), "status", unknown)
    if not known_assignment.all():
        batch.quarantine(_reason(f.index, ~known_assignment, _column(
            f, "assignment_id").isna().map({True: "no assignment id", False: (
                "the assignment is not in any assignments file")})), "assignment_id")
    if negative.any() or too_high.any():
        batch.quarantine(_reason(f.index, negative, "a score below 0").mask(
            too_high, f"a score more than {MAX_SCORE_SHARE:.0f} times the points possible"),
            "score")


def _handed_in_by_due_day(submitted: pd.Series, due: pd.Series, handed_in: pd.Series,
                          timezone: str) -> tuple[pd.Series, np.ndarray]:
    """Which hand-ins have both times, and which came in by the due day (local days).

    A function of its own so the local-day columns (two 30M-row copies at division
    scale) are let go as soon as the answer is known.
    """
    local = submitted.dt.tz_convert(timezone).dt.normalize()
    due_day = due.dt.tz_convert(timezone).dt.normalize()
    timed = handed_in & local.notna() & due_day.notna()
    early = (local <= due_day).to_numpy(dtype=bool, na_value=False)
    return timed, early


def _names_need_a_roster(batch: _Batch) -> None:
    """Names can only become ids against a roster; without one, set such rows aside."""
    f = batch.frame
    if "student_name" not in f:
        return
    ids = _column(f, "student_id")
    if "student_number" in f:
        ids = ids.fillna(f["student_number"])
    batch.quarantine(pd.Series(pd.NA, index=f.index, dtype="str").mask(
        f["student_name"].notna() & ids.isna(),
        f"{batch.account.file} names students instead of giving their ids, and no "
        "roster was found to match the names against. Add the roster to the folder "
        "(a OneRoster bundle, or a students.csv with student_id, school_id, "
        "grade_level, given_name, family_name)."))


def _schools_of_classes(enrollments: list[_Batch], results: list[_Batch]) -> pd.Series:
    """Each class's school: as its enrollments give it, else as the roster gives the
    school of the students a gradebook lists in it (the most common one)."""
    enrolled = _concat([b.frame for b in enrollments], "enrollments")
    from_enrollments = enrolled.drop_duplicates("class_id").set_index("class_id")["school_id"]
    listed = []
    for batch in results:  # only the rows of classes no enrollment gives (few, if any)
        classes = pd.Index(_column(batch.frame, "class_id").dropna().unique())
        unknown = classes.difference(from_enrollments.index)
        if len(unknown):
            rows = batch.frame[batch.frame["class_id"].isin(unknown)]
            listed.append(rows[["class_id", "school_id"]].dropna())
    if not listed:
        return from_enrollments.astype("str")
    counts = pd.concat(listed).groupby(["class_id", "school_id"], observed=True).size()
    most = counts.sort_values(ascending=False, kind="stable").reset_index().drop_duplicates(
        "class_id").set_index("class_id")["school_id"]
    return from_enrollments.combine_first(most).astype("str")


def _school_from_roster(batch: _Batch, school_of_class: pd.Series) -> None:
    """Gradebooks such as Canvas' do not name the school: take it from the class roster."""
    f = batch.frame
    school = _column(f, "school_id")
    filled = school.fillna(_column(f, "class_id").map(school_of_class).astype("str"))
    batch.account.add_fix("school_taken_from_class_roster", int(school.isna().sum()
                                                                - filled.isna().sum()))
    batch.frame = f.assign(school_id=filled)
    no_class = _column(f, "class_id").isna()
    batch.quarantine(pd.Series(pd.NA, index=f.index, dtype="str").mask(
        filled.isna(), no_class.map({
            True: "no class: add the class (section) the assignment is set in",
            False: "the class is on no roster, so its school is unknown; add the class to "
                   "the roster or a school_id column"})), "class_id")


@dataclass
class Cleaned:
    """The canonical tables, the quarantine and the per-file accounts."""

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    accounts: list[FileAccount]


def clean_readings(readings: list[Reading], settings: Settings | None = None) -> Cleaned:
    """Clean every reading into the canonical tables; nothing is lost.

    ``readings`` is emptied: each file's frames are let go as soon as its table is
    built, so a caller that keeps no other reference to them does not hold every file
    twice at the end (5 GB at 100,000 students)."""
    batches = [_Batch(r) for r in readings]
    readings.clear()
    settings = settings or Settings()
    by_table: dict[str, list[_Batch]] = {t: [] for t in TABLES}
    for batch in batches:
        by_table[batch.account.table].append(batch)
    _students_from_gradebooks(by_table["students"])
    # Re-exported rows are duplicates whatever else is wrong with them.
    _each(batches, lambda b: (b.drop_duplicates(), b.quarantine(b.frame["reader_issue"])))

    _each(by_table["students"], _clean_students)
    students = _concat([b.frame for b in by_table["students"]], "students")
    # A roster file whose every row was set aside is still a roster: its students' other
    # rows are set aside as not on it, not kept unchecked.
    roster = Roster(students) if by_table["students"] else None
    if roster is None:
        _each(batches, _names_need_a_roster)

    _each(by_table["enrollments"], _student_ids, roster)
    _each(by_table["contacts"], _clean_contacts, settings, roster)
    _each(by_table["broadcasts"], _clean_broadcasts, settings)
    _each(by_table["conferences"], _clean_conferences, settings, roster)
    # Results' students first: a gradebook's class may be on no roster, but its students are.
    _each(by_table["results"], _student_ids, roster)
    school_of_class = _schools_of_classes(by_table["enrollments"], by_table["results"])
    _each(by_table["assignments"], _clean_assignments, settings)
    _each(by_table["assignments"], _school_from_roster, school_of_class)
    assignments = _concat([b.frame for b in by_table["assignments"]], "assignments")
    due = assignments.drop_duplicates("assignment_id").set_index("assignment_id")["due_at"]
    points = assignments.drop_duplicates("assignment_id").set_index(
        "assignment_id")["points_possible"]
    del assignments
    _each(by_table["results"], _clean_results, settings, due, points)

    tables = {}
    for table in TABLES:
        _each(by_table[table], _quarantine_blank_required, table)
        _each(by_table[table], _quarantine_repeated_keys, table)
        _quarantine_keys_from_earlier_files(by_table[table], table)
        for batch in by_table[table]:
            batch.account.rows_kept = len(batch.frame)
        # Only the columns the table keeps: concatenating the rest would copy them (and
        # fill a 30M-row NA column for each column one file has and another has not).
        keep = COLUMNS[table] + list(EXTRA_COLUMNS) + TRACE
        frame = _concat([b.frame[[c for c in keep if c in b.frame]] for b in by_table[table]],
                        table)
        for batch in by_table[table]:
            batch.release()
        # Only the canonical columns from here on: the raw and extra columns can go.
        tables[table] = _finish(frame, table)
        del frame
    quarantine = pd.concat([q for b in batches for q in b.quarantined]
                           or [pd.DataFrame(columns=QUARANTINE_COLUMNS)],
                           ignore_index=True)
    for table in TABLES:
        # One table at a time: validation copies a table's numeric columns, and the
        # unvalidated copy is let go before the next table's is made.
        tables[table] = validate(tables[table], table)
    return Cleaned(tables, quarantine, [b.account for b in batches])


#: The school of students no file places in one (a gradebook on its own).
NO_SCHOOL = "not given"


def _students_from_gradebooks(batches: list[_Batch]) -> None:
    """The students a gradebook lists are the roster only when the folder has no other:
    beside a roster they are counted as duplicates of it; without one, they are the
    roster, at a school no file gives (counted as a fix, shown as "not given"), each
    student once (a student in two gradebooks is a duplicate in the second)."""
    listed = [b for b in batches if b.account.kind == STUDENTS_KIND]
    if not listed:
        return
    if len(listed) < len(batches):
        for batch in listed:
            n = len(batch.frame)
            batch.account.rows_duplicate += n
            batch.account.add_fix("students_given_by_the_roster_instead", n)
            batch.frame = batch.frame.iloc[:0]
        return
    seen = pd.Index([], dtype="str")
    for batch in listed:
        f = batch.frame
        again = f["student_id"].isin(seen) & f["student_id"].notna()
        batch.account.rows_duplicate += int(again.sum())
        f = f.loc[~again]
        seen = seen.append(pd.Index(f["student_id"].dropna()))
        school = f["school_id"]
        batch.account.add_fix("school_not_given_in_any_file",
                              int((school.isna() & f["reader_issue"].isna()).sum()))
        batch.frame = f.assign(school_id=school.fillna(NO_SCHOOL))


def _each(batches: list[_Batch], step, *args) -> None:
    """``step(batch, *args)`` for each file, what goes wrong in one file costing that
    file's rows (quarantined with the reason), never the run."""
    for batch in batches:
        try:
            step(batch, *args)
        except MemoryError:
            raise
        except Exception as err:  # noqa: BLE001 - one file's failure stays with that file
            reason = str(err) if isinstance(err, ValueError) else (
                f"could not be cleaned ({type(err).__name__}: {err}); please report this")
            batch.set_aside(reason)


def _quarantine_blank_required(batch: _Batch, table: str) -> None:
    """A row without a value the table cannot do without (its id, its school...)."""
    f = batch.frame
    reasons = pd.Series(pd.NA, index=f.index, dtype="str")
    for column in reversed(REQUIRED[table]):
        reasons = reasons.mask(_column(f, column).isna(), f"no {column}")
    batch.quarantine(reasons)


def _quarantine_keys_from_earlier_files(batches: list[_Batch], table: str) -> None:
    """A key an earlier file already gave (two exports of one roster): the earlier
    file's row is kept, this one quarantined, naming that file."""
    if len(batches) < 2:
        return
    key = KEYS[table]
    # Keys as 64-bit hashes: one number per row across a 30M-row division, not its
    # strings twice over (two keys sharing a hash: about 1 in 40,000 divisions).
    hashes = pd.Series(np.concatenate([
        pd.util.hash_pandas_object(b.frame[key], index=False).to_numpy() for b in batches]))
    again = hashes.duplicated(keep="first").to_numpy()
    if not again.any():
        return
    file = np.repeat(np.arange(len(batches)), [len(b.frame) for b in batches])
    first = pd.Series(file).groupby(hashes.to_numpy(), sort=False).transform("first").to_numpy()
    start = 0
    for batch in batches:
        n = len(batch.frame)
        here = again[start:start + n]
        if here.any():
            earlier = pd.Series(pd.Categorical.from_codes(
                first[start:start + n], [b.account.file for b in batches]),
                index=batch.frame.index).astype("str")
            batch.quarantine(pd.Series(pd.NA, index=batch.frame.index, dtype="str").mask(
                here, f"{' and '.join(key)} already read from " + earlier
                + "; keep one copy of each export"), key[0])
        start += n


KEYS = {"students": ["student_id"], "enrollments": ["student_id", "class_id"],
        "contacts": ["contact_id"], "broadcasts": ["broadcast_id"],
        "conferences": ["conference_id"], "assignments": ["assignment_id"],
        "results": ["student_id", "assignment_id"]}


def _quarantine_repeated_keys(batch: _Batch, table: str) -> None:
    """Two different rows with one key: keep the first, quarantine the others, say why."""
    key = KEYS[table]
    repeated = batch.frame.duplicated(subset=key, keep="first")
    if not repeated.any():
        return
    batch.quarantine(pd.Series(pd.NA, index=batch.frame.index, dtype="str").mask(
        repeated, f"{' and '.join(key)} appear on an earlier line with different values; "
        "keep one in the export"), key[0])


TIME_COLUMNS = ("contact_at", "sent_at", "scheduled_at", "assigned_at", "due_at", "submitted_at")
DTYPES = {"grade_level": "Int64", "points_possible": "float64", "score": "float64",
          "score_pct": "float64", "parent_present": "boolean", "student_present": "boolean",
          "source_row": "Int64", **{c: "datetime64[us, UTC]" for c in TIME_COLUMNS}}


def _concat(frames: list[pd.DataFrame], table: str) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=DTYPES.get(c, "str"))
                             for c in COLUMNS[table] + TRACE})
    # File names stay categorical across files (one string per file, not per row).
    files = pd.api.types.union_categoricals(
        [f["source_file"].astype("category") for f in frames]).categories
    frames = [f.assign(source_file=pd.Categorical(f["source_file"], categories=files))
              for f in frames]
    return pd.concat(frames, ignore_index=True)


#: Columns kept after the canonical ones when a file has them.
EXTRA_COLUMNS = ("given_name", "family_name", "notes")


def _finish(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Canonical columns in order (optional extra columns after), canonical dtypes."""
    extras = [c for c in EXTRA_COLUMNS if c in frame]
    out = frame.reindex(columns=COLUMNS[table] + extras + TRACE)
    for column in COLUMNS[table]:
        if out[column].dtype == object or out[column].isna().all() and column.endswith("_id"):
            out[column] = out[column].astype("str")
    for column in ("teacher_id", "term", "subject", "staff_id", "title", "category",
                   "audience_id", "rescheduled_from", "invited_via", "school_id", "class_id"):
        if column in out and not isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].astype("str")
    out["source_file"] = out["source_file"].astype("category")
    out["source_row"] = out["source_row"].astype("Int64")
    if table == "students":
        out["grade_level"] = out["grade_level"].astype("Int64")
    return out.reset_index(drop=True)


def load_settings(path: str | Path | None) -> tuple[Settings, dict]:
    """Read engagement.toml (if any): the ``[cleaning]`` settings and the rest as a dict."""
    import tomllib

    if path is None:
        return Settings(), {}
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path}: not valid TOML ({err})") from None
    section = dict(data.get("cleaning", {}))
    section["vocabulary"] = data.get("vocabulary", {})
    try:
        return Settings(**section), data
    except TypeError as err:
        raise ValueError(f"{path}: unknown setting in [cleaning] ({err})") from None
