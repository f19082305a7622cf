"""One bootstrap path and its intervals.

Resampling weights over students (the clusters), sums under them, percentile
intervals and the solve of the joint system; t and Wilson intervals for the descriptive
means and shares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse, stats


def _solve(m: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Effects ``tau`` with ``m @ tau = y``, for one system or a stack of them (one per
    resample); NaN where a resample left a system singular."""
    out = np.full(y.shape, np.nan)
    ok = np.isfinite(m).all(axis=(-2, -1)) & np.isfinite(y).all(axis=-1)
    ok[ok] = np.abs(np.linalg.det(m[ok])) > 1e-9
    out[ok] = np.linalg.solve(m[ok], y[ok][..., None])[..., 0]
    return out


def _students_in_order(ids: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes of each row's student, numbered in sorted id order (so the bootstrap does
    not depend on row order); hashing, not sorting strings row by row."""
    codes, students = pd.factorize(ids.astype("str"), sort=True)
    return codes, students


def _bootstrap(rng: np.random.Generator, n: int, n_boot: int, *,
               by_unit: bool = False) -> np.ndarray:
    """Resampling weights: how often each student is drawn in each resample, as
    resamples x students (``by_unit``: students x resamples, filled in place rather than
    transposed after, which would hold both at once)."""
    draws = np.zeros((n, n_boot)).T if by_unit else np.zeros((n_boot, n))
    for b in range(n_boot):  # one row of weights per resample, vectorised inside
        draws[b] = np.bincount(rng.integers(0, n, n), minlength=n)
    return draws.T if by_unit else draws


def _resampled(draws: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sums of ``values`` (one row per student or unit) under each resample's weights.
    Not ``draws @ values``: a BLAS product may round differently with the memory layout
    or the thread count, and the same data must give the same digits everywhere."""
    return np.einsum("bn,n...->b...", draws, values, optimize=False)


def _odds_ratio(after: float, att: float) -> float:
    """Odds of completion after, against the odds had the change been the comparison's."""
    counterfactual = after - att
    if not (0 < after < 1 and 0 < counterfactual < 1):
        return np.nan
    return (after / (1 - after)) / (counterfactual / (1 - counterfactual))


def _interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return np.nan, np.nan
    tail = (1 - confidence) / 2 * 100
    return tuple(np.percentile(values, [tail, 100 - tail]))


def _mean_ci(values: pd.Series, confidence: float) -> tuple[float, float, float]:
    """Mean with a t interval (values are per student: students are the clusters)."""
    values = values.dropna()
    n = len(values)
    if n < 2:
        return (values.mean() if n else np.nan), np.nan, np.nan
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return values.mean(), values.mean() - half, values.mean() + half


def _wilson(successes: np.ndarray, n: np.ndarray, confidence: float):
    """Wilson score interval for proportions."""
    z = stats.norm.ppf(0.5 + confidence / 2)
    n = np.asarray(n, dtype=float)
    p = np.divide(successes, n, out=np.full(n.shape, np.nan), where=n > 0)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return p, centre - half, centre + half


class PairDraws:
    """How often each (student, teacher) pair is drawn in each resample of one scheme,
    given a block of resamples at a time as pairs x resamples (the layout the sums take).

    Held as the draws of the scheme's own units (students, teachers, or the pairs
    themselves; units x resamples) and each pair's unit: a division's pairs x resamples
    would take 200 MB a scheme. A smaller scope's are gathered once and kept whole."""

    def __init__(self, rng: np.random.Generator, n_units: int, n_boot: int,
                 unit: np.ndarray | None = None):
        self.draws = _bootstrap(rng, n_units, n_boot, by_unit=True)
        self.unit = unit
        self.n_boot = n_boot
        if unit is not None and len(unit) * n_boot * 8 <= 2**26:  # 64 MB at most: kept
            self.draws, self.unit = self.draws[unit], None

    def block(self, lo: int, hi: int) -> np.ndarray:
        draws = self.draws[:, lo:hi] if self.unit is None else self.draws[self.unit, lo:hi]
        return np.ascontiguousarray(draws)


def _cell_sums(unit: np.ndarray, cell: np.ndarray, columns: list[np.ndarray], n_units: int):
    """A function of resampling weights (units x resamples; ``unit``: each row's) that
    sums each column over each cell's rows under each resample's weights, giving
    columns x cells x resamples. The rows are gathered once, for every resample."""
    n_cells = cell.max() + 1 if len(cell) else 0
    data = np.concatenate(columns)
    kept = data != 0  # a treated row adds nothing to comparison columns, and vice versa
    stacked = sparse.csr_matrix(
        (data[kept],
         (np.concatenate([cell + j * n_cells for j in range(len(columns))])[kept],
          np.tile(unit, len(columns))[kept])),
        shape=(len(columns) * n_cells, n_units))

    def sums(draws: np.ndarray) -> np.ndarray:
        # Each sum adds its row's units in the same order whatever the number of
        # resamples: a block of them gives the same digits as all at once.
        out = stacked @ np.ascontiguousarray(draws)
        return out.reshape(len(columns), n_cells, draws.shape[1])

    return sums
