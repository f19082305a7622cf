"""Aggregates safe to share between schools: counts by school and grade with small cells
suppressed, and complementary suppression so no hidden cell can be worked out from its
row or column total.

Suppressed cells are written as ``x`` (the statistical agencies' mark), never blank, so
nobody reads a hidden count as zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engagement.metrics import by_grade, conference_outcomes, result_flags
from engagement.privacy import MIN_CELL, check_k, write_csv

HIDDEN = "x"
TOTAL = "total"
COMPLETION_BANDS = ["under 50%", "50% to 79%", "80% or more"]
CONTACT_KINDS = ["not contacted", "written only", "call attempted, not reached",
                 "reached in person or by phone"]


def with_totals(counts: pd.DataFrame) -> pd.DataFrame:
    """A count table with a total column and a total row."""
    out = counts.copy()
    out.columns = [str(c) for c in out.columns]
    out[TOTAL] = out.sum(axis=1)
    key = (TOTAL,) * out.index.nlevels if out.index.nlevels > 1 else TOTAL
    index = (pd.MultiIndex.from_tuples([key], names=out.index.names)
             if out.index.nlevels > 1 else pd.Index([key], name=out.index.name))
    return pd.concat([out, pd.DataFrame([out.sum().to_numpy()], index=index,
                                        columns=out.columns)])


def hidden_cells(table: pd.DataFrame, *, k: int = MIN_CELL) -> np.ndarray:
    """Which cells of a table with totals (last row and column) to hide.

    Primary: every count with 0 < n < k, totals included. Complementary: while a row or
    column (with its total) has exactly one hidden cell, which subtraction would recover,
    also hide the smallest other cell in it (a non-zero one when there is one).
    """
    check_k(k)
    values = table.to_numpy(dtype=float)
    hide = (values > 0) & (values < k)
    changed = True
    while changed:  # a few passes over a school-by-grade table, not over students
        changed = False
        for line in [*(np.s_[i, :] for i in range(values.shape[0])),
                     *(np.s_[:, j] for j in range(values.shape[1]))]:
            if hide[line].sum() != 1:
                continue
            cells = values[line].copy()
            # Prefer the smallest non-zero shown cell, then a zero (a shown zero is known).
            cost = np.where(hide[line], np.inf, np.where(cells > 0, cells, 1e12))
            target = np.zeros(len(cells), dtype=bool)
            target[int(np.argmin(cost))] = True
            hide[line] |= target
            changed = True
    return hide


def suppress_table(counts: pd.DataFrame, *, k: int = MIN_CELL) -> pd.DataFrame:
    """Counts with totals, hidden cells written as ``x``."""
    table = with_totals(counts)
    hide = hidden_cells(table, k=k)
    shown = table.astype("int64").astype("object")
    shown = shown.mask(hide, HIDDEN)
    return shown


def _student_frame(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return by_grade(tables["students"])[["student_id", "school_id", "grade_level"]].assign(
        school_id=lambda f: f["school_id"].astype(str))


def students_by_completion(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Students by school and grade, in bands of the share of their work completed."""
    flags = result_flags(tables["results"], tables["assignments"])
    rate = flags[flags["counted"]].groupby("student_id", observed=True)["completed"].mean()
    s = _student_frame(tables)
    s = s[s["student_id"].isin(rate.index)]
    band = pd.cut(100 * s["student_id"].map(rate).astype(float), [-np.inf, 50, 80, np.inf],
                  right=False, labels=COMPLETION_BANDS)
    return pd.crosstab([s["school_id"], s["grade_level"]], band).reindex(
        columns=COMPLETION_BANDS, fill_value=0)


def families_by_contact(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Families by school and grade, by the closest contact the school made this year."""
    c = tables["contacts"]
    c = c[c["initiator"].astype(str) == "school"]
    personal = c[c["mode"].astype(str) == "personal"]
    reached = set(personal.loc[personal["outcome"].astype(str) == "reached", "student_id"])
    s = _student_frame(tables)
    kind = np.select(
        [s["student_id"].isin(reached), s["student_id"].isin(set(personal["student_id"])),
         s["student_id"].isin(set(c["student_id"]))], CONTACT_KINDS[:0:-1],
        default=CONTACT_KINDS[0])
    return pd.crosstab([s["school_id"], s["grade_level"]],
                       pd.Categorical(kind, categories=CONTACT_KINDS)).reindex(
        columns=CONTACT_KINDS, fill_value=0)


def conferences_by_outcome(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Conferences by school and grade and what happened."""
    long = conference_outcomes(tables["conferences"], tables["students"])
    long = long.assign(school_id=long["school_id"].astype(str))
    return long.pivot_table(index=["school_id", "grade_level"], columns="status", values="n",
                            aggfunc="sum", fill_value=0, observed=True)


TABLES = {"students_by_completion": students_by_completion,
          "families_by_contact": families_by_contact,
          "conferences_by_outcome": conferences_by_outcome}
README = """\
# A publishable export

Counts by school and grade, safe to share between schools: no student ids, no names, no
notes. A cell marked `x` is hidden: either it counts fewer than {k}, or it was hidden as
well so that a hidden count cannot be worked out by subtracting the other cells of its row
or column from the total. An `x` is never zero.

- `students_by_completion.csv`: students by the share of their counted work completed.
- `families_by_contact.csv`: families by the closest contact the school made this year.
- `conferences_by_outcome.csv`: conferences by what happened.
- `effects.csv`: the estimates for the division and each school, with intervals and n,
  blanked where fewer than {k} students are behind them.
"""


def export(tables: dict[str, pd.DataFrame], out_dir: str | Path, *, effects: pd.DataFrame,
           k: int = MIN_CELL) -> list[Path]:
    """Write the publishable tables into ``out_dir`` and return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in TABLES.items():
        path = out / f"{name}.csv"
        write_csv(suppress_table(build(tables), k=k).reset_index(), path)
        written.append(path)
    path = out / "effects.csv"
    write_csv(effects.drop(columns=["caveat"]), path)
    (out / "README.md").write_text(README.format(k=k), encoding="utf-8")
    return [*written, path]
