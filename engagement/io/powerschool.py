"""PowerSchool exports: the Log table (parent contacts) and AssignmentScore.

Which log entries are parent contacts is decided by each district: the log
type (``LogTypeID``) and the subtype codes are set up locally. The defaults
below follow the common set-up; pass ``codes=`` and ``contact_log_types=`` (or
set ``[powerschool]`` in engagement.toml) when a district differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from engagement.io.format import Format, Head
from engagement.io.text import (
    Reading,
    column,
    first_issue,
    has_column,
    issue_where,
    make_reading,
    read_table_text,
)

#: Default meaning of log Subtype codes: code -> (channel, outcome).
POWERSCHOOL_CONTACT_CODES: dict[str, tuple[str, str]] = {
    "PCT": ("phone", "reached"),
    "PCA": ("phone", "no_answer"),     # phone attempt: nobody picked up
    "AC": ("phone", "no_answer"),      # "attempted contact"
    "PCM": ("meeting", "reached"),
    "PCE": ("email", "unknown"),       # sent; whether it was read is unknown
    "PCX": ("text", "unknown"),
    "PCL": ("letter", "unknown"),
    "PCP": ("portal_message", "unknown"),
    "PCV": ("video_call", "reached"),
    "PCH": ("home_visit", "reached"),
}
#: Default LogTypeID values that are parent contacts.
POWERSCHOOL_CONTACT_LOG_TYPES: tuple[str, ...] = ("3",)

_LOG_TYPE_NAMES = {"-100000": "discipline"}


def _codes_table(codes: Mapping[str, tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(k.strip().upper(), v[0], v[1]) for k, v in codes.items()],
        columns=["code", "channel", "outcome"]).set_index("code")


def read_powerschool_log(path: str | Path, *,
                         codes: Mapping[str, tuple[str, str]] | None = None,
                         contact_log_types: Iterable[str] | None = None,
                         name: str | None = None) -> list[Reading]:
    """Read a PowerSchool Log table export as parent contacts.

    Parameters
    ----------
    path : str or Path
        The export (StudentID, Student_Number, SchoolID, TeacherID, Entry_Date,
        Entry_Time, LogTypeID, Subtype, Category, Consequence, Entry, ...).
    codes : mapping, optional
        Subtype code -> ``(channel, outcome)``; default
        :data:`POWERSCHOOL_CONTACT_CODES`. Given codes replace the defaults.
    contact_log_types : iterable of str, optional
        LogTypeID values that are parent contacts; default ``("3",)``.
    name : str, optional
        How the file is named in ``source_file``.

    Returns
    -------
    list of Reading
        One ``contacts`` Reading (kind ``"powerschool-log"``), every log line:
        contact_id = ``ID`` or ``DCID`` when exported; contact_at = "Entry_Date
        Entry_Time" as written; channel and outcome from the Subtype code (the
        raw Subtype when the code is unknown, outcome NA); purpose = Category,
        initiator = Consequence (raw). Extras: ``student_number``,
        ``log_type``, ``subtype``, ``entry_author``, ``subject``, ``notes``
        (Entry). The ~37 Discipline_* fields are ignored.

    Notes
    -----
    Log entries of other types (e.g. -100000, discipline) are still lines of
    the file: they get a reader issue naming the type and the setting to
    change, so the file's accounting balances.
    """
    path = Path(path)
    file = name or path.name
    frame = read_table_text(path, name=file)
    table = _codes_table(POWERSCHOOL_CONTACT_CODES if codes is None else codes)
    types = [str(t).strip() for t in (contact_log_types or POWERSCHOOL_CONTACT_LOG_TYPES)]
    subtype = column(frame, "Subtype")
    code = subtype.str.strip().str.upper()
    channel = code.map(table["channel"]).astype("str").fillna(subtype)
    outcome = code.map(table["outcome"]).astype("str")
    log_type = column(frame, "LogTypeID").str.strip()
    day, clock = column(frame, "Entry_Date"), column(frame, "Entry_Time")
    type_label = log_type.fillna("(blank)") + log_type.map(
        {k: f" ({v})" for k, v in _LOG_TYPE_NAMES.items()}).astype("str").fillna("")
    not_contact = issue_where(
        ~log_type.isin(types).fillna(False),
        ("not a parent contact: LogTypeID " + type_label + "; set [powerschool] "
         "contact_log_types to include it if it is"))
    return [make_reading(frame, file=file, kind="powerschool-log", table="contacts", columns={
        "contact_id": column(frame, "ID", "DCID"),
        "student_id": column(frame, "StudentID"),
        "school_id": column(frame, "SchoolID"),
        "staff_id": column(frame, "TeacherID"),
        "contact_at": (day + " " + clock).fillna(day).astype("str"),
        "channel": channel,
        "initiator": column(frame, "Consequence"),
        "purpose": column(frame, "Category"),
        "outcome": outcome,
        "student_number": column(frame, "Student_Number"),
        "log_type": log_type,
        "subtype": subtype,
        "entry_author": column(frame, "Entry_Author"),
        "subject": column(frame, "Subject"),
        "notes": column(frame, "Entry"),
    }, issue=first_issue(not_contact))]


def _flag(frame: pd.DataFrame, name: str) -> pd.Series:
    """PowerSchool flags are 1/0 (or true/false); anything else counts as not set."""
    values = column(frame, name).str.strip().str.lower()
    return values.isin(["1", "true", "t", "y", "yes"]).fillna(False)


def score_status(frame: pd.DataFrame) -> pd.Series:
    """One raw status spelling per score from the Is* flags.

    Precedence (first that applies): IsExempt -> "excused", IsMissing ->
    "missing", IsIncomplete -> "incomplete" (pending), IsLate -> "late",
    IsCollected or a score entered -> "on time"; NA when nothing is set.
    Missing beats late because late work that is still flagged missing has not
    come in; incomplete beats late because unfinished work is not completed.
    """
    scored = column(frame, "ScorePoints").notna() | column(frame, "ScorePercent").notna()
    status = pd.Series(pd.NA, index=frame.index, dtype="str")
    for flag, spelling in (("IsCollected", "on time"), ("IsLate", "late"),
                           ("IsIncomplete", "incomplete"), ("IsMissing", "missing"),
                           ("IsExempt", "excused")):
        mask = _flag(frame, flag) | (scored if flag == "IsCollected" else False)
        status = status.mask(mask, spelling)
    return status.astype("str")


def read_powerschool_scores(path: str | Path, *, name: str | None = None) -> list[Reading]:
    """Read a PowerSchool AssignmentScore export as results.

    Parameters
    ----------
    path : str or Path
        The export (StudentsDCID and/or StudentID, AssignmentSectionID,
        ScorePoints, ScorePercent, IsMissing, IsLate, IsExempt, IsIncomplete,
        IsCollected, IsAbsent, ScoreEntryDate, ...).
    name : str, optional
        How the file is named in ``source_file``.

    Returns
    -------
    list of Reading
        One ``results`` Reading (kind ``"powerschool-scores"``): student_id =
        StudentID when exported, else StudentsDCID; assignment_id =
        AssignmentSectionID; status from the flags (:func:`score_status`);
        score = ScorePoints, score_pct = ScorePercent; submitted_at NA.
        Extras: ``student_dcid``, ``assignment_score_id``, ``letter_grade``,
        ``is_absent``, ``score_entered_at`` (ScoreEntryDate: when the teacher
        typed the score, not when the work came in, so not submitted_at).
    """
    path = Path(path)
    file = name or path.name
    frame = read_table_text(path, name=file)
    student = column(frame, "StudentID") if has_column(frame, "StudentID") \
        else column(frame, "StudentsDCID")
    return [make_reading(frame, file=file, kind="powerschool-scores", table="results",
                         columns={
        "student_id": student,
        "assignment_id": column(frame, "AssignmentSectionID"),
        "status": score_status(frame),
        "score": column(frame, "ScorePoints"),
        "score_pct": column(frame, "ScorePercent"),
        "student_dcid": column(frame, "StudentsDCID"),
        "assignment_score_id": column(frame, "AssignmentScoreID"),
        "letter_grade": column(frame, "ScoreLetterGrade"),
        "is_absent": column(frame, "IsAbsent"),
        "score_entered_at": column(frame, "ScoreEntryDate"),
    })]


def _recognise_log(head: Head) -> float:
    if head.workbook:  # read as text only
        return 0.0
    return 0.95 if {"logtypeid", "entry_date"} <= head.header else 0.0


def _recognise_scores(head: Head) -> float:
    if head.workbook:  # read as text only
        return 0.0
    header = head.header
    return 0.95 if "assignmentsectionid" in header and header & {
        "studentsdcid", "scorepoints", "scorepercent", "ismissing"} else 0.0


def _read_log(path: Path, name: str, config: Mapping, sheet: None) -> list[Reading]:
    ps = config.get("powerschool") or {}
    codes = ps.get("codes")
    codes = None if codes is None else {k: tuple(v) for k, v in codes.items()}
    return read_powerschool_log(path, name=name, codes=codes,
                                contact_log_types=ps.get("contact_log_types"))


LOG_FORMAT = Format("powerschool-log", "PowerSchool log entries (parent contacts)",
                    _recognise_log, _read_log)
SCORES_FORMAT = Format("powerschool-scores", "PowerSchool assignment scores",
                       _recognise_scores,
                       lambda path, name, config, sheet: read_powerschool_scores(path, name=name))
