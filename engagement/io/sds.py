"""Microsoft School Data Sync, classic (v1) CSV: a folder of School.csv, Section.csv,
Student.csv, StudentEnrollment.csv, Teacher.csv and TeacherRoster.csv, keyed by
``SIS ID`` (``ID`` and ``DfE Number`` in the UK layout). Version 2 is OneRoster-shaped
and read as OneRoster.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engagement.io.format import Bundle, file_named, header_of
from engagement.io.oneroster import lookup
from engagement.io.text import Reading, column, make_reading, read_table_text

KIND = "school-data-sync-v1"
_ID = ("SIS ID", "ID")
_SCHOOL = ("School SIS ID", "School DfE Number")
_SECTION = ("Section SIS ID", "Section ID")


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    path = file_named(folder, name)
    return None if path is None else read_table_text(path, name=path.name)


def _students(folder: Path) -> Reading | None:
    frame = _read(folder, "Student.csv")
    if frame is None:
        return None
    return make_reading(frame, file=file_named(folder, "Student.csv").name, kind=KIND,
                        table="students", columns={
                            "student_id": column(frame, *_ID),
                            "school_id": column(frame, *_SCHOOL),
                            "grade_level": column(frame, "Grade"),
                            "given_name": column(frame, "First Name"),
                            "family_name": column(frame, "Last Name"),
                            "student_number": column(frame, "Student Number"),
                            "record_status": column(frame, "Status")})


def _enrollments(folder: Path) -> Reading | None:
    frame = _read(folder, "StudentEnrollment.csv")
    if frame is None:
        return None
    sections, roster = _read(folder, "Section.csv"), _read(folder, "TeacherRoster.csv")
    section = column(frame, *_SECTION)
    key = next((k for k in _ID if sections is not None and k.lower() in
                {c.lower() for c in sections.columns}), "SIS ID")
    school = next((k for k in _SCHOOL if sections is not None and k.lower() in
                   {c.lower() for c in sections.columns}), "School SIS ID")
    teacher = pd.Series(pd.NA, index=frame.index, dtype="str")
    if roster is not None:
        teachers = pd.DataFrame({"section": column(roster, *_SECTION),
                                 "teacher": column(roster, *_ID)})
        teacher = lookup(section, teachers, "section", "teacher")
    return make_reading(frame, file=file_named(folder, "StudentEnrollment.csv").name,
                        kind=KIND, table="enrollments", columns={
                            "student_id": column(frame, *_ID), "class_id": section,
                            "school_id": lookup(section, sections, key, school),
                            "teacher_id": teacher,
                            "term": lookup(section, sections, key, "Term Name"),
                            "subject": lookup(section, sections, key, "Course Subject")})


def read_sds(folder: str | Path) -> list[Reading]:
    """Students (Student.csv) and their enrollments (StudentEnrollment.csv, with each
    section's school, term and subject from Section.csv and its first teacher from
    TeacherRoster.csv)."""
    folder = Path(folder)
    return [r for r in (_students(folder), _enrollments(folder)) if r is not None]


def recognise(folder: Path, names: set[str]) -> bool:
    return {"studentenrollment.csv", "section.csv"} <= names and header_of(
        file_named(folder, "StudentEnrollment.csv")) & {s.lower() for s in _SECTION} != set()


BUNDLE = Bundle("school-data-sync", "Microsoft School Data Sync (classic CSV)", recognise,
                read_sds, frozenset({"student", "studentenrollment", "section",
                                     "teacherroster"}))
