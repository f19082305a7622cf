"""A corpus of bad input files: each gives a correct load or a clear error, and no
row is ever unaccounted for.

Every case is one small folder: a roster (students.csv) plus the file under test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from engagement.dataset import clean_folder

ROSTER = ("student_id,school_id,grade_level,given_name,family_name\n"
          "000123,101,7,Hélène,Bélanger\n"
          "004512,101,8,ᐊᐧᐋᓯᐢ,Cardinal\n"
          "120034,101,8,John,Smyth\n"
          "777001,101,9,Amélia,Côté\n")
HEAD = "Student Number,Date,Type,Initiated by,Reason,Outcome,Notes\n"


def contacts(*rows: str, head: str = HEAD) -> str:
    return head + "".join(r + "\n" for r in rows)


RESULTS_HEAD = "student_id,assignment_id,status,submitted_at,score\n"
ASSIGNMENTS = ("assignment_id,class_id,school_id,title,due_at,points_possible\n"
               "A1,C1,101,Project,2025-10-03 23:59,20\n")


def results(*rows: str) -> dict[str, str]:
    return {"assignments.csv": ASSIGNMENTS,
            "results.csv": RESULTS_HEAD + "".join(r + "\n" for r in rows)}


def xlsx(text: str) -> bytes:
    """A CSV's rows as an Excel workbook."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    for line in text.splitlines():
        book.active.append(line.split(","))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def utf16(text: str) -> bytes:
    return "\ufeff".encode("utf-16-le") + text.replace(",", "\t").encode("utf-16-le")


# name -> (files, expected): expected is a regex for why a file was set aside (not read,
# or its rows quarantined; the rest of the folder goes on), or a check on the Dataset.
CASES: dict[str, tuple[dict[str, str | bytes], object]] = {}


def case(name, files, expected):
    CASES[name] = (files if isinstance(files, dict) else {"contact_log.csv": files}, expected)


def account(d, file="contact_log.csv"):
    return next(a for a in d.report.accounts if a.file == file)


def kept(n, table="contacts"):
    return lambda d: len(d.tables[table]) == n


def only_contact(**values):
    def check(d):
        row = d.contacts.iloc[0]
        return len(d.contacts) == 1 and all(str(row[k]) == v for k, v in values.items())
    return check


def quarantined_because(pattern, value=None):
    """A row set aside for that reason (and, when given, showing that value: the reason
    itself never quotes it)."""
    def check(d):
        q = d.quarantine
        hit = q["reason"].str.contains(pattern, regex=True)
        return (hit & (q["value"] == value if value is not None else hit)).any()
    return check


def fixed(name, n):
    return lambda d: sum(a.fixes.get(name, 0) for a in d.report.accounts) == n


def result(**values):
    def check(d):
        row = d.results.iloc[0]
        return all((pd.isna(row[k]) if v is None else
                    (abs(row[k] - v) < 1e-9 if isinstance(v, float) else str(row[k]) == v))
                   for k, v in values.items())
    return check


OK = "2025-10-01,Phone,Teacher,Missing work,Spoke with parent,note"
# -- encodings and layout
case("empty file", "", r"contact_log\.csv:? is empty")
case("header only", HEAD, kept(0))
case("utf-8 with BOM", "\ufeff" + contacts("000123," + OK), kept(1))
case("utf-16 from Excel (tab separated)", utf16(contacts("000123," + OK)), kept(1))
case("windows-1252 accents", contacts("000123,2025-10-01,Phone,Teacher,Missing work,reached,"
                                      "Hélène est là").encode("cp1252"), kept(1))
case("UTF-16 without a byte-order mark",
     contacts("000123," + OK).replace(",", "\t").encode("utf-16-le"), kept(1))
case("one stray Windows byte in a UTF-8 file leaves the other accents alone",
     contacts("Hélène Bélanger," + OK, "John Smyth,2025-10-02,Phone,Teacher,Missing work,"
              "reached,the teacherXs note", head=HEAD.replace("Student Number", "Student")
              ).encode("utf-8").replace(b"teacherXs", b"teacher\x92s"),
     lambda d: sorted(d.contacts["student_id"]) == ["000123", "120034"])
case("semicolon separated", contacts("000123," + OK).replace(",", ";"), kept(1))
case("pipe separated", contacts("000123," + OK).replace(",", "|"), kept(1))
case("CR-only line ends", contacts("000123," + OK, "120034," + OK).replace("\n", "\r"), kept(2))
case("blank line in the middle", contacts("000123," + OK, "", "120034," + OK),
     lambda d: len(d.contacts) == 2 and quarantined_because("blank line")(d))
case("trailing total row", contacts("000123," + OK, "Total,1,,,,,"),
     lambda d: len(d.contacts) == 1 and quarantined_because("total row")(d))
case("a line with too many fields", contacts("000123," + OK + ",extra,more"),
     r"contact_log\.csv: line 2 has \d+ fields but the header has \d+")
case("re-exported duplicates", contacts("000123," + OK, "000123," + OK, "120034," + OK),
     lambda d: len(d.contacts) == 2 and account(d).rows_duplicate == 1)
case("formula-like note stays text", contacts('000123,2025-10-01,Phone,Teacher,Missing work,'
                                             'reached,"=HYPERLINK(""http://x"")"'), kept(1))
case("no recognisable headers", {"contact_log.csv": "foo,bar\n1,2\n"},
     lambda d: any(s.startswith("contact_log.csv: no canonical table fits its headers "
                                "(2 columns") for s in d.report.skipped))
case("missing date column: file set aside with the reason",
     "Student Number,Type\n000123,Phone\n",
     lambda d: any(s.startswith("contact_log.csv: no canonical table fits its headers (2 columns")
                   for s in d.report.skipped))
# -- dates
case("day-first decided by 25/12", contacts("000123,03/09/2025,Phone,Teacher,,,",
                                            "000123,25/12/2025,Phone,Teacher,,,"),
     lambda d: sorted(d.contacts["contact_at"].dt.month) == [9, 12])
case("month-first decided by 12/25", contacts("000123,09/03/2025,Phone,Teacher,,,",
                                              "000123,12/25/2025,Phone,Teacher,,,"),
     lambda d: sorted(d.contacts["contact_at"].dt.month) == [9, 12])
case("undecidable day/month order", contacts("000123,03/09/2025,Phone,Teacher,,,"),
     r"could be day/month or month/day.*--dayfirst")
case("mixed day/month orders", contacts("000123,25/12/2025,Phone,Teacher,,,",
                                        "000123,12/25/2025,Phone,Teacher,,,"),
     r"mixes day/month and month/day")
case("Excel serial dates", contacts("000123,45933,Phone,Teacher,,,"),
     lambda d: str(d.contacts["contact_at"].iloc[0].date()) == "2025-10-03")
case("Excel 1904 serial dates", {"contact_log.csv": contacts("000123,44471,Phone,Teacher,,,"),
                                 "engagement.toml": "[cleaning]\nexcel_1904 = true\n"},
     lambda d: str(d.contacts["contact_at"].iloc[0].date()) == "2025-10-03")
case("two-digit years", contacts("000123,25/12/25,Phone,Teacher,,,"),
     lambda d: d.contacts["contact_at"].iloc[0].year == 2025)
case("impossible date", contacts("000123,31/02/2026,Phone,Teacher,,,",
                                 "000123,25/12/2025,Phone,Teacher,,,"),
     quarantined_because(r"^not a calendar date", "31/02/2026"))
case("unreadable date", contacts("000123,next tuesday,Phone,Teacher,,,"),
     quarantined_because(r"^not a date engagement can read", "next tuesday"))
case("time of day with AM/PM", contacts("000123,2025-10-01 2:15 PM,Phone,Teacher,,,"),
     lambda d: str(d.contacts["contact_at"].iloc[0]) == "2025-10-01 14:15:00-06:00")
case("DST gap is shifted", contacts("000123,2026-03-08 02:30,Phone,Teacher,,,"),
     lambda d: str(d.contacts["contact_at"].iloc[0]) == "2026-03-08 03:00:00-06:00")
# -- ids and names
case("ids lost their leading zeros", contacts("123," + OK, "4512," + OK),
     lambda d: set(d.contacts["student_id"]) == {"000123", "004512"})
case("ids became floats", contacts("120034.0," + OK), only_contact(student_id="120034"))
case("student not on the roster", contacts("555555," + OK),
     quarantined_because(r"not on the roster", "555555"))
case("names instead of ids", contacts("John Smyth," + OK, head=HEAD.replace(
    "Student Number", "Student")), only_contact(student_id="120034"))
case("'Last, First' names", contacts('"Smyth, John",' + OK, head=HEAD.replace(
    "Student Number", "Student")), only_contact(student_id="120034"))
case("misspelled name matched", contacts("Jonh Smyth," + OK, head=HEAD.replace(
    "Student Number", "Student")), lambda d: only_contact(student_id="120034")(d)
     and fixed("names_matched_fuzzy", 1)(d))
case("unknown name quarantined with candidates", contacts("Jon Smith," + OK,
                                                         head=HEAD.replace("Student Number",
                                                                           "Student")),
     quarantined_because(r"^the student's name matches no roster name \(the closest scores",
                         "(name, not shown)"))
case("accents left out", contacts("Helene Belanger," + OK, head=HEAD.replace(
    "Student Number", "Student")), only_contact(student_id="000123"))
case("Cree syllabics", contacts("ᐊᐧᐋᓯᐢ Cardinal," + OK, head=HEAD.replace(
    "Student Number", "Student")), only_contact(student_id="004512"))
# -- vocabularies
case("channel spellings", contacts("000123,2025-10-01,PH,,,,", "000123,2025-10-02,e-mail,,,,",
                                   "000123,2025-10-03,txt,,,,", "000123,2025-10-04,Mtg,,,,"),
     lambda d: list(d.contacts["channel"]) == ["phone", "email", "text", "meeting"])
case("unknown channel quarantined and reported", contacts("000123,2025-10-01,Seesaw,,,,"),
     lambda d: quarantined_because(r"^not a channel engagement knows", "Seesaw")(d)
     and account(d).unknown_spellings == {"channel": {"Seesaw": 1}})
case("unknown initiator becomes unknown", contacts("000123,2025-10-01,Phone,the aunt,,,"),
     lambda d: d.contacts["initiator"].iloc[0] == "unknown"
     and account(d).unknown_spellings == {"initiator": {"the aunt": 1}})
case("custom spelling from engagement.toml",
     {"contact_log.csv": contacts("000123,2025-10-01,Seesaw,,,,"),
      "engagement.toml": "[vocabulary.channel]\nseesaw = \"portal_message\"\n"},
     only_contact(channel="portal_message", mode="written"))
# -- results and scores
case("EX in the score column", results("000123,A1,,,EX"), result(status="excused", score=None))
case("M in the score column", results("000123,A1,,,M"), result(status="missing", score=None))
case("INC in the score column", results("000123,A1,,,INC"), result(status="pending"))
case("em dash in the score column", results("000123,A1,,,—"), result(status="pending"))
case("85% in the score column", results("000123,A1,,2025-10-02,85%"),
     result(status="on_time", score_pct=0.85, score=17.0))
case("decimal comma score", {**results(), "results.csv": "student_id;assignment_id;status;"
                             "submitted_at;score\n000123;A1;;2025-10-05;8,5\n"},
     result(status="late", score=8.5, score_pct=0.425))
case("0 written for missing work is not a score", results("000123,A1,missing,,0"),
     lambda d: result(status="missing", score=None)(d)
     and fixed("scores_removed_from_missing_or_excused_work", 1)(d))
case("blank result is pending, never missing", results("000123,A1,,,"),
     result(status="pending"))
case("unknown result status", results("000123,A1,handed to dog,,"),
     quarantined_because(r"^not a result status engagement knows", "handed to dog"))
case("result for an unknown assignment", results("000123,A9,on time,,5"),
     quarantined_because(r"not in any assignments file", "A9"))

# -- implausible values
case("a negative score", results("000123,A1,,2025-10-02,-5"),
     lambda d: len(d.results) == 0 and quarantined_because(r"^a score below 0$", "-5")(d))
case("a score many times the points possible (850 for 8.50)",
     results("000123,A1,,2025-10-02,850", "120034,A1,,2025-10-02,22"),
     lambda d: list(d.results["score"]) == [22.0]  # extra credit is kept
     and quarantined_because(r"more than 3 times the points possible", "850")(d))
case("a placeholder year on a contact", contacts("000123,1900-01-01,Phone,Teacher,,,",
                                                 "120034," + OK),
     lambda d: len(d.contacts) == 1 and quarantined_because(r"^a placeholder year",
                                                            "1900-01-01")(d))
case("a due date of 2099 means no due date",
     {**results("000123,A1,,2025-10-02,15"), "assignments.csv": ASSIGNMENTS.replace(
         "2025-10-03 23:59", "2099-12-31")},
     lambda d: d.assignments["due_at"].isna().all() and len(d.results) == 1
     and fixed("implausible_dates_blanked", 1)(d))
case("a contact outside the school year engagement.toml gives",
     {"contact_log.csv": contacts("000123,2024-01-05,Phone,Teacher,,,", "120034," + OK),
      "engagement.toml": '[cleaning]\nschool_year = ["2025-08-15", "2026-06-30"]\n'},
     lambda d: len(d.contacts) == 1 and quarantined_because(
         r"^outside the school year 2025-08-15 to 2026-06-30", "2024-01-05")(d))

case("result without an assignment id", results("000123,,on time,,5"),
     quarantined_because(r"^no assignment id$"))
# -- one broken file costs that file, never the folder
case("a codebook saved as text beside the exports",
     {"codebook.txt": "Attributes for the survey:\n1 school - the student's school, binary\n"
                      "2 sex - student's sex (binary: 'F' - female or 'M' - male)\n"
                      "3 age, in years, from 15 to 22\n",
      "contact_log.csv": contacts("000123," + OK)},
     lambda d: len(d.contacts) == 1 and any(s.startswith("codebook.txt: ")
                                            for s in d.report.skipped))
case("JSON that is not an Ed-Fi export", {"settings.json": '{"theme": "dark", "size": 3}'},
     r"^settings\.json: ")
case("a JSON file cut off half way", {"submissions.json": '[{"studentUniqueId": "000123", '},
     r"^submissions\.json: ")
case("binary junk named .csv", {"contact_log.csv": bytes(range(256)) * 40}, r"contact_log\.csv")
# Made with msoffcrypto-tool from a one-row roster (password "secret").
case("a workbook protected by a password",
     {"roster.xlsx": (Path(__file__).parent / "data" / "password_protected.xlsx").read_bytes()},
     r"^roster\.xlsx: the workbook is protected by a password")
case("a workbook that is really a zip of something else",
     {"grades.xlsx": b"PK\x03\x04" + bytes(200)}, r"^grades\.xlsx: ")
case("a roster row without a grade level is kept, counted as not given",
     {"students.csv": ROSTER + "888001,101,,Sam,Lee\n"},
     lambda d: len(d.students) == 5 and d.students["grade_level"].isna().sum() == 1
     and fixed("students_without_grade_level", 1)(d))
case("a grade that is not a grade", {"students.csv": ROSTER + "888001,101,Z9,Sam,Lee\n"},
     lambda d: len(d.students) == 4 and quarantined_because(r"^not a grade", "Z9")(d))
case("a roster without a school column",
     {"students.csv": "student_id,grade_level\n000123,7\n"},
     lambda d: len(d.students) == 0 and quarantined_because(r"^no school_id")(d))
case("every roster row set aside: other rows are checked, not kept blind",
     {"students.csv": "student_id,school_id,grade_level\n000123,101,Z9\n",
      "contact_log.csv": contacts("000123," + OK)},
     lambda d: len(d.contacts) == 0 and quarantined_because(r"is not on the roster")(d))
case("the same roster exported twice",
     {"students_copy.csv": ROSTER.replace("Hélène", "Helene")},
     lambda d: len(d.students) == 4 and quarantined_because(
         r"student_id already read from students\.csv; keep one copy")(d))
case("an assignment without a class", {**results("000123,A1,on time,,5"),
                                       "assignments.csv": "assignment_id,title,due_at\n"
                                                          "A1,Project,2025-10-03\n"},
     lambda d: len(d.assignments) == 0 and quarantined_because(r"no class")(d))

case("a gradebook whose section is on no roster takes its students' school",
     {"gradebook.csv": "Student,ID,SIS User ID,SIS Login ID,Section,Essay (501)\n"
                       "    Points Possible,,,,,20\n"
                       "\"Bélanger, Hélène\",9001,000123,hb,Room 12 Period 3,18\n"
                       "\"Smyth, John\",9002,120034,js,Room 12 Period 3,\n"},
     lambda d: len(d.results) == 2 and set(d.assignments["school_id"]) == {"101"}
     and fixed("school_taken_from_class_roster", 1)(d))

# Semicolons, decimal commas and a teacher's own column marked read only, in French.
case("a Canvas export from a French account",
     {"gradebook.csv": "Student;ID;SIS User ID;SIS Login ID;Section;Reading group;Essai (501);"
                       "Quiz 1 (502);Current Score;Final Score\n"
                       "    Points Possible;;;;;(lecture uniquement);20,00;10,00;"
                       "(lecture uniquement);(lecture uniquement)\n"
                       "\"Bélanger, Hélène\";9001;000123;hb;Room 12;blue;17,50;EX;87,50;87,50\n"
                       "\"Smyth, John\";9002;120034;js;Room 12;;N/A;8,00;80,00;80,00\n"},
     lambda d: sorted(d.assignments["assignment_id"]) == ["501", "502"]
     and d.assignments.set_index("assignment_id")["points_possible"].to_dict()
     == {"501": 20.0, "502": 10.0}
     and d.results.set_index(["student_id", "assignment_id"])["status"].to_dict()
     == {("000123", "501"): "on_time", ("000123", "502"): "excused",
         ("120034", "502"): "on_time"}
     and d.results["score"].sum() == 25.5
     # Set aside: the Points Possible line (one row per assignment) and the N/A cell;
     # nothing of the read-only column.
     and sorted(d.quarantine["reason"].str[:10]) == ["Canvas 'Po"] * 2 + ["N/A: Canva"])

# -- headers and values that guessed wrong
case("a roster with only a Student Number",
     {"students.csv": "Student Number,School,Grade\n000123,101,7\n000124,101,8\n"},
     lambda d: sorted(d.students["student_id"]) == ["000123", "000124"])
case("Grade in a results sheet is the mark",
     {**results(), "results.csv": "Student ID,Assignment ID,Grade\n000123,A1,17\n"},
     result(score=17.0, score_pct=0.85))
case("a submissions sheet with Status and Date is results, not conferences",
     {**results(), "submissions.csv": "Student ID,Title,Status,Date Submitted,Score\n"
                                      "000123,A1,late,2025-10-04,15\n"},
     result(status="late", score=15.0))
case("a literal null is blank, not an unknown spelling",
     contacts("000123,2025-10-01,Phone,NULL,null,,"),
     lambda d: only_contact(initiator="unknown", purpose="unknown")(d)
     and not account(d).unknown_spellings)

case("a quote never closed does not swallow the lines after it",
     contacts('000123,2025-10-01,Phone,Teacher,Missing work,reached,"called about the essay',
              *(f"120034,2025-10-{d:02d},Phone,Teacher,Missing work,reached,ok"
                for d in range(2, 32))),
     lambda d: account(d).rows_in == 31 and len(d.contacts) == 30
     and quarantined_because(r"^line 2 opens a quote")(d))

case("Clever's roster files (their documented layout)",
     {"students.csv": "School_id,Student_id,Student_number,State_id,Last_name,Middle_name,"
                      "First_name,Grade,Gender\n101,S1,000123,ST1,Bélanger,,Hélène,7,F\n"
                      "101,S2,120034,ST2,Smyth,,John,Kindergarten,M\n",
      "enrollments.csv": "School_id,Section_id,Student_id\n101,SEC1,S1\n101,SEC1,S2\n"},
     lambda d: d.students.set_index("student_id")["grade_level"].to_dict() == {"S1": 7, "S2": 0}
     and sorted(d.enrollments["student_id"]) == ["S1", "S2"]
     and set(d.enrollments["class_id"]) == {"SEC1"})


# -- more of what real files do
case("CRLF line ends (Windows)", contacts("000123," + OK, "120034," + OK).replace("\n", "\r\n"),
     kept(2))
case("a trailing empty field on every line",
     contacts("000123," + OK + ",", "120034," + OK + ",", head=HEAD.rstrip("\n") + ",\n"),
     kept(2))
case("headers in capitals with stray spaces",
     contacts("000123," + OK, head=" STUDENT NUMBER , DATE ,TYPE,INITIATED BY,REASON,OUTCOME,"
              "NOTES\n"), kept(1))
case("blank lines above the header", "\n\n" + contacts("000123," + OK), kept(1))
case("Excel's apostrophe kept on an id", contacts("'000123," + OK),
     only_contact(student_id="000123"))
case("an id in scientific notation", contacts("1.20034E+05," + OK),
     only_contact(student_id="120034"))
case("values after a comma and a space keep no leading space",
     contacts("000123, 2025-10-01, Phone, Teacher, Missing work, Spoke with parent, ok"),
     only_contact(channel="phone", initiator="school"))
case("latin-1 file", contacts("000123,2025-10-01,Phone,Teacher,Missing work,reached,"
                              "élève absent").encode("latin-1"), kept(1))
case("tab separated text named .txt",
     {"contact_log.txt": contacts("000123," + OK).replace(",", "\t")},
     lambda d: len(d.contacts) == 1)
case("a header line repeated where two exports were pasted together",
     contacts("000123," + OK, HEAD.rstrip("\n"), "120034," + OK),
     lambda d: len(d.contacts) == 2 and account(d).rows_quarantined == 1)
case("a score written as a fraction of the points", results("000123,A1,,2025-10-02,15/20"),
     result(score=15.0, score_pct=0.75))
case("Exempt is excused", results("000123,A1,Exempt,,"), result(status="excused"))
case("a grade written 'Grade 7' or '07'",
     {"students.csv": ROSTER + "888001,101,Grade 7,Sam,Lee\n888002,101,07,Kim,Ng\n"},
     lambda d: d.students.set_index("student_id")["grade_level"].reindex(
         ["888001", "888002"]).tolist() == [7, 7])
case("a Boolean-looking outcome word", contacts("000123,2025-10-01,Phone,Teacher,,Yes,"),
     lambda d: len(d.contacts) + len(d.quarantine) == 1)
case("one column only", {"contact_log.csv": "Student Number\n000123\n"},
     r"^contact_log\.csv: ")
case("a file of blank lines only", "\n\n\n", r"contact_log\.csv")
case("a very long note does not break the row",
     contacts("000123,2025-10-01,Phone,Teacher,Missing work,reached,\"" + "long " * 4000
              + "\""), kept(1))
case("an xlsx saved with a .csv name", {"contact_log.csv": xlsx(contacts("000123," + OK))},
     kept(1))

case("an ISO time in UTC", contacts("000123,2025-10-01T20:15:00Z,Phone,Teacher,,,"),
     lambda d: str(d.contacts["contact_at"].iloc[0]) == "2025-10-01 14:15:00-06:00")
case("an Excel serial with a time of day", contacts("000123,45933.5,Phone,Teacher,,,"),
     lambda d: str(d.contacts["contact_at"].iloc[0]) == "2025-10-03 12:00:00-06:00")
case("dates with dots, day first (25.12.2025)",
     contacts("000123,03.09.2025,Phone,Teacher,,,", "000123,25.12.2025,Phone,Teacher,,,"),
     lambda d: sorted(d.contacts["contact_at"].dt.month) == [9, 12])
case("an empty column with no header", contacts("000123,2025-10-01,Phone,Teacher,,,,",
                                                head=HEAD.rstrip("\n") + ",\n"), kept(1))
case("two columns with the same header",
     contacts("000123," + OK + ",second note", head=HEAD.rstrip("\n") + ",Notes\n"), kept(1))
case("'LM' written for a left message",
     contacts("000123,2025-10-01,Phone,Teacher,Missing work,LM,"),
     only_contact(outcome="left_message"))
case("a month written out", contacts("000123,\"Oct 3, 2025\",Phone,Teacher,,,"),
     lambda d: str(d.contacts["contact_at"].iloc[0].date()) == "2025-10-03")


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, tmp_path):
    files, expected = CASES[name]
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "students.csv").write_text(ROSTER, encoding="utf-8")
    config = None
    for file, content in files.items():
        data = content.encode("utf-8") if isinstance(content, str) else content
        (raw / file).write_bytes(data)
        if file == "engagement.toml":
            config = raw / file
    out = tmp_path / "out"
    dataset = clean_folder(raw, out, config=config)
    if "students.csv" not in files:  # the good file beside the bad one is cleaned
        assert len(dataset.students) == 4
    if isinstance(expected, str):
        reasons = [*dataset.report.skipped, *dataset.quarantine["reason"]]
        assert any(re.search(expected, r) for r in reasons), reasons
        named = [r for r in dataset.report.skipped if re.search(expected, r)]
        assert all(r.startswith(tuple(files)) for r in named), named  # names its file
        expected = lambda d: True  # noqa: E731
    for account in dataset.report.accounts:
        assert account.balanced, account
    assert expected(dataset), (dataset.report.summary(), dataset.quarantine.to_dict("records"))
    report = json.loads((out / "cleaning_report.json").read_text(encoding="utf-8"))
    assert sum(f["rows_quarantined"] for f in report["files"]) == len(dataset.quarantine)


def test_names_without_a_roster_are_set_aside_with_one_sentence(tmp_path):
    (tmp_path / "contact_log.csv").write_text(
        contacts("John Smyth," + OK, head=HEAD.replace("Student Number", "Student")),
        encoding="utf-8")
    dataset = clean_folder(tmp_path)
    assert dataset.quarantine["reason"].str.contains(
        "no roster was found to match the names").all()
    assert len(dataset.contacts) == 0 and dataset.report.accounts[0].balanced


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 100


def test_quarantine_csv_escapes_formulas(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "students.csv").write_text(ROSTER, encoding="utf-8")
    (raw / "contact_log.csv").write_text(contacts("=1+1,2025-10-01,Phone,,,,"),
                                         encoding="utf-8")
    clean_folder(raw, tmp_path / "out")
    text = (tmp_path / "out" / "quarantine.csv").read_text(encoding="utf-8")
    assert "=1+1" in text and "\n=" not in text and ",=" not in text


def test_a_key_or_a_headerless_file_is_named_but_never_quoted(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "students.csv").write_text(ROSTER, encoding="utf-8")
    key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    (raw / "key.txt").write_text(key + "\n", encoding="utf-8")
    (raw / "export.csv").write_text("000123,2025-10-01,Phone,Dad lost his job\n",
                                    encoding="utf-8")
    out = tmp_path / "out"
    dataset = clean_folder(raw, out)
    for file in ("cleaning_report.md", "cleaning_report.json"):
        text = (out / file).read_text(encoding="utf-8")
        assert "key.txt: " in text and "export.csv: " in text
        for secret in (key, "000123", "Dad lost his job"):
            assert secret not in text, (file, secret)
    assert len(dataset.students) == 4
