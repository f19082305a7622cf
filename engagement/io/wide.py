"""Wide gradebooks: a line per student, a column per assignment (Canvas, Moodle, D2L
Brightspace, Blackboard...). Each format's module says which columns describe the
student and which are assignments (their ids, titles and points); ``melt`` turns the
grid into results and assignments the same way for every format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from engagement.io.text import Reading, blank_rows, first_issue, issue_where, make_reading

#: A cell that is a score: "8", "8.5", "8,5", "85%".
NUMBER = r"^\s*[-+]?\d+(?:[.,]\d+)?\s*%?\s*$"


@dataclass
class Gradebook:
    """One wide gradebook, as its format's module reads it.

    ``people``: per line, what identifies the student (``student_id``,
    ``student_number``, ``student_name``...; extras are kept as columns).
    ``columns``: the headers of the assignment columns, with their ``ids``, ``titles``,
    ``points`` (text, NA when the export does not say) and ``categories`` (when it
    does). ``issue``: per line, why a
    line is not a student (NA for a student). ``not_assigned``: cell values that mean
    the work was not set for that student, with the reason. ``cells``: more per-cell
    columns, by canonical name (``submitted_at``, ``status``), each a frame of the
    assignments' columns in the order of ``columns`` (a status given there wins over
    the score cell's word). ``due``: each assignment's due date as written, when the
    export gives it."""

    frame: pd.DataFrame
    kind: str
    people: dict[str, pd.Series]
    columns: list[str]
    ids: list[str]
    titles: list[str]
    points: list[str | None]
    class_id: str | None
    issue: pd.Series | None = None
    school_id: str | None = None
    points_row: int = 1
    categories: list[str | None] | None = None
    not_assigned: dict[str, str] = field(default_factory=dict)
    cells: dict[str, pd.DataFrame] = field(default_factory=dict)
    due: list[str | None] | None = None


def class_ids(class_id: str | None, titles: list[str]) -> list[str]:
    """Ids for assignments an export names by title alone: the title within its class, so
    that two courses' "Assignment 1" stay two assignments."""
    return [f"{class_id}: {t}" if class_id else t for t in titles]


#: The ``kind`` of a gradebook's own list of its students: a roster only when the folder
#: has no other (cleaning decides).
STUDENTS_KIND = "students listed in a gradebook"


def melt(book: Gradebook, file: str) -> list[Reading]:
    """The gradebook's results (a record per student line and assignment column, each
    student's cells together, in line order), assignments (a record per column) and the
    students it lists (a record per line)."""
    return [_results(book, file), _assignments(book, file), _students(book, file)]


def _students(book: Gradebook, file: str) -> Reading:
    """Each student line as a roster entry: the school's number for the student when the
    export gives one (what results are matched on), else the LMS's own id."""
    frame = book.frame
    number = book.people.get("student_number", _constant(None, frame.index))
    own = book.people.get("student_id", _constant(None, frame.index))
    issue = book.issue if book.issue is not None else _constant(None, frame.index)
    return make_reading(frame, file=file, kind=STUDENTS_KIND, table="students", columns={
        "student_id": number.fillna(own),
        "school_id": _constant(book.school_id, frame.index),
        "student_name": book.people.get("student_name", _constant(None, frame.index)),
    }, issue=issue)


def _constant(value: str | None, index: pd.Index) -> pd.Series:
    return pd.Series(value if value is not None else pd.NA, index=index, dtype="str")


def _results(book: Gradebook, file: str) -> Reading:
    frame = book.frame
    issue = book.issue if book.issue is not None else _constant(None, frame.index)
    people = pd.DataFrame({**book.people, "issue": issue,
                           "source_row": frame["source_row"], "blank": blank_rows(frame)})
    cells = frame[book.columns].set_axis(book.ids, axis=1)
    cells.index = frame.index
    long = cells.melt(ignore_index=False)
    long = long.rename(columns={"variable": "assignment_id", "value": "cell"})
    for name, grid in book.cells.items():  # same shape, so melted in the same order
        long[name] = grid.set_axis(book.ids, axis=1).melt(ignore_index=False)["value"].array
    # melt orders by assignment; put each student's cells together, in line order.
    long["_line"] = long.index
    long["_col"] = long.groupby(level=0).cumcount()
    long = long.sort_values(["_line", "_col"], kind="stable")
    joined = long.join(people)
    cell = joined["cell"].astype("str").str.strip()
    numeric = cell.str.match(NUMBER).fillna(False)
    upper = cell.str.upper()
    issues = [issue_where(joined["blank"], "blank line"), joined["issue"]]
    not_assigned = pd.Series(False, index=joined.index)
    for value, reason in book.not_assigned.items():
        here = upper.eq(value.upper()).fillna(False)
        issues.append(issue_where(here, reason))
        not_assigned |= here
    # Blank lines are flagged above per cell; the carrier frame only gives line numbers.
    lines = pd.DataFrame({"source_row": joined["source_row"], "line": "x"})
    status = joined["cell"].astype("str").where(~numeric & ~not_assigned)
    if "status" in book.cells:
        status = joined["status"].astype("str").fillna(status)
    return make_reading(lines, file=file, kind=book.kind, table="results", columns={
        "student_id": joined.get("student_id", _constant(None, joined.index)),
        "assignment_id": joined["assignment_id"].astype("str"),
        "status": status,
        "score": joined["cell"].astype("str").where(numeric),
        **{k: joined[k].astype("str") for k in book.cells if k != "status"},
        **{k: joined[k] for k in book.people if k != "student_id"},
        "class_id": _constant(book.class_id, joined.index),
        "school_id": _constant(book.school_id, joined.index),
    }, issue=first_issue(*issues))


def _assignments(book: Gradebook, file: str) -> Reading:
    index = pd.RangeIndex(len(book.columns))
    header = pd.DataFrame({"source_row": pd.Series(book.points_row, index=index,
                                                   dtype="Int64"), "line": "x"})
    return make_reading(header, file=file, kind=book.kind, table="assignments", columns={
        "assignment_id": pd.Series(book.ids, index=index, dtype="str"),
        "class_id": _constant(book.class_id, index),
        "school_id": _constant(book.school_id, index),
        "title": pd.Series(book.titles, index=index, dtype="str"),
        "category": pd.Series(book.categories or [None] * len(index), index=index,
                              dtype="str"),
        "points_possible": pd.Series(book.points, index=index, dtype="str").str.strip(),
        **({"due_at": pd.Series(book.due, index=index, dtype="str").str.strip()}
           if book.due is not None else {}),
    })
