"""The seven canonical tables of the data model, as pandera models.

``validate(frame, table)`` checks one table and reports every failure at once
(``lazy=True``), in a message that names the table, the column, the check and
a few of the values that failed.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from engagement.vocabulary import CATEGORIES

TABLES = (
    "students", "enrollments", "contacts", "broadcasts", "conferences",
    "assignments", "results",
)


def _tz_aware(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.DatetimeTZDtype)


_tz_check = pa.Check(_tz_aware, name="tz_aware", error="times must be timezone-aware")


def _category(key: str, **kwargs) -> pa.Field:
    return pa.Field(isin=list(CATEGORIES[key]), **kwargs)


class _Traced(pa.DataFrameModel):
    """Every cleaned row keeps the file and 1-based line it came from."""

    # Categorical in memory (one string per file), plain text in CSV.
    source_file: Series | None = pa.Field(nullable=True)
    source_row: Series[pd.Int64Dtype] | None = pa.Field(nullable=True, ge=1)

    class Config:
        strict = False
        coerce = False


class Students(_Traced):
    student_id: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    school_id: Series[str]
    # Blank where no export gives it (OneRoster's grades is optional): such students are
    # counted under "grade not given", never dropped.
    grade_level: Series[pd.Int64Dtype] = pa.Field(ge=-1, le=12, nullable=True, coerce=True)


class Enrollments(_Traced):
    student_id: Series[str]
    class_id: Series[str]
    school_id: Series[str]
    teacher_id: Series[str] = pa.Field(nullable=True)
    term: Series[str] = pa.Field(nullable=True)
    subject: Series[str] = pa.Field(nullable=True)

    class Config:
        unique = ["student_id", "class_id"]


class Contacts(_Traced):
    contact_id: Series[str] = pa.Field(unique=True)
    student_id: Series[str]
    school_id: Series[str]
    staff_id: Series[str] = pa.Field(nullable=True)
    contact_at: Series = pa.Field()
    channel: Series[str] = _category("contacts.channel")
    mode: Series[str] = _category("contacts.mode")
    initiator: Series[str] = _category("contacts.initiator")
    purpose: Series[str] = _category("contacts.purpose")
    outcome: Series[str] = _category("contacts.outcome")

    @pa.check("contact_at", name="tz_aware")
    def _contact_at_tz(cls, s: Series) -> bool:
        return _tz_aware(s)


class Broadcasts(_Traced):
    broadcast_id: Series[str] = pa.Field(unique=True)
    school_id: Series[str]
    sent_at: Series = pa.Field()
    channel: Series[str] = _category("broadcasts.channel")
    audience: Series[str] = _category("broadcasts.audience")
    audience_id: Series[str] = pa.Field(nullable=True)

    @pa.check("sent_at", name="tz_aware")
    def _sent_at_tz(cls, s: Series) -> bool:
        return _tz_aware(s)


class Conferences(_Traced):
    conference_id: Series[str] = pa.Field(unique=True)
    student_id: Series[str]
    school_id: Series[str]
    staff_id: Series[str] = pa.Field(nullable=True)
    scheduled_at: Series = pa.Field()
    status: Series[str] = _category("conferences.status")
    format: Series[str] = _category("conferences.format")
    parent_present: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    student_present: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    rescheduled_from: Series[str] = pa.Field(nullable=True)
    invited_via: Series[str] = _category("conferences.invited_via", nullable=True)

    @pa.check("scheduled_at", name="tz_aware")
    def _scheduled_at_tz(cls, s: Series) -> bool:
        return _tz_aware(s)


class Assignments(_Traced):
    assignment_id: Series[str] = pa.Field(unique=True)
    class_id: Series[str]
    school_id: Series[str]
    title: Series[str] = pa.Field(nullable=True)
    category: Series[str] = pa.Field(nullable=True)
    assigned_at: Series = pa.Field(nullable=True)
    # Some gradebooks (Canvas' CSV export) carry no due date at all.
    due_at: Series = pa.Field(nullable=True)
    points_possible: Series[float] = pa.Field(nullable=True, ge=0)

    @pa.check("assigned_at", "due_at", name="tz_aware")
    def _times_tz(cls, s: Series) -> bool:
        return _tz_aware(s)


class Results(_Traced):
    student_id: Series[str]
    assignment_id: Series[str]
    status: Series[str] = _category("results.status")
    submitted_at: Series = pa.Field(nullable=True)
    score: Series[float] = pa.Field(nullable=True)
    score_pct: Series[float] = pa.Field(nullable=True, ge=0)

    @pa.check("submitted_at", name="tz_aware")
    def _submitted_tz(cls, s: Series) -> bool:
        return _tz_aware(s)

    class Config:
        unique = ["student_id", "assignment_id"]


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "students": Students,
    "enrollments": Enrollments,
    "contacts": Contacts,
    "broadcasts": Broadcasts,
    "conferences": Conferences,
    "assignments": Assignments,
    "results": Results,
}

#: The columns of each table, in order (without the optional source columns).
COLUMNS: dict[str, list[str]] = {
    name: [c for c in model.to_schema().columns if c not in ("source_file", "source_row")]
    for name, model in MODELS.items()
}
#: Columns a row cannot be kept without (not nullable in the model).
REQUIRED: dict[str, list[str]] = {
    name: [c for c, column in model.to_schema().columns.items()
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
