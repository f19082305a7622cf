"""Completion week by week around a contact, contacted students against their matched
comparison, and the pre-trend check.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engagement.estimate.design import MATCH_ON, Design
from engagement.estimate.events import Prepared
from engagement.estimate.inference import _bootstrap, _interval, _students_in_order
from engagement.estimate.matching import _matched
from engagement.estimate.panel import windows


def event_study(tables: dict[str, pd.DataFrame], *, mode: str = "personal",
                design: Design | None = None, weeks: int = 6,
                prepared: Prepared | None = None) -> tuple[pd.DataFrame, dict]:
    """Completion week by week around the contact (relative weeks -weeks..weeks-1), for
    contacted students and their matched comparison, with the difference and its
    bootstrap interval; and a pre-trend check: the mean difference in the weeks before
    the matching window (-weeks..-4), which should be near zero.

    Week k covers the days [7k, 7k + 7) from the contact day for k < 0 and
    [7k + 1, 7k + 8) after it. Comparison students count on after their own later
    contact, so the weeks after show the raw contrast (smaller than the estimate, which
    removes the later contacts' share); the weeks before are what the check is about.
    """
    design = design or Design()
    rng = np.random.default_rng(design.seed + 2)
    prepared = prepared or Prepared(tables, design)
    tl = prepared.timeline
    rows = _matched(prepared.rows(mode), MATCH_ON[mode])
    if rows.empty:
        return pd.DataFrame(), {}
    keys = tl.keys(rows["student_id"], rows["day"].to_numpy())
    treated = rows["treated"].to_numpy()
    stu, students = _students_in_order(rows["student_id"])
    draws = _bootstrap(rng, len(students), design.n_boot)
    spans = [(7 * k, 7 * k + 7) if k < 0 else (7 * k + 1, 7 * k + 8)
             for k in range(-weeks, weeks)]
    out, pre_a, pre_b = [], [], []
    for k, (done, n) in zip(range(-weeks, weeks), windows(tl, keys, spans), strict=True):
        seen = n > 0
        rate = np.where(seen, done / np.maximum(n, 1), 0.0)
        w_t = np.where(treated & seen, 1.0, 0.0)
        w_c = np.where(~treated & seen, rows["weight"].to_numpy(), 0.0)
        sums = [np.bincount(stu, weights=x, minlength=len(students))
                for x in (w_t * rate, w_t, w_c * rate, w_c)]
        with np.errstate(invalid="ignore", divide="ignore"):
            treated_rate = sums[0].sum() / sums[1].sum()
            comparison_rate = sums[2].sum() / sums[3].sum()
            boot = (draws @ sums[0]) / (draws @ sums[1]) - (draws @ sums[2]) / (draws @ sums[3])
        low, high = _interval(boot, design.confidence)
        diff = treated_rate - comparison_rate
        out.append({"mode": mode, "relative_week": k, "contacted": 100 * treated_rate,
                    "comparison": 100 * comparison_rate, "difference": 100 * diff,
                    "ci_low": 100 * low, "ci_high": 100 * high, "ci_level": design.confidence,
                    "n_treated": int(w_t.sum()), "n_comparison": int((w_c > 0).sum())})
        if k <= -4:
            pre_a.append(diff)
            pre_b.append(boot)
    pre = np.mean(pre_a)
    low, high = _interval(np.mean(pre_b, axis=0), design.confidence)
    check = {"estimand": f"pretrend_{mode}_contact", "estimate": 100 * pre,
             "ci_low": 100 * low, "ci_high": 100 * high, "ci_level": design.confidence,
             "passes": bool(low <= 0 <= high),
             "method": f"mean difference in relative weeks {-weeks} to -4, before the "
                       "record matched on (the teacher's last 14 days): near zero if the "
                       "groups were on parallel paths"}
    return pd.DataFrame(out), check
