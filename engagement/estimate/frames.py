"""Result frames: the columns every estimate row has, and the row of an estimate or of
one that cannot be made.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from engagement.estimate.design import Design
from engagement.estimate.inference import _interval, _odds_ratio


def _number() -> pa.Column:
    return pa.Column(float, nullable=True)


def _count() -> pa.Column:
    return pa.Column(int, pa.Check.ge(0))


# One row per estimate (``effects.csv``): the estimate and its interval in percentage
# points, the odds ratio, the groups' sizes, and how it was made. A schema object, not a
# DataFrameModel: building a model imports dask's typing (seconds) when dask is installed.
EFFECT_ROWS = pa.DataFrameSchema({
    "estimand": pa.Column(str), "scope": pa.Column(str), "subgroup": pa.Column(str),
    "estimate": _number(), "ci_low": _number(), "ci_high": _number(),
    "ci_level": pa.Column(float, [pa.Check.gt(0), pa.Check.lt(1)]),
    "odds_ratio": _number(), "or_ci_low": _number(), "or_ci_high": _number(),
    "n_treated": _count(), "n_comparison": _count(), "n_clusters": _count(),
    "baseline_difference_sd": _number(), "method": pa.Column(str), "caveat": pa.Column(str),
}, strict=True, ordered=True, coerce=True)


RESULT_COLUMNS = list(EFFECT_ROWS.columns)


def effect_table(rows: list[dict]) -> pd.DataFrame:
    """Estimate rows as a frame with every column and type, even when there are none."""
    return EFFECT_ROWS.validate(pd.DataFrame(rows, columns=RESULT_COLUMNS))


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
