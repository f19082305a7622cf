"""Wide gradebooks other than Canvas (Moodle, D2L Brightspace, Blackboard), each with a
roster beside it and no configuration: recognised by their own reader, every cell a
result, ids matched to the roster, the class's school taken from its students.

The files follow each product's documented export layout (headers, markers, quirks:
D2L's '#' before ids, Blackboard's UTF-16 tab-separated text named .xls); values are
made up.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engagement.dataset import clean_folder
from engagement.inspect import inspect_folder

ROSTER = ("student_id,school_id,grade_level,given_name,family_name\n"
          "000123,101,7,Hélène,Bélanger\n120034,101,8,John,Smyth\n")

MOODLE = (
    "First name,Surname,ID number,Institution,Department,Email address,"
    "Assignment: Essay 1 (Real),Assignment: Essay 1 (Percentage),Quiz: Week 1 quiz (Real),"
    "Course total (Real),Last downloaded from this course\n"
    "Hélène,Bélanger,000123,,,hb@example.org,18.00,90.00 %,-,18.00,1700000000\n"
    "John,Smyth,120034,,,js@example.org,-,-,7.50,7.50,1700000000\n")
D2L = (
    "OrgDefinedId,Username,Last Name,First Name,Email,"
    "Essay 1 Points Grade <Numeric MaxPoints:20 Weight:10 Category:Essays CategoryWeight:50>,"
    "Essay 1 Text Grade <Text>,Quiz 1 Points Grade <Numeric MaxPoints:10>,"
    "Calculated Final Grade Numerator,Calculated Final Grade Denominator,"
    "End-of-Line Indicator\n"
    "#000123,#hb,Bélanger,Hélène,hb@example.org,18,,,18,20,#\n"
    "#120034,#js,Smyth,John,js@example.org,,,9,9,10,#\n")
BLACKBOARD = (
    "Last Name\tFirst Name\tUsername\tStudent ID\tLast Access\tAvailability\t"
    "Weighted Total [Total Pts: up to 0 Percentage] |110\t"
    "Total [Total Pts: up to 30 Score] |111\tQuiz 1 [Total Pts: 10 Score] |1234567\t"
    "Essay [Total Pts: 20 Score] |1234568\n"
    '"Bélanger"\t"Hélène"\t"hb"\t"000123"\t"2025-10-01"\t"Yes"\t"90.00%"\t"27"\t"9"\t'
    '"Needs Grading"\n'
    '"Smyth"\t"John"\t"js"\t"120034"\t"2025-10-02"\t"Yes"\t""\t""\t""\t"18"\n')

CASES = {
    # file name, content, format: the results kept, as (student, assignment, status, score)
    "moodle": ("ENG10 Grades.csv", MOODLE.encode("utf-8"), [
        ("000123", "ENG10 Grades: Assignment: Essay 1", "on_time", 18.0),
        ("000123", "ENG10 Grades: Quiz: Week 1 quiz", "pending", None),
        ("120034", "ENG10 Grades: Assignment: Essay 1", "pending", None),
        ("120034", "ENG10 Grades: Quiz: Week 1 quiz", "on_time", 7.5)]),
    "d2l": ("MATH9 GradesExport.csv", D2L.encode("utf-8"), [
        ("000123", "MATH9 GradesExport: Essay 1", "on_time", 18.0),
        ("000123", "MATH9 GradesExport: Quiz 1", "pending", None),
        ("120034", "MATH9 GradesExport: Essay 1", "pending", None),
        ("120034", "MATH9 GradesExport: Quiz 1", "on_time", 9.0)]),
    "blackboard": ("gc_SCI8_fullgc_2025.xls", BLACKBOARD.encode("utf-16"), [
        ("000123", "1234567", "on_time", 9.0),
        ("000123", "1234568", "on_time", None),  # Needs Grading: handed in
        ("120034", "1234567", "pending", None),
        ("120034", "1234568", "on_time", 18.0)]),
}


def folder_with(tmp_path: Path, file: str, content: bytes) -> Path:
    (tmp_path / "students.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / file).write_bytes(content)
    return tmp_path


@pytest.mark.parametrize("fmt", sorted(CASES))
def test_wide_gradebook_with_a_roster(fmt, tmp_path):
    file, content, expected = CASES[fmt]
    dataset = clean_folder(folder_with(tmp_path, file, content))
    assert dataset.quarantine.empty, dataset.quarantine.to_dict("records")
    got = [(r.student_id, r.assignment_id, r.status, None if pd.isna(r.score) else r.score)
           for r in dataset.results.itertuples()]
    assert got == expected
    assert set(dataset.assignments["school_id"]) == {"101"}  # from its students
    account = {a.table: a for a in dataset.report.accounts if a.file == file}
    assert account["results"].rows_in == 4 and account["results"].balanced
    assert inspect_folder(tmp_path).set_index("table").loc["results", "format"] == fmt


def test_points_and_categories_from_the_headers(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    d2l = clean_folder(folder_with(tmp_path / "a", *CASES["d2l"][:2])).assignments
    assert d2l["points_possible"].tolist() == [20.0, 10.0]
    assert d2l["category"].fillna("-").tolist() == ["Essays", "-"]
    moodle = clean_folder(folder_with(tmp_path / "b", *CASES["moodle"][:2])).assignments
    assert moodle["title"].tolist() == ["Essay 1", "Week 1 quiz"]
    assert moodle["category"].tolist() == ["assignment", "quiz"]
    assert moodle["points_possible"].isna().all()  # Moodle's export does not say


def test_a_gradebook_on_its_own_is_its_own_roster(tmp_path):
    file, content, _ = CASES["moodle"]
    (tmp_path / file).write_bytes(content)
    dataset = clean_folder(tmp_path)
    assert sorted(dataset.students["student_id"]) == ["000123", "120034"]
    assert set(dataset.students["school_id"]) == {"not given"}
    assert dataset.students["grade_level"].isna().all()
    assert len(dataset.results) == 4 and set(dataset.assignments["school_id"]) == {"not given"}
    fixes = {k: v for a in dataset.report.accounts for k, v in a.fixes.items()}
    assert fixes["school_not_given_in_any_file"] == 2


def test_beside_a_roster_a_gradebooks_students_are_the_rosters(tmp_path):
    file, content, _ = CASES["moodle"]
    dataset = clean_folder(folder_with(tmp_path, file, content))
    listed = next(a for a in dataset.report.accounts if a.file == file and a.table == "students")
    assert (listed.rows_in, listed.rows_kept, listed.rows_duplicate) == (2, 0, 2)
    assert set(dataset.students["source_file"].astype(str)) == {"students.csv"}
