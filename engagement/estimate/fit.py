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
    Design,
)
from engagement.estimate.inference import _bootstrap, _solve
from engagement.estimate.matching import _matched
from engagement.estimate.sums import _design_sums, _part_sums
from engagement.parsing import positions
from engagement.privacy import count_text

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


def _by_part(rows: pd.DataFrame, part: np.ndarray, n_parts: int) -> list[pd.DataFrame]:
    """Each part's rows, in their order: slices, since rows come in school order (a
    filter of every row for each of a division's 250 schools costs minutes)."""
    if (np.diff(part) < 0).any():  # not in part order: put them in it once
        order = np.argsort(part, kind="stable")
        rows, part = rows.take(order), part[order]
    edges = np.searchsorted(part, np.arange(n_parts + 1))
    return [rows.iloc[edges[at]:edges[at + 1]].reset_index(drop=True) for at in range(n_parts)]


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
                 held: dict[str, float] | None = None, *, parts: str | None = None):
        """``parts``: a column (``school_id``) whose values split the scope into parts
        (its cells never straddle two), each fitted too (``self.parts``, with this
        scope's effects held), from this scope's resamples restricted to the part: one
        pass over the rows serves every part."""
        self._set_rows({k: _matched(r, MATCH_ON[k]) for k, r in rows.items()}, design, held)
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
        names, part = self._parts(parts)
        full = {k: self._sums(self.matched[k], k, part[k], len(names)) for k in self.kinds}
        halves = {k: self._halves(k, np.zeros(len(self.matched[k]), np.int64), 1)
                  for k in self.kinds}
        self._set_sums({k: _part_sums(v, None) for k, v in full.items()},
                       {k: {low: _part_sums(v, 0) for low, v in h.items()}
                        for k, h in halves.items()})
        self.parts: dict[str, _Fit] = {}
        if parts is None:
            return
        part_halves = {k: self._halves(k, part[k], len(names)) for k in self.kinds}
        effects = dict(zip(self.kinds, self.effect, strict=True))
        rows_of = {k: _by_part(m, part[k], len(names)) for k, m in self.matched.items()}
        for at, name in enumerate(names):
            fit = object.__new__(_Fit)
            fit._set_rows({k: rows_of[k][at] for k in self.matched}, design, effects)
            fit._set_sums({k: _part_sums(v, at) for k, v in full.items()},
                          {k: {low: _part_sums(v, at) for low, v in h.items()}
                           for k, h in part_halves.items()})
            self.parts[name] = fit

    def _halves(self, kind: str, part: np.ndarray, n_parts: int) -> dict[bool, dict]:
        """The sums of each part's rows below (True) and above (False) the median
        completion before of that part's treated rows, one pass per half."""
        m = self.matched[kind]
        below = self._below(m, part)
        out = {}
        for low in (True, False):
            keep = _matched(m.assign(part=part), MATCH_ON[kind], below == low)
            out[low] = self._sums(keep, kind, keep["part"].to_numpy(), n_parts)
        return out

    def _set_rows(self, matched: dict[str, pd.DataFrame], design: Design,
                  held: dict[str, float] | None) -> None:
        """The scope's matched rows, the kinds it can estimate, the effects it holds the
        others at, and which rows are below its median completion before."""
        self.design = design
        self.matched = matched
        self.treated_students = {k: m.loc[m["treated"], "student_id"].nunique()
                                 for k, m in matched.items()}
        self.kinds = [k for k in matched if self.treated_students[k] >= MIN_TREATED_STUDENTS]
        self.held = {k: v for k, v in (held or {}).items()
                     if k not in self.kinds and np.isfinite(v)}
        self.below = {k: self._below(m, np.zeros(len(m), np.int64)) for k, m in matched.items()}

    @staticmethod
    def _below(m: pd.DataFrame, part: np.ndarray) -> np.ndarray:
        """Rows whose completion before is at or below the median of their part's treated
        rows (the subgroups by baseline)."""
        if m.empty:
            return np.zeros(0, dtype=bool)
        before = m["before"].to_numpy()
        treated = m["treated"].to_numpy()
        median = pd.Series(before[treated]).groupby(part[treated]).median()
        return before <= median.reindex(range(part.max() + 1)).to_numpy()[part]

    def _set_sums(self, sums: dict[str, dict], halves: dict[str, dict]) -> None:
        """Each design's sums per treated row (and of its halves), and the effects of all
        kinds solved together from them."""
        self.sums = {scheme: {k: sums[k][scheme] for k in self.kinds} for scheme in SCHEMES}
        self.halves = halves
        n_boot = self.design.n_boot
        self.effect = np.zeros(0)
        self.effect_b = {scheme: np.zeros((n_boot, 0)) for scheme in SCHEMES}
        if self.kinds:
            cols = [EXPOSED[k] for k in self.kinds]
            point = np.stack([self._less_held(self.sums["student"][k][0]) for k in self.kinds])
            self.effect = _solve(point[None][:, :, cols], point[None][:, :, 0])[0]
            for scheme in SCHEMES:
                boot = np.stack([self._less_held(self.sums[scheme][k][1]) for k in self.kinds],
                                axis=1)
                self.effect_b[scheme] = _solve(boot[:, :, cols], boot[:, :, 0])

    def _parts(self, column: str | None) -> tuple[list[str], dict[str, np.ndarray]]:
        """The parts' names (sorted) and each matched row's part, per kind."""
        if column is None:
            return ["all"], {k: np.zeros(len(m), np.int64) for k, m in self.matched.items()}
        names = _sorted_unique([m[column].astype("str") for m in self.matched.values()])
        return list(names), {k: positions(m[column].astype("str"), names).astype(np.int64)
                             for k, m in self.matched.items()}

    def _pair_codes(self, m: pd.DataFrame) -> np.ndarray:
        student = positions(m["student_id"].astype("str"), self.students).astype(np.int64)
        teacher = positions(_teacher(m), self.teachers).astype(np.int64)
        return student * max(len(self.teachers), 1) + teacher

    def _sums(self, m: pd.DataFrame, kind: str, part: np.ndarray, n_parts: int) -> dict:
        pair = np.searchsorted(self.pairs, self._pair_codes(m))
        return _design_sums(m, kind, {k: u[pair] for k, u in self.units.items()},
                            self.weights, part, n_parts)

    def _less_held(self, sums: np.ndarray) -> np.ndarray:
        """The change less the share of the kinds held at given effects."""
        change = sums[..., 0] - sum(sums[..., EXPOSED[k]] * v for k, v in self.held.items())
        return np.concatenate([change[..., None], sums[..., 1:]], axis=-1)

    def result(self, kind: str, below: bool | None = None) -> dict:
        """What ``_row`` reports for one design: for all its rows, or for those below
        (``below=True``) or above the median completion before (the other kinds' effects
        held at the whole scope's)."""
        if kind not in self.kinds:
            few = self.treated_students.get(kind, 0)
            return {"reason": f"{count_text(few)} contacted students with a comparison: "
                              "too few to estimate"} if few else {}
        m = (self.matched[kind] if below is None
             else _matched(self.matched[kind], MATCH_ON[kind], self.below[kind] == below))
        if not m["treated"].any():
            return {}
        sums = ({scheme: self.sums[scheme][kind] for scheme in SCHEMES} if below is None
                else self.halves[kind][below])
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
