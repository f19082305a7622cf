"""OneRoster CSV bundles (1.0, 1.1, 1.2): roster and, when present, gradebook.

A bundle is a folder of CSV files named by the spec. ``manifest.csv`` gives the
version; users, enrollments, lineItems and results become canonical tables;
orgs, classes, academicSessions and categories are only looked up (the school
of a class, the title of a term, the name of a category).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engagement.io.format import Bundle, file_named, header_of
from engagement.io.text import (
    ReadError,
    Reading,
    column,
    first_issue,
    has_column,
    issue_where,
    make_reading,
    read_table_text,
)
from engagement.parsing import positions, spread

#: Files that become a canonical table, in the order their Readings are returned.
TABLE_FILES = ("users", "enrollments", "lineItems", "results")


def _find(folder: Path, stem: str) -> Path | None:
    """The bundle file ``stem.csv``, matched case-insensitively (userProfiles vs userprofiles)."""
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name.lower() == f"{stem.lower()}.csv":
            return path
    return None


def _read(folder: Path, stem: str) -> pd.DataFrame | None:
    path = _find(folder, stem)
    return None if path is None else read_table_text(path, name=path.name)


def bundle_version(folder: str | Path) -> str:
    """The OneRoster version of a bundle: ``"1.0"``, ``"1.1"`` or ``"1.2"``.

    ``oneroster.version`` in manifest.csv decides. Without a manifest the bundle
    is 1.0 (1.1 introduced the manifest); a manifest without the property is 1.1.
    """
    manifest = _read(Path(folder), "manifest")
    if manifest is None:
        return "1.0"
    names = column(manifest, "propertyName").str.strip().str.lower()
    values = column(manifest, "value").str.strip()
    version = values[names == "oneroster.version"].dropna()
    return version.iloc[0] if len(version) else "1.1"


def _status_issue(frame: pd.DataFrame, file: str) -> pd.Series:
    """Records the source system marked for deletion can never be kept."""
    status = column(frame, "status").str.strip().str.lower()
    return issue_where(status == "tobedeleted",
                       f"OneRoster status 'tobedeleted' in {file}: the source system "
                       "deleted this record")


def _first_of_list(values: pd.Series) -> pd.Series:
    """First item of a comma-separated OneRoster list field ("a,b" -> "a")."""
    # A regex, not split().str[0]: split on an all-NA column loses the str dtype.
    return values.str.replace(r",.*$", "", regex=True).str.strip().astype("str")


def lookup(values: pd.Series, table: pd.DataFrame | None, key: str, value: str) -> pd.Series:
    """Map ids to another file's field (e.g. class id -> school id); NA when unknown."""
    if table is None or not has_column(table, key):
        return pd.Series(pd.NA, index=values.index, dtype="str")
    keys = column(table, key)
    first = ~keys.duplicated()
    looked_up = column(table, value)[first].reset_index(drop=True)
    # positions (Arrow) rather than map: map turns every value into a Python string,
    # 2 GB and many seconds for the 30M results of 100,000 students.
    return spread(looked_up, positions(values, keys[first]), values.index)


def _user_roles(folder: Path, users: pd.DataFrame
                ) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Each user's role, the org of that role and the grade it gives.

    users.csv ``role``/``roles`` (1.0, 1.1) or roles.csv (1.2, and Microsoft School
    Data Sync 2.1). With roles.csv a user who holds a student role anywhere is a
    student; otherwise the primary role is used. The org and grade are NA unless they
    come from roles.csv.
    """
    none = pd.Series(pd.NA, index=users.index, dtype="str")
    if has_column(users, "role") or has_column(users, "roles"):
        return column(users, "role", "roles").str.strip(), none, none
    roles = _read(folder, "roles")
    ids = column(users, "sourcedId")
    if roles is None or not has_column(roles, "userSourcedId"):
        return none, none, none
    table = pd.DataFrame({
        "user": column(roles, "userSourcedId"),
        "role": column(roles, "role").str.strip(),
        "org": column(roles, "orgSourcedId"),
        "grade": column(roles, "grade"),
        "student": column(roles, "role").str.strip().str.lower().eq("student"),
        "primary": (column(roles, "roleType").str.strip().str.lower().eq("primary")
                    | column(roles, "isPrimary").str.strip().str.lower().eq("true")),
    }).dropna(subset=["user"])
    table = table.sort_values(["student", "primary"], ascending=False, kind="stable")
    best = table.drop_duplicates("user").set_index("user")
    return tuple(ids.map(best[c]).astype("str") for c in ("role", "org", "grade"))


def _students(folder: Path, kind: str) -> Reading | None:
    users = _read(folder, "users")
    if users is None:
        return None
    file = _find(folder, "users").name
    role, role_org, role_grade = _user_roles(folder, users)
    is_student = role.str.lower().eq("student")
    school = (column(users, "primaryOrgSourcedId")
              .fillna(_first_of_list(column(users, "orgSourcedIds", "orgSourcedId")))
              .fillna(role_org))
    not_student = issue_where(
        ~is_student.fillna(False),
        ("not a student: role '" + role.fillna("(none)") + "' in users.csv"))
    grade = column(users, "grades", "grade").fillna(role_grade)
    if grade[is_student.fillna(False)].isna().any():
        grade = grade.fillna(_grade_of_classes(folder, column(users, "sourcedId")))
    return make_reading(users, file=file, kind=kind, table="students", columns={
        "student_id": column(users, "sourcedId"),
        "school_id": school,
        "grade_level": grade,
        "given_name": column(users, "givenName"),
        "family_name": column(users, "familyName"),
        "student_number": column(users, "identifier"),
        "guardian_ids": column(users, "agentSourcedIds", "agents"),
        "role": role,
        "record_status": column(users, "status"),
    }, issue=first_issue(_status_issue(users, file), not_student))


def _grade_of_classes(folder: Path, user_ids: pd.Series) -> pd.Series:
    """Each user's grade as their first class gives it (``grades`` is optional on users,
    and many exports leave it blank); blank where no class says."""
    enrol, classes = _read(folder, "enrollments"), _read(folder, "classes")
    if enrol is None or classes is None:
        return pd.Series(pd.NA, index=user_ids.index, dtype="str")
    grade = lookup(column(enrol, "classSourcedId"), classes, "sourcedId", "grades")
    if grade.isna().all():
        grade = lookup(column(enrol, "classSourcedId"), classes, "sourcedId", "grade")
    by_user = pd.DataFrame({"user": column(enrol, "userSourcedId"),
                            "grade": _first_of_list(grade)}).dropna()
    by_user = by_user.drop_duplicates("user").set_index("user")["grade"]
    return user_ids.map(by_user).astype("str")


def _term_titles(folder: Path, term_ids: pd.Series) -> pd.Series:
    """Title of each class's first term (academicSessions.csv); the raw ids without it."""
    sessions = _read(folder, "academicSessions")
    titles = lookup(_first_of_list(term_ids), sessions, "sourcedId", "title")
    return titles.fillna(term_ids).astype("str")


def _enrollments(folder: Path, kind: str, classes: pd.DataFrame | None) -> Reading | None:
    enrol = _read(folder, "enrollments")
    if enrol is None:
        return None
    file = _find(folder, "enrollments").name
    class_id = column(enrol, "classSourcedId")
    role = column(enrol, "role").str.strip()
    is_student = role.str.lower().eq("student").fillna(False)
    # The class's teacher comes from its teacher enrollment, the primary one first.
    teachers = pd.DataFrame({
        "class": class_id, "user": column(enrol, "userSourcedId"),
        "primary": column(enrol, "primary").str.strip().str.lower().eq("true"),
    })[role.str.lower().eq("teacher").fillna(False)]
    teachers = teachers.sort_values("primary", ascending=False, kind="stable")
    teacher_of = teachers.drop_duplicates("class").set_index("class")["user"]
    school = column(enrol, "schoolSourcedId").fillna(
        lookup(class_id, classes, "sourcedId", "schoolSourcedId")).fillna(
        lookup(class_id, classes, "sourcedId", "orgSourcedId"))  # School Data Sync
    term_ids = lookup(class_id, classes, "sourcedId", "termSourcedIds")
    not_student = issue_where(
        ~is_student,
        ("not a student enrollment: role '" + role.fillna("(none)") + "' (teacher "
         "enrollments give the class's teacher_id)"))
    return make_reading(enrol, file=file, kind=kind, table="enrollments", columns={
        "student_id": column(enrol, "userSourcedId"),
        "class_id": class_id,
        "school_id": school,
        "teacher_id": class_id.map(teacher_of).astype("str"),
        "term": _term_titles(folder, term_ids),
        "subject": lookup(class_id, classes, "sourcedId", "subjects"),
        "role": role,
        "record_status": column(enrol, "status"),
    }, issue=first_issue(_status_issue(enrol, file), not_student))


def _assignments(folder: Path, kind: str, classes: pd.DataFrame | None) -> Reading | None:
    items = _read(folder, "lineItems")
    if items is None:
        return None
    file = _find(folder, "lineItems").name
    class_id = column(items, "classSourcedId")
    category_id = column(items, "categorySourcedId")
    category = lookup(category_id, _read(folder, "categories"), "sourcedId", "title")
    school = column(items, "schoolSourcedId").fillna(
        lookup(class_id, classes, "sourcedId", "schoolSourcedId"))
    return make_reading(items, file=file, kind=kind, table="assignments", columns={
        "assignment_id": column(items, "sourcedId"),
        "class_id": class_id,
        "school_id": school,
        "title": column(items, "title"),
        "category": category.fillna(category_id).astype("str"),
        "assigned_at": column(items, "assignDate"),
        "due_at": column(items, "dueDate"),
        "points_possible": column(items, "resultValueMax"),
        "points_min": column(items, "resultValueMin"),
        "record_status": column(items, "status"),
    }, issue=_status_issue(items, file))


def _truthy(values: pd.Series) -> pd.Series:
    return values.str.strip().str.lower().isin(["true", "1", "yes"]).fillna(False)


def result_status(results: pd.DataFrame) -> pd.Series:
    """One raw status spelling per result, from scoreStatus and the 1.2 flags.

    OneRoster 1.2 keeps ``scoreStatus`` (exempt, fully graded, not submitted,
    partially graded, submitted) and adds true/false columns ``missing``,
    ``late``, ``incomplete``, ``inProgress``. Precedence: ``exempt`` score
    status, then missing, incomplete, late, in progress ("pending"), then the
    score status as written. Completion needs "did it come in, and when", which
    the flags answer better than "fully graded".
    """
    status = column(results, "scoreStatus").str.strip()
    exempt = status.str.lower().eq("exempt").fillna(False)
    flags = [("missing", "missing"), ("incomplete", "incomplete"), ("late", "late"),
             ("inProgress", "pending")]
    for name, spelling in reversed(flags):
        if has_column(results, name):
            status = status.mask(_truthy(column(results, name)), spelling)
    return status.mask(exempt, "exempt").astype("str")


def _results(folder: Path, kind: str, classes: pd.DataFrame | None) -> Reading | None:
    results = _read(folder, "results")
    if results is None:
        return None
    file = _find(folder, "results").name
    item_id = column(results, "lineItemSourcedId")
    class_id = column(results, "classSourcedId").fillna(
        lookup(item_id, _read(folder, "lineItems"), "sourcedId", "classSourcedId"))
    return make_reading(results, file=file, kind=kind, table="results", columns={
        "student_id": column(results, "studentSourcedId", "userSourcedId"),
        "assignment_id": item_id,
        "status": result_status(results),
        "submitted_at": column(results, "scoreDate"),
        "score": column(results, "score"),
        "class_id": class_id,
        "school_id": lookup(class_id, classes, "sourcedId", "schoolSourcedId"),
        "score_status": column(results, "scoreStatus"),
        "text_score": column(results, "textScore"),
        "notes": column(results, "comment"),
        "record_status": column(results, "status"),
    }, issue=_status_issue(results, file))


def read_oneroster(folder: str | Path) -> list[Reading]:
    """Read a OneRoster CSV bundle into students, enrollments, assignments, results.

    Parameters
    ----------
    folder : str or Path
        The unzipped bundle (manifest.csv, users.csv, ...). Roster-only bundles
        (no lineItems.csv / results.csv) give students and enrollments only.

    Returns
    -------
    list of Reading
        ``kind`` is ``"oneroster-<version>"``. Columns beyond the canonical ones:

        - students (users.csv, every user): school_id = primaryOrgSourcedId,
          else the first orgSourcedIds, else the org of the user's roles.csv
          role; ``given_name``, ``family_name``,
          ``student_number`` (``identifier``), ``guardian_ids`` (``agentSourcedIds``
          or 1.1 ``agents``: may point at teachers too), ``role``, ``record_status``.
          Users who are not students get a reader issue.
        - enrollments: ``role``, ``record_status``; teacher_id from the class's
          teacher enrollment (primary first); term = academicSessions title of the
          class's first term; subject = classes ``subjects`` as written.
        - assignments (lineItems.csv): ``points_min`` (resultValueMin),
          ``record_status``; points_possible = resultValueMax.
        - results: ``class_id``, ``school_id`` (from the class), ``score_status``,
          ``text_score`` (1.2), ``notes`` (comment), ``record_status``.

    Notes
    -----
    Assumption: ``scoreDate`` is read as the hand-in time (``submitted_at``).
    The spec calls it "the date the score was recorded"; in our division's
    exports the gradebook stamps it when the work is handed in, and no other
    field carries a hand-in time. Records with status ``tobedeleted`` get a
    reader issue. Multi-valued fields ("09,10,11") are kept raw.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ReadError(f"OneRoster bundle {folder} is not a folder. Unzip the export and "
                        "pass the folder that holds manifest.csv.")
    if _find(folder, "users") is None and _find(folder, "enrollments") is None \
            and _find(folder, "results") is None:
        raise ReadError(f"{folder.name} has no users.csv, enrollments.csv or results.csv; "
                        "is it a OneRoster bundle? Pass the folder that holds manifest.csv.")
    kind = f"oneroster-{bundle_version(folder)}"
    classes = _read(folder, "classes")
    readings = [_students(folder, kind), _enrollments(folder, kind, classes),
                _assignments(folder, kind, classes), _results(folder, kind, classes)]
    return [r for r in readings if r is not None]


def recognise(folder: Path, names: set[str]) -> bool:
    """A manifest.csv, or (OneRoster 1.0, Microsoft School Data Sync 2.x) users.csv and
    enrollments.csv keyed by sourcedIds."""
    if "manifest.csv" in names and {"propertyname", "value"} <= header_of(
            file_named(folder, "manifest.csv")):
        return True
    return {"users.csv", "enrollments.csv"} <= names and {
        "classsourcedid", "usersourcedid"} <= header_of(file_named(folder, "enrollments.csv"))


BUNDLE = Bundle("oneroster", "OneRoster CSV bundle", recognise, read_oneroster,
                frozenset(f.lower() for f in (*TABLE_FILES, "manifest", "classes",
                                              "academicSessions", "roles", "categories")))
