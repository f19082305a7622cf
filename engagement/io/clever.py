"""Clever's SFTP roster CSVs: a folder of schools.csv, students.csv, teachers.csv,
sections.csv and enrollments.csv, keyed by ``Student_id``, ``Section_id`` and
``Teacher_id``.

Layout (Clever's sandbox district as partners download it): students carry ``School_id,
Student_id, Student_number, ... Grade`` (0 for kindergarten) and one guardian inline;
enrollments are ``School_id, Student_id, Section_id``; a section names its teacher
(``Teacher_id``, co-teachers in ``Teacher_2_id``...), ``Course_name`` and ``Term_name``.
Files saved from Excel for Mac end their lines with a bare CR. The guardian's name,
phone, e-mail and the password column are never read.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engagement.io.format import Bundle, file_named, header_of
from engagement.io.oneroster import lookup
from engagement.io.text import Reading, column, make_reading, read_table_text

KIND = "clever-roster"


def _read(folder: Path, name: str) -> tuple[pd.DataFrame, str] | None:
    path = file_named(folder, name)
    return None if path is None else (read_table_text(path, name=path.name), path.name)


def _students(folder: Path) -> Reading | None:
    found = _read(folder, "students.csv")
    if found is None:
        return None
    frame, name = found
    return make_reading(frame, file=name, kind=KIND, table="students", columns={
        "student_id": column(frame, "Student_id"),
        "student_number": column(frame, "Student_number"),
        "school_id": column(frame, "School_id"),
        "grade_level": column(frame, "Grade"),
        "given_name": column(frame, "First_name"),
        "family_name": column(frame, "Last_name")})


def _enrollments(folder: Path) -> Reading | None:
    found = _read(folder, "enrollments.csv")
    if found is None:
        return None
    frame, name = found
    section = column(frame, "Section_id")
    sections = _read(folder, "sections.csv")
    sections = sections[0] if sections is not None else None
    return make_reading(frame, file=name, kind=KIND, table="enrollments", columns={
        "student_id": column(frame, "Student_id"), "class_id": section,
        "school_id": column(frame, "School_id"),
        "teacher_id": lookup(section, sections, "Section_id", "Teacher_id"),
        "term": lookup(section, sections, "Section_id", "Term_name"),
        "subject": lookup(section, sections, "Section_id", "Course_name")})


def read_clever(folder: str | Path) -> list[Reading]:
    """Students (students.csv) and their enrollments (enrollments.csv, each section's
    teacher, term and course from sections.csv)."""
    folder = Path(folder)
    return [r for r in (_students(folder), _enrollments(folder)) if r is not None]


def recognise(folder: Path, names: set[str]) -> bool:
    return ({"students.csv", "enrollments.csv"} <= names
            and {"student_id", "section_id"} <= header_of(file_named(folder, "enrollments.csv")))


BUNDLE = Bundle("clever", "Clever roster (SFTP CSV)", recognise, read_clever,
                frozenset({"students", "enrollments", "sections"}))
