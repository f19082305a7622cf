"""Aggregates safe to share between schools: counts by school and grade with small cells
suppressed, and complementary suppression so no hidden cell can be worked out from the
totals, within a table or across the tables of one run.

Each count table is decided once (``protected``), and every output that publishes its
numbers takes them, hidden cells included, from that decision: the export's CSVs, and
``analyze``'s conference outcomes, reachability and school sizes. A count hidden in one
file is never shown in another.

Suppressed cells are written as ``x`` (the statistical agencies' mark), never blank. An
``x`` may stand for zero: a group's zeros are hidden with its small counts, or the zeros
would show that all its students are in the one hidden band.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engagement.metrics import REBOOKED, by_grade, conference_outcomes, result_flags
from engagement.parsing import positions
from engagement.privacy import MIN_CELL, check_k, suppress, write_csv
from engagement.vocabulary import CONFERENCE_STATUSES

HIDDEN = "x"
TOTAL = "total"
COMPLETION_BANDS = ["under 50%", "50% to 79%", "80% or more"]
CONTACT_KINDS = ["not contacted", "written only", "call attempted, not reached",
                 "reached in person or by phone"]


def with_totals(counts: pd.DataFrame) -> pd.DataFrame:
    """A count table with a total column and a total row; a (school, grade) table also
    gets each school's total row after its grades, ``(school, "total")``."""
    out = counts.copy()
    out.columns = [str(c) for c in out.columns]
    out[TOTAL] = out.sum(axis=1)
    if out.index.nlevels == 2:
        grades = out
        # Each school's total row after its grades: all schools' at once, then in place by
        # a stable sort (a frame per school costs seconds for a division's 250 schools).
        school = out.index.get_level_values(0)
        totals = out.groupby(school, sort=False).sum()
        totals.index = pd.MultiIndex.from_arrays(
            [totals.index, [TOTAL] * len(totals)], names=out.index.names)
        rank = pd.Index(totals.index.get_level_values(0))
        order = np.argsort(np.concatenate([2 * rank.get_indexer(school),
                                           2 * np.arange(len(totals)) + 1]), kind="stable")
        out = pd.concat([out, totals]).iloc[order]
        key = (TOTAL, TOTAL)
        index = pd.MultiIndex.from_tuples([key], names=out.index.names)
        return pd.concat([out, pd.DataFrame([grades.sum().to_numpy()], index=index,
                                            columns=out.columns)])
    key = (TOTAL,) * out.index.nlevels if out.index.nlevels > 1 else TOTAL
    index = (pd.MultiIndex.from_tuples([key], names=out.index.names)
             if out.index.nlevels > 1 else pd.Index([key], name=out.index.name))
    return pd.concat([out, pd.DataFrame([out.sum().to_numpy()], index=index,
                                        columns=out.columns)])


def _lines(table: pd.DataFrame) -> list[np.ndarray]:
    """The additive lines of a table with totals, as flat cell numbers: every row (its
    cells and total), and every column within each school (its grades and the school's
    total), and across schools (the school totals and the division's); a one-level
    table's columns whole."""
    n_rows, n_cols = table.shape
    cell = np.arange(n_rows * n_cols).reshape(n_rows, n_cols)
    lines = [cell[i, :] for i in range(n_rows)]
    if table.index.nlevels == 2:
        school = table.index.get_level_values(0)
        grade = table.index.get_level_values(1)
        subtotal = np.flatnonzero((grade == TOTAL) & (school != TOTAL))
        blocks = [np.flatnonzero(school == s) for s in pd.unique(school[school != TOTAL])]
        blocks.append(np.append(subtotal, n_rows - 1))
        lines += [cell[rows, j] for rows in blocks for j in range(n_cols)]
    else:
        lines += [cell[:, j] for j in range(n_cols)]
    return lines


def hidden_cells(table: pd.DataFrame, *, k: int = MIN_CELL) -> np.ndarray:
    """Which cells of a table with totals (``with_totals``) to hide.

    Primary: every count with 0 < n < k, totals included. A row with a hidden cell hides
    its zeros too (shown zeros beside one hidden cell say the whole group is in it).
    Complementary: while a line (a row, or a column within a school or across schools)
    exposes a hidden cell (it is the only hidden cell, or the only non-zero one, or the
    hidden cells add up to fewer than k), also hide the smallest non-zero cell shown in
    it. The disclosure audit (tests/lp_audit.py) checks the result by linear programming
    over every table of a run.
    """
    check_k(k)
    values = table.to_numpy(dtype=float)
    flat = values.ravel()
    hide = ((values > 0) & (values < k)).ravel()
    lines = _lines(table)
    rows = lines[:values.shape[0]]
    # A zero in a line whose total is a shown zero is known: hiding it protects nothing.
    known = np.zeros(flat.shape, dtype=bool)
    for line in lines:  # each line's last cell is its total
        if flat[line[-1]] == 0 and not hide[line[-1]]:
            known[line] = True
    changed = True
    while changed:  # a few passes over a school-by-grade table, not over students
        changed = False
        for row in rows:
            zeros = row[(flat[row] == 0) & ~known[row]]
            if hide[row].any() and not hide[zeros].all():
                hide[zeros] = True
                changed = True
        for line in lines:
            hidden, value = hide[line], flat[line]
            nonzero = hidden & (value > 0)
            # Exposed: one hidden cell (subtraction gives it), one hidden non-zero cell
            # among hidden zeros (a zero is pinned by the least side knowledge), or
            # hidden cells adding up to fewer than k (each is then known to be small).
            exposed = hidden.sum() == 1 or nonzero.sum() == 1 or (
                nonzero.any() and value[hidden].sum() < k)
            if not exposed:
                continue
            # The smallest non-zero shown cell; a zero only when nothing else is left.
            cost = np.where(hidden | known[line], np.inf,
                            np.where(value > 0, value, 1e12))
            if np.isinf(cost).all() or (cost.min() >= 1e12 and hidden.sum() > 1):
                continue  # nothing left to hide that would help
            hide[line[int(np.argmin(cost))]] = True
            changed = True
    return hide.reshape(values.shape)


def suppress_table(counts: pd.DataFrame, *, k: int = MIN_CELL) -> pd.DataFrame:
    """Counts with totals, hidden cells written as ``x``."""
    table = with_totals(counts)
    hide = hidden_cells(table, k=k)
    shown = table.astype("int64").astype("object")
    return shown.mask(hide, HIDDEN)


def grid(counts: pd.DataFrame, students: pd.DataFrame) -> pd.DataFrame:
    """Every school with every grade of the division, zeros included: a row that exists
    only where a school has students of that grade would say so, however it is hidden."""
    s = by_grade(students)
    schools = pd.unique(s["school_id"].astype("str"))
    grades = sorted(pd.unique(s["grade_level"]), key=lambda g: (isinstance(g, str), str(g)
                                                                 if isinstance(g, str) else g))
    index = pd.MultiIndex.from_product([sorted(schools), grades],
                                       names=["school_id", "grade_level"])
    return counts.reindex(index, fill_value=0)


def _student_frame(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return by_grade(tables["students"])[["student_id", "school_id", "grade_level"]].assign(
        school_id=lambda f: f["school_id"].astype(str))


def students_by_completion(tables: dict[str, pd.DataFrame], flags: pd.DataFrame | None = None
                           ) -> pd.DataFrame:
    """Students by school and grade, in bands of the share of their work completed
    (``flags``: the results' completion flags, when the caller has them already)."""
    if flags is None:
        flags = result_flags(tables["results"], tables["assignments"])
    s = _student_frame(tables)
    # Each result's student by position and counts by bincount, not a grouping by text id
    # (a second at 3M results).
    at = positions(flags["student_id"], s["student_id"])
    counted = flags["counted"].to_numpy() & (at >= 0)
    n = np.bincount(at[counted], minlength=len(s))
    done = np.bincount(at[counted], weights=flags["completed"].to_numpy()[counted],
                       minlength=len(s))
    s, rate = s[n > 0], done[n > 0] / n[n > 0]
    rate = pd.Series(100 * rate, index=s.index, name="completion")
    band = pd.cut(rate, [-np.inf, 50, 80, np.inf], right=False, labels=COMPLETION_BANDS)
    return pd.crosstab([s["school_id"], s["grade_level"]], band).reindex(
        columns=COMPLETION_BANDS, fill_value=0)


def families_by_contact(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Families by school and grade, by the closest contact the school made this year."""
    c = tables["contacts"]
    c = c[c["initiator"].astype(str) == "school"]
    personal = c[c["mode"].astype(str) == "personal"]
    reached = personal[personal["outcome"].astype(str) == "reached"]
    s = _student_frame(tables)

    def among(frame: pd.DataFrame) -> np.ndarray:  # by position: no Python set of ids
        return positions(s["student_id"], frame["student_id"]) >= 0

    kind = np.select([among(reached), among(personal), among(c)], CONTACT_KINDS[:0:-1],
                     default=CONTACT_KINDS[0])
    return pd.crosstab([s["school_id"], s["grade_level"]],
                       pd.Categorical(kind, categories=CONTACT_KINDS)).reindex(
        columns=CONTACT_KINDS, fill_value=0)


def conferences_by_outcome(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Conferences by school and grade and what happened (every status, zeros included:
    a status column only where one happened would say it did)."""
    long = conference_outcomes(tables["conferences"], tables["students"])
    long = long.assign(school_id=long["school_id"].astype(str))
    wide = long.pivot_table(index=["school_id", "grade_level"], columns="status", values="n",
                            aggfunc="sum", fill_value=0, observed=True)
    return wide.reindex(columns=list(CONFERENCE_STATUSES), fill_value=0)


TABLES = {"students_by_completion": students_by_completion,
          "families_by_contact": families_by_contact,
          "conferences_by_outcome": conferences_by_outcome}


@dataclass
class Protected:
    """A count table by school and grade, with totals, and the cells hidden wherever it
    is shown."""

    table: pd.DataFrame
    hidden: np.ndarray

    def shown(self) -> pd.DataFrame:
        """As published: hidden cells written as ``x``."""
        return self.table.astype("int64").astype("object").mask(self.hidden, HIDDEN)

    def cells(self, column: str) -> pd.Series:
        """One column's counts, blank where hidden (Int64), totals rows included."""
        return self.table[column].astype("Int64").mask(
            self.hidden[:, list(self.table.columns).index(column)])


def protect_counts(tables: dict[str, pd.DataFrame], k: int = MIN_CELL, *,
                   flags: pd.DataFrame | None = None) -> dict[str, Protected]:
    """The run's count tables, each decided once: every output showing their numbers
    takes them from here (``flags``: the results' completion flags, if already made)."""
    out = {}
    for name, build in TABLES.items():
        counts = (students_by_completion(tables, flags) if name == "students_by_completion"
                  else build(tables))
        table = with_totals(grid(counts, tables["students"]))
        out[name] = Protected(table, hidden_cells(table, k=k))
    return out


def _grade_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame.index.get_level_values(1) != TOTAL]


def shown_conference_outcomes(protected: Protected) -> pd.DataFrame:
    """``conference_outcomes`` as the export shows it: the same hidden cells (a hidden
    zero listed as hidden, since a missing row reads as zero)."""
    rows = []
    grades = _grade_rows(protected.table)
    for status in [c for c in grades.columns if c != TOTAL]:
        n = protected.cells(status).loc[grades.index]
        part = pd.DataFrame({"status": status, "n": n, "suppressed": n.isna()},
                            index=grades.index)
        rows.append(part[part["suppressed"] | (part["n"] > 0)])
    if not rows:
        return pd.DataFrame(columns=["school_id", "grade_level", "status", "n", "suppressed"])
    return pd.concat(rows).reset_index().sort_values(
        ["school_id", "grade_level", "status"], key=lambda c: c.astype("str"),
        ignore_index=True)[["school_id", "grade_level", "status", "n", "suppressed"]]


def shown_conference_formats(formats: pd.DataFrame, k: int = MIN_CELL) -> pd.DataFrame:
    """``conference_formats`` with its small rows hidden, and the formats hidden together
    when one is: the formats add up to every attended conference, a total other outputs
    give, so one hidden format would be that total less the others. (The rebooked slots
    are a part of them, hidden on their own.)"""
    shown = suppress(formats, n=["n", "attended", "not_attended"], values=["share_attended"],
                     k=k)
    kinds = (shown["kind"] != REBOOKED).to_numpy()
    if (shown["suppressed"].to_numpy() & kinds).any():
        for column in ("n", "attended", "not_attended", "share_attended"):
            shown[column] = shown[column].mask(kinds)
        shown["suppressed"] = shown["suppressed"] | kinds
    return shown


def shown_reachability(reach: pd.DataFrame, protected: Protected, k: int = MIN_CELL
                       ) -> pd.DataFrame:
    """``reachability`` on the export's rows: the number of families is the export's
    (hidden where it is hidden); a row whose reached or attempted families, or those
    not reached or not attempted, are fewer than k is blanked."""
    families = protected.cells(TOTAL).loc[_grade_rows(protected.table).index]
    keyed = reach.assign(school_id=reach["school_id"].astype("str")).set_index(
        ["school_id", "grade_level"]).reindex(families.index)
    n = keyed["n_families"].fillna(0)
    counts = keyed.fillna({"n_reached": 0, "n_attempted": 0}).assign(
        not_reached=n - keyed["n_reached"].fillna(0),
        not_attempted=n - keyed["n_attempted"].fillna(0))
    checked = suppress(counts, n=["n_reached", "n_attempted", "not_reached", "not_attempted"],
                       values=[], k=k)
    small = families.isna().to_numpy() | checked["suppressed"].to_numpy()
    out = keyed.assign(n_families=families.astype("Int64"), n_reached=counts["n_reached"],
                       n_attempted=counts["n_attempted"],
                       unanswered_attempts=keyed["unanswered_attempts"].fillna(0)
                       ).reset_index()
    for column in ("n_reached", "n_attempted", "unanswered_attempts", "share_reached"):
        out[column] = out[column].astype("float64").where(~small)
    return out.assign(suppressed=small)


def school_sizes(protected: Protected) -> pd.Series:
    """Students with counted work in each school, as the export's school totals show
    them (blank where hidden)."""
    totals = protected.cells(TOTAL)
    schools = totals[(totals.index.get_level_values(1) == TOTAL)
                     & (totals.index.get_level_values(0) != TOTAL)]
    return pd.Series(schools.to_numpy(), index=schools.index.get_level_values(0),
                     dtype="Int64")


README = """\
# A publishable export

Counts by school and grade, safe to share between schools: no student ids, no names, no
notes, no staff. A cell marked `x` is hidden: either it counts fewer than {k}, or it was
hidden as well so that a hidden count cannot be worked out from the totals (of its row, of
its column within the school, or of the schools), or it is a zero of a group with a hidden
count. An `x` can be any number, zero included. Each school's grades are followed by the
school's total, and the last row is the division's. The numbers that `engagement analyze`
shows from the same counts are hidden in the same cells.

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
    for name, counts in protect_counts(tables, k).items():
        path = out / f"{name}.csv"
        write_csv(counts.shown().reset_index(), path)
        written.append(path)
    path = out / "effects.csv"
    write_csv(effects.drop(columns=["caveat"]), path)
    (out / "README.md").write_text(README.format(k=k), encoding="utf-8")
    return [*written, path]
