"""Rows of a design made comparable: conference rows (before and after), matching
cells and their weights, the share of each kind of event a window holds, and the outcome
each design compares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engagement.estimate.design import ADJUSTED, EXPOSED, MATCH_ON, Design
from engagement.estimate.panel import cell_numbers, lag_adjustment
from engagement.metrics import Timeline


def _did_rows(tl: Timeline, risk: pd.DataFrame, design: Design) -> pd.DataFrame:
    """Before and after completion for each (student, day), with the matching state.

    A student contacted in the weeks before stays in: the earlier contact's share of
    both windows is measured like any other (``with_exposures``). (Leaving such days
    out, as a clean baseline would want, drops the students contacted most, whose gains
    are largest: the estimate fell a point short of the planted effect on simulated
    data.)"""
    w = design.window_days
    keys = tl.keys(risk["student_id"], risk["day"].to_numpy())
    ok = keys >= 0
    risk, keys = risk[ok].reset_index(drop=True), keys[ok]
    done_b, n_b = tl.window(keys, -w, 0)
    done_a, n_a = tl.window(keys, 1, w + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        before, after = done_b / n_b, done_a / n_a
    # The recent record contacts are matched on: assignments missed in the window before,
    # and among the last three. (The last three alone left most of the pre-contact dip
    # unmatched; the window alone left the null biased: contacts follow the last three.)
    out = risk.assign(state=n_b - done_b, recent=tl.missed_last(keys, 3),
                      week=risk["day"].to_numpy() // 7, before=before, after=after)
    keep = (n_b > 0) & (n_a > 0)
    return out[keep].reset_index(drop=True)


def with_exposures(tl: Timeline, rows: pd.DataFrame, exposures: dict[str, np.ndarray],
                   design: Design) -> pd.DataFrame:
    """``rows`` with, for each kind of event, the share of the student's work due within
    ``window_days`` after such an event: in the window after (``exposed_after_*``) and
    its change from the window before (``exposed_*``). Computed for matched rows only:
    the costliest lookups of the analysis."""
    w = design.window_days
    keys = tl.keys(rows["student_id"], rows["day"].to_numpy())
    bounds = {x: (keys + x, tl.position(keys + x)) for x in (-w, 0, 1, w + 1)}
    n_b = bounds[0][1] - bounds[-w][1]
    n_a = bounds[w + 1][1] - bounds[1][1]
    after = {name: _exposed(tl, bounds[1], bounds[w + 1], events, w) / n_a
             for name, events in exposures.items()}
    change = {f"exposed_{name}": after[name]
              - _exposed(tl, bounds[-w], bounds[0], events, w) / n_b
              for name, events in exposures.items()}
    return rows.assign(**change, **{f"exposed_after_{k}": v for k, v in after.items()})


def _exposed(tl: Timeline, start: tuple, stop: tuple, events: np.ndarray, w: int
             ) -> np.ndarray:
    """Counted work due in [a, b) (``start`` and ``stop``: keys and their positions) that
    was due within ``w`` days after one of the student's events (days e+1..e+w), for
    windows no longer than ``w``.

    Such a window meets at most two stretches: the one of the last event before it,
    [a, last + w], and the one from the first event inside it to its end."""
    (a, p_a), (b, p_b) = start, stop
    i = np.searchsorted(events, a, side="left")
    padded = np.concatenate([[-1], events, [np.iinfo(np.int64).max]])
    last, first = padded[i], padded[i + 1]
    student = a // 100_000
    end1 = np.where(last // 100_000 == student, np.clip(last + w + 1, a, b), a)
    start2 = np.where(first // 100_000 == student, np.clip(first + 1, a, b), b)
    p_end1, p_start2 = tl.position(end1), tl.position(start2)
    return (p_end1 - p_a) + (p_b - p_start2) - np.maximum(p_end1 - p_start2, 0)


def with_outcome(rows: pd.DataFrame, kind: str) -> pd.DataFrame:
    """``rows`` (in matched cells) with the ``outcome`` each design compares and the
    ``share_*`` of each kind of event that the outcome's window holds.

    For contacts, completion after less what the weeks before predict, and each share
    less what they predict too: the comparison rows the prediction is fitted on carry the
    effect of their later contacts (students doing worse before are contacted more
    later), and the effects are solved for from the outcome with their shares adjusted
    alike. (Adjusting completion alone took 0.15 points of the effect on simulated
    divisions, in every kind of world; fitting the prediction with the shares beside the
    weeks before, instead, carried the later-contacted students' selection into it.)"""
    if kind in ADJUSTED:
        columns = ["after", *(f"exposed_after_{k}" for k in EXPOSED)]
        y = rows[columns].to_numpy(dtype=float)
        net = y - lag_adjustment(rows, MATCH_ON[kind], y)
        outcome = net[:, 0]
        shares = {f"share_{k}": net[:, 1 + i] for i, k in enumerate(EXPOSED)}
    else:
        outcome = (rows["after"] - rows["before"]).to_numpy()
        shares = {f"share_{k}": rows[f"exposed_{k}"] for k in EXPOSED}
    return rows.assign(outcome=outcome, **shares)


def in_matched_cells(rows: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The rows of cells holding both treated and comparison rows (every estimate of a
    school or a subgroup matches within these)."""
    return _matched(rows, MATCH_ON[kind]).drop(columns="weight")


def _matched(rows: pd.DataFrame, cell: list[str], within: np.ndarray | None = None
             ) -> pd.DataFrame:
    """The rows of cells holding both treated and comparison rows; each comparison row
    weighted by how many treated rows its cell's mean serves (treated / comparison in
    the cell), each treated row by 1. ``within``: of these rows only (a subgroup), taken
    in one step with the cells' own."""
    # Each row's cell by number (0: a key left blank, in no cell), counted by bincount.
    group = cell_numbers(rows, cell) + 1
    if within is not None:
        group = np.where(within, group, 0)
    treated = rows["treated"].to_numpy()
    n_t = np.bincount(group, weights=treated)[group]
    n_c = np.bincount(group, weights=~treated)[group]
    keep = (group > 0) & (n_t > 0) & (n_c > 0)
    if not keep.any():
        return rows.iloc[:0].assign(weight=np.zeros(0))
    out = rows.assign(weight=np.where(treated, 1.0, n_t / np.maximum(n_c, 1)))
    # Rows already in matched cells (a school's, say) are all kept: no copy.
    return (out if keep.all() else out[keep]).reset_index(drop=True)
