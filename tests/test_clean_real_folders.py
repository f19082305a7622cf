"""`engagement clean` on each real folder of shared/real, as a new user would run it:
no configuration, no abort, every row accounted for, the files it cannot use named with
a reason, and the rows a person would expect kept (hand-checked against the files).

Skips when shared/real is absent (it is not part of this repository).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from engagement.cli import main

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"

# folder: {(file, table): rows kept}, checked by reading the files by hand.
KEPT = {
    # 960 students with neither grade nor school (Ed-Fi keeps those in
    # StudentSchoolAssociation, not here): set aside, and so their 250 results.
    "edfi-grand-bend": {("students.csv", "students"): 0,
                        ("gradebook_entries.csv", "assignments"): 10,
                        ("student_gradebook_entries.csv", "results"): 0},
    # Three students, two student enrollments (usr-222-987654 is enrolled as a student
    # but users.csv makes them a teacher).
    "oneroster-fixtures/catalyst_Test_full_data_set_v1p1": {
        ("users.csv", "students"): 3, ("enrollments.csv", "enrollments"): 2},
    "oneroster-fixtures/catalyst_v1p2_full_dataset": {
        ("users.csv", "students"): 3, ("enrollments.csv", "enrollments"): 2},
    # user1's grade comes from class1 (grade 2); user2's class gives none: kept, with
    # the grade not given.
    "oneroster-fixtures/oat-sa_OneRosterv1p1BaseCSV": {
        ("users.csv", "students"): 2, ("enrollments.csv", "enrollments"): 3},
    # USER_0 has no grade anywhere: kept, grade not given.
    "oneroster-fixtures/catalyst_oneroster_test_data_v1p2": {
        ("users.csv", "students"): 1, ("enrollments.csv", "enrollments"): 1},
    # Two copies of the catalyst roster: the second copy's rows are repeats.
    "oneroster-fixtures": {
        ("catalyst_Test_full_data_set_v1p1/users.csv", "students"): 3,
        ("catalyst_v1p2_full_dataset/users.csv", "students"): 0,
        ("oat-sa_OneRosterv1p1BaseCSV/users.csv", "students"): 2},
}
# Folders of research or survey data, not school exports: every file passed over with
# a reason, and the run says so instead of failing deep inside.
NOT_EXPORTS = ["uci-student-performance", "xapi-edu-data", "nhes-pfi-2019-asa-curated"]


def real(name: str) -> Path:
    path = REAL / name
    if not path.is_dir():
        pytest.skip(f"{path} not present (shared/real is not in this checkout)")
    return path


def clean(name: str, tmp_path: Path, capsys) -> tuple[int, dict, str]:
    code = main(["clean", str(real(name)), "--out", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err
    report = tmp_path / "cleaning_report.json"
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return code, data, err


@pytest.mark.parametrize("name", sorted(KEPT))
def test_real_folder_cleans_with_no_configuration(name, tmp_path, capsys):
    code, report, err = clean(name, tmp_path, capsys)
    assert code == 0, err
    for f in report["files"]:
        assert f["rows_in"] == f["rows_kept"] + f["rows_duplicate"] + f["rows_quarantined"], f
    kept = {(f["file"], f["table"]): f["rows_kept"] for f in report["files"]}
    for where, n in KEPT[name].items():
        assert kept[where] == n, (where, kept)
    quarantine = pd.read_csv(tmp_path / "quarantine.csv", dtype="str")
    assert sum(f["rows_quarantined"] for f in report["files"]) == len(quarantine)


def test_edfi_files_without_an_engagement_table_are_named(tmp_path, capsys):
    _, report, _ = clean("edfi-grand-bend", tmp_path, capsys)
    skipped = "\n".join(report["skipped"])
    for file in ("contacts.csv", "student_contact_associations.csv",
                 "student_school_attendance_events.csv"):
        assert f"{file}: " in skipped


def test_canvas_gradebooks_with_no_roster_are_their_own_roster(tmp_path, capsys):
    code, report, _ = clean("canvas-gradebook-fixtures", tmp_path, capsys)
    assert code == 0
    assert all(f["rows_in"] == f["rows_kept"] + f["rows_duplicate"] + f["rows_quarantined"]
               for f in report["files"])
    kept = {(f["file"], f["table"]): f["rows_kept"] for f in report["files"]}
    # 7 students x 2 assignments (less the Points Possible line), and 13 x 15 in pristine;
    # the third file is the first's course again: its rows repeat keys already read.
    assert kept[("basic_course_with_sis_login_id.csv", "results")] == 14
    assert kept[("pristine.RECONSTRUCTED-line-endings.csv", "results")] == 195
    assert kept[("valid_gradebook_contents_with_last_and_first_names.csv", "results")] == 0
    students = pd.read_parquet(tmp_path / "students.parquet")
    assert len(students) == 13 and set(students["school_id"]) == {"not given"}
    assert any(s.startswith("default_gradebook.csv: ") for s in report["skipped"])


def test_real_folder_with_quarantined_rows_fails_only_under_strict(tmp_path, capsys):
    real("oneroster-fixtures")
    folder = "oneroster-fixtures/catalyst_Test_full_data_set_v1p1"  # staff rows set aside
    assert main(["clean", str(REAL / folder), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert main(["clean", str(REAL / folder), "--out", str(tmp_path / "b"), "--quiet",
                 "--strict"]) == 1
    assert "quarantined" in capsys.readouterr().err


@pytest.mark.parametrize("name", NOT_EXPORTS)
def test_survey_data_is_passed_over_file_by_file(name, tmp_path, capsys):
    code, _, err = clean(name, tmp_path, capsys)
    assert code == 2
    assert "Why each file was passed over" in err
    data_files = [p.name for p in real(name).iterdir() if p.suffix in (".csv", ".txt")]
    for file in data_files:
        assert f"- {file}: " in err, (file, err)
