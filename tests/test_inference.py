"""Inference pinned to values computed independently: scipy, and published figures.

Each test is built so that a 90% interval, ddof=0 or a window shifted by a day fails it.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from engagement.estimate import Design
from engagement.estimate.contacts import _naive
from engagement.estimate.events import first_contact_rows
from engagement.estimate.inference import _bootstrap, _mean_ci, _wilson
from engagement.metrics import Timeline, result_flags


def test_t_interval_matches_scipy_with_ddof_1():
    values = pd.Series([0.2, 0.5, 0.9, 0.4, 0.7, 0.35, 0.8, 0.6])
    mean, low, high = _mean_ci(values, 0.95)
    ref = stats.t.interval(0.95, len(values) - 1, loc=values.mean(),
                           scale=stats.sem(values, ddof=1))
    assert mean == pytest.approx(values.mean())
    assert (low, high) == pytest.approx(ref, abs=1e-12)
    # ddof=0 would give a narrower interval: the pin tells them apart.
    narrow = stats.t.interval(0.95, len(values) - 1, loc=values.mean(),
                              scale=values.std(ddof=0) / np.sqrt(len(values)))
    assert high - low > narrow[1] - narrow[0] + 0.01


def test_wilson_interval_matches_the_published_value():
    # 8 successes in 10 at 95%: 0.4902 to 0.9433 (Wilson 1927; R binom::binom.wilson).
    p, low, high = _wilson(np.array([8]), np.array([10]), 0.95)
    assert p[0] == pytest.approx(0.8)
    assert low[0] == pytest.approx(0.4902, abs=5e-5)
    assert high[0] == pytest.approx(0.9433, abs=5e-5)


def test_bootstrap_percentile_interval_matches_scipy():
    """The students' bootstrap of a mean change against scipy.stats.bootstrap (its own
    resamples, percentile method): the same 95% interval within a small share of its
    width; a 90% interval is further off than that."""
    rng = np.random.default_rng(3)
    change = rng.normal(0.05, 0.2, 400)
    first = pd.DataFrame({"student_id": [f"s{i}" for i in range(400)],
                          "before": np.full(400, 0.5), "after": 0.5 + change})
    fit = _naive(first, Design(n_boot=20_000, seed=1))
    low, high = np.percentile(fit["att_b"], [2.5, 97.5])
    ref = stats.bootstrap((change,), np.mean, confidence_level=0.95, method="percentile",
                          n_resamples=20_000, random_state=2).confidence_interval
    width = ref.high - ref.low
    assert fit["att"] == pytest.approx(change.mean())
    assert abs(low - ref.low) < 0.03 * width and abs(high - ref.high) < 0.03 * width
    ninety = stats.bootstrap((change,), np.mean, confidence_level=0.90, method="percentile",
                             n_resamples=20_000, random_state=2).confidence_interval
    assert abs(ninety.low - ref.low) > 0.06 * width


@pytest.mark.parametrize("n", [0, 1, 7, 1_000, 70_000])
def test_bootstrap_draws_are_each_resample_drawn_in_turn(n):
    """Resamples drawn a chunk at a time are the ones drawn one at a time (each a
    multinomial count of n picks of n units), so chunking never changes a figure."""
    one_by_one = np.zeros((130, n))
    rng = np.random.default_rng(5)
    for b in range(130):
        one_by_one[b] = np.bincount(rng.integers(0, n, n), minlength=n)
    draws = _bootstrap(np.random.default_rng(5), n, 130)
    assert (draws == one_by_one).all()
    assert (_bootstrap(np.random.default_rng(5), n, 130, by_unit=True) == one_by_one.T).all()
    assert (draws.sum(axis=1) == n).all()


def test_before_and_after_windows_hold_exactly_the_days_they_say():
    """The naive before/after at a contact on day d: work due in (d - 21, d] before and in
    (d, d + 21] after. One assignment is due on each edge; a window shifted by a day
    counts a different one."""
    tz = "America/Edmonton"
    d = pd.Timestamp("2025-10-15 12:00", tz=tz)
    offsets = [-21, -20, 0, 1, 21, 22]
    # Missed on the outer edges only: a shifted window changes the rates.
    status = ["missing", "on_time", "on_time", "missing", "on_time", "missing"]
    assignments = pd.DataFrame({"assignment_id": [f"A{o}" for o in offsets],
                                "class_id": "C1", "school_id": "S",
                                "due_at": [d.normalize() + pd.Timedelta(days=o, hours=23)
                                           for o in offsets]})
    results = pd.DataFrame({"student_id": "1", "assignment_id": assignments["assignment_id"],
                            "status": status})
    contacts = pd.DataFrame({"student_id": ["1"], "school_id": ["S"], "contact_at": [d],
                             "mode": ["personal"], "initiator": ["school"],
                             "outcome": ["reached"]})
    tl = Timeline(result_flags(results, assignments), tz)
    first = first_contact_rows(tl, contacts, Design())
    # Before: days -20 and 0 (both on time); after: days 1 (missed) and 21 (on time).
    assert first[["before", "after"]].iloc[0].tolist() == [1.0, 0.5]
