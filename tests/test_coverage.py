"""Over many simulated divisions the intervals cover the planted effect, a null world is
"found" no more often than chance, and a world where everyone who fell behind was called
is not estimable, on worlds from our own generator with the mechanisms real schools have
(``benchmarks/grid.py``) and on worlds from one we did not write (``../shared/worlds``).

The default run checks a few small worlds; ``-m slow`` runs the grid (40 worlds a cell).

Measured before this design (the difference-in-differences matched on counts of misses),
on 8 null and 8 effect worlds of ``division_sim`` (2,000 students): an effect of personal
contact "found" in 5 of 8 null worlds (mean +1.0 point); everyone-called worlds reported
+0.9 to +2.1 points. With the comparison of decisions (engagement/estimate), on 40 worlds
of each scenario (1,200 students, ``benchmarks/independent.py``, figures in
benchmarks/INDEPENDENT.md): each contact estimate found in 2% of null worlds, with
intervals as wide as the estimates' own noise; covered in 92-98% of effect worlds with a
bias under 0.2 points (the figure per family reached excepted: +1.2, since that simulator
gives an unanswered call some effect, the bound its caveat states); everyone-called not
estimable in 40 of 40. The grid's figures (our generator, 40 worlds a cell) are in
benchmarks/GRID.md.
"""

import shutil

import numpy as np
import pytest

from engagement.estimate import Design, contact_effects
from tests.conftest import ROOT, load_module

DESIGN = Design(n_boot=150)
CONTACTS = ("att_personal_attempt", "att_personal_contact", "att_written_contact")
ESTIMANDS = (*CONTACTS, "att_conference_attended")
grid = load_module("grid", ROOT / "benchmarks" / "grid.py")


def _worlds(effects: str, mechanism: str, seeds, students: int = 600):
    """One row per world and estimand, as the benchmark grid records them."""
    import pandas as pd

    rows = [row for seed in seeds for row in grid.run_world((effects, mechanism, seed,
                                                              students))]
    return pd.DataFrame(rows)


def test_a_null_world_with_every_mechanism_is_found_no_more_than_by_chance():
    rows = _worlds("null", "all", range(2000, 2004))
    assert rows["error"].eq("").all(), rows["error"].unique()
    found = (rows["ci_low"] > 0) | (rows["ci_high"] < 0)
    # 16 intervals at 95%: by chance about one; two or more would be a warning sign.
    assert found.sum() <= 1, rows.loc[found, ["estimand", "seed", "estimate", "ci_low"]]


def test_planted_effects_are_covered_with_every_mechanism():
    rows = _worlds("effect", "all", range(2100, 2104))
    covered = (rows["ci_low"] <= rows["truth"]) & (rows["truth"] <= rows["ci_high"])
    for estimand in CONTACTS:
        assert covered[rows["estimand"] == estimand].sum() >= 3, estimand
    # Conferences cover a little less often than they should (90-98% on the grid): a
    # shortfall within the noise of 40 worlds, held here at no worse than half.
    assert covered[rows["estimand"] == "att_conference_attended"].sum() >= 2


def test_when_everyone_who_fell_behind_is_called_contacts_are_not_estimable():
    rows = _worlds("null", "everyone_called", [2200]).set_index("estimand")
    for estimand in CONTACTS:
        assert np.isnan(rows.loc[estimand, "estimate"]), estimand
        assert "contacted themselves in the week after" in rows.loc[estimand, "method"]
    assert np.isfinite(rows.loc["att_conference_attended", "estimate"])


def _independent(division_sim, tmp_path, scenario: str, seed: int):
    """A world of the generator we did not write, read from its CSVs like a school's
    exports, with its truth moved out of the folder first."""
    import engagement

    folder = tmp_path / f"{scenario}_{seed}"
    division_sim.write_world(str(folder), n_students=1200, scenario=scenario, seed=seed)
    truth = (folder / "truth.json").read_text(encoding="utf-8")
    shutil.move(folder / "truth.json", tmp_path / f"truth_{scenario}_{seed}.json")
    table = contact_effects(engagement.load(folder).tables, design=DESIGN)
    return table[table["subgroup"] == "all"].set_index("estimand"), truth


def test_an_independent_null_world_finds_no_contact_effect(division_sim, tmp_path):
    table, _ = _independent(division_sim, tmp_path, "null", 11)
    for estimand in CONTACTS:
        row = table.loc[estimand]
        assert row["ci_low"] <= 0 <= row["ci_high"], (estimand, row["estimate"])


def test_an_independent_everyone_called_world_is_not_estimable(division_sim, tmp_path):
    table, _ = _independent(division_sim, tmp_path, "everyone_called", 11)
    for estimand in CONTACTS:
        assert np.isnan(table.loc[estimand, "estimate"]), estimand
        assert table.loc[estimand, "method"].startswith("not estimable")


@pytest.mark.slow
def test_the_grid_is_honest_in_every_cell():
    """40 worlds a cell (900 students): coverage and the null's false-positive rate per
    estimand, each mechanism on and off (the table: benchmarks/GRID.md)."""
    import pandas as pd

    rows = pd.concat([_worlds(e, m, range(1000, 1040), 900) for e, m in grid.all_cells()])
    summary = grid.summarise(rows).set_index(["cell", "estimand"])
    for (cell, estimand), r in summary.iterrows():
        if cell == "null:everyone_called":
            if estimand in CONTACTS:
                assert r["not_estimable"] >= 0.95, (cell, estimand)
            continue
        assert r["not_estimable"] <= 0.05, (cell, estimand)
        # Contacts: nominal. Conferences: a little short (90-98% coverage), held there.
        nominal = estimand in CONTACTS
        if cell.startswith("null"):
            assert r["found"] <= (0.08 if nominal else 0.13), (cell, estimand, r["found"])
        else:
            assert r["coverage"] >= (0.9 if nominal else 0.85), (cell, estimand, r["coverage"])
            # Against the truth per decision, the decisions' bias stays under 0.3 points
            # (0.22 at worst; 0.41 before the shares of later contacts were adjusted for the
            # weeks before like completion, 0.88 before the decisions were matched on when
            # the misses fell).
            if estimand in ("att_personal_attempt", "att_written_contact"):
                assert abs(r["bias"]) <= 0.3, (cell, estimand, r["bias"])
