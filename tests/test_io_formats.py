"""Readers on small hand-made files: every quirk, exact values."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from engagement.io import (
    ReadError,
    Reading,
    read_canvas_gradebook,
    read_edfi,
    read_oneroster,
    read_powerschool_log,
    read_powerschool_scores,
    read_table_text,
)


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def values(series):
    """A column as a plain list, NA as None."""
    return [None if pd.isna(v) else v for v in series]


def by_table(readings):
    return {r.table: r for r in readings}


# --- shared text reading ---------------------------------------------------------

def test_blank_lines_keep_line_numbers(tmp_path):
    f = write(tmp_path / "a.csv", "id,name\n001,Ann\n\n002,Bob\n\n")
    frame = read_table_text(f)
    assert values(frame["id"]) == ["001", None, "002", None]
    assert values(frame["source_row"]) == [2, 3, 4, 5]
    assert frame["source_row"].dtype == "Int64"
    assert values(frame["source_file"]) == ["a.csv"] * 4


def test_quoted_line_break_counts_as_lines(tmp_path):
    f = write(tmp_path / "a.csv", 'id,note\r\n1,"two\r\nlines"\r\n2,x\r\n')
    frame = read_table_text(f)
    assert values(frame["note"]) == ["two\r\nlines", "x"]
    assert values(frame["source_row"]) == [2, 4]


def test_cr_only_line_endings(tmp_path):
    f = write(tmp_path / "a.csv", "id,name\r1,A\r2,B")
    frame = read_table_text(f)
    assert values(frame["name"]) == ["A", "B"]
    assert values(frame["source_row"]) == [2, 3]


@pytest.mark.parametrize("encoding, expected", [
    ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("utf-16-be", "utf-8"),
    ("cp1252", "cp1252"), ("utf-8", "utf-8"),
])
def test_encodings_keep_accents(tmp_path, encoding, expected):
    text = "id,name\n007,Hélène Bélanger\n"
    raw = text.encode(encoding)
    if encoding == "utf-16-be":  # with its BOM, as Excel writes it
        raw = b"\xfe\xff" + raw
        expected = "utf-16"
    (tmp_path / "a.csv").write_bytes(raw)
    frame = read_table_text(tmp_path / "a.csv")
    assert list(frame.columns[:2]) == ["id", "name"]
    assert values(frame["name"]) == ["Hélène Bélanger"]
    assert values(frame["id"]) == ["007"]
    assert frame.attrs["encoding"] == expected


def test_cree_syllabics_and_formula_stay_text(tmp_path):
    f = write(tmp_path / "a.csv",
              'name,link\nᐊᓂᐦᔑᓈᐯ,"=HYPERLINK(""http://x"",""x"")"\n')
    frame = read_table_text(f)
    assert values(frame["name"]) == ["ᐊᓂᐦᔑᓈᐯ"]
    assert values(frame["link"]) == ['=HYPERLINK("http://x","x")']


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_delimiter_sniffed(tmp_path, sep):
    f = write(tmp_path / "a.csv", f"id{sep}score\n1{sep}8,5\n")
    frame = read_table_text(f)
    assert values(frame["score"]) == ["8,5"]
    assert frame.attrs["delimiter"] == sep


def test_empty_file_is_a_clear_error(tmp_path):
    f = write(tmp_path / "contacts.csv", "")
    with pytest.raises(ReadError, match=r"contacts.csv is empty: no header line\. Export"):
        read_table_text(f)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ReadError, match="nope.csv not found"):
        read_table_text(tmp_path / "nope.csv")


def test_too_many_fields_is_a_clear_error(tmp_path):
    f = write(tmp_path / "a.csv", "a,b\n1,2\n1,2,3\n")
    with pytest.raises(ReadError, match="a.csv: .*line 3.*more fields than the header"):
        read_table_text(f)


def test_header_only_gives_empty_frame(tmp_path):
    frame = read_table_text(write(tmp_path / "a.csv", "id,name\n"))
    assert len(frame) == 0
    assert list(frame.columns) == ["id", "name", "source_file", "source_row"]


# --- OneRoster -------------------------------------------------------------------

MANIFEST_11 = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n"


def bundle_11(folder):
    folder.mkdir()
    write(folder / "manifest.csv", MANIFEST_11)
    write(folder / "orgs.csv", "sourcedId,name,type\nsch1,École Boréale,school\n")
    write(folder / "academicSessions.csv", "sourcedId,title,type\nt1,Fall 2024,term\n")
    write(folder / "classes.csv", "sourcedId,title,schoolSourcedId,termSourcedIds,subjects\n"
          'c1,Math 9,sch1,"t1,t2",Math\n')
    write(folder / "users.csv",
          "sourcedId,status,orgSourcedIds,role,givenName,familyName,identifier,"
          "agentSourcedIds,grades\n"
          's1,active,"sch1,sch2",student,Hélène,Bélanger,000123,p1,09\n'
          "p1,active,sch1,parent,Marie,Bélanger,,s1,\n"
          "t1,active,sch1,teacher,Tom,Teach,,,\n"
          "s2,tobedeleted,sch1,student,ᐊᓂᐦᔑᓈᐯ,Cree,000124,,KG\n\n")
    write(folder / "enrollments.csv",
          "sourcedId,classSourcedId,schoolSourcedId,userSourcedId,role,primary\n"
          "e1,c1,sch1,s1,student,false\ne2,c1,sch1,t1,teacher,true\n")
    write(folder / "categories.csv", "sourcedId,title\ncat1,Homework\n")
    write(folder / "lineItems.csv",
          "sourcedId,title,assignDate,dueDate,classSourcedId,categorySourcedId,"
          "resultValueMin,resultValueMax\nli1,Fractions,2024-09-02,2024-09-09,c1,cat1,0,10\n")
    write(folder / "results.csv",
          "sourcedId,lineItemSourcedId,studentSourcedId,scoreStatus,score,scoreDate,comment\n"
          "r1,li1,s1,fully graded,8.5,2024-09-10,Good work\n"
          "r2,li1,s2,not submitted,,,\n")
    return folder


def test_oneroster_11_bundle(tmp_path):
    readings = read_oneroster(bundle_11(tmp_path / "b"))
    assert [r.table for r in readings] == ["students", "enrollments", "assignments", "results"]
    assert {r.kind for r in readings} == {"oneroster-1.1"}
    tables = by_table(readings)

    students = tables["students"].frame
    assert values(students["student_id"]) == ["s1", "p1", "t1", "s2", None]
    assert values(students["school_id"]) == ["sch1", "sch1", "sch1", "sch1", None]
    assert values(students["grade_level"]) == ["09", None, None, "KG", None]
    assert values(students["student_number"]) == ["000123", None, None, "000124", None]
    assert values(students["given_name"])[::3] == ["Hélène", "ᐊᓂᐦᔑᓈᐯ"]
    assert values(students["guardian_ids"]) == ["p1", "s1", None, None, None]
    assert values(students["source_row"]) == [2, 3, 4, 5, 6]
    assert values(students["reader_issue"]) == [
        None, "not a student: role 'parent' in users.csv",
        "not a student: role 'teacher' in users.csv",
        "OneRoster status 'tobedeleted' in users.csv: the source system deleted this record",
        "blank line"]

    enrol = tables["enrollments"].frame
    assert values(enrol["teacher_id"]) == ["t1", "t1"]
    assert values(enrol["term"]) == ["Fall 2024", "Fall 2024"]
    assert values(enrol["subject"]) == ["Math", "Math"]
    assert pd.isna(enrol["reader_issue"][0])
    assert enrol["reader_issue"][1].startswith("not a student enrollment: role 'teacher'")

    items = tables["assignments"].frame
    assert values(items.loc[0, ["assignment_id", "class_id", "school_id", "title", "category",
                                "assigned_at", "due_at", "points_possible"]]) == [
        "li1", "c1", "sch1", "Fractions", "Homework", "2024-09-02", "2024-09-09", "10"]

    results = tables["results"].frame
    assert values(results["status"]) == ["fully graded", "not submitted"]
    assert values(results["submitted_at"]) == ["2024-09-10", None]
    assert values(results["score"]) == ["8.5", None]
    assert values(results["notes"]) == ["Good work", None]
    assert values(results["school_id"]) == ["sch1", "sch1"]
    assert results["source_row"].dtype == "Int64"


def test_oneroster_12_roles_and_flags(tmp_path):
    folder = tmp_path / "b12"
    folder.mkdir()
    write(folder / "manifest.csv", "propertyName,value\noneroster.version,1.2\n")
    write(folder / "users.csv", "sourcedId,givenName,familyName,primaryOrgSourcedId,grades\n"
          "s1,Ann,A,sch1,PK\nu2,Bo,B,sch1,\n")
    write(folder / "roles.csv", "sourcedId,userSourcedId,roleType,role,orgSourcedId\n"
          "r1,s1,secondary,student,sch1\nr2,s1,primary,aide,sch1\nr3,u2,primary,teacher,sch1\n")
    write(folder / "results.csv",
          "sourcedId,lineItemSourcedId,studentSourcedId,classSourcedId,scoreStatus,score,"
          "textScore,scoreDate,comment,inProgress,incomplete,late,missing\n"
          "r1,li1,s1,c1,submitted,7,B,2024-10-01,,false,false,true,false\n"
          "r2,li2,s1,c1,not submitted,,,,,false,false,false,true\n"
          "r3,li3,s1,c1,exempt,,,,,false,false,false,true\n"
          "r4,li4,s1,c1,partially graded,,,,,false,true,false,false\n"
          "r5,li5,s1,c1,fully graded,9,,,,false,false,false,false\n")
    tables = by_table(read_oneroster(folder))
    assert tables["results"].kind == "oneroster-1.2"
    students = tables["students"].frame
    assert values(students["role"]) == ["student", "teacher"]
    assert values(students["school_id"]) == ["sch1", "sch1"]
    assert values(students["grade_level"]) == ["PK", None]
    results = tables["results"].frame
    assert values(results["status"]) == ["late", "missing", "exempt", "incomplete",
                                         "fully graded"]
    assert values(results["text_score"]) == ["B", None, None, None, None]
    assert values(results["class_id"]) == ["c1"] * 5


def test_oneroster_roster_only_and_not_a_bundle(tmp_path):
    folder = tmp_path / "roster"
    folder.mkdir()
    write(folder / "users.csv", "sourcedId,role\ns1,student\n")
    readings = read_oneroster(folder)
    assert [(r.table, r.kind) for r in readings] == [("students", "oneroster-1.0")]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ReadError, match="is it a OneRoster bundle"):
        read_oneroster(empty)


# --- Canvas ----------------------------------------------------------------------

CANVAS = (
    "\ufeffStudent;ID;SIS User ID;SIS Login ID;Section;Essai 1 (101);Quiz (102);"
    "Current Score (read only);Final Score (read only)\n"
    ";;;;;Manual Posting;;;\n"
    "    Points Possible;;;;;10;7,5;;\n"
    '"Bélanger, Hélène";11;000123;hbelanger;Math 9 A;8,5;EX;85;85\n'
    '"Student, Test";99;;;Math 9 A;10;;;\n'
    "\n"
    '"ᐊᓂᐦᔑᓈᐯ, Cree";12;000124;;Math 9 A;N/A;-;;\n'
)


def test_canvas_gradebook(tmp_path):
    f = write(tmp_path / "grades.csv", CANVAS)
    tables = by_table(read_canvas_gradebook(f))
    results = tables["results"].frame
    assert tables["results"].kind == "canvas-gradebook"
    # 6 lines after the header x 2 assignment columns, every cell a record
    assert len(results) == 12
    assert values(results["source_row"]) == [2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]
    assert values(results["assignment_id"]) == ["101", "102"] * 6
    student = results[results["source_row"] == 4]
    assert values(student["student_id"]) == ["11", "11"]
    assert values(student["student_name"]) == ["Bélanger, Hélène"] * 2
    assert values(student["student_number"]) == ["000123"] * 2
    assert values(student["score"]) == ["8,5", None]
    assert values(student["status"]) == [None, "EX"]
    assert values(student["class_id"]) == ["Math 9 A"] * 2
    assert values(student["reader_issue"]) == [None, None]
    issues = values(results["reader_issue"])
    assert issues[0] == "Canvas 'Manual Posting' line, not a student"
    assert issues[2].startswith("Canvas 'Points Possible' line")
    assert issues[6:8] == ["Canvas test student (not a real student)"] * 2
    assert issues[8:10] == ["blank line"] * 2
    assert issues[10] == "N/A: Canvas did not assign this work to the student"
    assert issues[11] is None
    assert values(results["status"])[11] == "-"

    items = tables["assignments"].frame
    assert values(items["assignment_id"]) == ["101", "102"]
    assert values(items["title"]) == ["Essai 1", "Quiz"]
    assert values(items["points_possible"]) == ["10", "7,5"]
    assert values(items["due_at"]) == [None, None]
    assert values(items["source_row"]) == [3, 3]


def test_canvas_class_from_caller_and_no_points_row(tmp_path):
    f = write(tmp_path / "g.csv", "Student,ID,Section,A (1)\n\"Doe, J\",5,S1,=1+1\n")
    tables = by_table(read_canvas_gradebook(f, class_id="C-9", school_id="sch1"))
    results = tables["results"].frame
    assert values(results["class_id"]) == ["C-9"]
    assert values(results["school_id"]) == ["sch1"]
    assert values(results["status"]) == ["=1+1"]  # formula-like text stays as written
    assert values(tables["assignments"].frame["source_row"]) == [1]
    assert values(tables["assignments"].frame["points_possible"]) == [None]


# --- Ed-Fi -----------------------------------------------------------------------

def test_edfi_json_student_gradebook_entries(tmp_path):
    records = [
        {"id": "a", "gradebookEntryReference": {"gradebookEntryIdentifier": "GB1",
                                                 "namespace": "uri://x"},
         "studentReference": {"studentUniqueId": "000604"},
         "sectionReference": {"sectionIdentifier": "ALG1", "schoolId": 255901001},
         "submissionStatusDescriptor": "uri://ed-fi.org/SubmissionStatusDescriptor#Missing",
         "assignmentLateStatusDescriptor":
             "uri://ed-fi.org/AssignmentLateStatusDescriptor#Late"},
        {"id": "b", "gradebookEntryReference": {"gradebookEntryIdentifier": "GB2",
                                                 "namespace": "uri://x"},
         "studentReference": {"studentUniqueId": "000604"},
         "submissionStatusDescriptor": "uri://ed-fi.org/SubmissionStatusDescriptor#Graded",
         "assignmentLateStatusDescriptor":
             "uri://ed-fi.org/AssignmentLateStatusDescriptor#Late",
         "dateFulfilled": "2024-09-12", "pointsEarned": 9.5},
    ]
    f = tmp_path / "sge.json"
    f.write_text(json.dumps(records), encoding="utf-8")
    (reading,) = read_edfi(f)
    assert (reading.kind, reading.table) == ("edfi-json", "results")
    frame = reading.frame
    assert values(frame["student_id"]) == ["000604", "000604"]
    assert values(frame["assignment_id"]) == ["GB1", "GB2"]
    assert values(frame["status"]) == ["Missing", "late"]
    assert values(frame["score"]) == [None, "9.5"]
    assert values(frame["submitted_at"]) == [None, "2024-09-12"]
    assert values(frame["school_id"]) == ["255901001", None]
    assert values(frame["source_row"]) == [1, 2]


def test_edfi_json_gradebook_entries(tmp_path):
    records = [{"gradebookEntryIdentifier": "GB1", "namespace": "uri://x",
                "sectionReference": {"sectionIdentifier": "ALG1", "schoolId": 1,
                                     "sessionName": "Fall"},
                "title": "Quiz 1", "dateAssigned": "2024-09-02", "dueDate": "2024-09-09",
                "maxPoints": 20, "gradebookEntryTypeDescriptor":
                    "uri://ed-fi.org/GradebookEntryTypeDescriptor#Quiz"}]
    f = tmp_path / "ge.json"
    f.write_text(json.dumps(records), encoding="utf-8")
    (reading,) = read_edfi(f)
    frame = reading.frame
    assert reading.table == "assignments"
    assert values(frame.loc[0, ["assignment_id", "class_id", "school_id", "title", "category",
                                "assigned_at", "due_at", "points_possible", "term"]]) == [
        "GB1", "ALG1", "1", "Quiz 1", "Quiz", "2024-09-02", "2024-09-09", "20", "Fall"]


def test_edfi_bad_json_and_unknown_csv(tmp_path):
    f = write(tmp_path / "x.json", '{"a": 1, "b": 2}')
    with pytest.raises(ReadError, match="not an array of records"):
        read_edfi(f)
    g = write(tmp_path / "x.csv", "foo,bar\n1,2\n")
    with pytest.raises(ReadError, match="x.csv is not an Ed-Fi gradebook"):
        read_edfi(g)


# --- PowerSchool -----------------------------------------------------------------

PS_LOG = (
    "StudentID,Student_Number,SchoolID,TeacherID,Entry_Author,Entry_Date,Entry_Time,"
    "LogTypeID,Subtype,Subject,Entry,Consequence,Category,Discipline_IncidentType\n"
    "101,000123,12,T9,Mme Roy,09/03/2024,8:15 AM,3,PCT,Call,Parlé à Hélène,"
    "Parent initiated,Missing Work,\n"
    "101,000123,12,T9,Mme Roy,09/04/2024,,3,PCA,Call,,,,\n"
    "102,000124,12,T9,Mme Roy,09/05/2024,,-100000,,Fight,,,,Fight\n"
    "103,000125,12,T9,Mme Roy,09/06/2024,,3,ZZZ,,,,,\n"
)


def test_powerschool_log(tmp_path):
    f = write(tmp_path / "log.csv", PS_LOG, encoding="cp1252")
    (reading,) = read_powerschool_log(f)
    assert (reading.kind, reading.table) == ("powerschool-log", "contacts")
    frame = reading.frame
    assert values(frame["student_id"]) == ["101", "101", "102", "103"]
    assert values(frame["student_number"]) == ["000123", "000123", "000124", "000125"]
    assert values(frame["staff_id"]) == ["T9"] * 4
    assert values(frame["contact_at"]) == ["09/03/2024 8:15 AM", "09/04/2024", "09/05/2024",
                                           "09/06/2024"]
    assert values(frame["channel"]) == ["phone", "phone", None, "ZZZ"]
    assert values(frame["outcome"]) == ["reached", "no_answer", None, None]
    assert values(frame["initiator"])[0] == "Parent initiated"
    assert values(frame["purpose"])[0] == "Missing Work"
    assert values(frame["notes"])[0] == "Parlé à Hélène"
    assert values(frame["reader_issue"]) == [
        None, None,
        "not a parent contact: LogTypeID -100000 (discipline); set [powerschool] "
        "contact_log_types to include it if it is", None]
    assert "Discipline_IncidentType" not in frame.columns


def test_powerschool_log_custom_codes(tmp_path):
    f = write(tmp_path / "log.csv", PS_LOG)
    (reading,) = read_powerschool_log(f, codes={"zzz": ("email", "reached")},
                                      contact_log_types=["3", "-100000"])
    frame = reading.frame
    assert values(frame["channel"]) == ["PCT", "PCA", None, "email"]
    assert frame["reader_issue"].isna().all()


def test_powerschool_scores_precedence(tmp_path):
    f = write(tmp_path / "scores.csv",
              "StudentsDCID,StudentID,AssignmentSectionID,ScorePoints,ScorePercent,IsMissing,"
              "IsLate,IsExempt,IsIncomplete,IsCollected,IsAbsent,ScoreEntryDate\n"
              "5001,101,A1,8,80,0,1,0,0,1,0,2024-09-10\n"
              "5001,101,A2,,,1,1,0,0,0,0,\n"
              "5001,101,A3,,,1,0,1,0,0,0,\n"
              "5001,101,A4,3,30,0,1,0,1,1,0,\n"
              "5001,101,A5,9,90,0,0,0,0,0,0,\n"
              "5001,101,A6,,,0,0,0,0,0,1,\n")
    (reading,) = read_powerschool_scores(f)
    frame = reading.frame
    assert (reading.kind, reading.table) == ("powerschool-scores", "results")
    assert values(frame["status"]) == ["late", "missing", "excused", "incomplete", "on time",
                                       None]
    assert values(frame["student_id"]) == ["101"] * 6
    assert values(frame["student_dcid"]) == ["5001"] * 6
    assert values(frame["score_pct"])[0] == "80"
    assert values(frame["submitted_at"]) == [None] * 6
    assert values(frame["score_entered_at"])[0] == "2024-09-10"


# --- the contract ----------------------------------------------------------------

def test_every_reading_keeps_the_contract(tmp_path):
    readings = read_oneroster(bundle_11(tmp_path / "b"))
    readings += read_canvas_gradebook(write(tmp_path / "g.csv", CANVAS))
    readings += read_powerschool_log(write(tmp_path / "log.csv", PS_LOG))
    for reading in readings:
        assert isinstance(reading, Reading)
        frame = reading.frame
        assert frame["source_row"].dtype == "Int64"
        assert frame["source_row"].notna().all()
        # One file name per reading, held once (categorical), not once per row.
        assert isinstance(frame["source_file"].dtype, pd.CategoricalDtype)
        assert list(frame["source_file"].cat.categories) == [reading.file]
        for col in frame.columns.drop(["source_row", "source_file"]):
            assert frame[col].dtype == "str", (reading, col)
        assert list(frame.columns[-3:]) == ["source_file", "source_row", "reader_issue"]
