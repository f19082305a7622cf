"""Generic CSV/XLSX reader and folder scanning."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pandas as pd
import pytest

from engagement.io import ReadError
from engagement.io.folder import read_folder
from engagement.io.generic import HEADER_SYNONYMS, normalise_header, read_generic

from .conftest import SAMPLE


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_normalise_header():
    assert normalise_header(" Student_No. ") == "student no"
    assert normalise_header("Student #") == "student number"
    assert HEADER_SYNONYMS[normalise_header("Student_Number")] == "student_number"


@pytest.mark.parametrize("header", ["Student #", "Student Number", "Student_Number",
                                    "Student No", "student no."])
def test_student_number_synonyms(tmp_path, header):
    f = write(tmp_path / "c.csv", f"Date,{header},Type,Notes\n2025-09-02,00123,Phone,hi\n")
    [r] = read_generic(f)
    assert (r.table, r.kind) == ("contacts", "generic-csv")
    assert r.frame["student_number"].tolist() == ["00123"]
    assert r.frame["contact_at"].tolist() == ["2025-09-02"]
    assert r.frame["channel"].tolist() == ["Phone"]
    assert r.frame["notes"].tolist() == ["hi"]


def test_contact_synonyms_and_extras(tmp_path):
    f = write(tmp_path / "log.csv",
              "Contact Date,Student Name,Staff ID,Method,Initiator,Category,Result,"
              "Teacher notes,Unrelated\n"
              "2025-09-02 10:00,Ava Li,T1,Email,Parent,Grades,Sent,ok,x\n")
    [r] = read_generic(f)
    row = r.frame.iloc[0]
    assert r.table == "contacts"
    assert (row["contact_at"], row["student_name"], row["staff_id"], row["channel"],
            row["initiator"], row["purpose"], row["outcome"], row["notes"]) == (
        "2025-09-02 10:00", "Ava Li", "T1", "Email", "Parent", "Grades", "Sent", "ok")
    assert "Unrelated" not in r.frame.columns
    assert pd.isna(row["student_id"]) and pd.isna(row["reader_issue"])
    assert r.frame["source_row"].tolist() == [2]


def test_explicit_mapping_wins(tmp_path):
    f = write(tmp_path / "x.csv", "When it happened,Kid,How,Type\n2025-09-02,Ava,Phone,zz\n")
    [r] = read_generic(f, mapping={"When it happened": "contact_at", "Kid": "student_name",
                                   "How": "channel", "Type": None})
    assert r.table == "contacts"
    assert r.frame.loc[0, ["contact_at", "student_name", "channel"]].tolist() == [
        "2025-09-02", "Ava", "Phone"]
    assert "zz" not in r.frame.to_numpy().tolist()[0]


@pytest.mark.parametrize(("text", "table"), [
    ("student_id,school_id,grade_level\n001,101,K\n", "students"),
    ("student_id,class_id,school_id,teacher_id\n001,C1,101,T1\n", "enrollments"),
    ("Date,Student,Type\n2025-09-02,Ava,Phone\n", "contacts"),
    ("Date,School,Channel,Audience,Subject\n2025-09-02,101,Newsletter,All,News\n",
     "broadcasts"),
    ("Slot,Student Number,Status\n2025-11-20 15:00,1,Attended\n", "conferences"),
    ("Booking ID,Slot,Student\nM1,2025-11-20 15:00,Ava\n", "conferences"),
    ("assignment_id,class_id,title,points_possible\nA1,C1,Quiz,10\n", "assignments"),
    ("assignment_id,student_id,score,status\nA1,001,9,late\n", "results"),
])
def test_detects_each_table(tmp_path, text, table):
    [r] = read_generic(write(tmp_path / "t.csv", text))
    assert r.table == table


def test_broadcast_subject_is_title(tmp_path):
    f = write(tmp_path / "b.csv", "Date,School,Channel,Audience,Subject\n"
                                  "2025-09-02 12:00,101,Newsletter,Whole school,News\n")
    [r] = read_generic(f)
    assert r.frame.loc[0, ["sent_at", "school_id", "channel", "audience", "title"]].tolist() \
        == ["2025-09-02 12:00", "101", "Newsletter", "Whole school", "News"]


def test_conference_columns(tmp_path):
    f = write(tmp_path / "conf.csv",
              "Booking ID,Slot,Student Number,Student,School,Teacher ID,Guardian,"
              "Meeting Type,Status,Attended By,Invited Via,Rescheduled From\n"
              "M1,2025-11-20 15:00,0581,\"Patel, Ava\",101,T3,Mom,Parent-Teacher,Attended,"
              "Parent,Phone call,M0\n")
    [r] = read_generic(f)
    row = r.frame.iloc[0]
    assert r.table == "conferences"
    assert {c: row[c] for c in ("conference_id", "scheduled_at", "student_number",
                                "student_name", "school_id", "staff_id", "guardian_name",
                                "format", "status", "attended_by", "invited_via",
                                "rescheduled_from")} == {
        "conference_id": "M1", "scheduled_at": "2025-11-20 15:00", "student_number": "0581",
        "student_name": "Patel, Ava", "school_id": "101", "staff_id": "T3",
        "guardian_name": "Mom", "format": "Parent-Teacher", "status": "Attended",
        "attended_by": "Parent", "invited_via": "Phone call", "rescheduled_from": "M0"}


def test_csv_blank_and_total_rows(tmp_path):
    f = write(tmp_path / "c.csv", "Date,Student,Type\n2025-09-02,Ava,Phone\n,,\n"
                                  "2025-09-03,Total,Phone\nTotals,2,\n")
    [r] = read_generic(f)
    assert r.frame["source_row"].tolist() == [2, 3, 4, 5]
    issues = r.frame["reader_issue"]
    assert pd.isna(issues[0]) and issues[1] == "blank line" and pd.isna(issues[2])
    assert issues[3] == "trailing total row (not a record)"


def test_unknown_table_error(tmp_path):
    f = write(tmp_path / "odd.csv", "Foo,Bar\n1,2\n")
    with pytest.raises(ReadError) as err:
        read_generic(f)
    message = str(err.value)
    # The headers go to `inspect` (err.headers), never into a report: a headerless
    # export's first line is a student's row.
    assert message.startswith("odd.csv: no canonical table fits its headers (2 columns; "
                              "`engagement inspect` lists them).")
    assert err.value.headers == ["Foo", "Bar"] and "Foo" not in message
    assert "Pass mapping={" in message and "engagement.toml" in message


def test_missing_column_error(tmp_path):
    f = write(tmp_path / "c.csv", "Date,Type,Notes\n2025-09-02,Phone,x\n")
    with pytest.raises(ReadError) as err:
        read_generic(f, table="contacts")
    assert str(err.value).startswith(
        "c.csv looks like a contacts table but has no column for 'student_id' or "
        "'student_number' or 'student_name' (its headers: 3 columns; `engagement inspect` "
        "lists them). Pass mapping={")
    assert err.value.headers == ["Date", "Type", "Notes"]
    with pytest.raises(ReadError, match="unknown table 'contact'"):
        read_generic(f, table="contact")


def test_xlsx_dates_numbers_blank_and_total(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Date", "Student", "Student #", "Type", "Comments"])
    ws.append([dt.datetime(2025, 9, 2), "Ava", 581744, "Phone", "NA"])
    ws.append(["03/09/2025", "Ben", "00123", "SMS", None])
    ws.append([None, None, None, None, None])
    ws.append([dt.datetime(2025, 9, 4, 15, 30), "Cy", 12.5, "Email", 7.0])
    ws.append(["Total", "3 contacts", None, None, None])
    path = tmp_path / "log.xlsx"
    wb.save(path)
    [r] = read_generic(path)
    f = r.frame
    assert (r.table, r.kind, r.file) == ("contacts", "generic-xlsx", "log.xlsx")
    assert f["source_row"].tolist() == [2, 3, 4, 5, 6]
    assert f["contact_at"].tolist()[:2] == ["2025-09-02", "03/09/2025"]
    assert f["contact_at"][3] == "2025-09-04 15:30:00"
    assert f["student_number"].tolist()[:2] == ["581744", "00123"]
    assert f["student_number"][3] == "12.5"
    assert f["notes"][0] == "NA" and f["notes"][3] == "7"
    assert f["student_name"].tolist()[4] == "3 contacts"
    issues = f["reader_issue"]
    assert issues.isna().tolist() == [True, True, False, True, False]
    assert issues[2] == "blank line"
    assert issues[4] == "trailing total row (not a record)"
    assert (f["source_file"] == "log.xlsx").all()


def test_xlsx_header_not_on_first_row(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A3"], ws["B3"], ws["C3"] = "Date", "Student", "Type"
    ws["A4"], ws["B4"], ws["C4"] = dt.datetime(2025, 9, 2), "Ava", "Phone"
    wb.save(tmp_path / "x.xlsx")
    [r] = read_generic(tmp_path / "x.xlsx")
    assert r.frame["source_row"].tolist() == [4]


def test_canonical_header_folder_needs_no_config(tmp_path):
    write(tmp_path / "students.csv", "student_id,school_id,grade_level\n001,101,K\n002,101,3\n")
    write(tmp_path / "contacts.csv", "contact_id,student_id,school_id,staff_id,contact_at,"
                                     "channel,initiator,purpose,outcome\n"
                                     "c1,001,101,T1,2025-09-02 10:00,phone,school,general,"
                                     "reached\n")
    write(tmp_path / "README.md", "hello")
    readings, skipped = read_folder(tmp_path)
    assert [(r.file, r.table, len(r.frame)) for r in readings] == [
        ("contacts.csv", "contacts", 1), ("students.csv", "students", 2)]
    assert readings[1].frame["student_id"].tolist() == ["001", "002"]
    assert skipped == ["README.md"]


def test_folder_config_mapping_and_unknown_files(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "odd.csv", "When,Kid,How\n2025-09-02,Ava,Phone\n")
    write(tmp_path / "notes.csv", "Foo,Bar\n1,2\n")
    config = {"mapping": {"odd.csv": {"When": "contact_at", "Kid": "student_name",
                                      "How": "channel"}}}
    readings, skipped = read_folder(tmp_path, config=config)
    assert [(r.file, r.table) for r in readings] == [("sub/odd.csv", "contacts")]
    assert readings[0].frame["source_file"].tolist() == ["sub/odd.csv"]
    assert len(skipped) == 1 and skipped[0].startswith("notes.csv: no canonical table fits")


def test_empty_folder_error(tmp_path):
    write(tmp_path / "README.md", "hello")
    with pytest.raises(ReadError) as err:
        read_folder(tmp_path)
    assert str(err.value) == (
        f"{tmp_path} holds no file engagement can read: expected CSV/XLSX exports, a "
        "OneRoster bundle (manifest.csv), a Canvas gradebook or Ed-Fi JSON. Why each file "
        "was passed over:\n- README.md")


@pytest.fixture(scope="module")
def sample_folder():
    return read_folder(SAMPLE)


def test_sample_folder(sample_folder):
    readings, skipped = sample_folder
    truth = json.loads((SAMPLE / "ground_truth.json").read_text(encoding="utf-8"))["files"]
    got = {(r.file, r.table, r.kind) for r in readings}
    assert got == {
        ("broadcast_log.csv", "broadcasts", "generic-csv"),
        ("canvas_gradebook_C00325.csv", "results", "canvas-gradebook"),
        ("canvas_gradebook_C00325.csv", "assignments", "canvas-gradebook"),
        ("canvas_gradebook_C00325.csv", "students", "students listed in a gradebook"),
        ("conference_schedule.csv", "conferences", "generic-csv"),
        ("contact_log_101.xlsx", "contacts", "generic-xlsx"),
        ("oneroster/users.csv", "students", "oneroster-1.1"),
        ("oneroster/enrollments.csv", "enrollments", "oneroster-1.1"),
        ("oneroster/lineItems.csv", "assignments", "oneroster-1.1"),
        ("oneroster/results.csv", "results", "oneroster-1.1"),
        ("powerschool_log.csv", "contacts", "powerschool-log"),
    }
    assert skipped == ["README.md", "findings.toml", "ground_truth.json", "oneroster/orgs.csv"]
    for r in readings:
        assert (r.frame["source_file"] == r.file).all()
        if r.file.startswith("canvas_gradebook"):
            # one results record per student line x assignment: count lines instead
            if r.table in ("results", "students"):
                assert r.frame["source_row"].nunique() == truth[r.file]["rows"]
            continue
        assert len(r.frame) == truth[r.file]["rows"], r.file


def test_sample_contact_log(sample_folder):
    readings, _ = sample_folder
    [r] = [r for r in readings if r.file == "contact_log_101.xlsx"]
    f = r.frame
    assert f.loc[0, ["contact_at", "student_name", "staff_id", "channel", "initiator",
                     "purpose", "outcome"]].tolist() == [
        "2025-09-02", "Dakota Kaur", "Ms. ᐃᐢᐱᒥᕽ", "Meeting", "Parent", "Grades", "Talked"]
    assert f.loc[1, "contact_at"] == "2025-09-03"  # an Excel date; some are typed day-first
    assert f["contact_at"].str.fullmatch(r"\d\d/\d\d/\d{4}").sum() > 300
    assert f["source_row"].iloc[[0, -1]].tolist() == [2, 1556]
    counts = f["reader_issue"].value_counts().to_dict()
    assert counts == {"blank line": 1, "trailing total row (not a record)": 1}
