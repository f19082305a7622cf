"""Gradescope's course grades export ("Download Grades"): a line per student.

Layout: ``First Name, Last Name, SID, Email, section_name``, then four columns per
assignment: ``Lab 01`` (the score; blank when nothing was submitted), ``Lab 01 - Max
Points``, ``Lab 01 - Submission Time`` (``2020-07-06 17:13:14 -0700``) and ``Lab 01 -
Lateness (H:M:S)`` (hours past the deadline, may exceed 24: ``225:07:02``); some exports
end with ``Total Lateness (H:M:S)``. The export names no course and no due date: the
class is the file's name, and "late" is Gradescope's own lateness.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from engagement.io.format import Format, Head
from engagement.io.generic import read_table
from engagement.io.text import Reading, column
from engagement.io.wide import Gradebook, class_ids, melt

KIND = "gradescope-grades"
_MAX = " - Max Points"
_LATE = re.compile(r"^\s*(\d+):(\d{2}):(\d{2})\s*$")


def read_gradescope(path: str | Path, *, name: str | None = None,
                    class_id: str | None = None, sheet: str | None = None) -> list[Reading]:
    """Results, assignments and the students listed, from a Gradescope grades export."""
    path = Path(path)
    frame = read_table(path, name=name, sheet=sheet)
    headers = {str(c).strip(): c for c in frame.columns}
    titles = [h for h in headers if f"{h}{_MAX}" in headers]
    course = class_id or path.stem

    def per_item(suffix: str) -> pd.DataFrame:
        return pd.DataFrame({t: frame[headers[f"{t}{suffix}"]] if f"{t}{suffix}" in headers
                             else pd.Series(pd.NA, index=frame.index, dtype="str")
                             for t in titles}, index=frame.index)

    submitted = per_item(" - Submission Time")
    late = per_item(" - Lateness (H:M:S)").apply(_seconds_late)
    scores = frame[[headers[t] for t in titles]]
    handed_in = submitted.notna().to_numpy() | scores.notna().to_numpy()
    # Nothing submitted and no score: not handed in. Late when Gradescope says so; else
    # the cleaning decides from the score (handed in).
    status = pd.DataFrame(pd.NA, index=frame.index, columns=titles, dtype="str")
    status = status.mask(~handed_in, "missing").mask(handed_in & (late > 0).to_numpy(),
                                                      "late")
    points = [_first(frame[headers[f"{t}{_MAX}"]]) for t in titles]
    last, first = column(frame, "Last Name"), column(frame, "First Name")
    book = Gradebook(
        frame, KIND, people={
            "student_number": column(frame, "SID").str.strip(),
            "student_name": (last + ", " + first).fillna(last).fillna(first),
            "email": column(frame, "Email")},
        columns=[headers[t] for t in titles], ids=class_ids(course, titles), titles=titles,
        points=points, class_id=course, cells={"status": status, "submitted_at": submitted})
    return melt(book, name or path.name)


def _seconds_late(values: pd.Series) -> pd.Series:
    parts = values.astype("str").str.extract(_LATE).astype("float64")
    return parts[0] * 3600 + parts[1] * 60 + parts[2]


def _first(values: pd.Series) -> str | None:
    """An assignment's points: the export repeats them on every line."""
    given = values.dropna().astype("str").str.strip()
    given = given[given != ""]
    return given.iloc[0] if len(given) else None


def recognise(head: Head) -> float:
    header = head.header
    if "sid" in header and any(h.endswith(_MAX.lower()) for h in header) and any(
            h.endswith(" - submission time") for h in header):
        return 0.95
    return 0.0


FORMAT = Format("gradescope", "Gradescope course grades export", recognise,
                lambda path, name, config, sheet: read_gradescope(
                    path, name=name, sheet=sheet))
