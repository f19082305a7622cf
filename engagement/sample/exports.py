"""Write the simulated division as the raw, messy exports schools really have.

Not clean tables: a teacher's contact spreadsheet with names instead of ids and
mixed date formats, a PowerSchool log export, a conference scheduler's CSV that
went through Excel, a broadcast log, a OneRoster 1.1 bundle and one Canvas
gradebook. Defects are planted on purpose and counted in ``ground_truth.json``
so that the cleaning can be checked exactly. Output is byte-for-byte
reproducible for a given seed.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from engagement.sample.simulate import Division

FIXED_TIME = (2026, 7, 1, 0, 0, 0)  # zip and workbook timestamps, for reproducibility

# Raw spellings teachers write, per canonical value (all known to the vocabulary).
CHANNEL_SPELLINGS = {
    "phone": ["Phone", "phone call", "PH", "Tel.", "Called"],
    "meeting": ["Mtg", "In person", "Meeting"],
    "video_call": ["Zoom", "Video call", "Teams"],
    "home_visit": ["Home visit", "HV"],
    "email": ["e-mail", "Email ", "email"],
    "text": ["txt", "SMS", "Text"],
    "portal_message": ["Portal", "PowerSchool message"],
    "letter": ["Note home", "Letter"],
}
INITIATOR_SPELLINGS = {"school": ["Teacher", "Me", "school"], "parent": ["Parent", "Mom", "Dad"]}
PURPOSE_SPELLINGS = {
    "missing_work": ["Missing work", "missing assignments", "Homework"],
    "behaviour": ["Behaviour", "Behavior"], "attendance": ["Attendance", "absent"],
    "positive": ["Positive call", "Good news"], "academic": ["Academic", "Grades"],
    "general": ["General", "Info"], "health": ["Health", "Medical"],
}
OUTCOME_SPELLINGS = {"reached": ["Spoke with parent", "Talked", "reached"],
                     "left_message": ["Left message", "LM", "voicemail"],
                     "no_answer": ["No answer", "no response"]}
WRITTEN_OUTCOME = "Sent"
UNKNOWN_CHANNEL = "Seesaw"  # an app the vocabulary does not know: must be reported
PS_SUBTYPE = {("phone", "reached"): "PCT", ("phone", "left_message"): "PCA",
              ("phone", "no_answer"): "PCA", "meeting": "PCM", "email": "PCE",
              "text": "PCX", "letter": "PCL", "portal_message": "PCP",
              "video_call": "PCV", "home_visit": "PCH"}
PS_CATEGORY = {"missing_work": "Missing Work", "behaviour": "Behaviour",
               "attendance": "Attendance", "positive": "Positive", "academic": "Academic",
               "general": "General", "health": "Health"}
DISCIPLINE_FIELDS = [
    "Discipline_ActionTaken", "Discipline_ActionTakenDetail", "Discipline_ActionTakenEndDate",
    "Discipline_DurationActual", "Discipline_DurationAssigned", "Discipline_IncidentDate",
    "Discipline_IncidentLocation", "Discipline_IncidentType", "Discipline_Offender",
    "Discipline_Reporter", "Discipline_VictimType", "Discipline_WeaponType",
]
# Fake free-text notes around the child's first name: the privacy step must drop them.
NOTES = (
    ("Spoke with ", "'s mom about the missing work. She will check the agenda nightly."),
    ("", " says the work is at home; dad will help finish it this weekend."),
    ("Left a message about ", "'s project; asked for a call back."),
    ("Grandmother answered; ", " has been unwell. Will send work home."),
    ("Discussed ", "'s plan to catch up at lunch."),
)


def _notes(rng, given: np.ndarray) -> np.ndarray:
    pick = rng.integers(0, len(NOTES), len(given))
    before = np.array([b for b, _ in NOTES], dtype=object)[pick]
    after = np.array([a for _, a in NOTES], dtype=object)[pick]
    return before + given.astype(object) + after


def _pick(rng, spellings: dict[str, list[str]], values: np.ndarray) -> np.ndarray:
    """A raw spelling for each canonical value, drawn among its variants."""
    out = np.empty(len(values), dtype=object)
    for value, options in spellings.items():
        where = np.flatnonzero(values == value)
        out[where] = np.array(options, dtype=object)[rng.integers(0, len(options), len(where))]
    return out


def _local(div: Division, day, minute) -> pd.DatetimeIndex:
    from engagement.sample.simulate import Calendar
    return Calendar(div.config).timestamps(np.asarray(day), np.asarray(minute))


def _csv(frame: pd.DataFrame, path: Path, *, encoding="utf-8", sep=",", decimal=".") -> None:
    """Excel-style CSV (CRLF), streamed to the file in chunks rather than built in memory."""
    frame.to_csv(path, index=False, sep=sep, decimal=decimal, lineterminator="\r\n",
                 encoding=encoding, chunksize=200_000)


def _duplicate_rows(frame: pd.DataFrame, rng, n: int) -> pd.DataFrame:
    """Re-exported rows: copies of ``n`` rows placed right after their originals."""
    picks = np.sort(rng.choice(len(frame), size=min(n, len(frame)), replace=False))
    order = np.concatenate([np.arange(len(frame)), picks])
    position = np.concatenate([np.arange(len(frame), dtype=float), picks + 0.5])
    return frame.iloc[order[np.argsort(position, kind="stable")]].reset_index(drop=True)


def _misspell(names: np.ndarray) -> np.ndarray:
    """Swap two letters in the middle of the given name: what a hurried teacher types."""
    out = names.copy()
    for i, name in enumerate(names):  # a handful of planted rows, not a data path
        given, _, family = name.partition(" ")
        k = len(given) // 2
        out[i] = given[:k - 1] + given[k] + given[k - 1] + given[k + 1:] + " " + family
    return out


def write_exports(div: Division, out: Path) -> dict:
    """Write every raw export into ``out``; return the planted defects per file."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(np.random.SeedSequence(div.config.seed).spawn(12)[11])
    students = div.students
    contacts = div.contacts.assign(
        student_id=students["student_id"].to_numpy()[div.contacts["stu"]],
        school_id=students["school_id"].to_numpy()[div.contacts["stu"]],
        grade=students["grade_level"].to_numpy()[div.contacts["stu"]],
    )
    elementary = contacts["grade"] <= 6
    canvas_class = _canvas_class(div)
    defects = {}
    defects.update(_teacher_spreadsheets(div, contacts[elementary], out, rng))
    defects.update(_powerschool_log(div, contacts[~elementary], out, rng))
    defects.update(_conference_schedule(div, out, rng))
    defects.update(_broadcast_log(div, out, rng))
    defects.update(_oneroster(div, out, canvas_class, rng))
    defects.update(_canvas(div, out, canvas_class))
    return defects


def _teacher_spreadsheets(div: Division, contacts: pd.DataFrame, out: Path, rng) -> dict:
    """One Excel workbook per elementary school, kept by hand by its teachers."""
    defects = {}
    staff_name = div.staff.set_index("teacher_id")["display_name"]
    for school_id, group in contacts.groupby("school_id", sort=True):
        group = group.reset_index(drop=True)
        n = len(group)
        stu = group["stu"].to_numpy()
        name = (div.students["given_name"].to_numpy()[stu] + " "
                + div.students["family_name"].to_numpy()[stu]).astype(object)
        when = _local(div, group["day"], group["minute"])
        channel = _pick(rng, CHANNEL_SPELLINGS, group["channel"].to_numpy())
        written = group["mode"].to_numpy() == "written"
        outcome = np.where(written, WRITTEN_OUTCOME,
                           _pick(rng, OUTCOME_SPELLINGS, group["outcome"].to_numpy()))
        notes = _notes(rng, div.students["given_name"].to_numpy()[stu])
        # Dates: mostly real Excel dates, some typed as day/month/year (this school
        # writes Canadian day-first), some as '3 Oct 2025'.
        style = rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
        dates = np.empty(n, dtype=object)
        dates[style == 0] = when[style == 0].tz_localize(None).normalize().to_pydatetime()
        dates[style == 1] = when[style == 1].strftime("%d/%m/%Y").to_numpy()
        dates[style == 2] = when[style == 2].strftime("%-d %b %Y").to_numpy()
        sheet = pd.DataFrame({
            "Date": dates, "School": school_id, "Student": name,
            "Teacher": staff_name.reindex(group["teacher_id"]).to_numpy(),
            "Type": channel,
            "Initiated by": _pick(rng, INITIATOR_SPELLINGS, group["initiator"].to_numpy()),
            "Reason": _pick(rng, PURPOSE_SPELLINGS, group["purpose"].to_numpy()),
            "Outcome": outcome, "Notes": notes,
        })
        k = max(1, n // 100)
        rows = rng.choice(n, size=2 * k + 2, replace=False)
        misspelled, unknown, impossible = rows[:2 * k], rows[2 * k], rows[2 * k + 1]
        long_enough = np.array([len(s.partition(" ")[0]) >= 5 for s in name[misspelled]])
        misspelled = misspelled[long_enough]
        typo = _misspell(name[misspelled])
        changed = typo != name[misspelled]  # 'Anna' stays 'Anna'
        misspelled = misspelled[changed]
        sheet.loc[misspelled, "Student"] = typo[changed]
        sheet.loc[unknown, "Type"] = UNKNOWN_CHANNEL
        sheet.loc[impossible, "Date"] = "31/02/2026"
        n_dup = max(1, n // 200)
        sheet = _duplicate_rows(sheet, rng, n_dup)
        blank_at = int(rng.integers(1, len(sheet)))
        rows_out = (list(sheet.iloc[:blank_at].itertuples(index=False)) + [()]
                    + list(sheet.iloc[blank_at:].itertuples(index=False))
                    + [("Total", f"{len(sheet)} contacts")])
        name_out = f"contact_log_{school_id}.xlsx"
        _xlsx(out / name_out, list(sheet.columns), rows_out)
        defects[name_out] = {
            "rows": len(rows_out), "duplicate_rows": n_dup,
            "misspelled_names": int(len(misspelled)), "unknown_channels": 1,
            "impossible_dates": 1, "blank_lines": 1, "total_rows": 1,
            # Typed day/month/year, the impossible 31/02/2026 included (read, then
            # quarantined), duplicates not (dropped before dates are read).
            "day_first_dates": int((style == 1).sum() - (style[impossible] == 1) + 1),
        }
    return defects


def _xlsx(path: Path, header: list[str], rows: list[tuple]) -> None:
    """An Excel workbook whose bytes depend only on its content."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.properties.creator = "engagement sample"
    wb.properties.created = wb.properties.modified = datetime(*FIXED_TIME)
    ws = wb.create_sheet("Contacts")
    ws.append(header)
    for row in rows:  # openpyxl writes row by row; sample-sized, not a data path
        ws.append(list(row))
    buffer = io.BytesIO()
    wb.save(buffer)
    _zip_without_timestamps(buffer.getvalue(), path)


def _zip_without_timestamps(data: bytes, path: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as src, io.BytesIO() as dst_buf:
        with zipfile.ZipFile(dst_buf, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                content = src.read(item.filename)
                if item.filename == "docProps/core.xml":
                    content = _fixed_core_xml(content)
                info = zipfile.ZipInfo(item.filename, date_time=FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                dst.writestr(info, content)
        path.write_bytes(dst_buf.getvalue())


def _fixed_core_xml(content: bytes) -> bytes:
    import re

    stamp = b"2026-07-01T00:00:00Z"
    return re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, content)


def _powerschool_log(div: Division, contacts: pd.DataFrame, out: Path, rng) -> dict:
    """PowerSchool's Log table for the secondary schools: parent contacts are log type 3,
    with some discipline entries (log type -100000) in the same export."""
    contacts = contacts.reset_index(drop=True)
    n = len(contacts)
    students = div.students
    dcid = 5000 + np.arange(len(students))
    stu = contacts["stu"].to_numpy()
    when = _local(div, contacts["day"], contacts["minute"])
    channel = contacts["channel"].to_numpy()
    outcome = contacts["outcome"].to_numpy()
    subtype = pd.Series(channel).map(lambda c: PS_SUBTYPE.get(c, "")).to_numpy(dtype=object)
    phone = channel == "phone"
    subtype[phone & (outcome == "reached")] = "PCT"
    subtype[phone & (outcome != "reached")] = "PCA"
    log = pd.DataFrame({
        "StudentID": dcid[stu], "Student_Number": contacts["student_id"].to_numpy(),
        "SchoolID": contacts["school_id"].to_numpy(), "TeacherID": contacts["teacher_id"],
        "Entry_Author": div.staff.set_index("teacher_id")["display_name"]
        .reindex(contacts["teacher_id"]).to_numpy(),
        "Entry_Date": when.strftime("%m/%d/%Y"), "Entry_Time": when.strftime("%-I:%M %p"),
        "LogTypeID": 3, "Subtype": subtype, "Subject": "Parent contact",
        "Entry": _notes(rng, students["given_name"].to_numpy()[stu]),
        "Consequence": np.where(contacts["initiator"] == "parent", "Parent initiated",
                                "School initiated"),
        "Category": contacts["purpose"].map(PS_CATEGORY).to_numpy(),
    })
    # Discipline entries share the export; they are not parent contacts.
    n_disc = max(1, n // 20)
    pick = rng.choice(n, size=n_disc, replace=False)
    disc = log.iloc[np.sort(pick)].assign(LogTypeID=-100000, Subtype="", Subject="Incident",
                                          Entry="Disruption in class.", Category="Behaviour",
                                          Consequence="Detention")
    log = pd.concat([log, disc]).sort_values(["Entry_Date", "StudentID"], kind="stable")
    for name in DISCIPLINE_FIELDS:
        log[name] = ""
    n_dup = max(1, n // 150)
    log = _duplicate_rows(log.reset_index(drop=True), rng, n_dup)
    _csv(log, out / "powerschool_log.csv")
    return {"powerschool_log.csv": {"rows": len(log), "duplicate_rows": n_dup,
                                    "not_contact_entries": n_disc}}


def _conference_schedule(div: Division, out: Path, rng) -> dict:
    """A scheduler's export that went through Excel: student numbers lost their zeros."""
    conf = div.conferences
    stu = conf["stu"].to_numpy()
    students = div.students
    when = _local(div, conf["day"], conf["minute"])
    status = conf["status"].map({"attended": "Attended", "no_show": "No-show",
                                 "cancelled": "Cancelled", "rescheduled": "Rescheduled"})
    who = np.where(conf["student_present"], "Parent; Student",
                   np.where(conf["parent_present"], "Parent", ""))
    invited = conf["invited_via"].map({"phone": "Phone call", "letter": "Note home",
                                       "sis_bulletin": "PowerSchool bulletin",
                                       "newsletter": "Newsletter"})
    number = students["student_id"].to_numpy()[stu]
    sheet = pd.DataFrame({
        "Booking ID": conf["conference_id"], "Slot": when.strftime("%Y-%m-%d %H:%M"),
        "Student Number": pd.Series(number).astype(int).astype(str).to_numpy(),
        "Student": students["family_name"].to_numpy()[stu] + ", "
        + students["given_name"].to_numpy()[stu],
        "School": students["school_id"].to_numpy()[stu],
        "Teacher ID": conf["teacher_id"], "Guardian": "Parent/Guardian of "
        + students["given_name"].to_numpy()[stu],
        "Meeting Type": np.where(conf["format"] == "three_way", "3-Way Conference",
                                 "Parent-Teacher"),
        "Status": status, "Attended By": who, "Invited Via": invited,
        "Rescheduled From": conf["rescheduled_from"].fillna(""),
    })
    n_dup = max(1, len(sheet) // 400)
    sheet = _duplicate_rows(sheet, rng, n_dup)
    blank_at = int(rng.integers(1, len(sheet)))
    text = sheet.to_csv(index=False, lineterminator="\r\n").split("\r\n")
    text.insert(blank_at + 1, "")
    (out / "conference_schedule.csv").write_bytes("\r\n".join(text).encode("utf-8-sig"))
    stripped = int(sum(s.startswith("0") for s in number))
    return {"conference_schedule.csv": {"rows": len(sheet) + 1, "duplicate_rows": n_dup,
                                        "blank_lines": 1, "ids_lost_leading_zeros": stripped}}


def _broadcast_log(div: Division, out: Path, rng) -> dict:
    b = div.broadcasts
    when = _local(div, b["day"], b["minute"])
    spellings = {"sis_bulletin": ["PowerSchool bulletin", "Weekly bulletin"],
                 "newsletter": ["Newsletter"],
                 "social_media": ["Twitter", "FB", "Facebook post", "Instagram"]}
    log = pd.DataFrame({
        "Date": when.strftime("%Y-%m-%d %H:%M"), "School": b["school_id"],
        "Channel": _pick(rng, spellings, b["channel"].to_numpy()),
        "Audience": "Whole school", "Subject": "School news",
    })
    n_dup = 2
    log = _duplicate_rows(log, rng, n_dup)
    _csv(log, out / "broadcast_log.csv")
    return {"broadcast_log.csv": {"rows": len(log), "duplicate_rows": n_dup}}


def _canvas_class(div: Division) -> str:
    """A French class at the first high school: its teacher grades in Canvas."""
    c = div.classes
    pick = c[(c["grade_level"] >= 10) & (c["subject"] == "french")]
    return str(pick["class_id"].iloc[0])


def _iso(stamps: pd.DatetimeIndex) -> np.ndarray:
    return stamps.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()


def _oneroster(div: Division, out: Path, canvas_class: str, rng) -> dict:
    """A OneRoster 1.1 CSV bundle: roster and gradebook for every class but the Canvas one."""
    folder = out / "oneroster"
    folder.mkdir(exist_ok=True)
    s, cl, staff = div.students, div.classes, div.staff
    modified = "2026-06-30T12:00:00Z"
    year = "2025-2026"
    grades = np.where(s["grade_level"] == 0, "KG", s["grade_level"].map("{:02d}".format))
    files = {}
    files["manifest.csv"] = pd.DataFrame({
        "propertyName": ["manifest.version", "oneroster.version", "file.academicSessions",
                         "file.categories", "file.classes", "file.classResources",
                         "file.courses", "file.courseResources", "file.demographics",
                         "file.enrollments", "file.lineItems", "file.orgs", "file.resources",
                         "file.results", "file.users", "source.systemName",
                         "source.systemCode"],
        "value": ["1.0", "1.1", "bulk", "bulk", "bulk", "absent", "absent", "absent", "absent",
                  "bulk", "bulk", "bulk", "absent", "bulk", "bulk", "engagement sample",
                  "sample"],
    })
    files["orgs.csv"] = pd.DataFrame({
        "sourcedId": ["100"] + list(div.schools["school_id"]), "status": "active",
        "dateLastModified": modified,
        "name": ["Aspen Parkland School Division"] + list(div.schools["name"]),
        "type": ["district"] + ["school"] * len(div.schools), "identifier": "",
        "parentSourcedId": [""] + ["100"] * len(div.schools),
    })
    files["academicSessions.csv"] = pd.DataFrame({
        "sourcedId": [year], "status": "active", "dateLastModified": modified,
        "title": ["2025-2026 School Year"], "type": ["schoolYear"],
        "startDate": [div.config.first_day], "endDate": [div.config.last_day],
        "parentSourcedId": [""], "schoolYear": ["2026"],
    })
    students = pd.DataFrame({
        "sourcedId": s["student_id"], "status": "active", "dateLastModified": modified,
        "enabledUser": "true", "orgSourcedIds": s["school_id"], "role": "student",
        "username": (s["student_id"] + "@students.example.org"), "userIds": "",
        "givenName": s["given_name"], "familyName": s["family_name"], "middleName": "",
        "identifier": s["student_id"], "email": "", "sms": "", "phone": "",
        "agentSourcedIds": "G" + s["student_id"], "grades": grades, "password": "",
    })
    guardians = students.assign(
        sourcedId="G" + s["student_id"], role="guardian", username="", identifier="",
        givenName="Parent", agentSourcedIds=s["student_id"], grades="")
    teachers = pd.DataFrame({
        "sourcedId": staff["teacher_id"], "status": "active", "dateLastModified": modified,
        "enabledUser": "true", "orgSourcedIds": staff["school_id"], "role": "teacher",
        "username": staff["teacher_id"].str.lower() + "@example.org", "userIds": "",
        "givenName": staff["given_name"], "familyName": staff["family_name"], "middleName": "",
        "identifier": staff["teacher_id"], "email": "", "sms": "", "phone": "",
        "agentSourcedIds": "", "grades": "", "password": "",
    })
    files["users.csv"] = pd.concat([students, guardians, teachers], ignore_index=True)
    files["classes.csv"] = pd.DataFrame({
        "sourcedId": cl["class_id"], "status": "active", "dateLastModified": modified,
        "title": cl["subject"].str.replace("_", " ").str.title() + " "
        + cl["grade_level"].astype(str) + "-" + (cl["section"] + 1).astype(str),
        "grades": np.where(cl["grade_level"] == 0, "KG", cl["grade_level"].map("{:02d}".format)),
        "courseSourcedId": "", "classCode": cl["class_id"], "classType": "scheduled",
        "location": "", "schoolSourcedId": cl["school_id"], "termSourcedIds": year,
        "subjects": cl["subject"], "subjectCodes": "", "periods": "",
    })
    e = div.enrollments
    stu_enrol = pd.DataFrame({
        "classSourcedId": e["class_id"], "schoolSourcedId": e["school_id"],
        "userSourcedId": s["student_id"].to_numpy()[e["stu"]], "role": "student",
        "primary": "false"})
    teach_enrol = pd.DataFrame({
        "classSourcedId": cl["class_id"], "schoolSourcedId": cl["school_id"],
        "userSourcedId": cl["teacher_id"], "role": "teacher", "primary": "true"})
    enrol = pd.concat([stu_enrol, teach_enrol], ignore_index=True)
    enrol.insert(0, "sourcedId", [f"E{i + 1:07d}" for i in range(len(enrol))])
    enrol.insert(1, "status", "active")
    enrol.insert(2, "dateLastModified", modified)
    enrol["beginDate"] = div.config.first_day
    enrol["endDate"] = div.config.last_day
    files["enrollments.csv"] = enrol
    cats = ["homework", "quiz", "project", "test"]
    files["categories.csv"] = pd.DataFrame({
        "sourcedId": [f"CAT-{c}" for c in cats], "status": "active",
        "dateLastModified": modified, "title": [c.title() for c in cats]})
    a = div.assignments[div.assignments["class_id"] != canvas_class]
    tz_local = _local(div, a["due_day"], np.full(len(a), 23 * 60 + 59))
    files["lineItems.csv"] = pd.DataFrame({
        "sourcedId": a["assignment_id"], "status": "active", "dateLastModified": modified,
        "title": a["title"], "description": "",
        "assignDate": _local(div, a["assigned_day"], np.full(len(a), 8 * 60)).strftime("%Y-%m-%d"),
        "dueDate": _iso(tz_local), "classSourcedId": a["class_id"],
        "categorySourcedId": "CAT-" + a["category"], "gradingPeriodSourcedId": year,
        "resultValueMin": "0", "resultValueMax": a["points_possible"].map("{:g}".format),
    })
    for name, frame in files.items():
        _csv(frame, folder / name)
    rows = {name: len(frame) for name, frame in files.items()}
    rows["results.csv"] = _oneroster_results(div, canvas_class, modified, rng,
                                             folder / "results.csv")
    return {f"oneroster/{name}": {"rows": n} for name, n in rows.items()}


def _oneroster_results(div: Division, canvas_class: str, modified: str, rng, path: Path,
                       chunk: int = 2_000_000) -> int:
    """Write results as a SIS does: 'not submitted' carries a score of 0 (the known trap),
    and a few handed-in pieces are not graded yet ('submitted', no score).

    Every column is a small integer code into a lookup table (a few hundred distinct
    scores and days), and the file is written a chunk at a time, so 30M rows never go
    through per-row string formatting or sit in memory as text. Returns the row count.
    """
    keep = (div.results["class_id"] != canvas_class).to_numpy()
    n = int(keep.sum())
    assignment = div.results["assignment"].to_numpy()[keep]
    pp = div.assignments["points_possible"].to_numpy()[assignment]
    status = div.results["status"]
    code = status.cat.codes.to_numpy()[keep]
    on_time, late, missing, excused = (list(status.cat.categories).index(s)
                                       for s in ("on_time", "late", "missing", "excused"))
    handed_in = (code == on_time) | (code == late)
    ungraded = handed_in & (rng.random(n) < 0.03)
    status_code = np.select([ungraded, handed_in, code == missing, code == excused],
                            [0, 1, 2, 3], 4).astype(np.int8)
    status_labels = ["submitted", "fully graded", "not submitted", "exempt", ""]
    score = np.round(div.results["score_pct"].to_numpy()[keep] * pp * 2) / 2
    graded = handed_in & ~ungraded
    # Missing work is written as a score of 0; not-yet-graded and excused work as blank.
    values, index = np.unique(np.append(score[graded], 0.0), return_inverse=True)
    score_labels = [f"{v:g}" for v in values] + [""]
    score_code = np.where(code == missing, index[-1], len(values)).astype(np.int32)
    score_code[graded] = index[:-1]
    submit = div.results["submit_day"].to_numpy()[keep]
    days = np.arange(int(submit.max()) + 1)
    day_labels = list(_local(div, days, np.zeros(len(days), dtype=np.int64))
                      .strftime("%Y-%m-%d")) + [""]
    date_code = np.where(handed_in, submit, len(days)).astype(np.int32)
    stu = div.results["stu"].to_numpy()[keep]
    students = pd.Index(div.students["student_id"], dtype="str")
    assignment_ids = pd.Index(div.assignments["assignment_id"], dtype="str")
    del code, handed_in, ungraded, score, graded, submit, pp
    columns = {
        "sourcedId": None, "status": (np.zeros(n, dtype=np.int8), ["active"]),
        "dateLastModified": (np.zeros(n, dtype=np.int8), [modified]),
        "lineItemSourcedId": (assignment, assignment_ids),
        "studentSourcedId": (stu, students),
        "scoreStatus": (status_code, status_labels), "score": (score_code, score_labels),
        "scoreDate": (date_code, day_labels), "comment": (np.zeros(n, dtype=np.int8), [""]),
    }
    _write_coded_csv(path, columns, n, chunk)
    return n


def _write_coded_csv(path: Path, columns: dict, n: int, chunk: int) -> None:
    """Write columns given as (codes, labels) to an Excel-style CSV with Arrow's writer,
    a chunk at a time; ``None`` is the running row id ('R00000001'...). Values here
    never need quoting, which the writer checks."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv

    labels = {name: pa.array(list(spec[1]), type=pa.string())
              for name, spec in columns.items() if spec is not None}
    schema = pa.schema([(name, pa.string()) for name in columns])
    options = pa_csv.WriteOptions(quoting_style="none", quoting_header="none", eol="\r\n")
    with pa_csv.CSVWriter(path, schema, write_options=options) as writer:
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            ids = pc.utf8_lpad(pc.cast(pa.array(np.arange(start + 1, stop + 1)), pa.string()),
                               8, "0")
            arrays = [pc.binary_join_element_wise("R", ids, "") if spec is None
                      else labels[name].take(pa.array(spec[0][start:stop]))
                      for name, spec in columns.items()]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))


def _canvas(div: Division, out: Path, class_id: str) -> dict:
    """Canvas' gradebook CSV from a French-language class: ';' and decimal commas, a BOM,
    the 'Points Possible' row, read-only totals, 'EX' for excused and the test student."""
    a = div.assignments[div.assignments["class_id"] == class_id].reset_index(drop=True)
    r = div.results[div.results["class_id"] == class_id]
    s = div.students
    canvas_ids = 81000 + np.arange(len(a))
    headers = [f"{t} ({i})" for t, i in zip(a["title"], canvas_ids, strict=True)]
    points = a["points_possible"].to_numpy()
    wide_pct = r.pivot(index="stu", columns="assignment_id", values="score_pct")
    wide_status = r.pivot(index="stu", columns="assignment_id", values="status")
    wide_pct = wide_pct[a["assignment_id"]]
    wide_status = wide_status[a["assignment_id"]]
    score = np.round(wide_pct.to_numpy() * points * 2) / 2
    cells = pd.DataFrame(score).map(lambda v: "" if np.isnan(v) else f"{v:g}".replace(".", ","))
    cells = cells.mask(wide_status.to_numpy() == "excused", "EX")
    stu = wide_status.index.to_numpy()
    total = np.nanmean(wide_pct.to_numpy(), axis=1) * 100
    body = pd.DataFrame({
        "Student": s["family_name"].to_numpy()[stu] + ", " + s["given_name"].to_numpy()[stu],
        "ID": 2000 + stu, "SIS User ID": s["student_id"].to_numpy()[stu],
        "SIS Login ID": s["student_id"].to_numpy()[stu] + "@students.example.org",
        "Section": class_id,
    })
    body = pd.concat([body, pd.DataFrame(cells.to_numpy(), columns=headers)], axis=1)
    body["Current Score"] = pd.Series(total).map("{:.2f}".format).str.replace(".", ",").to_numpy()
    body["Final Score"] = body["Current Score"]
    meta = {c: "" for c in body.columns}
    possible = dict(meta, Student="    Points Possible",
                    **{h: f"{p:g}" for h, p in zip(headers, points, strict=True)},
                    **{"Current Score": "(read only)", "Final Score": "(read only)"})
    posting = dict(meta, Student="", **{h: "Manual Posting" for h in headers})
    test = dict(meta, Student="Student, Test", ID="99999", Section=class_id,
                **{h: "0" for h in headers})
    table = pd.concat([pd.DataFrame([posting, possible]), body, pd.DataFrame([test])],
                      ignore_index=True)
    name = f"canvas_gradebook_{class_id}.csv"
    text = table.to_csv(index=False, sep=";", lineterminator="\r\n")
    (out / name).write_bytes(text.encode("utf-8-sig"))
    return {name: {"rows": len(table), "students": len(body), "assignments": len(a),
                   "test_student_rows": 1, "metadata_rows": 2,
                   "excused_cells": int((cells == "EX").to_numpy().sum())}}


def write_ground_truth(div: Division, defects: dict, out: Path) -> None:
    truth = {
        "about": "What the sample generator planted. Effects are on the probability of "
                 "completing an assignment (0.15 = 15 percentage points) for the student's "
                 "assignments due in the window after the event; 'realised_att' is the mean, "
                 "over treated student-assignments (excused excluded), of the probability "
                 "difference actually applied after clipping to [0, 1]; 'realised_per_event' is "
                 "the mean, over events (contacts, attended conferences), of that difference "
                 "on the student's work due in the window after: what an estimate per contact "
                 "aims at. The two differ because the clipping binds for students doing well "
                 "anyway. Personal contacts count only when the family was reached. "
                 "'realised_per_decision' (attempts and written messages) is the same per "
                 "decision: a school contact about missing work with no school contact of "
                 "the student in the 28 days before, what a comparison of decisions aims at.",
        "config": div.config.to_dict(),
        **div.truth,
        "files": defects,
        "counts": {name: int(len(getattr(div, name))) for name in
                   ("students", "enrollments", "assignments", "results", "contacts",
                    "conferences", "broadcasts")},
    }
    (out / "ground_truth.json").write_text(
        json.dumps(truth, indent=2, ensure_ascii=False, default=_plain) + "\n", encoding="utf-8")


def _plain(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
