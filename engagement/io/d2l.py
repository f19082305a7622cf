"""D2L Brightspace grade export: a line per student.

Layout: ``OrgDefinedId, Username, Last Name, First Name, Email``, then per grade item
``Essay 1 Points Grade <Numeric MaxPoints:20 Weight:10 ...>`` (and perhaps its ``Scheme
Symbol`` or ``Text Grade``), the ``Calculated/Adjusted Final Grade`` columns and
``End-of-Line Indicator`` ("#"). Ids are often written with a leading "#" so that Excel
keeps their zeros. The export names no course.
"""

from __future__ import annotations

import re
from pathlib import Path

from engagement.io.format import Format, Head
from engagement.io.generic import read_table
from engagement.io.text import Reading, column
from engagement.io.wide import Gradebook, class_ids, melt

KIND = "d2l-gradebook"
_ITEM = re.compile(r"^(?P<title>.+?) Points Grade(?: <(?P<meta>[^>]*)>)?$", re.I)
_MAX = re.compile(r"MaxPoints:\s*(?P<points>[\d.]+)", re.I)
_CATEGORY = re.compile(r"(?:^|\s)Category:(?P<category>.*?)(?=\s+\w+:|$)", re.I)


def _id(values):
    return values.str.strip().str.lstrip("#").str.strip().replace("", None)


def read_d2l_gradebook(path: str | Path, *, name: str | None = None,
                       class_id: str | None = None, sheet: str | None = None) -> list[Reading]:
    """Results and assignments from a Brightspace grade export; the class is
    ``class_id``, else the file's name; an assignment's id is its title in that class."""
    path = Path(path)
    frame = read_table(path, name=name, sheet=sheet)
    items = [(str(c), m) for c in frame.columns if (m := _ITEM.match(str(c).strip()))]
    titles = [m["title"].strip() for _, m in items]
    points = [(p["points"] if (p := _MAX.search(m["meta"] or "")) else None) for _, m in items]
    categories = [(c["category"].strip() if (c := _CATEGORY.search(m["meta"] or "")) else None)
                  for _, m in items]
    course = class_id or path.stem
    last, first = column(frame, "Last Name"), column(frame, "First Name")
    book = Gradebook(
        frame, KIND, people={
            "student_number": _id(column(frame, "OrgDefinedId")),
            "student_name": (last + ", " + first).fillna(last).fillna(first),
            "username": _id(column(frame, "Username")), "email": column(frame, "Email")},
        columns=[c for c, _ in items], ids=class_ids(course, titles), titles=titles,
        points=points, categories=categories, class_id=course)
    return melt(book, name or path.name)


def recognise(head: Head) -> float:
    header = head.header
    if "orgdefinedid" in header or ("end-of-line indicator" in header
                                    and any(_ITEM.match(h) for h in header)):
        return 0.95
    return 0.0


FORMAT = Format("d2l", "D2L Brightspace grade export", recognise,
                lambda path, name, config, sheet: read_d2l_gradebook(
                    path, name=name, sheet=sheet))
