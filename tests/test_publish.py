"""The publishable export: no shown cell counts 0 < n < k, and no hidden cell can be
recovered by subtracting the shown cells of its row or column from the total."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engagement.publish import HIDDEN, TOTAL, suppress_table
from tests.conftest import SAMPLE


def assert_publishable(table: pd.DataFrame, k: int) -> None:
    """The check an outsider would make, written without the export's own code: every
    shown count is 0 or at least k; every row and column (with its total) hides either
    nothing or at least two cells, so subtraction recovers none."""
    hidden = table.eq(HIDDEN).to_numpy()
    shown = table.mask(table.eq(HIDDEN)).to_numpy(dtype=float)
    small = (shown > 0) & (shown < k)
    assert not small.any(), "a shown cell counts fewer than k"
    for axis in (0, 1):
        per_line = hidden.sum(axis=axis)
        assert not (per_line == 1).any(), "a single hidden cell in a line is recoverable"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("publish")
    done = subprocess.run([sys.executable, "-m", "engagement.cli", "export", str(SAMPLE),
                           "--out", str(out), "--publishable", "--quiet"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("name", ["students_by_completion", "families_by_contact",
                                  "conferences_by_outcome"])
def test_sample_export_is_publishable(exported, name):
    table = pd.read_csv(exported / f"{name}.csv", dtype="str").set_index(
        ["school_id", "grade_level"])
    assert table.index[-1] == (TOTAL, TOTAL) and table.columns[-1] == TOTAL
    assert_publishable(table, k=10)
    assert table.eq(HIDDEN).any().any()  # the sample does have small cells
    assert table.loc[(TOTAL, TOTAL), TOTAL] != HIDDEN


def test_export_has_no_ids_and_needs_the_flag(exported, tmp_path):
    users = pd.read_csv(SAMPLE / "oneroster" / "users.csv", dtype="str")
    ids = set(users["sourcedId"])
    for path in exported.glob("*.csv"):
        cells = set(pd.read_csv(path, dtype="str").to_numpy().ravel())
        assert not cells & ids, path.name
    assert "x" in (exported / "README.md").read_text()
    done = subprocess.run([sys.executable, "-m", "engagement.cli", "export", str(SAMPLE),
                           "--out", str(tmp_path)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2 and "--publishable" in done.stderr


def test_a_hand_made_table():
    counts = pd.DataFrame({"a": [3, 20, 30], "b": [15, 25, 12], "c": [40, 0, 50]},
                          index=pd.Index(["g1", "g2", "g3"], name="grade"))
    table = suppress_table(counts, k=10)
    assert table.loc["g1", "a"] == HIDDEN
    # Row g1 and column a each get a second hidden cell: the smallest shown one.
    assert table.loc["g1", "b"] == HIDDEN and table.loc["g2", "a"] == HIDDEN
    assert_publishable(table.astype(str), k=10)
    assert table.loc[TOTAL, TOTAL] == 195


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(6, 15), st.data())
def test_any_count_table_comes_out_publishable(rows, columns, k, data):
    values = data.draw(st.lists(st.integers(0, 40), min_size=rows * columns,
                                max_size=rows * columns))
    counts = pd.DataFrame(np.array(values).reshape(rows, columns),
                          columns=[f"c{j}" for j in range(columns)])
    table = suppress_table(counts, k=k)
    assert_publishable(table.astype(str), k=k)
    shown = table.mask(table.eq(HIDDEN))
    truth = counts.assign(total=counts.sum(axis=1))
    for column in truth.columns:  # what is shown is the true count
        column_shown = shown[column].iloc[:-1]
        keep = column_shown.notna()
        assert (column_shown[keep].astype(int) == truth[column][keep.to_numpy()]).all()


def test_students_without_a_grade_are_counted_not_dropped():
    from engagement.dataset import load
    from engagement.metrics import reachability
    from engagement.publish import families_by_contact

    tables = dict(load(SAMPLE).tables)
    students = tables["students"].copy()
    students.loc[students.index[:300], "grade_level"] = pd.NA  # as OneRoster may leave it
    tables["students"] = students
    families = families_by_contact(tables)
    assert int(families.to_numpy().sum()) == len(students)
    assert "not given" in families.index.get_level_values("grade_level")
    reach = reachability(tables["contacts"], students)
    assert int(reach["n_families"].sum()) == len(students)
