"""An adversarial raw folder: the sample division's exports with secrets and payloads planted.

``build(root)`` writes ``root/raw`` from the package's own sample generator (40 students,
seed 0) and then plants, recording every one in the returned :class:`Planted`:

- distinctive names for every student, guardian and staff member, so a leaked name is
  found as a whole word without false hits (the sample's own name lists are common words
  such as 'Roy' or 'Kim');
- ``key.txt`` *inside* the raw folder (``openssl rand -hex 32``-like text), the file to
  pass to ``engagement clean --key-file``;
- a headerless export: a CSV whose first line is a data row (a student number, a name and a
  note), so a reader that takes line 1 for a header makes them column names;
- notes in odd columns: contact-log rows (the Excel log and the PowerSchool CSV) whose cells
  are shifted so a note lands in the date, channel, initiator, purpose or outcome column;
- markup and formulas (``PAYLOADS``) in assignment titles and ids, two staff ids, two school
  ids (renamed consistently in every file) and two class ids, one of them with a bare
  carriage return;
- one school (101) of only 12 students: a grade-6 student moves to the junior high, so the
  division still has 40.

Everything else is the sample as generated, so ``engagement clean`` keeps most rows and
``engagement analyze`` runs.
"""

from __future__ import annotations

import csv
import io
import itertools
import random
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

SCRIPT = "<script>alert('engxss')</script>"
MD_LINK = "[click](javascript:alert(1))"
IMG = '<img src="http://evil.example/x.png">'
HYPERLINK = '=HYPERLINK("http://evil.example","x")'
PLUS = "+cmd"
AT = "@SUM(A1)"
MINUS = "-2+3"
CR_VALUE = "Homework\rX"  # a bare carriage return inside a value
PAYLOADS = (SCRIPT, MD_LINK, IMG, HYPERLINK, PLUS, AT, MINUS, CR_VALUE)

# Where each payload goes (the original sample value -> the planted one).
SCHOOL_IDS = {"102": AT, "103": IMG}
SMALL_SCHOOL = "101"
STAFF_IDS = {"T0009": PLUS, "T0017": MINUS}
# The campaign's project title is shown in results and the report: it carries a bare CR,
# a script and a javascript: link.
CAMPAIGN_TITLE = "Science Fair Project\r" + SCRIPT + " " + MD_LINK

# Notes planted in odd places (each distinctive enough to search for verbatim).
SHIFTED_NOTES = {
    # contact_log_101.xlsx: column -> note
    "Date": "Dad lost his job, family in shelter",
    "Type": "Mum in hospital again, kids with the neighbour",
    "Initiated by": "Older brother was arrested last weekend",
    "Reason": "Family on the food bank list since October",
    "Outcome": "Grandad passed away, very withdrawn in class",
}
POWERSCHOOL_NOTES = {
    "Entry_Date": "Parents separating, father moved out in March",
    "Subtype": "Mother starting chemotherapy, be gentle with deadlines",
    "Category": "Child protection worker assigned to the family",
    "Consequence": "Eviction notice served, may change schools",
}
HEADERLESS_NOTES = (
    "Foster placement ended, now with an aunt",
    "Sleeping in the family car some nights",
    "Asked us not to tell dad where they live",
)
# Distinctive parts of the sample generator's own note templates (NOTES in
# engagement/sample/exports.py) and of its discipline entries.
TEMPLATE_NOTES = (
    "check the agenda nightly",
    "dad will help finish it this weekend",
    "asked for a call back",
    "has been unwell. Will send work home",
    "plan to catch up at lunch",
    "Disruption in class",
)


@dataclass
class Planted:
    """Every secret and payload planted in the raw folder, to look for in outputs."""

    raw_dir: Path
    key_file: Path
    key_text: str
    student_ids: list[str]  # raw student numbers and guardian sourcedIds, as in the raw files
    names: list[str]  # given and family names of students, guardians and staff
    notes: list[str]  # free-text notes (or distinctive substrings of them)
    payloads: list[str] = field(default_factory=lambda: list(PAYLOADS))
    staff_ids: list[str] = field(default_factory=list)  # raw staff ids (not asserted on)
    school_ids: dict[str, str] = field(default_factory=dict)  # sample id -> planted id
    class_ids: dict[str, str] = field(default_factory=dict)
    small_school: str = SMALL_SCHOOL
    headerless_file: Path | None = None
    files: dict[str, str] = field(default_factory=dict)  # raw file -> what was planted there


_ONSETS = ("Zh", "Qu", "Vr", "Xy", "Thr", "Kv", "Yz", "Bry", "Fyl", "Gw", "Dr", "Sk", "Wr",
           "Pl", "Jh")
_NUCLEI = ("ae", "yo", "ui", "oa", "ei", "ya", "eo")
_CODAS = ("ndrix", "lquen", "vetch", "rzyn", "mbrek", "xholt", "thwyn", "skov", "quell",
          "ndor")


def _name_pool(n: int, seed: int = 20260) -> list[str]:
    """``n`` distinct invented names (no English word, no name of the sample's lists)."""
    pool = ["".join(p) for p in itertools.product(_ONSETS, _NUCLEI, _CODAS)]
    random.Random(seed).shuffle(pool)
    if n > len(pool):
        raise ValueError(f"only {len(pool)} invented names")
    return pool[:n]


def _replace_ids(frame, column: str, mapping: dict[str, str]) -> None:
    if column not in frame:
        return
    if isinstance(frame[column].dtype, pd.CategoricalDtype):
        frame[column] = frame[column].cat.rename_categories(lambda c: mapping.get(c, c))
    else:
        frame[column] = frame[column].astype(object).replace(mapping).astype(frame[column].dtype)


def _division():
    """The 40-student sample division, with invented names, one school of 12 and payload
    ids, changed before the exports are written so every file agrees."""
    import numpy as np

    from engagement.config import SampleConfig
    from engagement.sample import simulate

    div = simulate(SampleConfig.from_dict({"seed": 0, "students": 40}))
    s, staff = div.students, div.staff
    names = _name_pool(2 * len(s) + 2 * len(staff) + len(s))
    s["given_name"] = names[:len(s)]
    s["family_name"] = names[len(s):2 * len(s)]
    rest = names[2 * len(s):]
    staff["given_name"] = rest[:len(staff)]
    staff["family_name"] = rest[len(staff):2 * len(staff)]
    staff["display_name"] = (staff["display_name"].str.split(" ").str[0] + " "
                             + staff["family_name"])
    guardian_given = rest[2 * len(staff):2 * len(staff) + len(s)]

    # School 101 keeps 12 students: its oldest (grade 6) moves up to grade 7 at the junior
    # high (the roster, conferences and contact log say so; last year's classes stay).
    small = np.flatnonzero((s["school_id"] == SMALL_SCHOOL).to_numpy())
    mover = small[np.argmax(s["grade_level"].to_numpy()[small])]
    s.loc[mover, ["school_id", "grade_level"]] = ["102", 7]

    # Payload school ids, renamed in every table that carries one.
    for frame in (div.schools, s, staff, div.classes, div.enrollments, div.assignments,
                  div.broadcasts):
        _replace_ids(frame, "school_id", SCHOOL_IDS)
    _replace_ids(div.broadcasts, "audience_id", SCHOOL_IDS)

    # Payload staff ids.
    for frame in (staff, div.classes, div.enrollments, div.contacts, div.conferences):
        _replace_ids(frame, "teacher_id", STAFF_IDS)

    # Payload class ids: one junior-high class, one elementary class (a bare CR); never the
    # Canvas class (its id names the gradebook file).
    c = div.classes
    canvas = str(c[(c["grade_level"] >= 10) & (c["subject"] == "french")]["class_id"].iloc[0])
    jh = c[(c["school_id"] == SCHOOL_IDS["102"]) & (c["class_id"] != canvas)]["class_id"]
    el = c[(c["school_id"] == SMALL_SCHOOL)]["class_id"]
    class_ids = {str(jh.iloc[-1]): HYPERLINK, str(el.iloc[1]): str(el.iloc[1]) + "\rB"}
    for frame in (div.classes, div.enrollments, div.assignments, div.results):
        _replace_ids(frame, "class_id", class_ids)

    # Payload titles and ids of assignments (OneRoster lineItems; never in the Canvas class,
    # whose gradebook header carries the title).
    a = div.assignments
    a.loc[a["title"] == "Science Fair Project", "title"] = CAMPAIGN_TITLE
    plain = a.index[(a["class_id"] != canvas) & (a["title"] != CAMPAIGN_TITLE)]
    titles = (SCRIPT, MD_LINK, IMG, HYPERLINK, PLUS, AT, MINUS, CR_VALUE)
    for row, title in zip(plain[::97], titles, strict=False):
        a.loc[row, "title"] = title
    # Ids go through the results export unquoted: only payloads without , " or CR.
    id_rows = plain[5::131][:3]
    new_ids = dict(zip(a.loc[id_rows, "assignment_id"], (PLUS, AT, MINUS), strict=True))
    _replace_ids(a, "assignment_id", new_ids)
    _replace_ids(div.results, "assignment_id", new_ids)
    return div, guardian_given, class_ids


def _read_csv(path: Path, encoding: str = "utf-8") -> tuple[list[list[str]], str]:
    text = path.read_bytes().decode(encoding)
    return list(csv.reader(io.StringIO(text, newline=""))), text


def _write_csv(path: Path, rows: list[list[str]], *, bom: bool = False) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig" if bom else "utf-8"))


def build(root: Path) -> Planted:
    """Write the adversarial raw folder ``root/raw`` (with ``key.txt`` inside it)."""
    from engagement.sample.exports import write_exports

    root = Path(root)
    raw = root / "raw"
    div, guardian_given, class_ids = _division()
    write_exports(div, raw)
    planted_files: dict[str, str] = {}
    s = div.students
    given = dict(zip(s["student_id"], s["given_name"], strict=True))
    family = dict(zip(s["student_id"], s["family_name"], strict=True))
    guardian = dict(zip(s["student_id"], guardian_given, strict=True))

    # Guardians get their own given names (OneRoster users and the booking system).
    users = raw / "oneroster" / "users.csv"
    rows, _ = _read_csv(users)
    header = rows[0]
    col = {name: i for i, name in enumerate(header)}
    for row in rows[1:]:
        if row[col["role"]] == "guardian":
            row[col["givenName"]] = guardian[row[col["agentSourcedIds"]]]
    _write_csv(users, rows)
    planted_files["oneroster/users.csv"] = "invented names; guardians named"
    conf = raw / "conference_schedule.csv"
    rows, _ = _read_csv(conf, "utf-8-sig")
    col = {name: i for i, name in enumerate(rows[0])}
    number = {sid.lstrip("0"): sid for sid in s["student_id"]}
    for row in rows[1:]:
        if row:  # the planted blank line stays
            sid = number[row[col["Student Number"]]]
            row[col["Guardian"]] = f"{guardian[sid]} {family[sid]}"
    _write_csv(conf, rows, bom=True)
    planted_files["conference_schedule.csv"] = "guardian full names; payload school ids"

    # Notes in odd columns of the teachers' Excel log.
    from openpyxl import load_workbook

    log = raw / f"contact_log_{SMALL_SCHOOL}.xlsx"
    wb = load_workbook(log)
    ws = wb.active
    head = [c.value for c in ws[1]]
    template = [c.value for c in ws[2]]
    for i, (column, note) in enumerate(SHIFTED_NOTES.items()):
        # The note typed (or pasted, shifted) into another column; Notes left empty.
        row = list(template)
        row[head.index(column)] = note
        row[head.index("Notes")] = None
        ws.insert_rows(3 + i)
        for j, value in enumerate(row, start=1):
            ws.cell(row=3 + i, column=j, value=value)
    wb.save(log)
    planted_files[log.name] = "notes in the Date, Type, Initiated by, Reason, Outcome columns"

    # ... and of the PowerSchool log (a CSV).
    ps = raw / "powerschool_log.csv"
    rows, _ = _read_csv(ps)
    col = {name: i for i, name in enumerate(rows[0])}
    contact = next(r for r in rows[1:] if r[col["LogTypeID"]] == "3")
    for column, note in POWERSCHOOL_NOTES.items():
        row = list(contact)
        row[col[column]] = note
        rows.insert(2, row)
    _write_csv(ps, rows)
    planted_files[ps.name] = "notes in Entry_Date, Subtype, Category, Consequence"

    # A headerless export: line 1 is a record, not column names.
    ids = list(s["student_id"][s["school_id"] == SMALL_SCHOOL])[:3]
    headerless = raw / "teacher_contacts_export.csv"
    _write_csv(headerless, [
        [sid, f"{given[sid]} {family[sid]}", f"2025-11-0{i + 3}", "Phone", "reached", note]
        for i, (sid, note) in enumerate(zip(ids, HEADERLESS_NOTES, strict=True))])
    planted_files[headerless.name] = "no header: first line is id, name, date, note"

    # The key, inside the raw folder.
    key_text = secrets.token_hex(32)
    key_file = raw / "key.txt"
    key_file.write_text(key_text + "\n", encoding="ascii")
    planted_files[key_file.name] = "the pseudonym key"

    student_ids = list(s["student_id"]) + ["G" + sid for sid in s["student_id"]]
    stripped = [sid.lstrip("0") for sid in s["student_id"] if sid.startswith("0")]
    student_ids += [sid for sid in stripped if len(sid) >= 5]  # as the booking system has them
    names = (list(s["given_name"]) + list(s["family_name"]) + list(guardian_given)
             + list(div.staff["given_name"]) + list(div.staff["family_name"]))
    notes = (list(SHIFTED_NOTES.values()) + list(POWERSCHOOL_NOTES.values())
             + list(HEADERLESS_NOTES) + list(TEMPLATE_NOTES))
    return Planted(
        raw_dir=raw, key_file=key_file, key_text=key_text,
        student_ids=sorted(set(student_ids)), names=sorted(set(names)), notes=notes,
        staff_ids=sorted(set(div.staff["teacher_id"])), school_ids=dict(SCHOOL_IDS),
        class_ids=class_ids, headerless_file=headerless, files=planted_files)
