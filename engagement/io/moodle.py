"""Moodle gradebook export (text or Excel): a line per student.

Layout: ``First name, Last name`` (``Surname`` in older versions), ``ID number``,
``Institution``, ``Department``, ``Email address``, then a column per grade item and
display type, ``Assignment: Essay 1 (Real)``, ``Quiz: Week 1 (Percentage)``, a manual
item ``Midterm (Real)``, perhaps its ``(Feedback)``, the ``Course total`` and ``Last
downloaded from this course`` (a Unix time). Headers follow the site's language (French:
``Prénom, Nom, Numéro d'identification, Adresse de courriel``, ``(Brut)``). "-" or a blank
cell is no grade yet. The export names neither the course nor the points possible.
"""

from __future__ import annotations

import re
from pathlib import Path

from engagement.io.format import Format, Head
from engagement.io.generic import read_table
from engagement.io.text import Reading, column, data_columns
from engagement.io.wide import Gradebook, class_ids, melt

KIND = "moodle-gradebook"
# Header words in the languages seen in real exports (English, French).
FIRST = ("First name", "Prénom")
LAST = ("Last name", "Surname", "Nom")
NUMBER = ("ID number", "Numéro d'identification")
EMAIL = ("Email address", "Adresse de courriel")
_IDENTITY = {h.lower() for h in (*FIRST, *LAST, *NUMBER, *EMAIL, "Institution", "Department",
                                 "Département", "Suspended", "Suspendu", "Groups", "Groupes")}
_NOT_ITEMS = re.compile(r"^(course total|total du cours|category total|total de la catégorie"
                        r"|feedback|last downloaded from this course"
                        r"|dernier téléchargement depuis ce cours)", re.I)
# Display types, the most numeric first: one column per item is read.
_DISPLAYS = {"real": 0, "brut": 0, "percentage": 1, "pourcentage": 1, "letter": 2,
             "lettre": 2, "feedback": None}
_DISPLAY = re.compile(r"^(?P<title>.+?)\s*\((?P<display>[^()]+)\)$")
_TYPED = re.compile(r"^(?P<type>[^:]+?)\s*:\s*(?P<title>.+)$")  # "Quiz: Week 1 quiz"


def _clean(header: str) -> str:
    return header.replace("\xa0", " ").strip()


def _items(headers: list[str]) -> list[tuple[str, str]]:
    """(header, item) of each grade item, in its most numeric display type."""
    found: dict[str, tuple[int, str]] = {}
    for header in headers:  # one per column, not per row
        text = _clean(header)
        if text.lower() in _IDENTITY or _NOT_ITEMS.match(text) or text.startswith("Unnamed:"):
            continue
        match = _DISPLAY.match(text)
        rank = _DISPLAYS.get(match["display"].lower(), 0) if match else 0
        if rank is None:  # a feedback column: comments, not a grade
            continue
        item = match["title"] if match and match["display"].lower() in _DISPLAYS else text
        if item not in found or rank < found[item][0]:
            found[item] = (rank, header)
    return [(header, item) for item, (_, header) in found.items()]


def read_moodle_gradebook(path: str | Path, *, name: str | None = None,
                          class_id: str | None = None, sheet: str | None = None
                          ) -> list[Reading]:
    """Results and assignments from a Moodle grade export. The class is ``class_id``,
    else the file's name (the export does not name its course); an assignment's id is
    its item name within that class ("ENG10 Grades: Assignment: Essay 1")."""
    path = Path(path)
    frame = read_table(path, name=name, sheet=sheet)
    items = _items([str(c) for c in data_columns(frame)])
    course = class_id or path.stem
    typed = [_TYPED.match(item) for _, item in items]
    first, last = column(frame, *FIRST), column(frame, *LAST)
    book = Gradebook(
        frame, KIND, people={
            "student_number": column(frame, *NUMBER),
            "student_name": (last + ", " + first).fillna(last).fillna(first),
            "email": column(frame, *EMAIL)},
        columns=[h for h, _ in items], ids=class_ids(course, [i for _, i in items]),
        titles=[m["title"] if m else i for m, (_, i) in zip(typed, items, strict=True)],
        categories=[m["type"].lower() if m else None for m in typed],
        points=[None] * len(items), class_id=course)
    return melt(book, name or path.name)


def recognise(head: Head) -> float:
    header = head.header
    if header & {e.lower() for e in EMAIL} and header & {n.lower() for n in NUMBER} and (
            any(_NOT_ITEMS.match(h) for h in header)
            or any((m := _DISPLAY.match(h)) and m["display"].lower() in _DISPLAYS
                   for h in header)):
        return 0.95
    return 0.0


FORMAT = Format("moodle", "Moodle gradebook export", recognise,
                lambda path, name, config, sheet: read_moodle_gradebook(
                    path, name=name, sheet=sheet))
