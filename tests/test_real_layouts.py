"""Real third-party files kept in tests/data/real (provenance and licences there): each
folder cleaned with no configuration, rows kept as counted by hand in the files, and a
few values checked against the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from engagement.dataset import clean_folder
from engagement.inspect import inspect_folder

REAL = Path(__file__).resolve().parent / "data" / "real"


def kept(dataset, file: str, table: str) -> int:
    return next(a.rows_kept for a in dataset.report.accounts
                if a.file == file and a.table == table)


def balanced(dataset) -> bool:
    return all(a.balanced for a in dataset.report.accounts)


def test_school_data_sync_classic_uk():
    dataset = clean_folder(REAL / "sds-v1-uk")
    assert balanced(dataset)
    assert kept(dataset, "Student.csv", "students") == 22  # 22 lines, all with a grade
    assert kept(dataset, "StudentEnrollment.csv", "enrollments") == 154
    students = dataset.students.set_index("student_id")
    assert students.loc["13001", "school_id"] == "10001"  # School DfE Number
    assert students.loc["13001", "grade_level"] == 9
    first = dataset.enrollments.iloc[0]
    assert (first["class_id"], first["student_id"], first["school_id"]) == (
        "11001", "13001", "10001")  # the section's school, from Section.csv
    assert first["teacher_id"] == "14001"  # TeacherRoster.csv
    assert set(dataset.report.skipped) == {"School.csv", "Teacher.csv"}  # listed, unused


def test_school_data_sync_minimal_set_has_no_grades():
    dataset = clean_folder(REAL / "sds-v1-min")
    assert balanced(dataset) and dataset.quarantine.empty
    assert len(dataset.students) == 22 and dataset.students["grade_level"].isna().all()
    assert len(dataset.enrollments) == 44
    fixes = {k: v for a in dataset.report.accounts for k, v in a.fixes.items()}
    assert fixes["students_without_grade_level"] == 22


def test_school_data_sync_2_1_is_read_as_oneroster_without_a_manifest():
    dataset = clean_folder(REAL / "sds-v2.1")
    assert balanced(dataset)
    # Students by roles.csv: 114001, 114003, 114004 (grade 10); 114008's grade is ps1
    # (post-secondary); 114002 and 114005 hold no role; 114006 and 114007 are staff.
    assert sorted(dataset.students["student_id"]) == ["114001", "114003", "114004"]
    assert set(dataset.students["grade_level"]) == {10}
    assert set(dataset.students["school_id"]) == {"110003"}  # roles.csv orgSourcedId
    assert sorted(dataset.enrollments["student_id"]) == ["114001", "114003", "114004"]
    assert set(dataset.enrollments["teacher_id"]) == {"114007"}
    assert "courses.csv" in dataset.report.skipped


def test_blackboard_download_matched_by_name(tmp_path):
    folder = tmp_path / "blackboard"
    folder.mkdir()
    shutil.copy(REAL / "blackboard-offline" / "03.tsv", folder / "gc_ENG_fullgc.tsv")
    (folder / "students.csv").write_text(
        "student_id,school_id,grade_level,given_name,family_name\n"
        "S1,101,11,Job,Anderson\nS2,101,11,John,Silver\nS3,101,11,Benjamin,Gunn\n",
        encoding="utf-8")
    dataset = clean_folder(folder)
    assert balanced(dataset)
    assert inspect_folder(folder).set_index("table").loc["results", "format"] == "blackboard"
    scores = dataset.results.set_index("student_id")["score"]
    assert scores.to_dict() == {"S1": 2.0, "S2": 6.0, "S3": 8.0}
    assert set(dataset.results["assignment_id"]) == {"664617"}  # the id after the bar
    assert dataset.assignments["points_possible"].tolist() == [10.0]
    # The six students not on the roster are set aside, by name, with the closest names.
    assert dataset.quarantine["reason"].str.contains("matches no roster name").sum() == 6


def test_moodle_exports_english_and_french(tmp_path):
    folder = tmp_path / "moodle"
    shutil.copytree(REAL / "moodle-guv", folder)
    (folder / "students.csv").write_text(
        "student_id,school_id,grade_level\n54184,101,12\n24861,101,12\n11548,101,12\n",
        encoding="utf-8")
    dataset = clean_folder(folder)
    assert balanced(dataset)
    results = dataset.results
    en = results[results["assignment_id"].str.startswith("moodle_export_gradebook_en")]
    fr = results[results["assignment_id"].str.startswith("moodle_export_gradebook_v3_fr")]
    assert len(en) == 3 * 3 and len(fr) == 3  # 3 items (en) and 1 (fr) for 3 students
    quiz = en[en["assignment_id"].str.endswith("Quiz: Quiz semaine 14")].set_index(
        "student_id")["score"]
    assert quiz.to_dict() == {"54184": 11.0, "24861": 12.0, "11548": 18.0}
    assert fr.set_index("student_id")["score"].to_dict() == {
        "54184": 0.0, "24861": 1.0, "11548": 7.0}  # "(Brut)", not "(Feedback)"
    essay = en[en["assignment_id"].str.contains("Rendu du chapitre 1")]
    assert (essay["status"] == "pending").all()  # an empty cell: not graded yet
    titles = dataset.assignments.set_index("title")["category"]
    assert titles["Quiz semaine 14"] == "quiz" and pd.isna(titles["Note de médian"])


def test_edfi_lms_toolkit_extract_with_no_roster():
    """The toolkit's Canvas-style starter kit: students by their SIS id (the users file
    maps the LMS ids the other files use), every row kept."""
    dataset = clean_folder(REAL / "edfi-lms-toolkit" / "starter-kit-sample")
    assert balanced(dataset) and dataset.quarantine.empty
    assert kept(dataset, "users/2021-07-01-00-00-00.csv", "students") == 49
    assert len(dataset.assignments) == 13 + 11 and len(dataset.enrollments) == 49
    assert len(dataset.results) == 49 + 24
    results = dataset.results.set_index(["student_id", "assignment_id"])
    lisa, fannie = results.loc[("604822", "2942252038")], results.loc[("604847", "2942252038")]
    assert lisa["status"] == "missing" and pd.isna(lisa["score"])  # "Missing", 0 points
    assert fannie["score"] == 80 and fannie["score_pct"] == 0.8  # "Graded", 80 of 100
    assert "sections/2021-07-01-00-00-00.csv: read as Ed-Fi LMS Toolkit" in " ".join(
        dataset.report.skipped)


def test_edfi_lms_toolkit_reads_the_newest_extract_of_each_resource():
    dataset = clean_folder(REAL / "edfi-lms-toolkit" / "sample-out")
    assert balanced(dataset)
    skipped = " ".join(dataset.report.skipped)
    assert "users/2020-09-17-15-04-23.csv: an earlier extract" in skipped
    assert [a.file for a in dataset.report.accounts if a.table == "students"] == [
        "users/2020-11-01-00-00-01.csv"]
    roles = dataset.quarantine["reason"].str.extract(r"role '(\w+)'")[0].dropna()
    assert sorted(set(roles)) == ["principal", "teacher"]
    assert not any("no canonical table" in s for s in dataset.report.skipped)
