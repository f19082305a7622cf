"""One bootstrap path and its intervals.

Resampling weights over students (the clusters), sums under them, percentile
intervals and the solve of the joint system; t and Wilson intervals for the descriptive
means and shares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special  # not scipy.stats: the same quantiles, a second less import


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


# Resampling weights of one scheme above this many bytes as floats are held as small counts
# (a division's pairs x resamples would take gigabytes) and summed a chunk at a time.
DRAWS_IN_FLOATS = 2**28


def _bootstrap(rng: np.random.Generator, n: int, n_boot: int, *,
               by_unit: bool = False) -> np.ndarray:
    """Resampling weights: how often each student is drawn in each resample, as
    resamples x students (``by_unit``: students x resamples, filled in place rather than
    transposed after, which would hold both at once; as small counts when floats would
    take over 256 MB, a unit being drawn a handful of times at most, never 255)."""
    dtype = float if not by_unit or n * n_boot * 8 <= DRAWS_IN_FLOATS else np.uint8
    draws = np.zeros((n, n_boot), dtype=dtype).T if by_unit else np.zeros((n_boot, n))
    # Resamples a chunk at a time (about 32 MB of picks): the generator gives the same
    # picks as one resample at a time, in a fraction of the time for small n.
    step = max(2**22 // max(n, 1), 1)
    for lo in range(0, n_boot if n else 0, step):
        k = min(step, n_boot - lo)
        picks = rng.integers(0, n, (k, n)) + (np.arange(k) * n)[:, None]
        draws[lo:lo + k] = np.bincount(picks.ravel(), minlength=k * n).reshape(k, n)
    return draws.T if by_unit else draws


def _resampled(draws: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sums of ``values`` (one row per student or unit) under each resample's weights.
    Not ``draws @ values``: a BLAS product may round differently with the memory layout
    or the thread count, and the same data must give the same digits everywhere."""
    return np.einsum("bn,n...->b...", draws, values, optimize=False)


def _odds_ratio(after, att):
    """Odds of completion after, against the odds had the change been the comparison's
    (NaN where either share is not strictly between 0 and 1); for numbers or arrays."""
    after, counterfactual = np.asarray(after, dtype=float), np.asarray(after - att, dtype=float)
    ok = (0 < after) & (after < 1) & (0 < counterfactual) & (counterfactual < 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        odds = (after / (1 - after)) / (counterfactual / (1 - counterfactual))
    return np.where(ok, odds, np.nan)[()]


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
    half = special.stdtrit(n - 1, 0.5 + confidence / 2) * values.std(ddof=1) / np.sqrt(n)
    return values.mean(), values.mean() - half, values.mean() + half


def _wilson(successes: np.ndarray, n: np.ndarray, confidence: float):
    """Wilson score interval for proportions."""
    z = special.ndtri(0.5 + confidence / 2)
    n = np.asarray(n, dtype=float)
    p = np.divide(successes, n, out=np.full(n.shape, np.nan), where=n > 0)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return p, centre - half, centre + half
