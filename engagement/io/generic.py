"""Any canonical table from a plain CSV or Excel export, by its column headers.

Schools keep contact logs, conference schedules and newsletter logs in
spreadsheets with headers of their own ("Student #", "Type", "Initiated by").
:func:`read_generic` maps such headers to the data model's column names through
:data:`HEADER_SYNONYMS` (and an explicit ``mapping`` that wins), detects which
table the file holds, and returns raw text values with file and line numbers,
like every other reader. Parsing and vocabulary mapping happen in cleaning.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from engagement.io.format import WORKBOOK_SUFFIXES, Format, Head, header_index, is_workbook
from engagement.io.text import (
    ReadError,
    Reading,
    blank_rows,
    data_columns,
    file_column,
    issue_where,
    make_reading,
    read_table_text,
)

#: The time column of each table (what "Date" / "Slot" / "Date/Time" means there).
TIME_COLUMNS: dict[str, str] = {
    "contacts": "contact_at",
    "conferences": "scheduled_at",
    "broadcasts": "sent_at",
    "results": "submitted_at",
    "assignments": "due_at",
}

#: Placeholder in :data:`HEADER_SYNONYMS` for the table's time column.
TIME = "<time>"

#: Raw header (normalised: lower case, ``_`` and ``.`` as spaces, ``#`` as
#: "number") -> column name. Canonical names map to themselves without being
#: listed. Names beyond the data model (``student_name``, ``student_number``,
#: ``notes``, ...) are kept as extra columns for cleaning (roster matching) or
#: privacy (notes are dropped there).
HEADER_SYNONYMS: dict[str, str] = {
    # students
    "student number": "student_number", "student no": "student_number",
    "student num": "student_number", "student nbr": "student_number",
    "stu number": "student_number", "sis user id": "student_number",
    "student id": "student_id", "studentid": "student_id", "pupil id": "student_id",
    "student": "student_name", "student name": "student_name", "name": "student_name",
    "pupil": "student_name", "full name": "student_name",
    "first name": "given_name", "given name": "given_name",
    "last name": "family_name", "family name": "family_name", "surname": "family_name",
    "grade": "grade_level", "grade level": "grade_level", "gr": "grade_level",
    # times
    "date": TIME, "contact date": TIME, "date/time": TIME, "date time": TIME,
    "datetime": TIME, "slot": TIME, "slot time": TIME, "time slot": TIME,
    "timestamp": TIME, "when": TIME, "sent": TIME, "sent on": TIME,
    "date sent": TIME, "sent date": TIME, "conference date": TIME,
    "meeting date": TIME, "appointment": TIME,
    # contacts / broadcasts
    "type": "channel", "method": "channel", "contact type": "channel",
    "channel": "channel", "contact method": "channel", "medium": "channel",
    "initiated by": "initiator", "initiator": "initiator", "initiated": "initiator",
    "reason": "purpose", "purpose": "purpose", "contact reason": "purpose",
    "outcome": "outcome", "result": "outcome",
    "notes": "notes", "note": "notes", "comments": "notes", "comment": "notes",
    "entry": "notes", "details": "notes", "description": "notes",
    "teacher": "staff_id", "staff": "staff_id", "teacher id": "staff_id",
    "staff id": "staff_id", "teacherid": "staff_id", "staffid": "staff_id",
    "teacher name": "staff_id", "staff member": "staff_id",
    "school": "school_id", "school id": "school_id", "schoolid": "school_id",
    "school number": "school_id", "school code": "school_id",
    "contact id": "contact_id", "log id": "contact_id",
    "audience": "audience", "sent to": "audience", "recipients": "audience",
    "audience id": "audience_id", "broadcast id": "broadcast_id",
    "message id": "broadcast_id",
    # conferences
    "booking id": "conference_id", "conference id": "conference_id",
    "booking": "conference_id", "appointment id": "conference_id",
    "status": "status",
    "attended by": "attended_by", "who attended": "attended_by",
    "attendees": "attended_by",
    "invited via": "invited_via", "invitation": "invited_via",
    "invited by": "invited_via",
    "rescheduled from": "rescheduled_from",
    "meeting type": "format", "format": "format", "conference type": "format",
    "guardian": "guardian_name", "parent": "guardian_name",
    "guardian name": "guardian_name", "parent name": "guardian_name",
    "parent present": "parent_present", "student present": "student_present",
    # enrollments / assignments / results
    "class": "class_id", "class id": "class_id", "section": "class_id",
    "section id": "class_id", "sectionid": "class_id", "course section": "class_id",
    "term": "term", "semester": "term",
    "assignment": "assignment_id", "assignment id": "assignment_id",
    "assignmentid": "assignment_id",
    "assignment name": "title", "assignment title": "title", "title": "title",
    "assigned": "assigned_at", "assigned date": "assigned_at",
    "due": "due_at", "due date": "due_at",
    "points": "points_possible", "points possible": "points_possible",
    "max points": "points_possible", "out of": "points_possible",
    "score": "score", "points earned": "score", "mark": "score",
    "percent": "score_pct", "score percent": "score_pct", "percentage": "score_pct",
    "submitted": "submitted_at", "submitted date": "submitted_at",
    "submitted at": "submitted_at", "hand in date": "submitted_at",
}

#: Synonyms whose meaning depends on the table (override :data:`HEADER_SYNONYMS`).
TABLE_SYNONYMS: dict[str, dict[str, str]] = {
    "contacts": {"category": "purpose", "subject": "subject"},
    "broadcasts": {"subject": "title", "type": "channel", "title": "title"},
    "enrollments": {"subject": "subject", "course": "subject", "teacher": "teacher_id",
                    "teacher id": "teacher_id", "teacherid": "teacher_id",
                    "staff id": "teacher_id", "teacher name": "teacher_id",
                    "staff": "teacher_id"},
    "assignments": {"category": "category", "type": "category"},
    # In a results sheet "Grade" is the mark given, not the grade level.
    "results": {"status": "status", "result": "score", "grade": "score", "mark": "score"},
    "conferences": {"type": "format"},
}

#: What a table needs; each entry is a set of alternatives (any one will do).
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "students": (("student_id", "student_number"),),
    "enrollments": (("student_id", "student_number"), ("class_id",)),
    "contacts": (("student_id", "student_number", "student_name"), ("contact_at",),
                 ("channel",)),
    "broadcasts": (("sent_at",), ("channel",)),
    "conferences": (("student_id", "student_number", "student_name"), ("scheduled_at",)),
    "assignments": (("assignment_id",),),
    "results": (("student_id", "student_number", "student_name"), ("assignment_id",)),
}

_STUDENT = {"student_id", "student_number", "student_name"}
#: "Notes", "Teacher notes", "Comment", "Entry": free text, always kept as ``notes``.
_NOTES = re.compile(r"^(\w+ )?(notes?|comments?|entry|entries|remarks?)$")
_TOTAL = re.compile(r"^\s*(grand\s+)?totals?\s*:?\s*$", re.IGNORECASE)
#: openpyxl warnings about workbook features it drops (they do not touch cell values).
_OPENPYXL_NOISE = (
    r"Workbook contains no default style",
    r".* extension is not supported and will be removed",
    r"Conditional Formatting extension is not supported",
    r"Cannot parse header or footer",
    r"Unknown extension is not supported",
)


class UnknownTableError(ReadError):
    """No canonical table fits a file's headers (a folder scan skips such files)."""


def normalise_header(header: object) -> str:
    """``" Student_No. "`` -> ``"student no"``; ``"Student #"`` -> ``"student number"``."""
    text = str(header).strip().lower().replace("#", " number ")
    text = re.sub(r"[_.\s]+", " ", text)
    return text.strip()


def _described(headers: list[str]) -> str:
    """How many headers, never the headers themselves: the first line of a headerless
    export is a student's row, and a report must not repeat it (`engagement inspect`
    shows the headers to the person at the keyboard)."""
    return f"{len(headers)} columns; `engagement inspect` lists them"


def _fix(name: str) -> str:
    return (f"Pass mapping={{'raw header': 'canonical column', ...}} to read_generic, or add "
            f"a [mapping.\"{name}\"] table to engagement.toml")


def _base_names(headers: list[str], mapping: Mapping[str, str | None]) -> dict[str, str | None]:
    """Each raw header -> a name before the table is known (TIME for time-like headers)."""
    explicit = {normalise_header(k): v for k, v in mapping.items()}
    out: dict[str, str | None] = {}
    for raw in headers:
        if raw in mapping:
            out[raw] = mapping[raw] or None
            continue
        key = normalise_header(raw)
        if key in explicit:
            out[raw] = explicit[key] or None
        elif str(raw).strip().lower() in _CANONICAL:
            out[raw] = str(raw).strip().lower()
        elif key in HEADER_SYNONYMS:
            out[raw] = HEADER_SYNONYMS[key]
        elif key.replace(" ", "_") in _CANONICAL:
            out[raw] = key.replace(" ", "_")
        elif _NOTES.search(key):
            out[raw] = "notes"
        else:
            out[raw] = None
    return out


def _canonical() -> set[str]:
    from engagement.schema import COLUMNS

    names = {c for cols in COLUMNS.values() for c in cols}
    return names | {"student_number", "student_name", "given_name", "family_name", "notes",
                    "guardian_name", "attended_by", "title"}


_CANONICAL = _canonical()


def detect_table(names: set[str]) -> str | None:
    """Which canonical table a set of mapped column names holds, or None.

    Explicit ids decide first (contact_id, conference_id, broadcast_id); then
    results (assignment_id + a student), assignments (assignment_id or
    points_possible), enrollments (class_id + a student), results again (a student
    with a score or a title), conferences (status or format + a time), contacts
    (channel + a student + a time), broadcasts (channel or audience + a time, no
    student), students (a student id with grade_level or school_id).
    """
    student = bool(names & _STUDENT)
    time = bool(names & ({TIME} | set(TIME_COLUMNS.values())))
    if "contact_id" in names or "contact_at" in names:
        return "contacts"
    if "conference_id" in names or "scheduled_at" in names:
        return "conferences"
    if "broadcast_id" in names or "sent_at" in names:
        return "broadcasts"
    if "assignment_id" in names and student:
        return "results"
    if "assignment_id" in names or "points_possible" in names:
        return "assignments"
    if "class_id" in names and student:
        return "enrollments"
    if student and names & {"score", "score_pct", "title"}:
        return "results"  # a mark or a piece of work's title: not a conference
    if names & {"status", "format", "attended_by"} and time:
        return "conferences"
    if "channel" in names and student and time:
        return "contacts"
    if names & {"channel", "audience"} and time and not student:
        return "broadcasts"
    if names & {"student_id", "student_number"} and names & {"grade_level", "school_id"}:
        return "students"
    return None


def resolve_columns(headers: list[str], *, table: str | None = None,
                    mapping: Mapping[str, str | None] | None = None,
                    name: str = "the file") -> tuple[str, dict[str, str]]:
    """Map a file's raw headers to column names and pick its table.

    Returns ``(table, {raw header: column name})``; headers that map to nothing
    are left out, and when two headers map to one name the first wins.

    Raises
    ------
    UnknownTableError
        ``table`` is None and no table fits the headers.
    ReadError
        A column the table needs is missing.
    """
    from engagement.schema import TABLES

    mapping = dict(mapping or {})
    base = _base_names(headers, mapping)
    listed = _described(headers)
    if table is None:
        table = detect_table({v for v in base.values() if v})
        if table is None:
            err = UnknownTableError(
                f"{name}: no canonical table fits its headers ({listed}). "
                f"{_fix(name)}; or pass table= (one of {', '.join(TABLES)}).")
            err.headers = [str(h) for h in headers]  # for `inspect`, never for a report
            raise err
    elif table not in TABLES:
        raise ReadError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}")
    overrides = TABLE_SYNONYMS.get(table, {})
    explicit = set(mapping) | {normalise_header(k) for k in mapping}
    resolved: dict[str, str] = {}
    for raw, target in base.items():
        key = normalise_header(raw)
        if raw not in explicit and key not in explicit and key in overrides:
            target = overrides[key]
        if target == TIME:
            target = TIME_COLUMNS.get(table)
        if target and target not in resolved.values():
            resolved[raw] = target
    if table == "results" and "assignment_id" not in resolved.values():
        # A teacher's submissions sheet names the work by its title: that is its key.
        resolved = {raw: "assignment_id" if target == "title" else target
                    for raw, target in resolved.items()}
    have = set(resolved.values())
    missing = [alts for alts in REQUIRED[table] if not have & set(alts)]
    if missing:
        need = "; ".join(" or ".join(repr(a) for a in alts) for alts in missing)
        err = ReadError(f"{name} looks like {'an' if table[0] in 'aeiou' else 'a'} {table} "
                        f"table but has no column for {need} "
                        f"(its headers: {listed}). {_fix(name)}.")
        err.headers = [str(h) for h in headers]
        raise err
    return table, resolved


def _excel_text(values: pd.Series) -> pd.Series:
    """Excel cell values as the text a person sees: dates ISO, integers without '.0'."""
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        return values.astype("str").mask(values == "")
    kinds = values.map(type)
    out = values.where(kinds.isin([str])).astype("str")
    stamps = kinds.isin([dt.datetime, pd.Timestamp])
    if stamps.any():
        when = pd.to_datetime(values[stamps].astype(object)).dt.round("s")
        text = when.dt.strftime("%Y-%m-%d %H:%M:%S").astype("str")
        text = text.mask(when == when.dt.normalize(), when.dt.strftime("%Y-%m-%d"))
        out[stamps] = text
    days = kinds.isin([dt.date])
    if days.any():
        out[days] = pd.to_datetime(values[days].astype(object)).dt.strftime("%Y-%m-%d")
    floats = kinds.isin([float])
    if floats.any():
        number = values[floats].astype("float64")
        whole = number.notna() & (number % 1 == 0) & (number.abs() < 2**53)
        text = number.astype("str").where(number.notna())
        text[whole] = number[whole].astype("int64").astype("str")
        out[floats] = text
    flags = kinds.isin([bool])
    if flags.any():
        out[flags] = values[flags].map({True: "TRUE", False: "FALSE"}).astype("str")
    other = ~(kinds.isin([str])) & ~stamps & ~days & ~floats & ~flags & values.notna()
    if other.any():
        out[other] = values[other].astype("str")
    return out.mask(out == "").astype("str")


def _is_xlsx(path: Path) -> bool:
    """An Office Open XML workbook (a zip holding xl/workbook.xml), not .ods or .xls."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return any(n.startswith("xl/") for n in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def read_excel_text(path: Path, *, name: str, sheet: str | int | None = None) -> pd.DataFrame:
    """An Excel sheet as all-text columns, like :func:`read_table_text`.

    The header is the first row at least half as full as the fullest of the first 20
    (a title or a date line above the table is not a record); ``source_row`` is the
    Excel row number. Empty rows between records are kept (all NA).
    """
    if not path.is_file():
        raise ReadError(f"{name} not found at {path}. Check the folder and file name.")
    try:
        with warnings.catch_warnings():
            for message in _OPENPYXL_NOISE:
                warnings.filterwarnings("ignore", message=message, category=UserWarning,
                                        module="openpyxl")
            # openpyxl for today's workbooks; calamine reads old .xls and .ods too.
            engine = "openpyxl" if _is_xlsx(path) else "calamine"
            raw = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, header=None,
                                dtype=object, na_filter=False, engine=engine)
    except (ValueError, KeyError, OSError) as err:
        raise ReadError(f"{name} cannot be read as an Excel workbook ({err}). Open it in "
                        "Excel and save it again as .xlsx, or export it as CSV.") from None
    text = raw.apply(_excel_text) if len(raw.columns) else raw
    filled = text.notna().any(axis=1)
    if not filled.any():
        raise ReadError(f"{name} is empty: no header row. Export the table again with its "
                        "header row.")
    # The header: not a title or a date line above the table (see header_index).
    top = header_index(text.notna().sum(axis=1).tolist())
    header = text.iloc[top]
    names, seen = [], {}
    for position, value in enumerate(header.tolist()):
        label = f"Unnamed: {position}" if pd.isna(value) else str(value).strip()
        count = seen.get(label, 0)
        seen[label] = count + 1
        names.append(label if count == 0 else f"{label}.{count}")
    frame = text.iloc[top + 1:].copy()
    frame.columns = names
    frame = frame.reset_index(names="_position")
    rows = (frame.pop("_position") + 1).astype("Int64")
    frame["source_file"] = file_column(name, frame.index)
    frame["source_row"] = rows
    return frame


def read_table(path: Path, *, name: str | None = None, sheet: str | None = None
               ) -> pd.DataFrame:
    """A text export or a sheet of a workbook (the first by default), as all-text
    columns."""
    if is_workbook(path):
        return read_excel_text(path, name=name or path.name, sheet=sheet)
    return read_table_text(path, name=name)


def total_rows(frame: pd.DataFrame) -> pd.Series:
    """True for 'Total' / 'Totals' / 'Grand total' rows after the last record."""
    cols = data_columns(frame)
    if frame.empty or not cols:
        return pd.Series(False, index=frame.index)
    first = pd.Series(pd.NA, index=frame.index, dtype="str")
    for col in reversed(cols):
        first = frame[col].astype("str").fillna(first)
    is_total = first.str.match(_TOTAL.pattern, case=False).fillna(False).astype(bool)
    content = ~blank_rows(frame) & ~is_total
    position = pd.Series(range(len(frame)), index=frame.index)
    last = position[content].max() if content.any() else -1
    return is_total & (position > last)


def read_generic(path: str | Path, *, table: str | None = None,
                 mapping: Mapping[str, str | None] | None = None, name: str | None = None,
                 sheet: str | int | None = None) -> list[Reading]:
    """Read any canonical table from a CSV/TXT/TSV or XLSX/XLSM export.

    Parameters
    ----------
    path : str or Path
        The file. ``.xlsx`` / ``.xlsm`` are read with openpyxl; anything else
        as delimited text (:func:`~engagement.io.text.read_table_text`).
    table : str, optional
        The canonical table; default: detected from the mapped headers
        (:func:`detect_table`).
    mapping : mapping, optional
        ``{raw header: column name}``; wins over :data:`HEADER_SYNONYMS`. A
        value of None (or "") ignores that column.
    name : str, optional
        How the file is named in messages and ``source_file``.
    sheet : str or int, optional
        Excel sheet name or index (default: the first sheet).

    Returns
    -------
    list of Reading
        One Reading, ``kind`` ``"generic-csv"`` or ``"generic-xlsx"``, every
        record of the file. Headers mapping to nothing are dropped; mapped
        names beyond the table's columns stay as extra columns (e.g.
        ``student_name``, ``student_number``, ``notes``, ``attended_by``,
        ``guardian_name``, ``title``). Excel date cells become
        ``"YYYY-MM-DD"`` (midnight) or ``"YYYY-MM-DD HH:MM:SS"``; whole numbers
        lose the ``.0``. Reader issues: "blank line"; "trailing total row (not a
        record)" for Total/Totals/Grand total rows after the last record.

    Raises
    ------
    ReadError
        No table fits the headers (:class:`UnknownTableError`), or a column the
        table needs is missing; the message lists the headers and the fix.
    """
    path = Path(path)
    file = name or path.name
    if is_workbook(path):
        frame, kind = read_excel_text(path, name=file, sheet=sheet), "generic-xlsx"
    else:
        frame, kind = read_table_text(path, name=file), "generic-csv"
    headers = data_columns(frame)
    table, resolved = resolve_columns(headers, table=table, mapping=mapping, name=file)
    columns = {target: frame[raw].astype("str") for raw, target in resolved.items()}
    issue = issue_where(total_rows(frame), "trailing total row (not a record)")
    reading = make_reading(frame, file=file, kind=kind, table=table, columns=columns,
                           issue=issue)
    return [dataclasses.replace(reading, mapping=dict(resolved))]


def mapping_for(relative: str, config_mapping: Mapping[str, Any]) -> dict[str, str]:
    """The ``[mapping]`` entries that apply to a file (by relative path, name or glob).

    Top-level string values (``raw header = "canonical"``) apply to every file.
    """
    name = relative.rsplit("/", 1)[-1]
    out: dict[str, str] = {k: v for k, v in config_mapping.items() if not isinstance(v, Mapping)}
    for pattern, table in config_mapping.items():
        if isinstance(table, Mapping) and (
                pattern in (relative, name)  # exactly: "log.xlsx [Contacts]" is no glob
                or fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(name, pattern)):
            out.update(table)
    return out


#: Extensions read as tables.
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", *WORKBOOK_SUFFIXES)


def recognise(head: Head) -> float:
    """Any table, its columns found by their headers: the reader of last resort, surer
    the more of the headers it knows (0.1 when they fit no table it knows)."""
    if head.suffix not in TABLE_SUFFIXES:
        return 0.0
    headers = head.lines[0] if head.lines else []
    names = _base_names(headers, {})
    if not headers or detect_table({v for v in names.values() if v}) is None:
        return 0.1
    known = sum(v is not None for v in names.values()) / len(headers)
    return round(0.5 + 0.4 * known, 2)


FORMAT = Format("generic", "a table with recognisable column headers", recognise,
                lambda path, name, config, sheet: read_generic(
                    path, name=name, sheet=sheet,
                    mapping=mapping_for(name, config.get("mapping") or {})))
