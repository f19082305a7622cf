"""Aspen X2 (Follett) SIS exports, as districts' export templates write them: every
field double-quoted, ``NULL`` (or ``\\N``) for nothing, ids as ``local_id``.

- Students: ``state_id, local_id, full_name ("Last, First"), ..., grade ("07"), ...,
  school_local_id, ...``.
- Student sections: ``local_id, course_number, school_local_id, section_number,
  term_local_id[, district_school_year]``: a student's enrolment in a section.
- Educator sections: ``local_id, login_name, course_number, school_local_id,
  section_number, ...``: a section's educator. It names the teacher of the student
  sections beside it (same folder); it is not read on its own.

A header's ``local_id`` is the student's in the first two and the educator's in the
third, which is why these are recognised as whole headers, not by synonyms.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engagement.io.format import Format, Head, header_of
from engagement.io.generic import read_table
from engagement.io.text import ReadError, Reading, column, make_reading

KIND = "aspen-x2"
_STUDENTS = {"state_id", "local_id", "full_name", "grade", "school_local_id"}
_SECTIONS = {"local_id", "course_number", "school_local_id", "section_number"}
_EDUCATORS = _SECTIONS | {"login_name"}


def _section_key(frame: pd.DataFrame) -> pd.Series:
    """A section within its school and course: section numbers repeat across schools."""
    return (column(frame, "school_local_id") + "|" + column(frame, "course_number") + "|"
            + column(frame, "section_number"))


def read_students(path: Path, name: str, sheet: str | None = None) -> list[Reading]:
    frame = read_table(path, name=name, sheet=sheet)
    return [make_reading(frame, file=name, kind=KIND, table="students", columns={
        "student_id": column(frame, "local_id"), "school_id": column(frame, "school_local_id"),
        "grade_level": column(frame, "grade"), "student_name": column(frame, "full_name"),
        "student_number": column(frame, "state_id")})]


def read_sections(path: Path, name: str, sheet: str | None = None) -> list[Reading]:
    """Enrolments; each section's educator from an educator export in the same folder."""
    frame = read_table(path, name=name, sheet=sheet)
    teacher = pd.Series(pd.NA, index=frame.index, dtype="str")
    for other in sorted(path.parent.iterdir()):
        if other.is_file() and other != path and _EDUCATORS <= header_of(other):
            educators = read_table(other, name=other.name)
            by_section = column(educators, "local_id").fillna(column(educators, "login_name"))
            by_section.index = _section_key(educators)
            by_section = by_section[~by_section.index.duplicated()]
            teacher = _section_key(frame).map(by_section).astype("str")
            break
    return [make_reading(frame, file=name, kind=KIND, table="enrollments", columns={
        "student_id": column(frame, "local_id"), "class_id": column(frame, "section_number"),
        "school_id": column(frame, "school_local_id"), "teacher_id": teacher,
        "subject": column(frame, "course_number"), "term": column(frame, "term_local_id")})]


def read_educators(path: Path, name: str, sheet: str | None = None) -> list[Reading]:
    raise ReadError(f"{name}: Aspen educator sections: it names the teacher of each "
                    "section for the student sections export beside it, and holds no "
                    "student; put both in the same folder")


def _recognise(columns: set[str], *, without: set[str] = frozenset()):
    def recognise(head: Head) -> float:
        header = head.header
        return 0.9 if columns <= header and not header & without else 0.0
    return recognise


STUDENTS = Format("aspen-students", "Aspen X2 students export", _recognise(_STUDENTS),
                  lambda path, name, config, sheet: read_students(path, name, sheet))
SECTIONS = Format("aspen-student-sections", "Aspen X2 student sections export",
                  _recognise(_SECTIONS, without={"login_name"}),
                  lambda path, name, config, sheet: read_sections(path, name, sheet))
EDUCATORS = Format("aspen-educator-sections", "Aspen X2 educator sections export",
                   _recognise(_EDUCATORS),
                   lambda path, name, config, sheet: read_educators(path, name, sheet))
