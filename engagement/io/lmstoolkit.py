"""The Ed-Fi LMS Toolkit's extracts (its "LMS Unifying Data Model", written from Canvas,
Google Classroom or Schoology): a folder tree of timestamped CSVs, one resource per
folder: ``users/``, ``sections/``, ``section=<id>/section-associations/``,
``section=<id>/assignments/`` and ``section=<id>/assignment=<id>/submissions/``.

Each file is recognised by its header and read on its own. A resource's folder keeps
every extract run: only the newest file is read, the older ones are named as passed over.
Students are known to the LMS by its own id; the users file gives their SIS id, which is
the id used everywhere here (the LMS id where the SIS id is missing). The LMS's user
list is not the SIS roster: it is read as the students a gradebook lists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from engagement.io.format import Format, Head
from engagement.io.oneroster import lookup
from engagement.io.text import (
    ReadError,
    Reading,
    column,
    issue_where,
    make_reading,
    read_table_text,
)
from engagement.io.wide import STUDENTS_KIND

KIND = "edfi-lms-toolkit"
#: The header cells that tell each resource.
RESOURCES = {
    "users": {"sourcesystemidentifier", "userrole", "sisuseridentifier"},
    "sections": {"sourcesystemidentifier", "sissectionidentifier", "lmssectionstatus"},
    "section-associations": {"lmsusersourcesystemidentifier",
                             "lmssectionsourcesystemidentifier", "enrollmentstatus"},
    "assignments": {"sourcesystemidentifier", "maxpoints", "duedatetime",
                    "lmssectionsourcesystemidentifier"},
    "submissions": {"assignmentsourcesystemidentifier", "lmsusersourcesystemidentifier",
                    "submissionstatus"},
    # Read as the toolkit's, but nothing in them is used here:
    "grades": {"gradetype", "lmsuserlmssectionassociationsourcesystemidentifier"},
    "attendance-events": {"eventdate", "attendancestatus", "lmsusersourcesystemidentifier"},
    "activities": {"activitytype", "activitydatetime", "lmsusersourcesystemidentifier"},
}
#: Submission states of the three extractors: a state that says only "handed in" is
#: left blank, so cleaning decides on time or late from the due and hand-in times.
STATUS = {"on-time": "on_time", "late": "late", "missing": "missing", "graded": None,
          "returned": None, "turned_in": None, "draft": "pending", "created": "pending",
          "new": "pending", "upcoming": "pending", "reclaimed_by_student": "pending"}
_SNAPSHOT = re.compile(r"^\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.csv$", re.IGNORECASE)


def _resource(header: set[str]) -> str | None:
    return next((name for name, cells in RESOURCES.items() if cells <= header), None)


def recognise(head: Head) -> float:
    return 0.97 if _resource(head.header) else 0.0


def _newest_only(path: Path) -> None:
    """Refuse an older extract of a resource whose folder holds a newer one."""
    if not _SNAPSHOT.match(path.name):
        return
    newer = sorted(p.name for p in path.parent.iterdir()
                   if _SNAPSHOT.match(p.name) and p.name > path.name)
    if newer:
        raise ReadError(f"an earlier extract of the same LMS Toolkit resource; the newest, "
                        f"{newer[-1]}, is read instead")


def _root(path: Path) -> Path:
    """The extract's top folder: the one above ``users/`` and the ``section=`` folders."""
    for folder in path.parents:
        if (folder / "users").is_dir():
            return folder
    return path.parent


def _sis_ids(path: Path, lms_ids: pd.Series) -> pd.Series:
    """Each LMS user id's SIS id, from the newest users file (the LMS id where none)."""
    users = sorted((_root(path) / "users").glob("*.csv"))
    table = read_table_text(users[-1]) if users else None
    return lookup(lms_ids, table, "SourceSystemIdentifier", "SISUserIdentifier").fillna(lms_ids)


def _folder_value(path: Path, key: str) -> str | None:
    """The ``<key>=<value>`` folder above a file (the section, the assignment)."""
    for part in path.parent.parts:
        if part.lower().startswith(key + "="):
            return part.split("=", 1)[1]
    return None


def read_lms_toolkit(path: str | Path, *, name: str | None = None) -> list[Reading]:
    """One LMS Toolkit extract file: users (students), section-associations
    (enrollments), assignments, or submissions (results); the other resources hold
    nothing used."""
    path = Path(path)
    _newest_only(path)
    frame = read_table_text(path, name=name)
    file = name or path.name
    resource = _resource({c.lower() for c in frame.columns})
    if resource == "users":
        role = column(frame, "UserRole").str.strip().str.lower()
        return [make_reading(frame, file=file, kind=STUDENTS_KIND, table="students", columns={
            "student_id": column(frame, "SISUserIdentifier").fillna(
                column(frame, "SourceSystemIdentifier")),
            "student_name": column(frame, "Name")},
            issue=issue_where(role.ne("student").fillna(True),
                              "not a student: role '" + role.fillna("(none)")
                              + "' in the LMS users file"))]
    if resource == "section-associations":
        return [make_reading(frame, file=file, kind=KIND, table="enrollments", columns={
            "student_id": _sis_ids(path, column(frame, "LMSUserSourceSystemIdentifier")),
            "class_id": column(frame, "LMSSectionSourceSystemIdentifier")})]
    if resource == "assignments":
        return [make_reading(frame, file=file, kind=KIND, table="assignments", columns={
            "assignment_id": column(frame, "SourceSystemIdentifier"),
            "class_id": column(frame, "LMSSectionSourceSystemIdentifier"),
            "title": column(frame, "Title"), "category": column(frame, "AssignmentCategory"),
            "assigned_at": column(frame, "StartDateTime"),
            "due_at": column(frame, "DueDateTime"),
            "points_possible": column(frame, "MaxPoints")})]
    if resource == "submissions":
        state = column(frame, "SubmissionStatus").str.strip()
        known = state.str.lower().map(STATUS)
        status = known.where(state.str.lower().isin(list(STATUS)), state)
        return [make_reading(frame, file=file, kind=KIND, table="results", columns={
            "student_id": _sis_ids(path, column(frame, "LMSUserSourceSystemIdentifier")),
            "assignment_id": column(frame, "AssignmentSourceSystemIdentifier"),
            "status": status.astype("str"), "submitted_at": column(frame, "SubmissionDateTime"),
            "score": column(frame, "EarnedPoints"),
            "class_id": pd.Series(_folder_value(path, "section"), index=frame.index,
                                  dtype="str")})]
    # Sections (their ids are the classes the other files name), section grades,
    # attendance and activity logs: nothing engagement uses.
    return []


FORMAT = Format("edfi-lms-toolkit", "Ed-Fi LMS Toolkit extract (LMS Unifying Data Model)",
                recognise, lambda path, name, config, sheet: read_lms_toolkit(path, name=name))
