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


def _alone(tmp_path: Path, *files: Path) -> Path:
    """The files in a folder of their own (one export, as a teacher would hand it over)."""
    folder = tmp_path / files[0].stem
    folder.mkdir()
    for file in files:
        shutil.copy(file, folder / file.name)
    return folder


def test_gradescope_grades_export(tmp_path):
    dataset = clean_folder(_alone(tmp_path, REAL / "gradelib" / "gradescope.csv"))
    assert balanced(dataset) and dataset.quarantine.empty
    # 4 students x 20 assignments (four columns each), every cell a result.
    assert kept(dataset, "gradescope.csv", "results") == 80
    assert kept(dataset, "gradescope.csv", "assignments") == 20
    results = dataset.results.set_index(["student_id", "assignment_id"])
    lab = results.loc[("A10000000", "gradescope: Lab 01")]
    assert lab["status"] == "late" and lab["score"] == 10.0  # 225:07:02 late
    assert lab["submitted_at"] == pd.Timestamp("2020-07-16 09:06:02-0700")
    homework = results.loc[("A16000000", "gradescope: Homework 03")]
    assert homework["status"] == "on_time" and homework["score_pct"] == 19 / 23
    points = dataset.assignments.set_index("title")["points_possible"]
    assert points["Lab 02"] == 32 and points["homework 02"] == 31  # its own spelling
    assert (dataset.results["status"] == "late").sum() == 10


def test_canvas_export_with_a_posting_line(tmp_path):
    dataset = clean_folder(_alone(tmp_path, REAL / "gradelib" / "canvas.csv"))
    assert balanced(dataset)
    assert kept(dataset, "canvas.csv", "results") == 12  # 4 students x 3 assignments
    assert kept(dataset, "canvas.csv", "students") == 4
    reasons = set(dataset.quarantine["reason"])
    assert {r.split(" line")[0] for r in reasons} == {"Canvas 'Manual Posting'",
                                                      "Canvas 'Points Possible'"}
    points = dataset.assignments.set_index("title")["points_possible"]
    assert points.to_dict() == {"Pretest": 10, "Midterm 01": 24, "Midterm 02": 30}
    score = dataset.results.set_index(["student_id", "assignment_id"])["score"]
    assert score[("A22222222", "186585")] == 28.0 and score[("A16000000", "157892")] == 18.0


def test_egrades_roster_tab_separated_in_a_csv(tmp_path):
    dataset = clean_folder(_alone(tmp_path, REAL / "gradelib" / "egrades.csv"))
    assert balanced(dataset)
    assert sorted(dataset.enrollments["student_id"]) == ["A10000000", "A12345678"]
    assert set(dataset.enrollments["class_id"]) == {"13805"}  # SectionId
    assert set(dataset.enrollments["school_id"]) == {"not given"}  # no file is a roster
    # The third line stops after the student id: no section, set aside with that reason.
    assert dataset.quarantine[["line", "reason"]].values.tolist() == [[4, "no class_id"]]


def test_aspen_x2_exports():
    dataset = clean_folder(REAL / "studentinsights-aspen")
    assert balanced(dataset)
    students = dataset.students.set_index("student_id")
    assert len(students) == 5 and students.loc["101", "school_id"] == "SHS"
    assert students.loc["100", "grade_level"] == 7  # "07"
    # The section file's students (333, 111, 222) are not in this students file.
    assert kept(dataset, "student_section_assignment_export_with_district_school_year_token"
                         ".csv", "enrollments") == 0
    assert (dataset.quarantine["reason"] == "the student is not on the roster").sum() == 6
    not_read = " ".join(dataset.report.not_read)
    assert "educator_section_assignment_export.csv: Aspen educator sections" in not_read
    assert "student_section_grades_fixture.csv: no canonical table" in not_read


def test_aspen_sections_take_their_teacher_from_the_educator_export():
    dataset = clean_folder(REAL / "studentinsights-aspen-sections")
    assert balanced(dataset)
    e = dataset.enrollments.set_index(["student_id", "class_id", "school_id"])
    # SOC6-001 at SHS: its educator has no local_id (NULL), so the login name.
    assert e.loc[("333", "SOC6-001", "SHS"), "teacher_id"] == "arodriguez"
    assert e.loc[("333", "ELA6-002", "SHS"), "teacher_id"] == "9333"  # the first named
    assert pd.isna(e.loc[("111", "SOC6-001", "ESCS"), "teacher_id"])  # no educator there
    assert e.loc[("222", "SOC6-001", "ESCS"), "subject"] == "SOC6"
    assert len(e) == 4 and len(dataset.quarantine) == 3


def test_powerschool_students_and_contacts_layout():
    dataset = clean_folder(REAL / "powerschool-fsenrollment")
    assert balanced(dataset)
    students = dataset.students.set_index("student_id")
    assert len(students) == 19
    assert (students.loc["313202", "school_id"], students.loc["313202", "grade_level"]) == (
        "300", 12)
    assert students.loc["355101", "grade_level"] == 8
    assert any(s.startswith("parents_example.csv: looks like a contacts table")
               for s in dataset.report.not_read)


def test_clever_roster_with_bare_carriage_returns():
    dataset = clean_folder(REAL.parent / "layouts" / "clever")
    assert balanced(dataset) and dataset.quarantine.empty
    students = dataset.students.set_index("student_id")
    assert students.loc["700000003", "grade_level"] == 0 and len(students) == 4
    assert students.loc["700000001", "school_id"] == "09X100"
    e = dataset.enrollments.set_index(["student_id", "class_id"])
    assert len(e) == 6
    assert e.loc[("700000001", "647"), "teacher_id"] == "48"  # sections.csv Teacher_id
    assert e.loc[("700000001", "646"), "subject"] == "English Remediation, Grade 9"
    assert set(dataset.report.skipped) == {"schools.csv", "teachers.csv"}


def test_google_classroom_grades_download():
    dataset = clean_folder(REAL.parent / "layouts" / "classroom")
    assert balanced(dataset)
    file = "Python-101-grades.csv"
    # Four students; the Date and Points lines are set aside as not students.
    assert kept(dataset, file, "students") == 4
    assert set(dataset.students["student_id"]) == {
        "ada.abara@example.org", "ben.bello@example.org", "cy.chen@example.org",
        "dee@example.org"}  # an email is an id, whatever its case
    a = dataset.assignments.set_index("title")
    assert a.loc["Lab 1", "due_at"] == pd.Timestamp("2025-09-07", tz="America/Edmonton")
    assert pd.isna(a.loc["Quiz 1 (Syllabus)", "due_at"])  # no date given
    assert a.loc["Quiz 1 (Syllabus)", "points_possible"] == 7
    results = dataset.results.merge(dataset.assignments, on="assignment_id").set_index(
        ["student_id", "title"])
    assert results.loc[("ben.bello@example.org", "Lab 1"), "status"] == "pending"
    assert results.loc[("ada.abara@example.org", "Lab 2 (Variables and Data Types)"),
                       "score"] == 9
    why = dataset.quarantine.groupby("reason").size()
    assert why["the export's date line, not a student"] == 5  # 4 results, 1 student
    assert why["a score more than 3 times the points possible"] == 1  # 100 of 10


def test_schoology_gradebook_as_csv():
    dataset = clean_folder(REAL.parent / "layouts" / "schoology")
    assert balanced(dataset)
    a = dataset.assignments.set_index("title")
    assert list(a.index) == ["Express Exercises", "Objects Exercise", "Unit test"]
    assert a.loc["Objects Exercise", "points_possible"] == 20
    assert a.loc["Objects Exercise", "category"] == "Homework"
    results = dataset.results.merge(dataset.assignments, on="assignment_id").set_index(
        ["student_id", "title"])
    # The school's id when given, else the Schoology username.
    assert results.loc[("1001", "Objects Exercise"), "status"] == "missing"
    assert results.loc[("1004", "Objects Exercise"), "status"] == "excused"
    assert results.loc[("bbello", "Unit test"), "status"] == "pending"
    assert dataset.quarantine["reason"].str.startswith("N/A: Schoology").sum() == 1


def test_inspect_explains_every_file_of_every_real_folder():
    """Each file of each real folder: the reader that takes it, or why none does."""
    folders = [d for d in sorted(REAL.iterdir()) if d.is_dir()]
    folders += [REAL.parent / "layouts" / name for name in ("clever", "classroom", "schoology")]
    for folder in folders:
        frame = inspect_folder(folder)
        files = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
                 if p.is_file() and p.name != "PROVENANCE.md"}
        assert files <= set(frame["file"]), folder
        for row in frame.itertuples():
            assert (row.table != "-" and row.rows > 0) or row.reason, row
