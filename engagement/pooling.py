"""Combining school estimates: random-effects pooling and multiple-testing adjustment."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special  # not scipy.stats: the same quantiles, a second less import


def standard_error(ci_low, ci_high, ci_level: float = 0.95):
    """The normal-approximation standard error behind a confidence interval."""
    z = special.ndtri(0.5 + ci_level / 2)
    return (np.asarray(ci_high) - np.asarray(ci_low)) / (2 * z)


def dersimonian_laird(estimates, standard_errors, *, confidence: float = 0.95) -> dict:
    """Random-effects pooled estimate (DerSimonian & Laird 1986) with I².

    Notes
    -----
    ``Q = sum w_i (y_i - y_fixed)^2`` with ``w_i = 1 / se_i^2``;
    ``tau^2 = max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w))``;
    pooled = ``sum w*_i y_i / sum w*_i`` with ``w*_i = 1 / (se_i^2 + tau^2)``;
    ``I^2 = max(0, (Q - (k - 1)) / Q)``: the share of variation between schools that
    is more than chance.
    """
    y = np.asarray(estimates, dtype=float)
    se = np.asarray(standard_errors, dtype=float)
    keep = np.isfinite(y) & np.isfinite(se) & (se > 0)
    y, se = y[keep], se[keep]
    k = len(y)
    if k == 0:
        return {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "tau2": np.nan,
                "i2": np.nan, "q": np.nan, "k": 0}
    w = 1 / se**2
    fixed = np.sum(w * y) / np.sum(w)
    q = float(np.sum(w * (y - fixed) ** 2))
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    tau2 = max(0.0, (q - (k - 1)) / c) if k > 1 and c > 0 else 0.0
    w_star = 1 / (se**2 + tau2)
    pooled = float(np.sum(w_star * y) / np.sum(w_star))
    se_pooled = float(np.sqrt(1 / np.sum(w_star)))
    z = special.ndtri(0.5 + confidence / 2)
    i2 = max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0
    return {"estimate": pooled, "ci_low": pooled - z * se_pooled,
            "ci_high": pooled + z * se_pooled, "tau2": tau2, "i2": i2, "q": q, "k": k}


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), NaN kept as NaN."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok])
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[ok] = result
    return out


def pool_schools(effects: pd.DataFrame) -> pd.DataFrame:
    """Per-school rows of each estimand, their BH-adjusted p-values, and a pooled
    random-effects row (scope 'pooled') with I² in ``i2``."""
    schools = effects[(effects["scope"] != "division") & (effects["subgroup"] == "all")
                      & effects["estimate"].notna()].copy()
    se = standard_error(schools["ci_low"], schools["ci_high"], 0.95)
    schools["p_value"] = 2 * special.ndtr(-np.abs(schools["estimate"] / se))
    schools["p_adjusted"] = np.nan
    pooled = []
    for estimand, group in schools.groupby("estimand", sort=True):
        schools.loc[group.index, "p_adjusted"] = benjamini_hochberg(group["p_value"])
        fit = dersimonian_laird(group["estimate"], standard_error(group["ci_low"],
                                                                  group["ci_high"]))
        pooled.append({"estimand": estimand, "scope": "pooled", "subgroup": "all",
                       "estimate": fit["estimate"], "ci_low": fit["ci_low"],
                       "ci_high": fit["ci_high"], "ci_level": 0.95, "i2": fit["i2"],
                       "tau2": fit["tau2"], "n_schools": fit["k"],
                       "method": "DerSimonian-Laird random-effects pooling of the schools"})
    return pd.concat([schools, pd.DataFrame(pooled)], ignore_index=True)
