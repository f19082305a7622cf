"""The joint fit of one scope: each design's matched sums at the point and under the
bootstrap (students, teachers and their pairs), and the effects of every kind of event
solved together from them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engagement.estimate.design import (
    AFTER,
    COMPARISON,
    CONTACTED_AFTER,
    EXPOSED,
    MATCH_ON,
    MAX_CONTACTED_AFTER,
    MIN_TREATED_STUDENTS,
    REACHED,
    TREATED,
    Design,
)
from engagement.estimate.inference import _bootstrap, _cell_sums, _solve
from engagement.estimate.matching import _matched
from engagement.estimate.panel import cell_numbers
from engagement.parsing import positions
from engagement.privacy import count_text


def _design_sums(m: pd.DataFrame, kind: str, units: dict[str, np.ndarray],
                 weights: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A design's sums per treated row (the columns above), at the point and under each
    resample of each scheme: the matched contrast of the outcome and of each share,
    treated rows, their completion after, those reached, and comparison weight (all, and
    contacted in the week after).

    Each cell's comparison rows count as the cell's treated rows over its comparison rows
    *in that resample*, and a cell that a resample left without either group counts for
    nothing: the weights of the whole sample, held fixed, would carry the level of
    completion into every resample through how many comparison rows it drew.

    ``units``: per scheme, each row's unit (student, teacher or pair); ``weights``: per
    scheme, how often each unit is drawn in each resample."""
    cell = cell_numbers(m, MATCH_ON[kind])
    t = m["treated"].to_numpy().astype(float)
    c = 1.0 - t
    values = [m["outcome"].to_numpy(), *(m[f"share_{k}"].to_numpy() for k in EXPOSED)]
    later = m["attempted_after"].to_numpy() if "attempted_after" in m else np.zeros(len(m))
    reached = m["reached"].to_numpy() if "reached" in m else np.ones(len(m))
    # Per cell: treated rows, their values, after and reached; then comparison rows, their
    # values and those contacted in the week after.
    columns = [t, *(t * v for v in values), t * m["after"].to_numpy(), t * reached,
               c, *(c * v for v in values), c * later]
    n_cells = cell.max() + 1 if len(cell) else 0
    n_boot = next(iter(weights.values())).shape[1]
    # Cells a block at a time: cells x columns x resamples in memory (about 8 MB, which
    # the allocator reuses; larger blocks are fresh pages to fault in every time).
    block = max(2**20 // (len(columns) * n_boot), 1)

    def per_treated(cell_sums, draws: np.ndarray | None) -> np.ndarray:
        sums = np.zeros((CONTACTED_AFTER + 1, 1 if draws is None else draws.shape[1]))
        for lo in range(0, n_cells, block):
            s = cell_sums(draws, lo, min(lo + block, n_cells))  # cells x columns x resamples
            n_t, n_c = s[:, 0], s[:, 7]
            both = ((n_t > 0) & (n_c > 0)).astype(float)
            w = both * n_t / np.where(n_c > 0, n_c, 1.0)
            # Summed over the cells without temporaries of cells x columns x resamples.
            sums += np.concatenate([
                np.einsum("cjb,cb->jb", s[:, 1:5], both) - np.einsum("cjb,cb->jb", s[:, 8:12], w),
                np.einsum("cjb,cb->jb", s[:, [0, 5, 6]], both),
                np.einsum("cjb,cb->jb", s[:, [7, 12]], w)])
        with np.errstate(invalid="ignore", divide="ignore"):
            return (sums / sums[TREATED]).T

    out, point = {}, None
    for scheme, draws in weights.items():
        cell_sums = _cell_sums(units[scheme], cell, columns, len(draws))
        if point is None:  # no draws: every unit once
            point = per_treated(cell_sums, None)[0]
        out[scheme] = (point, per_treated(cell_sums, draws))
    return out


SCHEMES = ("student", "teacher", "pair")


def _two_way(point: float, draws: dict[str, np.ndarray]) -> np.ndarray:
    """The students' resamples of an estimate, spread about it to the two-way variance:
    students' plus teachers' less pairs' (never below the larger of the first two)."""
    var = {k: np.nanvar(v) if np.isfinite(v).sum() > 1 else np.nan for k, v in draws.items()}
    two_way = np.nanmax([var["student"] + var["teacher"] - var["pair"], var["student"],
                         var["teacher"]])
    scale = np.sqrt(two_way / var["student"]) if var["student"] > 0 else 1.0
    return point + scale * (draws["student"] - point)


def _sorted_unique(parts: list[pd.Series]) -> pd.Index:
    return pd.Index(pd.concat(parts).unique()).sort_values() if parts else pd.Index([])


def _teacher(rows: pd.DataFrame) -> pd.Series:
    """Each row's teacher (conference rows have none: one cluster for all)."""
    if "teacher_id" in rows:
        return rows["teacher_id"].astype("str")
    return pd.Series("any", index=rows.index, dtype="str")


class _Fit:
    """The joint estimate of one scope, kept for its subgroups: the effect of each kind of
    event, and each design's sums at the point and under the bootstrap.

    A row belongs to a student and to a teacher (who decided, and who set the work that
    follows), and neither nests in the other. The interval allows for both (Cameron,
    Gelbach and Miller 2011): resamples of students, of teachers and of (student,
    teacher) pairs give three variances, and the estimate's is the first two less the
    third (never less than the larger of the first two); the students' resamples, spread
    to that variance, are the draws reported. (Drawing students and teachers at once and
    weighing a row by the product of the two draws, Owen's pigeonhole bootstrap, counts
    each row's own noise about three times over: intervals 1.7 times as wide as needed on
    simulated divisions.)

    ``held``: effects (the division's, for a school) to hold kinds at when this scope has
    too few of their events to estimate them, so that their share is still removed."""

    def __init__(self, rows: dict[str, pd.DataFrame], design: Design, rng: np.random.Generator,
                 held: dict[str, float] | None = None):
        self.design = design
        self.matched = {k: _matched(r, MATCH_ON[k]) for k, r in rows.items()}
        self.treated_students = {k: m.loc[m["treated"], "student_id"].nunique()
                                 for k, m in self.matched.items()}
        self.kinds = [k for k in self.matched
                      if self.treated_students[k] >= MIN_TREATED_STUDENTS]
        self.held = {k: v for k, v in (held or {}).items()
                     if k not in self.kinds and np.isfinite(v)}
        # Students, teachers and their pairs in sorted order, so that the resamples do not
        # depend on row order.
        used = [self.matched[k] for k in self.kinds]
        self.students = _sorted_unique([m["student_id"].astype("str") for m in used])
        self.teachers = _sorted_unique([_teacher(m) for m in used])
        self.pairs = np.unique(np.concatenate([self._pair_codes(m) for m in used])) if used \
            else np.zeros(0, dtype=np.int64)
        t = max(len(self.teachers), 1)
        # Each pair's student, teacher and itself; and how often each is drawn when
        # students are resampled, when teachers are, and when pairs are.
        self.units = {"student": self.pairs // t, "teacher": self.pairs % t,
                      "pair": np.arange(len(self.pairs))}
        n = design.n_boot
        self.weights = {"student": _bootstrap(rng, len(self.students), n, by_unit=True),
                        "teacher": _bootstrap(rng, len(self.teachers), n, by_unit=True),
                        "pair": _bootstrap(rng, len(self.pairs), n, by_unit=True)}
        by_kind = {k: self._sums(self.matched[k], k) for k in self.kinds}
        self.sums = {scheme: {k: by_kind[k][scheme] for k in self.kinds} for scheme in SCHEMES}
        self.effect = np.zeros(0)
        self.effect_b = {scheme: np.zeros((design.n_boot, 0)) for scheme in SCHEMES}
        if self.kinds:
            cols = [EXPOSED[k] for k in self.kinds]
            point = np.stack([self._less_held(self.sums["student"][k][0]) for k in self.kinds])
            self.effect = _solve(point[None][:, :, cols], point[None][:, :, 0])[0]
            for scheme in SCHEMES:
                boot = np.stack([self._less_held(self.sums[scheme][k][1]) for k in self.kinds],
                                axis=1)
                self.effect_b[scheme] = _solve(boot[:, :, cols], boot[:, :, 0])

    def _pair_codes(self, m: pd.DataFrame) -> np.ndarray:
        student = positions(m["student_id"].astype("str"), self.students).astype(np.int64)
        teacher = positions(_teacher(m), self.teachers).astype(np.int64)
        return student * max(len(self.teachers), 1) + teacher

    def _sums(self, m: pd.DataFrame, kind: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        pair = np.searchsorted(self.pairs, self._pair_codes(m))
        return _design_sums(m, kind, {k: u[pair] for k, u in self.units.items()},
                            self.weights)

    def _less_held(self, sums: np.ndarray) -> np.ndarray:
        """The change less the share of the kinds held at given effects."""
        change = sums[..., 0] - sum(sums[..., EXPOSED[k]] * v for k, v in self.held.items())
        return np.concatenate([change[..., None], sums[..., 1:]], axis=-1)

    def result(self, kind: str, within: np.ndarray | None = None) -> dict:
        """What ``_row`` reports for one design: for all its rows, or for a subgroup of
        them (``within``: a mask of its matched rows; the other kinds' effects held at
        the whole scope's)."""
        if kind not in self.kinds:
            few = self.treated_students.get(kind, 0)
            return {"reason": f"{count_text(few)} contacted students with a comparison: "
                              "too few to estimate"} if few else {}
        m = (self.matched[kind] if within is None
             else _matched(self.matched[kind], MATCH_ON[kind], within))
        if not m["treated"].any():
            return {}
        sums = ({scheme: self.sums[scheme][kind] for scheme in SCHEMES} if within is None
                else self._sums(m, kind))
        point = self._less_held(sums["student"][0])
        others = [k for k in self.kinds if k != kind]
        effect = dict(zip(self.kinds, self.effect, strict=True))
        with np.errstate(invalid="ignore", divide="ignore"):
            att = ((point[0] - sum(point[EXPOSED[k]] * effect[k] for k in others))
                   / point[EXPOSED[kind]])
            draws = {}
            for scheme, (_, boot) in sums.items():
                boot = self._less_held(boot)
                draws[scheme] = ((boot[:, 0] - sum(
                    boot[:, EXPOSED[k]] * self.effect_b[scheme][:, i]
                    for i, k in enumerate(self.kinds) if k != kind)) / boot[:, EXPOSED[kind]])
        boot = self._less_held(sums["student"][1])
        att_b = _two_way(att, draws)
        if not np.isfinite(att):
            return {"reason": "the contacted and comparison students' exposure to later "
                              "contacts could not be told apart"}
        contacted_after = point[CONTACTED_AFTER] / point[COMPARISON]
        if contacted_after > MAX_CONTACTED_AFTER:
            return {"reason": f"{contacted_after:.0%} of the comparison students were "
                              "contacted themselves in the week after: nearly everyone with "
                              "that record is contacted, so those not yet contacted are not "
                              "a group the school chose not to contact"}
        treated = m["treated"].to_numpy()
        weight = np.where(treated, 0.0, m["weight"].to_numpy())
        control_before = np.sum(weight * m["before"]) / weight.sum()
        pooled_sd = m["before"].std()
        return {
            "att": att, "att_b": att_b, "after": point[AFTER], "after_b": boot[:, AFTER],
            "reached": point[REACHED], "reached_b": boot[:, REACHED], "contrast": point[0],
            "n_treated": int(treated.sum()),
            "n_reached": int((treated & m["reached"].to_numpy()).sum()) if "reached" in m
            else int(treated.sum()),
            "n_comparison": int(m.loc[~treated, "student_id"].nunique()),
            "n_clusters": int(m["student_id"].nunique()),
            "baseline_sd": float((m.loc[treated, "before"].mean() - control_before)
                                 / pooled_sd) if pooled_sd > 0 else np.nan,
        }
