"""The seven canonical tables of the data model, as pandera schemas.

``validate(frame, table)`` checks one table and reports every failure at once
(``lazy=True``), in a message that names the table, the column, the check and
a few of the values that failed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from engagement.vocabulary import CATEGORIES

TABLES = (
    "students", "enrollments", "contacts", "broadcasts", "conferences",
    "assignments", "results",
)


def _tz_aware(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.DatetimeTZDtype)


def _text(**kwargs) -> pa.Column:
    return pa.Column(str, **kwargs)


def _time(nullable: bool = False) -> pa.Column:
    return pa.Column(checks=pa.Check(_tz_aware, name="tz_aware"), nullable=nullable)


def _category(key: str, nullable: bool = False) -> pa.Column:
    return _text(checks=pa.Check.isin(list(CATEGORIES[key])), nullable=nullable)


def _unique_together(keys: list[str]) -> pa.Check:
    """No two rows share ``keys``: on the keys' integer codes, sorted, in a third of the time
    of pandera's ``unique`` (pandas' duplicated on pairs of text ids: a second at 3M rows)."""
    def check(frame: pd.DataFrame) -> bool | pd.Series:
        code = np.zeros(len(frame), dtype=np.int64)
        for key in keys:
            codes, uniques = pd.factorize(frame[key], use_na_sentinel=False)
            code = code * len(uniques) + codes
        if not (np.diff(np.sort(code)) == 0).any():
            return True
        # The rows that share their keys: each column of them is listed, file and line too.
        return ~pd.Series(code, index=frame.index).duplicated(keep=False)

    return pa.Check(check, name="uniqueness", error=f"uniqueness of ({', '.join(keys)})")


def _table(columns: dict[str, pa.Column], unique: list[str] | None = None) -> pa.DataFrameSchema:
    """A table's schema: its columns, then the file and 1-based line each cleaned row came
    from (optional; categorical in memory, one string per file, plain text in CSV)."""
    traced = {"source_file": pa.Column(nullable=True, required=False),
              "source_row": pa.Column(pd.Int64Dtype(), pa.Check.ge(1), nullable=True,
                                      required=False)}
    return pa.DataFrameSchema({**columns, **traced}, checks=unique and _unique_together(unique),
                              strict=False, coerce=False)


# Schema objects rather than DataFrameModel classes: building a model's schema imports
# dask's typing when dask is installed (two seconds of every run).
MODELS: dict[str, pa.DataFrameSchema] = {
    "students": _table({
        "student_id": _text(unique=True, checks=pa.Check.str_length(min_value=1)),
        "school_id": _text(),
        # Blank where no export gives it (OneRoster's grades is optional): such students
        # are counted under "grade not given", never dropped.
        "grade_level": pa.Column(pd.Int64Dtype(), [pa.Check.ge(-1), pa.Check.le(12)],
                                 nullable=True, coerce=True),
    }),
    "enrollments": _table({
        "student_id": _text(), "class_id": _text(), "school_id": _text(),
        "teacher_id": _text(nullable=True), "term": _text(nullable=True),
        "subject": _text(nullable=True),
    }, unique=["student_id", "class_id"]),
    "contacts": _table({
        "contact_id": _text(unique=True), "student_id": _text(), "school_id": _text(),
        "staff_id": _text(nullable=True), "contact_at": _time(),
        "channel": _category("contacts.channel"), "mode": _category("contacts.mode"),
        "initiator": _category("contacts.initiator"),
        "purpose": _category("contacts.purpose"), "outcome": _category("contacts.outcome"),
    }),
    "broadcasts": _table({
        "broadcast_id": _text(unique=True), "school_id": _text(), "sent_at": _time(),
        "channel": _category("broadcasts.channel"),
        "audience": _category("broadcasts.audience"), "audience_id": _text(nullable=True),
    }),
    "conferences": _table({
        "conference_id": _text(unique=True), "student_id": _text(), "school_id": _text(),
        "staff_id": _text(nullable=True), "scheduled_at": _time(),
        "status": _category("conferences.status"), "format": _category("conferences.format"),
        "parent_present": pa.Column(pd.BooleanDtype(), nullable=True),
        "student_present": pa.Column(pd.BooleanDtype(), nullable=True),
        "rescheduled_from": _text(nullable=True),
        "invited_via": _category("conferences.invited_via", nullable=True),
    }),
    "assignments": _table({
        "assignment_id": _text(unique=True), "class_id": _text(), "school_id": _text(),
        "title": _text(nullable=True), "category": _text(nullable=True),
        "assigned_at": _time(nullable=True),
        # Some gradebooks (Canvas' CSV export) carry no due date at all.
        "due_at": _time(nullable=True),
        "points_possible": pa.Column(float, pa.Check.ge(0), nullable=True),
    }),
    "results": _table({
        "student_id": _text(), "assignment_id": _text(),
        "status": _category("results.status"), "submitted_at": _time(nullable=True),
        "score": pa.Column(float, nullable=True),
        "score_pct": pa.Column(float, pa.Check.ge(0), nullable=True),
    }, unique=["student_id", "assignment_id"]),
}

#: The columns of each table, in order (without the optional source columns).
COLUMNS: dict[str, list[str]] = {
    name: [c for c in model.columns if c not in ("source_file", "source_row")]
    for name, model in MODELS.items()
}
#: Columns a row cannot be kept without (not nullable in the model).
REQUIRED: dict[str, list[str]] = {
    name: [c for c, column in model.columns.items()
           if c in COLUMNS[name] and not column.nullable and column.required]
    for name, model in MODELS.items()
}


class ValidationError(ValueError):
    """A canonical table broke its schema; ``failures`` lists every failing value."""

    def __init__(self, table: str, failures: pd.DataFrame):
        self.table = table
        self.failures = failures
        lines = [f"table '{table}' does not match the data model "
                 f"({len(failures)} failing value(s)):"]
        grouped = failures.groupby(["column", "check"], dropna=False, sort=True)
        for (column, check), group in grouped:
            examples = ", ".join(repr(v) for v in group["failure_case"].head(5))
            lines.append(f"  column '{column}': {check} failed {len(group)} time(s), "
                         f"e.g. {examples}")
        super().__init__("\n".join(lines))


def validate(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Check ``frame`` against the model of ``table``; return it unchanged if valid.

    Raises
    ------
    KeyError
        ``table`` is not one of the seven canonical tables.
    ValidationError
        listing every failing column, check and example value at once.
    """
    if table not in MODELS:
        raise KeyError(f"unknown table {table!r}; expected one of {', '.join(TABLES)}")
    try:
        return MODELS[table].validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        cases = cases.assign(column=cases["column"].fillna(cases["schema_context"]))
        raise ValidationError(table, cases[["column", "check", "failure_case", "index"]]) \
            from None
