"""Ed-Fi gradebook data: API JSON arrays and flattened CSV files.

Two resources matter: ``GradebookEntry`` (an assignment of a section) and
``StudentGradebookEntry`` (one student's result on it). The API returns JSON
arrays with nested references (``studentReference.studentUniqueId``,
``gradebookEntryReference.gradebookEntryIdentifier``, ``sectionReference...``);
the Grand Bend sample flattened to CSV uses the XML leaf names
(``StudentUniqueId``, ``GradebookEntryIdentifier``, ``NumericGradeEarned``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from engagement.io.format import Format, Head
from engagement.io.text import (
    ReadError,
    Reading,
    column,
    file_column,
    has_column,
    make_reading,
    read_table_text,
)

#: Ed-Fi files that hold no canonical table for us (people, links, attendance):
#: recognised by a column, they give no Reading.
NOT_OUR_TABLES = ("ContactUniqueId", "ContactReference@ref", "EventDate",
                  "contactReference.contactUniqueId", "parentReference.parentUniqueId")


def descriptor_code(values: pd.Series) -> pd.Series:
    """``"uri://ed-fi.org/SubmissionStatusDescriptor#Missing"`` -> ``"Missing"``."""
    return values.str.replace(r"^.*#", "", regex=True).str.strip().astype("str")


def result_status(submission: pd.Series, late: pd.Series) -> pd.Series:
    """One raw status spelling from the submission and late-status descriptors.

    The submission status says whether work came in ("Graded", "Submitted",
    "Missing", "Not Submitted"...); the late status says when. Late ("Late")
    wins unless the submission is missing or not submitted, because a missing
    piece of work cannot be late.
    """
    submission = descriptor_code(submission)
    late = descriptor_code(late)
    missing = submission.str.lower().isin(["missing", "not submitted"]).fillna(False)
    is_late = late.str.lower().eq("late").fillna(False)
    return submission.mask(is_late & ~missing, "late").astype("str")


def _as_text(value: object) -> str | None:
    """A JSON value as the text it was written as; absent keys (NaN) and null as None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value != value:  # NaN: the key was absent
        return None
    return json.dumps(value)


def _load_json(path: Path, name: str) -> pd.DataFrame:
    try:
        # Numbers stay the text they were written as ("007", "9.50"), never floats.
        records = json.loads(path.read_text(encoding="utf-8-sig"), parse_int=str,
                             parse_float=str, parse_constant=str)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ReadError(f"{name} is not valid UTF-8 JSON ({err}). Save the API response "
                        "as it came, a JSON array of records.") from None
    if isinstance(records, dict) and len(records) == 1:
        # Some tools wrap the array: {"data": [...]}.
        records = next(iter(records.values()))
    if not isinstance(records, list):
        raise ReadError(f"{name} is JSON but not an array of records. Save the Ed-Fi "
                        "API response (a JSON array) as it came.")
    if records and not all(isinstance(r, dict) for r in records):
        raise ReadError(f"{name} holds an array whose items are not all objects; "
                        "expected Ed-Fi resources.")
    frame = pd.json_normalize(records, sep=".") if records else pd.DataFrame()
    # Keep raw text: numbers and booleans as JSON wrote them, null as NA.
    frame = frame.map(_as_text)
    frame = frame.astype("str")
    frame["source_file"] = file_column(name, frame.index)
    frame["source_row"] = pd.Series(range(1, len(frame) + 1), index=frame.index,
                                    dtype="Int64")
    return frame


def _results(frame: pd.DataFrame, file: str, kind: str) -> Reading:
    earned = column(frame, "pointsEarned").fillna(column(frame, "numericGradeEarned"))
    school = column(frame, "sectionReference.schoolId",
                    "studentSectionAssociationReference.schoolId")
    return make_reading(frame, file=file, kind=kind, table="results", columns={
        "student_id": column(frame, "studentReference.studentUniqueId",
                             "studentSectionAssociationReference.studentUniqueId",
                             "StudentUniqueId"),
        "assignment_id": column(frame, "gradebookEntryReference.gradebookEntryIdentifier",
                                "GradebookEntryIdentifier"),
        "status": result_status(column(frame, "submissionStatusDescriptor",
                                       "SubmissionStatus"),
                                column(frame, "assignmentLateStatusDescriptor",
                                       "AssignmentLateStatus")),
        "submitted_at": _date_time(frame, "dateFulfilled", "timeFulfilled"),
        "score": earned,
        "namespace": column(frame, "gradebookEntryReference.namespace", "Namespace"),
        "class_id": column(frame, "sectionReference.sectionIdentifier",
                           "studentSectionAssociationReference.sectionIdentifier",
                           "SectionIdentifier"),
        "school_id": school,
        "submission_status": column(frame, "submissionStatusDescriptor", "SubmissionStatus"),
        "late_status": column(frame, "assignmentLateStatusDescriptor",
                              "AssignmentLateStatus"),
        "letter_grade": column(frame, "letterGradeEarned", "LetterGradeEarned"),
        "notes": column(frame, "diagnosticStatement", "DiagnosticStatement"),
    })


def _date_time(frame: pd.DataFrame, date: str, time: str) -> pd.Series:
    """``date`` or ``"date time"`` when a time is given (raw strings)."""
    day, clock = column(frame, date), column(frame, time)
    return (day + " " + clock).fillna(day).astype("str")


def _assignments(frame: pd.DataFrame, file: str, kind: str) -> Reading:
    return make_reading(frame, file=file, kind=kind, table="assignments", columns={
        "assignment_id": column(frame, "gradebookEntryIdentifier", "GradebookEntryIdentifier"),
        "class_id": column(frame, "sectionReference.sectionIdentifier", "SectionIdentifier"),
        "school_id": column(frame, "sectionReference.schoolId",
                            "CourseOfferingIdentity.SchoolReference.SchoolIdentity.SchoolId"),
        "title": column(frame, "title", "Title"),
        "category": descriptor_code(column(frame, "gradebookEntryTypeDescriptor",
                                           "GradebookEntryType")),
        "assigned_at": column(frame, "dateAssigned", "DateAssigned"),
        "due_at": _date_time(frame, "dueDate", "dueTime").fillna(column(frame, "DueDate")),
        "points_possible": column(frame, "maxPoints", "MaxPoints"),
        "namespace": column(frame, "namespace", "Namespace"),
        "term": column(frame, "sectionReference.sessionName", "SessionName"),
        "course_code": column(frame, "sectionReference.localCourseCode", "LocalCourseCode"),
    })


def _students(frame: pd.DataFrame, file: str, kind: str) -> Reading:
    return make_reading(frame, file=file, kind=kind, table="students", columns={
        "student_id": column(frame, "studentUniqueId", "StudentUniqueId"),
        "given_name": column(frame, "firstName", "FirstName"),
        "family_name": column(frame, "lastSurname", "LastSurname"),
    })


def _which(frame: pd.DataFrame) -> str | None:
    """The resource a file holds, from its columns."""
    student = any(has_column(frame, c) for c in (
        "studentReference.studentUniqueId", "StudentUniqueId",
        "studentSectionAssociationReference.studentUniqueId"))
    entry = any(has_column(frame, c) for c in (
        "gradebookEntryReference.gradebookEntryIdentifier", "GradebookEntryIdentifier",
        "gradebookEntryIdentifier"))
    if any(has_column(frame, c) for c in NOT_OUR_TABLES):
        return "other"
    if student and entry:
        return "results"
    if entry:
        return "assignments"
    if student or has_column(frame, "studentUniqueId"):
        return "students"
    return None


def read_edfi(path: str | Path, *, name: str | None = None) -> list[Reading]:
    """Read an Ed-Fi gradebook file: API JSON (``.json``) or flattened CSV.

    Parameters
    ----------
    path : str or Path
        A JSON array of ``StudentGradebookEntry``, ``GradebookEntry`` or
        ``Student`` resources, or one of the flattened Grand Bend CSVs.
    name : str, optional
        How the file is named in ``source_file`` (default: its file name).

    Returns
    -------
    list of Reading
        One Reading (``kind`` ``"edfi-json"`` or ``"edfi-csv"``): ``results``,
        ``assignments`` or ``students``; none for contact people, student-contact
        links and attendance (Ed-Fi holds no contact *events*). JSON
        ``source_row`` = 1-based position of the record in the array.

        Extra columns: results: ``namespace``, ``class_id``, ``school_id``,
        ``submission_status``, ``late_status`` (descriptors as written),
        ``letter_grade``, ``notes`` (diagnosticStatement); assignments:
        ``namespace``, ``term``, ``course_code``; students: ``given_name``,
        ``family_name`` (school_id and grade_level are NA: Ed-Fi keeps them in
        StudentSchoolAssociation).

    Notes
    -----
    ``status`` is one spelling built from both descriptors by
    :func:`result_status` (descriptor URIs cut to their code: "Graded",
    "Missing", "late"). ``score`` = pointsEarned, else numericGradeEarned.
    ``submitted_at`` = dateFulfilled (+ timeFulfilled). assignment_id is the
    gradebookEntryIdentifier; the namespace is kept beside it.
    """
    path = Path(path)
    file = name or path.name
    if path.suffix.lower() == ".json":
        frame, kind = _load_json(path, file), "edfi-json"
    else:
        frame, kind = read_table_text(path, name=file), "edfi-csv"
    which = _which(frame)
    if which == "other":
        return []
    if which is None:
        if frame.empty and path.suffix.lower() == ".json":
            return []
        raise ReadError(f"{file} is not an Ed-Fi gradebook or student file: no "
                        "StudentUniqueId or GradebookEntryIdentifier column; it has: "
                        f"{', '.join(map(str, frame.columns[:12]))}.")
    build = {"results": _results, "assignments": _assignments, "students": _students}[which]
    return [build(frame, file, kind)]


_EDFI_HEADERS = {"studentuniqueid", "gradebookentryidentifier",
                 "studentreference.studentuniqueid",
                 "gradebookentryreference.gradebookentryidentifier"}


def recognise(head: Head) -> float:
    """JSON (the API's resources), or a CSV with Ed-Fi's identifiers."""
    if head.suffix == ".json":
        return 0.8
    if head.workbook:  # read as text only
        return 0.0
    return 0.9 if head.header & _EDFI_HEADERS else 0.0


FORMAT = Format("edfi", "Ed-Fi records (students, gradebook entries, submissions)",
                recognise, lambda path, name, config, sheet: read_edfi(path, name=name))
