"""A linear-programming audit of published count tables: what can an adversary who holds
every table of one run work out about the cells they hide?

The model
---------
- **Tables** (:class:`AuditTable`): a grid of numbers, ``NaN`` where the reader does not
  see the cell (an ``x`` in the export, a blanked value in a result). What a reader knows
  of a hidden cell anyway goes in ``lower``/``upper`` (a count is >= 0; a row flagged
  ``suppressed`` says its n is 1 to k-1). A table may have a total row and a total column:
  its cells then add up to them.
- **Links** (:class:`Link`): linear identities (``==``) or inequalities (``<=``, ``>=``)
  between cells of any tables that hold by construction, e.g. "families_by_contact's
  total for a school and grade is reachability's n_families for it".
- **Unknowns** are the hidden cells, **knowns** every shown cell.

For every hidden cell of an audited table, :func:`audit` minimises and maximises it
under all the constraints with ``scipy.optimize.linprog`` (the LP relaxation of the
integer problem; the bounds are then rounded inwards for count tables, as an adversary
who knows the cells are whole numbers would). A cell is

- **recovered** when its bounds pin one value (rounded bounds equal; ``upper - lower <
  0.5`` always qualifies);
- **bounded small** when it is known to be a small non-zero count: lower >= 1 and
  upper <= k - 1 (cells whose own publication already says "1 to k-1", such as a result
  row flagged ``suppressed``, are ``declared_small`` and not reported for that);
- part of a **one-band** disclosure when its table's rows are groups of people
  (``groups=True``): a row with a hidden cell whose total is known to be > 0 while every
  column but one is known to be 0, i.e. every member is known to fall in that column.

Many hidden cells are settled without their own LP: a few LPs with random objectives
give feasible points, and a cell seen at two different whole numbers, at 0 and at k or
more, is neither recovered nor bounded small whatever its exact bounds.

Adapters
--------
:func:`from_export` reads ``engagement export --publishable``'s folder,
:func:`from_results` ``engagement analyze``'s, :func:`cross_links` states the identities
between the two, and :func:`from_run` does all three. :func:`check_model` tests the whole
model against the same tables computed without suppression: every identity must hold on
the truth, or the audit would be auditing something else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

from engagement.metrics import REBOOKED

K = 10
EPS = 1e-6  # LP tolerance when rounding bounds to whole numbers
TOTAL = "total"

Ref = tuple[str, Hashable, str]  # (table name, row label, column label)


# -- the model ---------------------------------------------------------------------------

@dataclass
class AuditTable:
    """A published table as a reader sees it.

    ``values``: rows by columns, float, ``NaN`` where hidden. ``lower``/``upper``: what a
    reader knows of hidden cells anyway (a number or a frame like ``values``).
    ``total_row``/``total_column``: labels of the row and column holding sums of the
    others. ``integer``: counts (bounds rounded inwards). ``audit``: report its hidden
    cells (False for helper unknowns). ``groups``: rows are groups of people, checked
    for one-band disclosure (needs ``total_column``). ``declared_small``: bool frame of
    hidden cells whose publication itself says 1 to k-1.
    """

    name: str
    values: pd.DataFrame
    total_row: Hashable | None = None
    total_column: str | None = None
    lower: float | pd.DataFrame = 0.0
    upper: float | pd.DataFrame = math.inf
    integer: bool = True
    audit: bool = True
    groups: bool = False
    declared_small: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        self.values = self.values.astype("float64")
        for side in ("lower", "upper"):
            bound = getattr(self, side)
            if isinstance(bound, pd.DataFrame):
                bound = bound.reindex(index=self.values.index, columns=self.values.columns)
                default = 0.0 if side == "lower" else math.inf
                setattr(self, side, bound.astype("float64").fillna(default))
        if self.groups and self.total_column is None:
            raise ValueError(f"{self.name}: a groups table needs its total column")

    def hidden(self) -> list[tuple[Hashable, str]]:
        mask = self.values.isna().to_numpy()
        rows, cols = np.nonzero(mask)
        return [(self.values.index[i], self.values.columns[j])
                for i, j in zip(rows, cols, strict=True)]

    def bound(self, side: str, row: Hashable, column: str) -> float:
        b = getattr(self, side)
        return float(b.loc[row, column]) if isinstance(b, pd.DataFrame) else float(b)

    def is_declared_small(self, row: Hashable, column: str) -> bool:
        d = self.declared_small
        return bool(d is not None and row in d.index and column in d.columns
                    and d.loc[row, column])

    def additive(self) -> list[Link]:
        """Its own structure: each row adds up to its total, each column to the total row."""
        out = []
        cols = [c for c in self.values.columns if c != self.total_column]
        rows = [r for r in self.values.index if r != self.total_row]
        if self.total_column is not None:
            for r in self.values.index:
                out.append(Link.sums([(self.name, r, c) for c in cols],
                                     (self.name, r, self.total_column),
                                     f"{self.name}: row {r} adds up to its total"))
        if self.total_row is not None:
            for c in self.values.columns:
                out.append(Link.sums([(self.name, r, c) for r in rows],
                                     (self.name, self.total_row, c),
                                     f"{self.name}: column {c!r} adds up to the total row"))
        return out


@dataclass
class Link:
    """``sum(coef * cell) <sense> rhs`` between cells of any tables; ``why`` says which
    construction makes it hold."""

    terms: list[tuple[float, Ref]]
    sense: str = "=="
    rhs: float = 0.0
    why: str = ""

    def __post_init__(self) -> None:
        if self.sense not in ("==", "<=", ">="):
            raise ValueError(f"sense {self.sense!r}: use ==, <= or >=")

    @classmethod
    def equal(cls, a: Ref, b: Ref, why: str) -> Link:
        return cls([(1.0, a), (-1.0, b)], "==", 0.0, why)

    @classmethod
    def sums(cls, parts: Iterable[Ref], whole: Ref, why: str, sense: str = "==") -> Link:
        """``sum(parts) <sense> whole``."""
        return cls([*((1.0, p) for p in parts), (-1.0, whole)], sense, 0.0, why)

    @classmethod
    def at_most(cls, small: Iterable[Ref], big: Iterable[Ref], why: str) -> Link:
        """``sum(small) <= sum(big)``."""
        return cls([*((1.0, s) for s in small), *((-1.0, b) for b in big)], "<=", 0.0, why)


@dataclass
class Cell:
    table: str
    row: Hashable
    column: str
    lower: float
    upper: float
    exact: bool  # bounds from their own LPs (else inner bounds from feasible points)

    @property
    def where(self) -> tuple[str, Hashable, str]:
        return self.table, self.row, self.column


@dataclass
class AuditResult:
    cells: list[Cell]  # every hidden cell of an audited table, with its bounds
    recovered: list[tuple[str, Hashable, str, float]] = field(default_factory=list)
    bounded_small: list[tuple[str, Hashable, str, float, float]] = field(default_factory=list)
    one_band: list[tuple[str, Hashable, str]] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"AuditResult({len(self.cells)} hidden cells: {len(self.recovered)} recovered, "
                f"{len(self.bounded_small)} bounded small, {len(self.one_band)} one-band)")

    @property
    def disclosed(self) -> bool:
        return bool(self.recovered or self.bounded_small or self.one_band)

    def by_table(self) -> pd.DataFrame:
        """Hidden, recovered, bounded small and one-band counts per table."""
        rows = {}
        for c in self.cells:
            rows.setdefault(c.table, dict(hidden=0, recovered=0, bounded_small=0, one_band=0))
            rows[c.table]["hidden"] += 1
        for kind in ("recovered", "bounded_small", "one_band"):
            for item in getattr(self, kind):
                rows[item[0]][kind] += 1
        return pd.DataFrame.from_dict(rows, orient="index")

    def summary(self, limit: int = 12) -> str:
        lines = [self.by_table().to_string()]
        for kind in ("recovered", "bounded_small", "one_band"):
            items = getattr(self, kind)
            if items:
                lines.append(f"{kind} ({len(items)}):")
                lines += [f"  {item}" for item in items[:limit]]
                if len(items) > limit:
                    lines.append(f"  ... and {len(items) - limit} more")
        return "\n".join(lines)


class ModelError(ValueError):
    """The published numbers contradict the model: an identity does not hold."""


# -- the audit ---------------------------------------------------------------------------

class _System:
    """Hidden cells as LP variables; shown cells folded into constants."""

    def __init__(self, tables: list[AuditTable], links: list[Link]):
        self.tables = {t.name: t for t in tables}
        if len(self.tables) != len(tables):
            raise ValueError("two tables share a name")
        self.var: dict[Ref, int] = {}
        lo, hi = [], []
        for t in tables:
            for row, column in t.hidden():
                self.var[(t.name, row, column)] = len(lo)
                lo.append(t.bound("lower", row, column))
                hi.append(t.bound("upper", row, column))
        self.lo, self.hi = np.array(lo), np.array(hi)
        self.refs = list(self.var)
        self.rows: list[tuple[dict[int, float], str, float, str]] = []
        for link in [*(lk for t in tables for lk in t.additive()), *links]:
            coef: dict[int, float] = {}
            constant = 0.0
            for c, ref in link.terms:
                if ref in self.var:
                    coef[self.var[ref]] = coef.get(self.var[ref], 0.0) + c
                else:
                    constant += c * self.shown(ref, link.why)
            coef = {v: c for v, c in coef.items() if c != 0}
            rhs = link.rhs - constant
            if not coef:
                scale = max(1.0, abs(link.rhs), abs(constant))
                ok = {"==": abs(rhs) <= 1e-6 * scale, "<=": rhs >= -1e-6 * scale,
                      ">=": rhs <= 1e-6 * scale}[link.sense]
                if not ok:
                    raise ModelError(f"the shown numbers break: {link.why} "
                                     f"(off by {-rhs:+g})")
                continue
            self.rows.append((coef, link.sense, rhs, link.why))

    def shown(self, ref: Ref, why: str) -> float:
        name, row, column = ref
        if name not in self.tables:
            raise KeyError(f"{why}: no table {name!r}")
        values = self.tables[name].values
        if row not in values.index or column not in values.columns:
            raise KeyError(f"{why}: {name} has no cell ({row!r}, {column!r})")
        return float(values.loc[row, column])

    def components(self) -> list[tuple[np.ndarray, list[int]]]:
        """Variables that share a constraint, with their constraints."""
        parent = list(range(len(self.lo)))

        def find(v: int) -> int:
            while parent[v] != v:
                parent[v] = parent[parent[v]]
                v = parent[v]
            return v

        for coef, *_ in self.rows:
            first, *rest = coef
            for v in rest:
                parent[find(v)] = find(first)
        groups: dict[int, list[int]] = {}
        for v in range(len(self.lo)):
            groups.setdefault(find(v), []).append(v)
        rows: dict[int, list[int]] = {}
        for i, (coef, *_) in enumerate(self.rows):
            rows.setdefault(find(next(iter(coef))), []).append(i)
        return [(np.array(vs), rows.get(root, [])) for root, vs in groups.items()]


class _Component:
    """The LP of one connected group of hidden cells."""

    def __init__(self, system: _System, variables: np.ndarray, rows: list[int]):
        self.vars = variables
        local = {int(v): i for i, v in enumerate(variables)}
        parts = {"==": ([], [], [], []), "<=": ([], [], [], [])}  # row, col, coef, rhs
        self.why = []
        for i in rows:
            coef, sense, rhs, why = system.rows[i]
            self.why.append(why)
            sign = -1.0 if sense == ">=" else 1.0
            r, c, x, b = parts["==" if sense == "==" else "<="]
            for v, a in coef.items():
                r.append(len(b))
                c.append(local[v])
                x.append(sign * a)
            b.append(sign * rhs)
        n = len(variables)
        (self.a_eq, self.b_eq), (self.a_ub, self.b_ub) = (
            (sparse.csr_array((x, (r, c)), shape=(len(b), n)), np.array(b)) if b else
            (None, None) for r, c, x, b in parts.values())
        self.bounds = np.column_stack([system.lo[variables], system.hi[variables]])

    def solve(self, c: np.ndarray, bounds=None):
        return linprog(c, A_ub=self.a_ub, b_ub=self.b_ub, A_eq=self.a_eq, b_eq=self.b_eq,
                       bounds=self.bounds if bounds is None else bounds, method="highs")

    def infeasible(self) -> ModelError:
        whys = "; ".join(dict.fromkeys(self.why))[:2000]
        return ModelError(f"no numbers satisfy the shown cells and these identities "
                          f"together, so one of them is wrong: {whys}")

    def point(self, c: np.ndarray) -> np.ndarray | None:
        """A feasible point that minimises ``c`` (unbounded cells capped), if any."""
        res = self.solve(c, np.minimum(self.bounds, 1e9))
        if res.status == 2:
            raise self.infeasible()
        return res.x if res.status == 0 else None

    def extreme(self, i: int, sign: float) -> float:
        c = np.zeros(len(self.vars))
        c[i] = sign
        res = self.solve(c)
        if res.status == 3:
            return math.inf * -sign
        if res.status == 2:
            raise self.infeasible()
        if res.status != 0:
            raise RuntimeError(f"linprog: {res.message}")
        return float(res.fun) * sign


def _probe(comp: _Component, todo: np.ndarray, integer: np.ndarray, declared: np.ndarray,
           k: int, rounds: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Settle cheaply what can be: the range of each cell over a few feasible points (the
    least and the most of the unsettled cells, then random directions). A cell seen at
    two whole numbers, and at 0 or at k or more (or declared small), is neither
    recovered nor bounded small. Clears ``todo`` for every cell settled; returns the
    ranges seen."""
    n = len(todo)
    seen_lo, seen_hi = np.full(n, np.inf), np.full(n, -np.inf)
    stale = 0
    for _ in range(rounds):
        if not todo.any() or stale >= 2:
            break
        before = todo.sum()
        for c in (todo * 1.0, todo * -1.0, todo * rng.standard_normal(n)):
            x = comp.point(c)
            if x is not None:
                seen_lo, seen_hi = np.minimum(seen_lo, x), np.maximum(seen_hi, x)
        with np.errstate(invalid="ignore"):
            first, last = np.ceil(seen_lo - EPS), np.floor(seen_hi + EPS)
            whole = (last > first) & ((seen_lo <= EPS) | (seen_hi >= k - EPS) | declared)
            wide = seen_hi - seen_lo > EPS * np.maximum(1.0, np.abs(seen_hi))
        settled = np.isfinite(seen_lo) & np.where(integer, whole, wide)
        todo &= ~settled
        stale = stale + 1 if todo.sum() == before else 0
    return seen_lo, seen_hi


def _whole(lower: float, upper: float) -> tuple[float, float]:
    """The whole numbers a count between these bounds can take (first, last)."""
    return float(np.ceil(lower - EPS)), float(np.floor(upper + EPS))


def audit(tables: list[AuditTable], links: list[Link], *, k: int = K, probes: int = 6,
          seed: int = 0) -> AuditResult:
    """Bounds of every hidden cell of the audited tables under every constraint, and the
    disclosures they make (see the module's docstring)."""
    system = _System(tables, links)
    rng = np.random.default_rng(seed)
    owner = {ref: system.tables[ref[0]] for ref in system.refs}
    needed = np.array([owner[ref].audit for ref in system.refs], dtype=bool)
    exact_always = np.array([owner[ref].groups for ref in system.refs], dtype=bool)
    lower, upper = system.lo.copy(), system.hi.copy()
    exact = np.zeros(len(lower), dtype=bool)
    integer = np.array([owner[ref].integer for ref in system.refs], dtype=bool)
    declared = np.array([owner[ref].is_declared_small(*ref[1:]) for ref in system.refs],
                        dtype=bool)
    for variables, rows in system.components():
        if not needed[variables].any():
            continue
        if not rows:  # no constraint: the prior bounds are all there is
            exact[variables] = True
            continue
        comp = _Component(system, variables, rows)
        probed = needed[variables] & ~exact_always[variables]
        todo = probed.copy()
        seen_lo, seen_hi = _probe(comp, todo, integer[variables], declared[variables], k,
                                  probes, rng)
        for i, v in enumerate(variables):
            if not needed[v]:
                continue
            if probed[i] and not todo[i]:  # settled by the probes
                lower[v], upper[v] = seen_lo[i], seen_hi[i]
            else:
                lower[v], upper[v] = comp.extreme(i, 1.0), comp.extreme(i, -1.0)
                exact[v] = True
    result = AuditResult([])
    for v, ref in enumerate(system.refs):
        table = owner[ref]
        if not table.audit:
            continue
        cell = Cell(*ref, float(lower[v]), float(upper[v]), bool(exact[v]))
        result.cells.append(cell)
        if not cell.exact:
            continue
        if table.integer:
            a, b = _whole(cell.lower, cell.upper)
            if a == b or cell.upper - cell.lower < 0.5:
                result.recovered.append((*ref, float(a)))
            elif a >= 1 and b <= k - 1 and not table.is_declared_small(ref[1], ref[2]):
                result.bounded_small.append((*ref, float(a), float(b)))
        elif cell.upper - cell.lower <= EPS * max(1.0, abs(cell.upper)):
            result.recovered.append((*ref, cell.lower))
    result.one_band = _one_band(system, lower, upper)
    return result


def _one_band(system: _System, lower: np.ndarray, upper: np.ndarray) -> list:
    def whole(ref: Ref) -> tuple[float, float]:
        if ref in system.var:
            return _whole(lower[system.var[ref]], upper[system.var[ref]])
        value = system.shown(ref, "one band")
        return value, value

    out = []
    for t in system.tables.values():
        if not (t.groups and t.audit):
            continue
        cols = [c for c in t.values.columns if c != t.total_column]
        for row in t.values.index:
            refs = [(t.name, row, c) for c in [*cols, t.total_column]]
            if not any(r in system.var for r in refs) or whole(refs[-1])[0] < 1:
                continue
            could_hold = [r for r in refs[:-1] if whole(r)[1] >= 1]
            if len(could_hold) == 1:
                out.append(could_hold[0])
    return out


def check_model(tables: list[AuditTable], links: list[Link], truth: list[AuditTable], *,
                tolerance: float = 1e-6) -> list[str]:
    """What is wrong with the model, judged against the same tables computed without
    suppression (``truth``, read by the same adapter): a shown cell that differs from
    the truth, a hidden one outside its prior bounds, an identity the truth breaks.
    Returns the problems (empty when the model holds)."""
    problems = []
    true = {t.name: t for t in truth}
    value: dict[Ref, float] = {}
    for t in tables:
        if t.name not in true:
            problems.append(f"no truth for table {t.name}")
            continue
        other = true[t.name].values
        for row in t.values.index:
            for column in t.values.columns:
                ref = (t.name, row, column)
                if row not in other.index or column not in other.columns:
                    if t.name != "conference_outcomes":  # there, no row means 0
                        problems.append(f"{ref}: not in the truth")
                        continue
                    v, shown = 0.0, t.values.loc[row, column]
                else:
                    v, shown = float(other.loc[row, column]), t.values.loc[row, column]
                if math.isnan(v):
                    continue  # a helper the truth cannot give either
                value[ref] = v
                if not math.isnan(shown) and abs(shown - v) > tolerance * max(1, abs(v)):
                    problems.append(f"{ref}: shown {shown:g}, truly {v:g}")
                elif math.isnan(shown):
                    lo, hi = t.bound("lower", row, column), t.bound("upper", row, column)
                    if not lo - tolerance <= v <= hi + tolerance:
                        problems.append(f"{ref}: truly {v:g}, outside its prior [{lo}, {hi}]")
    for link in [*(lk for t in tables for lk in t.additive()), *links]:
        if any(ref not in value for _, ref in link.terms):
            continue
        lhs = sum(c * value[ref] for c, ref in link.terms)
        gap = lhs - link.rhs
        scale = tolerance * max(1.0, *(abs(c * value[ref]) for c, ref in link.terms))
        broken = {"==": abs(gap) > scale, "<=": gap > scale, ">=": gap < -scale}[link.sense]
        if broken:
            problems.append(f"the truth breaks: {link.why} ({link.sense}, off by {gap:+g})")
    return problems


# -- adapters: the CSVs engagement writes --------------------------------------------------

def _label(value) -> str:
    """A key as text, the same whichever writer wrote it: 7, 7.0 and '7' are '7'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value).strip().lstrip("'")  # a spreadsheet-safe writer may prefix a quote
    return re.sub(r"^(-?\d+)\.0+$", r"\1", text)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _number(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column.replace({"": None, "x": None}), errors="coerce").astype(
        "float64")


def _keyed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    index = pd.Index([tuple(_label(v) for v in row) if len(keys) > 1 else _label(row[0])
                      for row in frame[keys].itertuples(index=False)])
    if index.has_duplicates:
        raise ValueError(f"duplicate keys {keys}")
    return frame.drop(columns=keys).set_axis(index)


def _suppressed(frame: pd.DataFrame) -> pd.Series:
    if "suppressed" not in frame:
        return pd.Series(False, index=frame.index)
    return frame["suppressed"].str.strip().str.lower().isin(["true", "1"])


EXPORT_TABLES = ("students_by_completion", "families_by_contact", "conferences_by_outcome")
SCHOOL_GRADE = ["school_id", "grade_level"]
TOTAL_ROW = (TOTAL, TOTAL)


def from_export(folder: str | Path, *, x_nonzero: bool = False
                ) -> tuple[list[AuditTable], list[Link]]:
    """The export's count tables by school and grade (``x`` hidden), with their totals:
    every school's grades (all grades of the division, zeros included), then the
    school's total row ``(school, total)``; the last row is the division's, the sum of
    the school totals. Each row adds up to its total column.

    Every status has its column in ``conferences_by_outcome``, whether it happened or
    not. ``x_nonzero``: let the adversary also believe that an ``x`` is never
    zero (an older README said so): every hidden cell >= 1.
    """
    folder = Path(folder)
    tables = []
    links = []
    for name in EXPORT_TABLES:
        path = folder / f"{name}.csv"
        if not path.is_file():
            continue
        frame = _read(path)
        values = _keyed(frame, SCHOOL_GRADE).apply(_number)
        lower = pd.DataFrame(1.0 if x_nonzero else 0.0, index=values.index,
                             columns=values.columns)
        tables.append(AuditTable(name, values, total_column=TOTAL, lower=lower, groups=True))
        school = values.index.get_level_values(0)
        grade = values.index.get_level_values(1)
        school_totals = [r for r in values.index if r[1] == TOTAL and r[0] != TOTAL]
        for column in values.columns:
            for s in pd.unique(school[school != TOTAL]):
                grades = [r for r in values.index[(school == s) & (grade != TOTAL)]]
                links.append(Link.sums([(name, r, column) for r in grades],
                                       (name, (s, TOTAL), column),
                                       f"{name}: school {s}'s grades add up to its total"))
            links.append(Link.sums([(name, r, column) for r in school_totals],
                                   (name, TOTAL_ROW, column),
                                   f"{name}: the schools add up to the division"))
    names = {t.name: t for t in tables}
    if {"students_by_completion", "families_by_contact"} <= set(names):
        rows = names["families_by_contact"].values.index
        for row in names["students_by_completion"].values.index.intersection(rows):
            links.append(Link.at_most(
                [("students_by_completion", row, TOTAL)], [("families_by_contact", row, TOTAL)],
                f"students with counted work in {row} are on its roster"))
    return tables, links


def _result_table(name: str, frame: pd.DataFrame, keys: list[str], counts: list[str],
                  n: str | None, k: int, *, flag_means_small: bool) -> AuditTable:
    """A result frame's count columns. Its rows come from a group-by: a row's n is >= 1;
    a ``suppressed`` row's n is 1 to k-1 when the flag means what ``privacy.suppress``
    says (a group under k)."""
    keyed = _keyed(frame, keys)
    values = keyed[counts].apply(_number)
    small = _suppressed(frame).set_axis(keyed.index)
    lower = pd.DataFrame(0.0, index=values.index, columns=counts)
    upper = pd.DataFrame(math.inf, index=values.index, columns=counts)
    declared = pd.DataFrame(False, index=values.index, columns=counts)
    if n is not None and flag_means_small:  # a group-by's row (the export's grid has zeros)
        lower[n] = 1.0
    if n is not None and flag_means_small:
        hidden_n = small & values[n].isna()
        lower.loc[hidden_n, n], upper.loc[hidden_n, n] = 1.0, k - 1.0
        declared.loc[hidden_n, n] = True
    return AuditTable(name, values, lower=lower, upper=upper, declared_small=declared)


def _ordered(table: AuditTable, columns: list[str], why: str) -> list[Link]:
    """Each row's ``columns`` in non-decreasing order (a subset counts no more)."""
    return [Link.at_most([(table.name, row, smaller)], [(table.name, row, larger)],
                         why.format(row))
            for row in table.values.index
            for smaller, larger in zip(columns, columns[1:], strict=False)]


def from_results(folder: str | Path, *, k: int = K, flag_means_small: bool = True
                 ) -> tuple[list[AuditTable], list[Link]]:
    """The count columns of ``engagement analyze``'s result CSVs, with the identities
    inside and between them.

    Tables (``*`` = helper derived from shown values, hidden where they are blanked):

    - ``reachability`` by school and grade: n_families, n_reached, n_attempted,
      unanswered_attempts. n_reached <= n_attempted <= n_families.
    - ``conference_outcomes`` by school and grade x status: n (a missing row is 0).
    - ``school_completion`` by school: n_students; ``school_completion.rate_sum*``:
      n_students x completion / 100, the sum of its students' completion rates. The sum
      over schools is division_completion / 100 x the students of all schools.
    - ``contact_activity`` by week and mode: contacts >= n_students.
    - ``completion_by_week`` by school and week: completed <= n;
      ``assignment_summary`` by assignment: n_students >= n_counted* >= n_submitted, with
      n_counted = 100 n_submitted / pct_submitted. Every counted result is in one week
      row and one assignment row: the sums of n and n_counted agree, and of completed
      and n_submitted.
    - ``conference_formats`` by kind: n = attended + not_attended; the formats' attended
      (not attended) sum to every attended (no-show) cell of conference_outcomes; the
      rebooked slots are a part of them.
    - ``invitations`` by level, school, grade and invitation: n and attended* (estimate
      x n / 100); grades add up to their school, schools to the division.

    ``flag_means_small``: a ``suppressed`` row's n is 1 to k-1 (what
    ``privacy.suppress`` does). Reachability, conference outcomes and school sizes take
    their hidden cells from the export's decision, which hides large cells too: their
    flag only says "hidden".
    """
    folder = Path(folder)
    tables: list[AuditTable] = []
    links: list[Link] = []
    opts = dict(k=k, flag_means_small=flag_means_small)
    shared = dict(k=k, flag_means_small=False)  # hidden by the export's decision

    def read(name: str) -> pd.DataFrame | None:
        path = folder / f"{name}.csv"
        return _read(path) if path.is_file() else None

    if (f := read("reachability")) is not None:
        t = _result_table("reachability", f, SCHOOL_GRADE, [
            "n_families", "n_reached", "n_attempted", "unanswered_attempts"], "n_families",
            **shared)
        tables.append(t)
        links += _ordered(t, ["n_reached", "n_attempted", "n_families"],
                          "reachability {}: reached <= attempted <= families")

    outcomes = read("conference_outcomes")
    if outcomes is not None:
        tables.append(_conference_outcomes(outcomes, **shared))
    if (f := read("conference_formats")) is not None:
        # Hidden when any of n, attended, not attended is small: the flag does not say n is.
        t, more = _conference_formats(f, tables[-1] if outcomes is not None else None,
                                      **shared)
        tables.append(t)
        links += more

    if (f := read("school_completion")) is not None:
        t = _result_table("school_completion", f, ["school_id"], ["n_students"], "n_students",
                          **shared)
        tables.append(t)
        completion = _number(f["completion"]).set_axis(t.values.index)
        rate_sum = (t.values["n_students"] * completion / 100).to_frame("rate_sum")
        tables.append(AuditTable("school_completion.rate_sum", rate_sum, integer=False))
        for school in t.values.index:
            links.append(Link.at_most(
                [("school_completion.rate_sum", school, "rate_sum")],
                [("school_completion", school, "n_students")],
                f"school {school}: a completion rate is at most 1 per student"))
        division = _number(f["division_completion"]).dropna().unique()
        if len(division) == 1:
            d = float(division[0]) / 100
            links.append(Link(
                [*((1.0, ("school_completion.rate_sum", s, "rate_sum")) for s in
                   t.values.index),
                 *((-d, ("school_completion", s, "n_students")) for s in t.values.index)],
                "==", 0.0, "division_completion is the mean rate over the schools' students"))

    if (f := read("contact_activity")) is not None:
        t = _result_table("contact_activity", f, ["week", "mode"], ["contacts", "n_students"],
                          "n_students", **opts)
        tables.append(t)
        links += _ordered(t, ["n_students", "contacts"],
                          "contact_activity {}: a student contacted had a contact")

    weeks, tasks = read("completion_by_week"), read("assignment_summary")
    if weeks is not None:
        t = _result_table("completion_by_week", weeks, ["school_id", "week"], ["n", "completed"],
                          "n", **opts)
        tables.append(t)
        links += _ordered(t, ["completed", "n"],
                          "completion_by_week {}: completed work is counted")
    if tasks is not None:
        pct = _number(tasks["pct_submitted"])
        sub = _number(tasks["n_submitted"])
        hidden = _suppressed(tasks) | sub.isna()
        counted = (100 * sub / pct).round().where(pct > 0)
        counted = counted.where(~(pct.isna() & ~hidden), 0.0)  # no counted work: no rate
        tasks = tasks.assign(n_counted=counted.map(lambda v: "" if math.isnan(v) else str(v)))
        t = _result_table("assignment_summary", tasks, ["assignment_id"],
                          ["n_students", "n_counted", "n_submitted"], "n_students", **opts)
        t.lower.loc[(pct == 0).to_numpy(), "n_counted"] = 1.0  # 0% of some counted work
        tables.append(t)
        links += _ordered(t, ["n_submitted", "n_counted", "n_students"],
                          "assignment {}: submitted <= counted <= results")
        if weeks is not None:
            w = [("completion_by_week", r) for r in tables[-2].values.index]
            a = [("assignment_summary", r) for r in t.values.index]
            links += [
                Link([*((1.0, (*r, "n")) for r in w), *((-1.0, (*r, "n_counted")) for r in a)],
                     "==", 0.0, "every counted result is in one week row and one assignment"),
                Link([*((1.0, (*r, "completed")) for r in w),
                      *((-1.0, (*r, "n_submitted")) for r in a)],
                     "==", 0.0, "every completed result is in one week row and one assignment")]

    if (f := read("invitations")) is not None:
        t, more = _invitations(f, **opts)
        tables.append(t)
        links += more
    return tables, links


def _conference_outcomes(f: pd.DataFrame, *, k: int, flag_means_small: bool) -> AuditTable:
    """School and grade by status; a status with no row had no conference (0)."""
    rows = [(_label(a), _label(b)) for a, b in zip(f["school_id"], f["grade_level"], strict=True)]
    statuses = [_label(s) for s in f["status"]]
    wide = pd.DataFrame(0.0, index=pd.Index(list(dict.fromkeys(rows))),
                        columns=list(dict.fromkeys(statuses)))
    declared = pd.DataFrame(False, index=wide.index, columns=wide.columns)
    for row, status, n, small in zip(rows, statuses, _number(f["n"]),
                                         _suppressed(f), strict=True):
        wide.loc[row, status] = n
        declared.loc[row, status] = bool(small and math.isnan(n) and flag_means_small)
    present = pd.DataFrame(False, index=wide.index, columns=wide.columns)
    for row, status in zip(rows, statuses, strict=True):
        # A row of a group-by has a conference; a row the export hides may be a zero.
        present.loc[row, status] = flag_means_small
    return AuditTable("conference_outcomes", wide, lower=present.astype(float),
                      upper=declared.map(lambda d: k - 1.0 if d else math.inf),
                      declared_small=declared)




def _conference_formats(f: pd.DataFrame, outcomes: AuditTable | None, *, k: int,
                        flag_means_small: bool) -> tuple[AuditTable, list[Link]]:
    """Conferences held or missed by format, and the rebooked slots among them: each
    row's attended and not attended make its n; the formats together are every attended
    and every no-show cell of ``conference_outcomes`` (a division total that table does
    not show), the rebooked slots a part of them."""
    t = _result_table("conference_formats", f, ["kind"], ["n", "attended", "not_attended"],
                      "n", k, flag_means_small=flag_means_small)
    name = t.name
    rows = list(t.values.index)
    links = [Link.sums([(name, r, "attended"), (name, r, "not_attended")], (name, r, "n"),
                       f"conference_formats {r}: attended or not") for r in rows]
    formats = [r for r in rows if r != REBOOKED]
    for column, status in (("attended", "attended"), ("not_attended", "no_show")):
        rebooked = [r for r in rows if r not in formats]
        if rebooked:
            links.append(Link.at_most([(name, rebooked[0], column)],
                                      [(name, r, column) for r in formats],
                                      f"rebooked slots {column}: a part of all"))
        if outcomes is not None and status in outcomes.values.columns:
            cells = [(outcomes.name, row, status) for row in outcomes.values.index]
            links.append(Link([*((1.0, (name, r, column)) for r in formats),
                               *((-1.0, c) for c in cells)], "==", 0.0,
                              f"every {status} conference is of one format and one grade"))
    return t, links


def _invitations(f: pd.DataFrame, *, k: int, flag_means_small: bool
                 ) -> tuple[AuditTable, list[Link]]:
    f = f.assign(**{c: f[c].map(_label) if c in f else "" for c in
                    ("level", "school_id", "grade_level", "invitation")})
    n, estimate = _number(f["n"]), _number(f["estimate"])
    f = f.assign(attended=(estimate * n / 100).round().map(
        lambda v: "" if math.isnan(v) else str(v)))
    t = _result_table("invitations", f, ["level", "school_id", "grade_level", "invitation"],
                      ["n", "attended"], "n", k, flag_means_small=flag_means_small)
    links = []
    rows = t.values.index
    for row in rows:
        links.append(Link.at_most([("invitations", row, "attended")], [("invitations", row, "n")],
                                  f"invitations {row}: attended families were invited"))
    grade_level = "school_id x grade_level x invitation"
    school_level = "school_id x invitation"
    for whole in rows:
        level, school, _, invitation = whole
        if level == school_level:
            parts = [r for r in rows if r[0] == grade_level and r[1] == school
                     and r[3] == invitation]
        elif level == "invitation":
            parts = [r for r in rows if r[0] == school_level and r[3] == invitation]
        else:
            continue
        for column in ("n", "attended"):
            links.append(Link.sums([("invitations", r, column) for r in parts],
                                   ("invitations", whole, column),
                                   f"invitations: {column} of {whole} adds up its parts"))
    return t, links


REACHED, ATTEMPTED, WRITTEN, NONE = ("reached in person or by phone",
                                     "call attempted, not reached", "written only",
                                     "not contacted")


def cross_links(tables: list[AuditTable]) -> list[Link]:
    """The identities between the export's tables and the analysis results that count
    the same people, each used only for rows both tables have:

    - families_by_contact[school, grade].total == reachability.n_families (both count the
      roster: ``publish._student_frame`` and ``metrics.reachability``);
    - families_by_contact."reached in person or by phone" <= reachability.n_reached, and
      reached + "call attempted, not reached" <= n_attempted (the export counts
      school-initiated contacts only, reachability any initiator: not equalities);
    - conferences_by_outcome[school, grade, status] == conference_outcomes.n (both are
      ``metrics.conference_outcomes``; no row there means 0);
    - sum over grades of students_by_completion.total == school_completion.n_students
      (students with counted work, by roster school);
    - per school, with S = n_students x completion / 100 (the sum of its students'
      rates): 0.5 x "50% to 79%" + 0.8 x "80% or more" <= S <= 0.5 x "under 50%" + 0.8 x
      "50% to 79%" + "80% or more" (each band's floor and ceiling);
    - sum over weeks of contact_activity.n_students for personal contact >= the export's
      division total of reached + attempted; for written contact >= "written only"
      (a student the school contacted is in at least one week's count).

    (:func:`from_export` adds students_by_completion.total <= families_by_contact.total
    for each school and grade.)
    """
    t = {x.name: x for x in tables}
    links: list[Link] = []

    def rows(*names: str) -> list:
        if not all(n in t for n in names):
            return []
        common = t[names[0]].values.index
        for n in names[1:]:
            common = common.intersection(t[n].values.index)
        return [r for r in common if r[1] != TOTAL]  # grade rows (not school totals)

    fam, reach = "families_by_contact", "reachability"
    for row in rows(fam, reach):
        links += [
            Link.equal((fam, row, TOTAL), (reach, row, "n_families"),
                       f"{row}: families_by_contact and reachability count the roster"),
            Link.at_most([(fam, row, REACHED)], [(reach, row, "n_reached")],
                         f"{row}: reached by the school is reached (reachability counts any "
                         "initiator)"),
            Link.at_most([(fam, row, REACHED), (fam, row, ATTEMPTED)],
                         [(reach, row, "n_attempted")],
                         f"{row}: a school call or meeting is a personal attempt")]

    sbc, conf, outcomes = "students_by_completion", "conferences_by_outcome", "conference_outcomes"
    for row in rows(conf, outcomes):
        for column in t[conf].values.columns:
            if column == TOTAL:
                continue
            if column in t[outcomes].values.columns:
                links.append(Link.equal((conf, row, column), (outcomes, row, column),
                                        f"{row} {column}: the same conference_outcomes count"))
            else:
                links.append(Link([(1.0, (conf, row, column))], "==", 0.0,
                                  f"{row} {column}: conference_outcomes has no such row"))

    if sbc in t and "school_completion" in t:
        schools = t["school_completion"].values.index
        mine = {s: [r for r in t[sbc].values.index if r[0] == s and r[1] != TOTAL]
                for s in schools}
        for school, grades in mine.items():
            if not grades:
                continue
            links.append(Link.sums([(sbc, r, TOTAL) for r in grades],
                                   ("school_completion", school, "n_students"),
                                   f"school {school}: students with counted work"))
            bands = {b: [(sbc, r, b) for r in grades]
                     for b in ("under 50%", "50% to 79%", "80% or more")}
            rate = ("school_completion.rate_sum", school, "rate_sum")
            if "school_completion.rate_sum" in t:
                links += [
                    Link([*((0.5, c) for c in bands["50% to 79%"]),
                          *((0.8, c) for c in bands["80% or more"]), (-1.0, rate)], "<=", 0.0,
                         f"school {school}: rates are at least their band's floor"),
                    Link([*((0.5, c) for c in bands["under 50%"]),
                          *((0.8, c) for c in bands["50% to 79%"]),
                          *((1.0, c) for c in bands["80% or more"]), (-1.0, rate)], ">=", 0.0,
                         f"school {school}: rates are at most their band's ceiling")]

    if fam in t and "contact_activity" in t:
        activity = t["contact_activity"].values.index
        personal = [("contact_activity", r, "n_students") for r in activity if r[1] == "personal"]
        other = [("contact_activity", r, "n_students") for r in activity if r[1] != "personal"]
        links += [
            Link.at_most([(fam, TOTAL_ROW, REACHED), (fam, TOTAL_ROW, ATTEMPTED)], personal,
                         "each student the school called or met is in some week's count"),
            Link.at_most([(fam, TOTAL_ROW, WRITTEN)], other,
                         "each student the school only wrote to is in some week's count")]
    return links


def from_run(export: str | Path | None, results: str | Path | None, *, k: int = K,
             x_nonzero: bool = False, flag_means_small: bool = True
             ) -> tuple[list[AuditTable], list[Link]]:
    """Every table of one run (either folder may be None) and every link between them."""
    tables, links = [], []
    if export is not None:
        t, lk = from_export(export, x_nonzero=x_nonzero)
        tables += t
        links += lk
    if results is not None:
        t, lk = from_results(results, k=k, flag_means_small=flag_means_small)
        tables += t
        links += lk
    return tables, links + cross_links(tables)
