"""Broadcasts (bulletins, newsletters, posts): weeks after one against weeks after none,
within each school. Descriptive only: every family gets a broadcast in the same week as
whatever else that week brings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from engagement.estimate.design import BROADCAST_CAVEAT, DESCRIPTIVE, Design
from engagement.estimate.events import Prepared, _flags
from engagement.estimate.frames import _not_estimable, effect_table
from engagement.estimate.inference import _bootstrap, _interval
from engagement.metrics import week_start


def school_week_counts(flags: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Work completed and counted, due in each school week (Monday to Sunday, local
    time): counts, so that parts of a division add up exactly."""
    flags = flags.loc[flags["counted"] & flags["due_at"].notna(),
                      ["school_id", "due_at", "completed"]]
    week = week_start(flags["due_at"], timezone)
    return (flags.assign(week=week).groupby(["school_id", "week"], observed=True)
            .agg(done=("completed", "sum"), n=("completed", "size")).reset_index())


def school_weeks_from(counts: pd.DataFrame) -> pd.DataFrame:
    """Completion of each school week from its counts."""
    return counts.assign(completion=counts["done"] / counts["n"])[
        ["school_id", "week", "completion", "n"]]


def _school_weeks(tables: dict[str, pd.DataFrame], design: Design,
                  prepared: Prepared | None = None) -> pd.DataFrame:
    if prepared is None:
        return school_weeks_from(school_week_counts(_flags(tables, None), design.timezone))
    if prepared.school_weeks is None:  # shared by the broadcast rows of effects and their own
        prepared.school_weeks = school_weeks_from(school_week_counts(prepared.flags,
                                                                     design.timezone))
    return prepared.school_weeks


def _within_school_difference(weights: np.ndarray, group: np.ndarray,
                              completion: np.ndarray) -> np.ndarray:
    """Mean over schools of (exposed - unexposed) week means, for each row of weights
    (resamples x weeks); ``group``: each week's school * 2 + exposed."""
    n_groups = 2 * (group.max() // 2 + 1)

    def sums(values: np.ndarray) -> np.ndarray:
        # Per group, not a product with a weeks x groups indicator matrix: that costs
        # weeks x schools x resamples, minutes for a division of 250 schools.
        by_group = sparse.csr_matrix((values, (group, np.arange(len(group)))),
                                     shape=(n_groups, len(group)))
        return (by_group @ weights.T).T

    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums(completion) / sums(np.ones(len(group)))
    diff = means[:, 1::2] - means[:, 0::2]
    ok = np.isfinite(diff)
    return np.where(ok, diff, 0).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)


def broadcast_association(tables: dict[str, pd.DataFrame], *, design: Design | None = None,
                          scope: str = "division", weeks: pd.DataFrame | None = None,
                          prepared: Prepared | None = None) -> pd.DataFrame:
    """Completion of work due in the week after a broadcast week against weeks after no
    broadcast of that channel, within each school (school-level association).

    Weekly bulletins go out every week: with no week without one there is nothing to
    compare, and that channel is reported as not estimable.
    """
    design = design or Design()
    weeks = _school_weeks(tables, design, prepared) if weeks is None else weeks
    return effect_table(broadcast_rows(tables["broadcasts"], weeks, design, scope))


def broadcast_rows(broadcasts: pd.DataFrame, weeks: pd.DataFrame, design: Design,
                   scope: str) -> list[dict]:
    """``broadcast_association``'s rows, one per channel (a frame is made once, for all
    the rows of an analysis: checking one per school costs more than the estimates)."""
    rng = np.random.default_rng(design.seed + 3)
    b = broadcasts
    sent = b.assign(week=week_start(b["sent_at"], design.timezone)
                    + pd.Timedelta(days=7))  # the week after it went out
    out = []
    for channel in sorted(sent["channel"].astype("str").unique()):
        exposed = sent[sent["channel"].astype("str") == channel][["school_id", "week"]]
        marked = weeks.merge(exposed.drop_duplicates().assign(exposed=True),
                             on=["school_id", "week"], how="left")
        marked["exposed"] = marked["exposed"].fillna(False).astype(bool)
        per_school = marked.groupby("school_id")["exposed"].agg(["sum", "size"])
        usable = per_school[(per_school["sum"] > 0) & (per_school["sum"] < per_school["size"])]
        estimand = f"broadcast_{channel}"
        if usable.empty:
            out.append(_not_estimable(estimand, scope, design, f"a {channel} goes out every "
                                      "week (or never): no week without it to compare"))
            continue
        m = marked[marked["school_id"].isin(usable.index)].reset_index(drop=True)
        # Within-school difference, exposed minus unexposed weeks, averaged over schools;
        # resampled weeks as bootstrap weights (one matrix product, no loop).
        school = pd.factorize(m["school_id"], sort=True)[0]
        group = school * 2 + m["exposed"].to_numpy()
        completion = m["completion"].to_numpy()

        value = float(_within_school_difference(np.ones((1, len(m))), group, completion)[0])
        boot = _within_school_difference(_bootstrap(rng, len(m), min(design.n_boot, 500)),
                                         group, completion)
        low, high = _interval(boot, design.confidence)
        out.append({"estimand": estimand, "scope": scope, "subgroup": "all",
                    "estimate": 100 * value, "ci_low": 100 * low, "ci_high": 100 * high,
                    "ci_level": design.confidence, "odds_ratio": np.nan, "or_ci_low": np.nan,
                    "or_ci_high": np.nan, "n_treated": int(m["exposed"].sum()),
                    "n_comparison": int((~m["exposed"]).sum()), "n_clusters": len(usable),
                    "baseline_difference_sd": np.nan,
                    "method": f"{DESCRIPTIVE}completion of work due in the week after a "
                              f"{channel} went out, minus weeks after none, within each "
                              "school (weeks as units, bootstrap over school-weeks)",
                    "caveat": BROADCAST_CAVEAT})
    return out


def broadcast_effect(tables: dict[str, pd.DataFrame], *, design: Design | None = None,
                     scope: str = "division", weeks: pd.DataFrame | None = None
                     ) -> pd.DataFrame:
    """``att_broadcast``: the association of occasional broadcasts (channels that go out
    in fewer than half of the school weeks, such as a monthly newsletter) with the next
    week's completion, within schools. Routine channels (a weekly bulletin) leave too
    few weeks without them, and the few there are (after holidays) are not comparable.
    """
    design = design or Design()
    weeks = _school_weeks(tables, design) if weeks is None else weeks
    return effect_table(occasional_broadcast_rows(tables["broadcasts"], weeks, design, scope))


def occasional_broadcast_rows(b: pd.DataFrame, weeks: pd.DataFrame, design: Design,
                              scope: str) -> list[dict]:
    """``broadcast_effect``'s row, from the broadcasts and the school weeks."""
    n_weeks = max(1, weeks.groupby("school_id").size().mean())
    week = week_start(b["sent_at"], design.timezone)
    share = (b.assign(week=week).drop_duplicates(["school_id", "channel", "week"])
             .groupby(["school_id", "channel"], observed=True).size()
             .groupby("channel", observed=True).mean() / n_weeks)
    occasional = share[share < 0.5].index
    if len(occasional) == 0:
        return [_not_estimable(
            "att_broadcast", scope, design, "every broadcast channel goes out in most weeks: "
            "too few weeks without one to compare")]
    merged = b[b["channel"].isin(occasional)].assign(channel="occasional broadcast")
    return [{**row, "estimand": "att_broadcast"}
            for row in broadcast_rows(merged, weeks, design, scope)]
