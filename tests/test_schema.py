import pandas as pd
import pytest

from engagement.sample import canonical_tables
from engagement.schema import COLUMNS, TABLES, ValidationError, validate


def test_the_seven_tables_have_the_data_model_columns():
    assert TABLES == ("students", "enrollments", "contacts", "broadcasts", "conferences",
                      "assignments", "results")
    assert COLUMNS["contacts"] == ["contact_id", "student_id", "school_id", "staff_id",
                                   "contact_at", "channel", "mode", "initiator", "purpose",
                                   "outcome"]
    assert COLUMNS["results"] == ["student_id", "assignment_id", "status", "submitted_at",
                                  "score", "score_pct"]


def test_simulated_truth_is_schema_valid(small_division):
    for name, table in canonical_tables(small_division).items():
        validate(table, name)


def _results(**changes):
    frame = pd.DataFrame({
        "student_id": ["001", "002"], "assignment_id": ["A1", "A1"],
        "status": ["on_time", "missing"],
        "submitted_at": pd.to_datetime(["2025-10-01 10:00", None]).tz_localize("UTC"),
        "score": [8.0, None], "score_pct": [0.8, None]})
    return frame.assign(**changes)


def test_validate_reports_every_failure_at_once():
    bad = _results(status=["done", "missing"], score_pct=[-0.5, None],
                   submitted_at=pd.to_datetime(["2025-10-01", None]))
    with pytest.raises(ValidationError) as info:
        validate(bad, "results")
    message = str(info.value)
    assert "column 'status'" in message and "'done'" in message
    assert "column 'score_pct'" in message
    assert "column 'submitted_at': tz_aware" in message
    assert set(info.value.failures["column"]) >= {"status", "score_pct", "submitted_at"}


def test_duplicate_keys_are_refused():
    with pytest.raises(ValidationError, match="uniqueness"):
        validate(_results(student_id=["001", "001"]), "results")


def test_unknown_table_names_the_choices():
    with pytest.raises(KeyError, match="expected one of students"):
        validate(_results(), "grades")


def test_valid_frame_is_returned_unchanged():
    frame = _results()
    pd.testing.assert_frame_equal(validate(frame, "results"), frame)


def test_the_analysis_imports_neither_dask_nor_scipy_stats():
    """Seconds of every run: pandera's DataFrameModel imports dask's typing when dask is
    installed, and scipy.stats loads every distribution; the schemas are schema objects
    and the quantiles come from scipy.special."""
    import subprocess
    import sys
    code = ("import sys, engagement.cli, engagement.dataset, engagement.results; "
            "print(sorted(m for m in ('dask', 'scipy.stats') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
