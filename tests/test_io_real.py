"""Readers on the real-format fixtures in shared/real: every record accounted for.

Expected record counts come from each folder's PROVENANCE.md (data rows, header
excluded); they are checked here against an independent count of the file's
lines, so a reader that drops or invents a record fails.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engagement.io import read_canvas_gradebook, read_edfi, read_oneroster

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"


def folder(name: str) -> Path:
    path = REAL / name
    if not path.is_dir():
        pytest.skip(f"{path} not present (shared/real is not in this checkout)")
    return path


def data_lines(path: Path) -> int:
    """Data records by an independent count: physical lines minus the header.

    Valid for files without quoted line breaks (true of every fixture used here).
    """
    text = path.read_bytes().decode("utf-8-sig")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]  # a final newline ends the last line, it is not a record
    return len(lines) - 1


# --- OneRoster: (users rows, enrollments rows) from PROVENANCE.md -------------------
ONEROSTER = {
    "oat-sa_OneRosterv1p1BaseCSV": ("oneroster-1.1", 2, 3),
    "catalyst_Test_full_data_set_v1p1": ("oneroster-1.1", 6, 6),
    "catalyst_v1p2_full_dataset": ("oneroster-1.2", 6, 6),
    "catalyst_oneroster_test_data_v1p2": ("oneroster-1.2", 1, 1),
}


@pytest.mark.parametrize("bundle", sorted(ONEROSTER))
def test_oneroster_bundles_account_for_every_record(bundle):
    path = folder("oneroster-fixtures") / bundle
    kind, users, enrollments = ONEROSTER[bundle]
    readings = read_oneroster(path)
    # Roster-only bundles: no gradebook files, so no assignments or results.
    assert [r.table for r in readings] == ["students", "enrollments"]
    assert {r.kind for r in readings} == {kind}
    students, enrol = (r.frame for r in readings)
    assert len(students) == users == data_lines(path / "users.csv")
    assert len(enrol) == enrollments == data_lines(path / "enrollments.csv")
    assert students["source_row"].tolist() == list(range(2, users + 2))
    assert enrol["student_id"].notna().all()


def test_oneroster_catalyst_roles_and_guardians():
    path = folder("oneroster-fixtures") / "catalyst_v1p2_full_dataset"
    students = read_oneroster(path)[0].frame.set_index("student_id")
    # 1.2 has no role column: roles.csv decides; users without a role row stay NA.
    assert students.loc["usr-222-66778899", "role"] == "student"
    assert students.loc["usr-222-1234561", "role"] == "siteAdministrator"
    assert pd.isna(students.loc["usr-222-66778899", "reader_issue"])
    # agentSourcedIds kept raw: here a student "guardian" is a teacher (a real quirk).
    assert students.loc["usr-222-66778899", "guardian_ids"] == "usr-222-123456"
    enrol = read_oneroster(path)[1].frame
    assert set(enrol["teacher_id"]) == {"usr-222-123456"}
    assert enrol["term"].eq("Session Title").all()


def test_oneroster_oat_sa_grade_column_and_multivalue_kept_raw():
    path = folder("oneroster-fixtures") / "catalyst_Test_full_data_set_v1p1"
    students = read_oneroster(path)[0].frame
    assert students["grade_level"].tolist() == ["12", "12", "10", "11", "12", "11"]
    assert students["role"].tolist() == ["teacher", "student", "parent", "teacher",
                                         "student", "student"]


# --- Canvas: lines after the header x assignment columns ----------------------------
CANVAS = {
    # file: (lines after header, assignment columns, Points Possible line or 1)
    "default_gradebook.csv": (7, 4, 1),
    "basic_course_with_sis_login_id.csv": (8, 2, 2),
    "valid_gradebook_contents_with_last_and_first_names.csv": (8, 2, 2),
    "pristine.RECONSTRUCTED-line-endings.csv": (14, 15, 2),
}


@pytest.mark.parametrize("name", sorted(CANVAS))
def test_canvas_fixtures_account_for_every_cell(name):
    path = folder("canvas-gradebook-fixtures") / name
    lines, columns, points_line = CANVAS[name]
    assert data_lines(path) == lines
    results, assignments, students = read_canvas_gradebook(path)
    assert (results.table, assignments.table, students.table) == (
        "results", "assignments", "students")
    assert len(students.frame) == lines  # every line, students and the Points line
    assert len(results.frame) == lines * columns
    assert len(assignments.frame) == columns
    assert results.frame["source_row"].value_counts().sort_index().tolist() == \
        [columns] * lines
    assert set(assignments.frame["source_row"]) == {points_line}


def test_canvas_pristine_cr_only_file():
    path = folder("canvas-gradebook-fixtures") / "pristine.RECONSTRUCTED-line-endings.csv"
    results, assignments, _ = read_canvas_gradebook(path)
    frame = results.frame
    students = frame[frame["reader_issue"].isna()]
    assert len(students) == 13 * 15
    assert students["status"].eq("-").all()  # '-' = not graded yet
    assert students["score"].isna().all()
    assert students["student_name"].iloc[0] == "Ball, Lucille"
    assert assignments.frame["points_possible"].eq("20").all()
    assert assignments.frame["title"].iloc[-1] == "Attendance 2"


def test_canvas_old_layout_points_line_is_flagged():
    path = folder("canvas-gradebook-fixtures") / "default_gradebook.csv"
    frame = read_canvas_gradebook(path)[0].frame
    flagged = frame[frame["reader_issue"].notna()]
    assert flagged["source_row"].unique().tolist() == [2]
    kept = frame[frame["reader_issue"].isna()]
    assert kept["score"].head(2).tolist() == ["10", "16"]
    assert kept["student_name"].iloc[0] == "Billy Anderson"


# --- Ed-Fi Grand Bend ---------------------------------------------------------------
EDFI = {
    "gradebook_entries.csv": ("assignments", 10),
    "student_gradebook_entries.csv": ("results", 250),
    "students.csv": ("students", 960),
}
EDFI_NOT_OURS = ("contacts.csv", "student_contact_associations.csv",
                 "student_school_attendance_events.csv",
                 "student_section_attendance_tardy.csv")


@pytest.mark.parametrize("name", sorted(EDFI))
def test_edfi_files_account_for_every_record(name):
    path = folder("edfi-grand-bend") / name
    table, rows = EDFI[name]
    (reading,) = read_edfi(path)
    assert (reading.kind, reading.table) == ("edfi-csv", table)
    assert len(reading.frame) == rows == data_lines(path)
    assert reading.frame["reader_issue"].isna().all()


@pytest.mark.parametrize("name", EDFI_NOT_OURS)
def test_edfi_people_and_attendance_give_no_table(name):
    assert read_edfi(folder("edfi-grand-bend") / name) == []


def test_edfi_grand_bend_reference_numbers():
    """Figures from PROVENANCE.md: Late 25 / Not Late 225; two entries with no due date."""
    base = folder("edfi-grand-bend")
    results = read_edfi(base / "student_gradebook_entries.csv")[0].frame
    assert results["status"].value_counts().to_dict() == {"Graded": 225, "late": 25}
    assert results["student_id"].nunique() == 25
    assert pd.to_numeric(results["score"]).max() == 103
    items = read_edfi(base / "gradebook_entries.csv")[0].frame.set_index("assignment_id")
    assert items["due_at"].isna().sum() == 2
    assert items.loc[["8907100004", "8907100008"], "due_at"].isna().all()
    assert items["school_id"].eq("255901001").all()


def test_oneroster_12_school_from_roles_when_users_has_none():
    path = folder("oneroster-fixtures") / "catalyst_oneroster_test_data_v1p2"
    students = read_oneroster(path)[0].frame
    assert students[["student_id", "school_id", "role"]].values.tolist() == [
        ["USER_0", "ORG_1", "student"]]
