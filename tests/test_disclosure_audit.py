"""What an adversary holding everything one run publishes can work out about the cells
it hides: the export (``engagement export --publishable``) and the analysis results
(``engagement analyze``) together, audited by linear programming (``tests/lp_audit.py``).

First the auditor itself, on tables small enough to check by hand. Then two real runs:
the package's sample division, and a small division (``engagement sample --students 40``,
with students moved so that one school has just 12). For each: the audit's model must
hold on the same tables computed without suppression, and then no hidden cell may be
recovered, known to be a small non-zero count, or give away that a whole group (a school
and grade) sits in one column.
"""

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SAMPLE
from tests.lp_audit import (
    TOTAL,
    AuditResult,
    AuditTable,
    Link,
    ModelError,
    audit,
    check_model,
    from_run,
)

K = 10
ENGAGEMENT = Path(sys.executable).with_name("engagement")


def grid(name: str, rows: list[list[float | None]], *, totals: bool = True,
         **options) -> AuditTable:
    """A table from rows of numbers (None: hidden); with ``totals`` the last row and
    column are the totals."""
    columns = [f"c{j}" for j in range(len(rows[0]))]
    index = [f"r{i}" for i in range(len(rows))]
    if totals:
        columns[-1], index[-1] = TOTAL, TOTAL
    values = pd.DataFrame([[np.nan if v is None else v for v in row] for row in rows],
                          index=index, columns=columns)
    if totals:
        options = dict(total_row=TOTAL, total_column=TOTAL) | options
    return AuditTable(name, values, **options)


# -- the auditor -------------------------------------------------------------------------

def test_one_hidden_cell_beside_a_shown_total_is_recovered():
    t = grid("t", [[None, 12, 20],
                   [15, 25, 40],
                   [23, 37, 60]])
    result = audit([t], [])
    assert result.recovered == [("t", "r0", "c0", 8.0)]


def test_a_block_of_four_large_hidden_cells_is_protected():
    t = grid("t", [[None, None, 30],
                   [None, None, 40],
                   [35, 35, 70]], groups=True)
    result = audit([t], [])
    assert not result.disclosed, result.summary()
    bounds = {c.where: (c.lower, c.upper) for c in result.cells}
    assert bounds[("t", "r0", "c0")] == pytest.approx((0, 30))


def test_a_cell_another_table_shows_is_recovered_and_its_neighbour_too():
    export = grid("export", [[None, None, 40],
                             [None, None, 40],
                             [30, 50, 80]])
    result_table = AuditTable("result", pd.DataFrame({"n": [13.0]}, index=["r0"]))
    same = Link.equal(("export", "r0", "c0"), ("result", "r0", "n"), "the same count")
    assert not audit([export, result_table], []).recovered
    recovered = audit([export, result_table], [same]).recovered
    assert {r[:3]: r[3] for r in recovered} == {
        ("export", "r0", "c0"): 13, ("export", "r0", "c1"): 27,
        ("export", "r1", "c0"): 17, ("export", "r1", "c1"): 23}


def test_a_cell_known_to_be_between_1_and_k_minus_1_is_bounded_small():
    # r0c0 <= 7 (another table) and r1c0 <= 20 (its row) leave r0c0 in 5..7.
    t = grid("t", [[None, None, 20],
                   [None, None, 20],
                   [25, 15, 40]])
    other = AuditTable("other", pd.DataFrame({"n": [7.0]}, index=["r0"]))
    link = Link.at_most([("t", "r0", "c0")], [("other", "r0", "n")], "a part of it")
    result = audit([t, other], [link])
    assert ("t", "r0", "c0", 5.0, 7.0) in result.bounded_small
    assert not result.recovered


def test_declared_small_cells_are_not_reported_small_but_are_reported_recovered():
    """A result row flagged suppressed says its n is 1 to k-1: that alone is no finding."""
    values = pd.DataFrame({"n": [np.nan, np.nan, 12.0]}, index=["a", "b", "all"])
    small = pd.DataFrame({"n": [True, True, False]}, index=values.index)
    t = AuditTable("r", values, lower=small * 1.0,
                   upper=small.map(lambda s: K - 1.0 if s else np.inf), declared_small=small)
    parts = Link.sums([("r", "a", "n"), ("r", "b", "n")], ("r", "all", "n"), "a + b = all")
    result = audit([t], [parts])
    assert not result.disclosed
    assert {c.row: (c.lower, c.upper) for c in result.cells} == {"a": (3, 9), "b": (3, 9)}
    a_is_4 = Link([(1.0, ("r", "a", "n"))], "==", 4.0, "another table shows a")
    assert audit([t], [parts, a_is_4]).recovered == [("r", "a", "n", 4.0), ("r", "b", "n", 8.0)]


def test_a_group_known_to_sit_in_one_column_is_one_band():
    # r0's total is hidden but at least 12 (another table); its c1 must be 0 (column).
    t = grid("t", [[None, None, None],
                   [None, None, 30],
                   [None, 0, None]], groups=True)
    other = AuditTable("other", pd.DataFrame({"n": [12.0]}, index=["r0"]))
    link = Link.at_most([("other", "r0", "n")], [("t", "r0", TOTAL)], "r0 has at least 12")
    result = audit([t, other], [link])
    assert ("t", "r0", "c0") in result.one_band
    assert ("t", "r1", "c0") in result.one_band
    assert not [r for r in result.recovered if r[1] == "r0" and r[2] != "c1"]


def test_an_identity_the_shown_numbers_break_is_refused():
    t = grid("t", [[5, 12, 20],
                   [15, 25, 40],
                   [20, 37, 60]])
    with pytest.raises(ModelError, match="row r0 adds up"):
        audit([t], [])


def test_check_model_finds_an_identity_the_truth_breaks():
    shown = grid("t", [[None, None, 20], [None, None, 20], [25, 15, 40]])
    truth = grid("t", [[12, 8, 20], [13, 7, 20], [25, 15, 40]])
    other = AuditTable("o", pd.DataFrame({"n": [10.0]}, index=["r0"]))
    good = Link.at_most([("o", "r0", "n")], [("t", "r0", TOTAL)], "fine")
    bad = Link.at_most([("t", "r0", "c0")], [("o", "r0", "n")], "wrong")
    assert check_model([shown, other], [good], [truth, other]) == []
    assert check_model([shown, other], [good, bad], [truth, other]) == [
        "the truth breaks: wrong (<=, off by +2)"]


@pytest.mark.parametrize("seed", range(6))
def test_probing_settles_only_what_exact_bounds_would(seed):
    """The shortcut (a few LPs with random objectives before one LP per cell) reports
    exactly what one LP per cell reports."""
    rng = np.random.default_rng(seed)
    counts = rng.choice([0, 1, 2, 3, 5, 8, 12, 20, 40], size=(5, 4))
    full = np.vstack([np.column_stack([counts, counts.sum(1)]),
                      np.append(counts.sum(0), counts.sum())]).astype(float)
    full[rng.random(full.shape) < 0.45] = np.nan
    t = grid("t", full.tolist())
    probed, exact = audit([t], [], probes=6), audit([t], [], probes=0)
    assert probed.recovered == exact.recovered
    assert probed.bounded_small == exact.bounded_small


# -- real runs ---------------------------------------------------------------------------

def engagement(*args) -> None:
    subprocess.run([str(ENGAGEMENT), *map(str, args), "--quiet"], check=True,
                   capture_output=True, text=True)


def publish_run(raw: Path, work: Path) -> dict[str, Path]:
    """clean, analyze and export --publishable, as a division would run them."""
    clean, results, export = work / "clean", work / "results", work / "export"
    engagement("clean", raw, "--out", clean)
    engagement("analyze", clean, "--out", results)
    engagement("export", clean, "--out", export, "--publishable")
    return {"clean": clean, "results": results, "export": export}


def unsuppressed_run(clean: Path, work: Path) -> dict[str, Path]:
    """The same outputs with suppression switched off: the truth the model must hold on."""
    import engagement.publish as publish
    import engagement.results as results
    from engagement.dataset import load
    from engagement.estimate import Design

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(results, "suppress", lambda table, **_: table.assign(suppressed=False))
        mp.setattr(publish, "suppress", lambda table, **_: table.assign(suppressed=False))
        mp.setattr(publish, "hidden_cells",
                   lambda table, **_: np.zeros(table.shape, dtype=bool))
        dataset = load(clean)
        out = results.analyze(dataset, design=Design(seed=0))
        out.write(work / "results")
        publish.export(dataset.tables, work / "export", effects=out.effects)
    for path in (work / "export").glob("*.csv"):
        assert "x" not in set(pd.read_csv(path, dtype=str).to_numpy().ravel()), (
            f"{path.name} still hides cells with suppression switched off: "
            "unsuppressed_run must switch off the new suppression as well")
    for path in (work / "results").glob("*.csv"):
        frame = pd.read_csv(path)
        assert not frame.get("suppressed", pd.Series(False)).any(), (
            f"{path.name} still suppresses with suppression switched off: "
            "unsuppressed_run must switch off the new suppression as well")
    return {"results": work / "results", "export": work / "export"}


def small_division(out: Path, *, school: str = "101", keep: int = 12) -> Path:
    """``engagement sample --students 40``, then students moved out of ``school`` (the
    oldest first, to the next school, with their guardians) until it has ``keep``."""
    engagement("sample", out, "--seed", "0", "--students", "40")
    path = out / "oneroster" / "users.csv"
    users = pd.read_csv(path, dtype=str, keep_default_na=False)
    students = users[(users["role"] == "student") & (users["orgSourcedIds"] == school)]
    assert len(students) > keep, "the sample school is already small"
    grade = students["grades"].replace({"KG": "00"})
    leaving = students.loc[grade.sort_values(ascending=False).index[:len(students) - keep],
                           "sourcedId"]
    moving = users["sourcedId"].isin(leaving) | (
        (users["role"] == "guardian") & users["agentSourcedIds"].isin(leaving))
    users.loc[moving, "orgSourcedIds"] = str(int(school) + 1)
    users.to_csv(path, index=False)
    return out


@pytest.fixture(scope="module", params=["sample", "small division"])
def run(request, tmp_path_factory):
    work = tmp_path_factory.mktemp(request.param.replace(" ", "_"))
    raw = SAMPLE if request.param == "sample" else small_division(work / "raw")
    paths = publish_run(raw, work)
    if request.param == "small division":
        roster = pd.read_parquet(paths["clean"] / "students.parquet")
        assert roster["school_id"].astype(str).value_counts()["101"] == 12
    truth = unsuppressed_run(paths["clean"], work / "truth")
    tables, links = from_run(paths["export"], paths["results"], k=K)
    truth_tables, _ = from_run(truth["export"], truth["results"], k=K)
    return Run(request.param, tables, links, truth_tables, audit(tables, links, k=K))


@dataclass
class Run:
    name: str
    tables: list[AuditTable] = field(repr=False)
    links: list[Link] = field(repr=False)
    truth: list[AuditTable] = field(repr=False)
    result: AuditResult = field(repr=False)

    def describe(self, items: list) -> str:
        return (f"{self.name}: {len(items)} of {len(self.result.cells)} hidden cells "
                f"(export and results together)\n{self.result.summary(limit=30)}")


def test_the_audit_model_holds_on_the_unsuppressed_tables(run):
    """Every identity the audit uses holds on the truth, every shown cell is the true
    one and every prior bound contains it: the audit attacks the real outputs. (If the
    outputs change how they hide, e.g. a ``suppressed`` row that no longer means n < k,
    or blanked rows left out, the adapters in lp_audit.py must follow: see
    ``from_results(flag_means_small=...)``.)"""
    problems = check_model(run.tables, run.links, run.truth)
    assert problems == [], "\n".join(problems[:20])


def test_what_the_audit_recovers_is_the_truth(run):
    truth = {t.name: t.values for t in run.truth}
    for table, row, column, value in run.result.recovered:
        assert truth[table].loc[row, column] == pytest.approx(value, abs=1e-6), (
            table, row, column)
    for cell in run.result.cells:
        if cell.exact:
            true = truth[cell.table].loc[cell.row, cell.column]
            assert cell.lower - 1e-6 <= true <= cell.upper + 1e-6, cell


def test_no_hidden_cell_can_be_recovered(run):
    assert not run.result.recovered, run.describe(run.result.recovered)


def test_no_hidden_cell_is_known_to_be_a_small_non_zero_count(run):
    assert not run.result.bounded_small, run.describe(run.result.bounded_small)


def test_no_group_is_known_to_sit_in_one_column(run):
    assert not run.result.one_band, run.describe(run.result.one_band)
