"""Result frames: the columns every estimate row has, and the row of an estimate or of
one that cannot be made.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from engagement.estimate.design import Design
from engagement.estimate.inference import _interval, _odds_ratio


class EffectRows(pa.DataFrameModel):
    """One row per estimate (``effects.csv``): the estimate and its interval in
    percentage points, the odds ratio, the groups' sizes, and how it was made."""

    estimand: Series[str]
    scope: Series[str]
    subgroup: Series[str]
    estimate: Series[float] = pa.Field(nullable=True)
    ci_low: Series[float] = pa.Field(nullable=True)
    ci_high: Series[float] = pa.Field(nullable=True)
    ci_level: Series[float] = pa.Field(gt=0, lt=1)
    odds_ratio: Series[float] = pa.Field(nullable=True)
    or_ci_low: Series[float] = pa.Field(nullable=True)
    or_ci_high: Series[float] = pa.Field(nullable=True)
    n_treated: Series[int] = pa.Field(ge=0)
    n_comparison: Series[int] = pa.Field(ge=0)
    n_clusters: Series[int] = pa.Field(ge=0)
    baseline_difference_sd: Series[float] = pa.Field(nullable=True)
    method: Series[str]
    caveat: Series[str]

    class Config:
        strict = True
        ordered = True
        coerce = True


RESULT_COLUMNS = list(EffectRows.to_schema().columns)


def effect_table(rows: list[dict]) -> pd.DataFrame:
    """Estimate rows as a frame with every column and type, even when there are none."""
    return EffectRows.validate(pd.DataFrame(rows, columns=RESULT_COLUMNS))


def _row(estimand: str, scope: str, fit: dict, design: Design, *, subgroup: str = "all",
         naive: bool = False, method: str, caveat: str) -> dict:
    if "att" not in fit:
        return _not_estimable(estimand, scope, design, fit.get(
            "reason", "no eligible comparison students: everyone with that record on those "
                      "days was contacted (or no event had work due both before and after)"),
            subgroup=subgroup)
    value, draws = fit["att"], fit["att_b"]
    low, high = fit.get("interval") or _interval(draws, design.confidence)
    odds = [np.nan] * 3
    if not naive:
        odds_b = _odds_ratio(fit["after_b"], draws)
        odds = [_odds_ratio(fit["after"], value), *_interval(odds_b, design.confidence)]
    return {"estimand": estimand, "scope": scope, "subgroup": subgroup,
            "estimate": 100 * value, "ci_low": 100 * low, "ci_high": 100 * high,
            "ci_level": design.confidence, "odds_ratio": odds[0], "or_ci_low": odds[1],
            "or_ci_high": odds[2], "n_treated": fit["n_treated"],
            "n_comparison": 0 if naive else fit["n_comparison"], "n_clusters": fit["n_clusters"],
            "baseline_difference_sd": np.nan if naive else fit["baseline_sd"],
            "method": method, "caveat": caveat}


def _not_estimable(estimand: str, scope: str, design: Design, reason: str, *,
                   subgroup: str = "all") -> dict:
    return {"estimand": estimand, "scope": scope, "subgroup": subgroup, "estimate": np.nan,
            "ci_low": np.nan, "ci_high": np.nan, "ci_level": design.confidence,
            "odds_ratio": np.nan, "or_ci_low": np.nan, "or_ci_high": np.nan, "n_treated": 0,
            "n_comparison": 0, "n_clusters": 0, "baseline_difference_sd": np.nan,
            "method": f"not estimable: {reason}", "caveat": ""}
