"""Effect estimates that tell the truth about parent contact and assignment completion.

Teachers call home *because* a student just fell behind, and a bad spell usually passes
on its own; so the before/after change of contacted students is not the effect of the
call. Each estimate here rests on a comparison built so that it is valid by construction,
as far as school records allow, and says "not estimable" with the reason where none is.

**Contacts (personal and written): a comparison of decisions.** A teacher decides about a
student in their own classes, so the unit is the (teacher, student) pair on a day someone
at the school made a contact (``engagement.estimate.panel``).

- *Treated*: the teacher attempted a contact with the family that day, whatever came of it
  (intention to treat). Counting only calls that reached the family would put the
  unanswered ones among the comparisons, and whether a family answers goes with how
  engaged it is, which also drives completion: reaching is selection.
- *Comparison*: students of the same school not contacted that day, with the same record
  in that teacher's classes (missed in the last 7 days, completion over 14 days, missed
  among the last three, a missed test or project), in the same week, with the same
  longer-run completion. The record is the teacher's view, not the student's overall
  count: what the teacher saw is what decided the call.
- *Fresh*: both groups had no school attempt with the family in the ``hold_days`` before.
  A teacher who has just called or decided not to does not reconsider for some weeks, so
  students with a recent contact are neither candidates nor carriers of no effect.
- *Students on track* (nothing missed in the teacher's classes in the window before) are
  not rows: a call about missing work is what is estimated.
- *Outcome*: completion of work due in the ``window_days`` after, adjusted for completion
  in the weeks before (a within-cell regression on the comparison rows), not the change
  from before. Contacts select on a passing state, the bottom of a dip: the change from
  there rebounds whatever is done, and the timing of the rebound differs between students
  with the same count of misses. On simulated divisions built by a generator we did not
  write, the difference-in-differences "found" an effect of contacts that did nothing in
  5 of 8 worlds; the lagged adjustment in none of 8.
- *Not estimable* when more than half of the comparison students were themselves
  contacted in the week after: when nearly everyone who falls behind is called, those not
  yet called are not a group the school chose not to call.
- ``att_personal_contact`` (per family reached) is the attempt's effect divided by the
  share of attempts that reached the family: the effect of a conversation if an
  unanswered call does nothing. Its interval runs from the attempt's lower limit (an
  unanswered call as effective as a conversation) to the ratio's upper limit.

**Conferences: a difference-in-differences.** Families come to conferences for who they
are all year, not after a bad week (selection on a lasting trait): each family who
attended is compared with families of the same school booked the same week who did not
come, on the change from the window before to the window after.

**Together.** Comparison students contacted later count on, and the share of each group's
work that fell after a later contact or conference is measured; personal contacts,
written contacts and conferences are solved together for one effect each (a fuzzy
comparison, the Wald ratio of de Chaisemartin and D'Haultfoeuille, 2018), assuming an
event's effect lasts the window. Intervals come from one cluster bootstrap over students
(seeded) that resamples every design at once.

**Broadcasts** reach every family of a school in the same week, so they can only be
compared between weeks, and whatever else those weeks brought (a contact drive, report
cards) is in the difference: their figures are descriptive only.

Unless the design is randomised, an estimate says "associated with", not "caused".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from engagement.estimate.panel import (
    DECISION_CELL,
    PairTimeline,
    decision_rows,
    lag_adjustment,
)
from engagement.metrics import Timeline, day_number, result_flags, week_start
from engagement.parsing import positions

RESULT_COLUMNS = [
    "estimand", "scope", "subgroup", "estimate", "ci_low", "ci_high", "ci_level",
    "odds_ratio", "or_ci_low", "or_ci_high", "n_treated", "n_comparison", "n_clusters",
    "baseline_difference_sd", "method", "caveat",
]
ASSOCIATION = ("Associated with, not proven to cause: families were not contacted at random. "
               "The comparison students had the same recent record in the same week, which "
               "removes the rebound that follows a bad week, but not every difference.")
PERSONAL_CHANNELS = ("phone", "meeting", "conference", "home_visit", "video_call")


@dataclass(frozen=True)
class Design:
    """The settings every estimate shares."""

    window_days: int = 21
    n_boot: int = 500
    confidence: float = 0.95
    seed: int = 0
    timezone: str = "America/Edmonton"
    hold_days: int = 28  # no school attempt with the family in these days before: fresh


def _school_contacts(contacts: pd.DataFrame) -> pd.DataFrame:
    return contacts[contacts["initiator"].astype("str") == "school"]


def attempts_of_mode(contacts: pd.DataFrame, mode: str) -> pd.DataFrame:
    """School-initiated contacts of one mode, whatever their outcome: what a teacher
    decides to do (whether the family answers is not theirs to decide)."""
    c = _school_contacts(contacts)
    return c[c["mode"].astype("str") == mode]


def events_of_mode(contacts: pd.DataFrame, mode: str) -> pd.DataFrame:
    """School-initiated contacts of one mode; personal ones only when the family was reached
    (a voicemail is an attempt, not a conversation)."""
    c = _school_contacts(contacts)
    c = c[c["mode"].astype("str") == mode]
    if mode == "personal":
        c = c[c["outcome"].astype("str") == "reached"]
    return c


def _day_keys(tl: Timeline, frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    if frame.empty:  # a table with no rows may not even carry its time type
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    day = tl.day_number(frame[column])
    return tl.keys(frame["student_id"], day), day


def school_days(events: pd.DataFrame, time_column: str, timezone: str) -> pd.DataFrame:
    """The (school, day) pairs on which an event happened, sorted."""
    day = day_number(events[time_column], timezone) if len(events) else np.zeros(0, np.int64)
    days = pd.DataFrame({"school_id": events["school_id"].array, "day": day})
    return days.drop_duplicates().sort_values(["school_id", "day"]).reset_index(drop=True)


def _risk_set(tl: Timeline, events: pd.DataFrame, students: pd.DataFrame,
              time_column: str, days: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every student of the school on every day a treated event happened there, in
    (school, day, student) order. ``days`` are the division's (school, day) pairs when
    ``students`` are only some of its students (a partition)."""
    _, day = _day_keys(tl, events, time_column)
    treated = pd.DataFrame({"student_id": events["student_id"].array,
                            "school_id": events["school_id"].array, "day": day})
    days = school_days(events, time_column, tl.origin.tz) if days is None else days
    roster = students[["student_id", "school_id"]].sort_values(["school_id", "student_id"])
    risk = days.merge(roster, on="school_id")
    marked = treated.drop_duplicates(["student_id", "day"]).assign(treated=True)
    risk = risk.merge(marked[["student_id", "day", "treated"]], on=["student_id", "day"],
                      how="left")
    return risk.assign(treated=risk["treated"].fillna(False).astype(bool))


def _event_days(tl: Timeline, frame: pd.DataFrame, column: str) -> np.ndarray:
    """Sorted (student, day) keys of events, for binary searches."""
    keys, _ = _day_keys(tl, frame, column)
    return np.sort(keys[keys >= 0])


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
    order = np.argsort(keys, kind="stable")  # sorts every window's bounds too: sorted once
    done_b, n_b = tl.window(keys, -w, 0, order)
    done_a, n_a = tl.window(keys, 1, w + 1, order)
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
    order = np.argsort(keys, kind="stable")
    bounds = {x: (keys + x, tl.position(keys + x, order)) for x in (-w, 0, 1, w + 1)}
    n_b = bounds[0][1] - bounds[-w][1]
    n_a = bounds[w + 1][1] - bounds[1][1]
    after = {name: _exposed(tl, bounds[1], bounds[w + 1], events, w, order) / n_a
             for name, events in exposures.items()}
    change = {f"exposed_{name}": after[name]
              - _exposed(tl, bounds[-w], bounds[0], events, w, order) / n_b
              for name, events in exposures.items()}
    return rows.assign(**change, **{f"exposed_after_{k}": v for k, v in after.items()})


def _exposed(tl: Timeline, start: tuple, stop: tuple, events: np.ndarray, w: int,
             order: np.ndarray) -> np.ndarray:
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
    p_end1, p_start2 = tl.position(end1, order), tl.position(start2, order)
    return (p_end1 - p_a) + (p_b - p_start2) - np.maximum(p_end1 - p_start2, 0)


# Each kind of event is estimated with its own matched design; the three are solved together.
DESIGNS = {"personal": "att_personal_attempt", "written": "att_written_contact",
           "conference": "att_conference_attended"}
# Contacts follow a bad spell that passes whatever is done: they are compared on completion
# after, adjusted for the weeks before (selection on a passing state). Families come to
# conferences for who they are all year: compared on the change (selection on a lasting
# trait, which a difference removes and a lagged adjustment would not).
ADJUSTED = ("personal", "written")
# More than this share of the comparison contacted in the week after: they are students
# not yet contacted, not students the school chose not to contact.
MAX_CONTACTED_AFTER = 0.5


# What treated and comparison rows must share. Contacts follow missed work, so a
# contacted student is compared with students who missed as much in the same week.
# Families come to conferences for who they are all year, not after a bad week: matched
# on a bad recent record, attended students would be those having an unusually bad spell
# for them, who then rebound more (+3 points under a null effect on simulated data).
MATCH_ON = {"personal": DECISION_CELL, "written": DECISION_CELL,
            "conference": ["school_id", "week"]}


def with_outcome(rows: pd.DataFrame, kind: str) -> pd.DataFrame:
    """``rows`` (in matched cells) with the ``outcome`` each design compares and the
    ``share_*`` of each kind of event that the outcome's window holds."""
    if kind in ADJUSTED:
        outcome = rows["after"].to_numpy() - lag_adjustment(rows, MATCH_ON[kind])
        shares = {f"share_{k}": rows[f"exposed_after_{k}"] for k in EXPOSED}
    else:
        outcome = (rows["after"] - rows["before"]).to_numpy()
        shares = {f"share_{k}": rows[f"exposed_{k}"] for k in EXPOSED}
    return rows.assign(outcome=outcome, **shares)


def in_matched_cells(rows: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The rows of cells holding both treated and comparison rows (every estimate of a
    school or a subgroup matches within these)."""
    return _matched(rows, MATCH_ON[kind]).drop(columns="weight")


def _matched(rows: pd.DataFrame, cell: list[str]) -> pd.DataFrame:
    """The rows of cells holding both treated and comparison rows; each comparison row
    weighted by how many treated rows its cell's mean serves (treated / comparison in
    the cell), each treated row by 1."""
    size = rows.groupby(cell + ["treated"], observed=True).size().unstack("treated")
    if True not in size.columns or False not in size.columns:
        return rows.iloc[:0].assign(weight=np.zeros(0))
    size = size.dropna()
    where = pd.MultiIndex.from_frame(rows[cell])
    n_t = size[True].reindex(where).to_numpy()
    n_c = size[False].reindex(where).to_numpy()
    keep = ~np.isnan(n_t)
    weight = np.where(rows["treated"].to_numpy(), 1.0, n_t / n_c)
    return rows.assign(weight=weight)[keep].reset_index(drop=True)


# Columns of a design's per-student sums: the outcome, the share of each kind, then
# treated rows, their completion after, those whose family was reached, and comparison
# weight with and without a contact in the week after.
EXPOSED = {k: 1 + i for i, k in enumerate(("personal", "written", "conference"))}
TREATED, AFTER, REACHED, COMPARISON, CONTACTED_AFTER = 4, 5, 6, 7, 8


def _student_sums(m: pd.DataFrame, students: pd.Index) -> np.ndarray:
    """Per student (rows of ``students``): the matched contrast of the outcome and of
    each share as linear sums (a treated row adds its value, a comparison row subtracts
    its weighted value), then treated rows, their completion after, those reached, and
    comparison weight (all, and contacted in the week after). A resample of students is
    a weighted sum of rows."""
    stu = positions(m["student_id"], students)
    treated = m["treated"].to_numpy()
    comparison = np.where(treated, 0.0, m["weight"].to_numpy())
    sign = np.where(treated, 1.0, -m["weight"].to_numpy())
    later = (m["attempted_after"].to_numpy() if "attempted_after" in m
             else np.zeros(len(m), dtype=bool))
    reached = m["reached"].to_numpy() if "reached" in m else treated
    columns = [sign * m["outcome"].to_numpy(),
               *(sign * m[f"share_{k}"].to_numpy() for k in EXPOSED),
               treated, treated * m["after"].to_numpy(), treated & reached, comparison,
               comparison * later]
    return np.column_stack([np.bincount(stu, weights=c, minlength=len(students))
                            for c in columns])


def _solve(m: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Effects ``tau`` with ``m @ tau = y``, for one system or a stack of them (one per
    resample); NaN where a resample left a system singular."""
    out = np.full(y.shape, np.nan)
    ok = np.isfinite(m).all(axis=(-2, -1)) & np.isfinite(y).all(axis=-1)
    ok[ok] = np.abs(np.linalg.det(m[ok])) > 1e-9
    out[ok] = np.linalg.solve(m[ok], y[ok][..., None])[..., 0]
    return out


# A design with fewer contacted students is not solved for: most resamples would hold
# none of them, and the other designs' intervals would rest on the few that do.
MIN_TREATED_STUDENTS = 10


class _Fit:
    """The joint estimate of one scope, kept for its subgroups: the effect of each kind of
    event, the bootstrap draws, and each design's per-student sums.

    ``held``: effects (the division's, for a school) to hold kinds at when this scope has
    too few of their events to estimate them, so that their share is still removed."""

    def __init__(self, rows: dict[str, pd.DataFrame], design: Design, rng: np.random.Generator,
                 held: dict[str, float] | None = None):
        self.design = design
        self.matched = {k: _matched(r, MATCH_ON[k]) for k, r in rows.items()}
        self.treated_students = {k: m.loc[m["treated"], "student_id"].nunique()
                                 for k, m in self.matched.items()}
        self.kinds = [k for k in self.matched
                      if self.treated_students[k] >= MIN_TREATED_STUDENTS]
        self.held = {k: v for k, v in (held or {}).items()
                     if k not in self.kinds and np.isfinite(v)}
        ids = [self.matched[k]["student_id"] for k in self.kinds]
        # Students in sorted id order, so the resamples do not depend on row order.
        self.students = (pd.Index(pd.concat([pd.Series(i.unique()) for i in ids]).unique())
                         .sort_values() if ids else pd.Index([]))
        self.draws = _bootstrap(rng, len(self.students), design.n_boot)
        self.sums = {k: self._per_treated(_student_sums(self.matched[k], self.students))
                     for k in self.kinds}
        self.effect, self.effect_b = np.zeros(0), np.zeros((design.n_boot, 0))
        if self.kinds:
            cols = [EXPOSED[k] for k in self.kinds]
            point = np.stack([self._less_held(self.sums[k][0]) for k in self.kinds])
            boot = np.stack([self._less_held(self.sums[k][1]) for k in self.kinds], axis=1)
            self.effect = _solve(point[None][:, :, cols], point[None][:, :, 0])[0]
            self.effect_b = _solve(boot[:, :, cols], boot[:, :, 0])

    def _per_treated(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A design's sums per treated row, at the point and in each resample."""
        point, boot = s.sum(axis=0), _resampled(self.draws, s)
        with np.errstate(invalid="ignore", divide="ignore"):
            return point / point[TREATED], boot / boot[..., [TREATED]]

    def _less_held(self, sums: np.ndarray) -> np.ndarray:
        """The change less the share of the kinds held at given effects."""
        change = sums[..., 0] - sum(sums[..., EXPOSED[k]] * v for k, v in self.held.items())
        return np.concatenate([change[..., None], sums[..., 1:]], axis=-1)

    def result(self, kind: str, rows: pd.DataFrame | None = None) -> dict:
        """What ``_row`` reports for one design: for all its rows, or for a subgroup of
        them (the other kinds' effects held at the whole scope's)."""
        if kind not in self.kinds:
            few = self.treated_students.get(kind, 0)
            return {"reason": f"only {few} contacted students with a comparison: too few "
                              "to estimate"} if few else {}
        m = self.matched[kind] if rows is None else _matched(rows, MATCH_ON[kind])
        if not m["treated"].any():
            return {}
        point, boot = (self.sums[kind] if rows is None
                       else self._per_treated(_student_sums(m, self.students)))
        point, boot = self._less_held(point), self._less_held(boot)
        others = [k for k in self.kinds if k != kind]
        effect = dict(zip(self.kinds, self.effect, strict=True))
        with np.errstate(invalid="ignore", divide="ignore"):
            att = ((point[0] - sum(point[EXPOSED[k]] * effect[k] for k in others))
                   / point[EXPOSED[kind]])
            att_b = ((boot[:, 0] - sum(boot[:, EXPOSED[k]] * self.effect_b[:, i]
                                       for i, k in enumerate(self.kinds) if k != kind))
                     / boot[:, EXPOSED[kind]])
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


def _students_in_order(ids: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes of each row's student, numbered in sorted id order (so the bootstrap does
    not depend on row order); hashing, not sorting strings row by row."""
    codes, students = pd.factorize(ids.astype("str"), sort=True)
    return codes, students


def _bootstrap(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """Resampling weights: how often each student is drawn in each resample."""
    draws = np.zeros((n_boot, n))
    for b in range(n_boot):  # one row of weights per resample, vectorised inside
        draws[b] = np.bincount(rng.integers(0, n, n), minlength=n)
    return draws


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


def _row(estimand: str, scope: str, fit: dict, design: Design, *, subgroup: str = "all",
         naive: bool = False, method: str, caveat: str = ASSOCIATION) -> dict:
    if "att" not in fit:
        return _not_estimable(estimand, scope, design, fit.get(
            "reason", "no eligible comparison students: everyone with that record on those "
                      "days was contacted (or no event had work due both before and after)"),
            subgroup=subgroup)
    value, draws = fit["att"], fit["att_b"]
    low, high = fit.get("interval") or _interval(draws, design.confidence)
    odds = [np.nan] * 3
    if not naive:
        odds_b = np.array([_odds_ratio(p, e) for p, e in zip(fit["after_b"], draws,
                                                               strict=True)])
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


DECISION_METHOD = (
    "matched comparison of decisions: each {what} by a teacher to a student who had fallen "
    "behind in that teacher's classes, against students of the same school not contacted "
    "that day, fresh like them (no school attempt with the family in the {h} days before), "
    "with the same record in that teacher's classes (missed in the last 7 days, completion "
    "over 14 days, missed among the last three, a missed test or project), the same week "
    "and the same longer-run completion; completion of work due in the {w} days after, "
    "adjusted for completion in the weeks before (not the change: a dip passes whatever is "
    "done); ")
JOINT = ("comparison students contacted later count on, and the share of each group's work "
         "that fell after a later contact or conference is removed by estimating personal "
         "contacts, written contacts and conferences together; cluster bootstrap over "
         "students ({b} resamples); estimate in percentage points")
METHOD = {
    "personal": DECISION_METHOD.replace("{what}", "call or meeting attempted (answered or "
                                        "not)") + JOINT,
    "written": DECISION_METHOD.replace("{what}", "email, text or letter") + JOINT,
    "conference": ("matched difference-in-differences: completion of work due in the {w} "
                   "days after against the {w} days before, each family who attended a "
                   "conference against families scheduled the same week who did not come, "
                   "of the same school and calendar week; " + JOINT)}
REACHED_METHOD = ("the attempt's effect divided by the share of attempts that reached the "
                  "family (a Wald ratio; its interval runs from the attempt's lower limit, "
                  "should an unanswered call do as much, to the ratio's upper limit, should "
                  "it do nothing): ")
ATTEMPT_CAVEAT = ("Associated with, not proven to cause: families were not contacted at random. "
                  "The comparison students had fallen behind in the same way, in the same "
                  "week, and had not been contacted recently either, but not every "
                  "difference is removed.")
CAVEAT = {"personal": ATTEMPT_CAVEAT + " Counts every attempt, answered or not: what a "
                                       "teacher's decision to call is associated with.",
          "written": ATTEMPT_CAVEAT,
          "conference": ("Associated with, not proven to cause: families choose to come. The "
                         "comparison families were booked the same week and did not come; "
                         "comparing changes removes lasting differences between families, "
                         "not what else changed for them that week.")}
# Broadcasts reach every family of a school at once, so the comparison is between weeks:
# what else happens in a broadcast week (a contact drive, report cards, the start of a
# month) cannot be told apart from it. On simulated divisions whose drive weeks coincide
# with newsletters, a broadcast "effect" that was not there came out in some worlds.
DESCRIPTIVE = "descriptive only, not an effect estimate: "
BROADCAST_CAVEAT = ("Descriptive only: a broadcast goes to every family in the same week, so "
                    "whatever else that week brought (a contact drive, report cards, a "
                    "holiday) is in the difference too.")
REACHED_CAVEAT = ("Per family reached, if an unanswered call does nothing; if it does "
                  "something this overstates, and the attempt's estimate is the lower bound. "
                  "Reached families are not compared with others directly: families who "
                  "answer are the more engaged ones, and that is selection, not effect.")
NAIVE_METHOD = ("naive before/after: completion of work due in the {w} days after minus the "
                "{w} days up to the contact, at each student's first reached personal "
                "contact (no comparison group); inflated by "
                "the rebound that follows a bad week")


class Prepared:
    """What every estimate of a dataset shares, computed once: the completion timeline,
    the days of each kind of event per student, and the matched rows of each design.

    For a partition of a division, ``event_days`` are the division's (school, day) pairs of
    each kind of attempt and ``by_teacher`` the schools whose contacts name teachers."""

    def __init__(self, tables: dict[str, pd.DataFrame], design: Design, *,
                 event_days: dict[str, pd.DataFrame] | None = None,
                 by_teacher: frozenset[str] | None = None):
        self.tables = tables
        self.design = design
        self.event_days = event_days or {}  # the division's, when tables are a partition
        # Every result with its flags: computed once here and shared by every analysis.
        self.flags = result_flags(tables["results"], tables["assignments"])
        self.timeline = tl = Timeline(self.flags, design.timezone)
        contacts = tables["contacts"]
        self.pairs = PairTimeline(self.flags, tables["assignments"], tables.get("enrollments"),
                                  contacts, design.timezone, by_teacher)
        # Every school attempt, whatever its kind: what makes a student not fresh.
        self.attempted = _event_days(tl, _school_contacts(contacts), "contact_at")
        # The events whose effect each design's window may hold.
        self.exposures = {m: _event_days(tl, attempts_of_mode(contacts, m), "contact_at")
                          for m in ("personal", "written")}
        conf = tables["conferences"]
        self.exposures["conference"] = _event_days(
            tl, conf[conf["status"].astype("str") == "attended"], "scheduled_at")
        self._rows: dict[str, pd.DataFrame] = {}

    def rows(self, kind: str) -> pd.DataFrame:
        """Rows of one design (``personal``, ``written`` or ``conference``) in cells with
        both treated and comparison rows, with their exposure shares and outcome."""
        if kind not in self._rows:  # kept with this object, freed with it
            rows = in_matched_cells(self.all_rows(kind), kind)
            rows = with_exposures(self.timeline, rows, self.exposures, self.design)
            self._rows[kind] = with_outcome(rows, kind)
        return self._rows[kind]

    def all_rows(self, kind: str) -> pd.DataFrame:
        """Every before/after row of one design, matched or not (without exposures): what
        a partition of a division contributes before cells are counted across it."""
        if kind == "conference":
            return _did_rows(self.timeline, self._conference_risk(), self.design)
        events = attempts_of_mode(self.tables["contacts"], kind)
        days = self.event_days.get(kind)
        if days is None:
            days = school_days(events, "contact_at", self.design.timezone)
        return decision_rows(self.timeline, self.pairs, events, self.tables["students"], days,
                             self.attempted, window_days=self.design.window_days,
                             hold_days=self.design.hold_days)

    def first_contacts(self) -> pd.DataFrame:
        """Each student's first reached personal school contact with completion in the
        window before and after: what a naive before/after compares."""
        first = first_contact_rows(self.timeline, self.tables["contacts"], self.design)
        school = self.tables["students"].drop_duplicates("student_id").set_index(
            "student_id")["school_id"]
        first = first.assign(school_id=school.reindex(first["student_id"]).to_numpy())
        return first.sort_values(["school_id", "student_id"], kind="stable").reset_index(
            drop=True)

    def _conference_risk(self) -> pd.DataFrame:
        conf = self.tables["conferences"]
        conf = conf[conf["status"].isin(["attended", "no_show"])]
        keys, day = _day_keys(self.timeline, conf, "scheduled_at")
        risk = pd.DataFrame({"student_id": conf["student_id"].to_numpy(),
                             "school_id": conf["school_id"].to_numpy(), "day": day,
                             "treated": (conf["status"] == "attended").to_numpy()})
        # One row per family and day (attended if any meeting that day was), in
        # (school, day, student) order like the contacts' risk sets.
        return (risk[keys >= 0].groupby(["school_id", "day", "student_id"], observed=True)
                ["treated"].max().reset_index())


def _effects_table(rows: dict[str, pd.DataFrame], design: Design, scope: str,
                   held: dict[str, float] | None = None) -> tuple[pd.DataFrame, dict]:
    """The three designs of one scope, estimated together: each kind of event, reached
    personal contacts, the naive before/after of personal contacts (from ``rows["first"]``,
    each student's first reached contact) and contacts by baseline (below / above the
    median completion before the contact). Also returns the effects, to hold a school's
    rare kinds at the division's."""
    fit = _Fit({k: rows[k] for k in DESIGNS}, design, np.random.default_rng(design.seed), held)
    out = []
    for kind, estimand in DESIGNS.items():
        method = METHOD[kind].format(w=design.window_days, b=design.n_boot,
                                     h=design.hold_days)
        result = fit.result(kind)
        row = _row(estimand, scope, result, design, method=method, caveat=CAVEAT[kind])
        if kind == "conference" and "att" in result:
            row["caveat"] += " Baseline equivalence: " + _wwc_band(result["baseline_sd"])
        out.append(row)
        if kind == "personal":
            out.append(_row("att_personal_contact", scope,
                            _per_reached(result, design.confidence), design,
                            method=REACHED_METHOD + method, caveat=REACHED_CAVEAT))
            out.append(_row("naive_before_after_personal", scope,
                            _naive(rows["first"], design), design, naive=True,
                            method=NAIVE_METHOD.format(w=design.window_days),
                            caveat="Not an effect: shown to explain why the comparison "
                                   "group matters."))
        if kind != "conference" and "att" in result:
            m = fit.matched[kind]
            median = m.loc[m["treated"], "before"].median()
            for label, low in (("baseline below median", True),
                               ("baseline above median", False)):
                part = rows[kind][(rows[kind]["before"] <= median) == low]
                out.append(_row(estimand, scope, fit.result(kind, part), design,
                                subgroup=label, method=method, caveat=CAVEAT[kind]))
    effects = {k: float(v) for k, v in zip(fit.kinds, fit.effect, strict=True)}
    return pd.DataFrame(out, columns=RESULT_COLUMNS), effects


def _per_reached(result: dict, confidence: float) -> dict:
    """The attempt's effect per family reached: the effect of a conversation if an
    unanswered call does nothing (a Wald ratio), more than it if an unanswered call does
    something, down to the attempt's own effect if it does as much. The interval spans
    both: from the attempt's lower limit to the ratio's upper limit."""
    if "att" not in result:
        return result
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = result["att_b"] / result["reached_b"]
        low = min(_interval(result["att_b"], confidence)[0], _interval(ratio, confidence)[0])
        return {**result, "att": result["att"] / result["reached"], "att_b": ratio,
                "interval": (low, _interval(ratio, confidence)[1]),
                "n_treated": result["n_reached"]}


def first_contact_rows(tl: Timeline, contacts: pd.DataFrame, design: Design) -> pd.DataFrame:
    """Each student's first reached personal school contact: ``school_id, student_id,
    before, after``, completion of work due in the ``window_days`` up to and including
    the contact day, and in those after it (students with work due in both)."""
    keys, _ = _day_keys(tl, events_of_mode(contacts, "personal"), "contact_at")
    first = np.unique(keys[keys >= 0])
    first = first[np.r_[True, np.diff(first // 100_000) > 0]] if len(first) else first
    w = design.window_days
    done_b, n_b = tl.window(first, 1 - w, 1)
    done_a, n_a = tl.window(first, 1, w + 1)
    ok = (n_b > 0) & (n_a > 0)
    student = tl.students[first[ok] // 100_000]
    out = pd.DataFrame({"student_id": student, "before": done_b[ok] / n_b[ok],
                        "after": done_a[ok] / n_a[ok]})
    return out


def _naive(first: pd.DataFrame, design: Design) -> dict:
    """The naive before/after: mean change at each student's first reached contact, with
    a bootstrap over students."""
    if first.empty:
        return {}
    change = (first["after"] - first["before"]).to_numpy()
    draws = _bootstrap(np.random.default_rng(design.seed + 1), len(change), design.n_boot)
    boot = _resampled(draws, change) / draws.sum(axis=1)
    return {"att": change.mean(), "att_b": boot, "n_treated": len(change),
            "n_comparison": 0, "n_clusters": len(change), "baseline_sd": np.nan}


def contact_effects(tables: dict[str, pd.DataFrame], *, design: Design | None = None,
                    scope: str = "division") -> pd.DataFrame:
    """Every matched estimate of one scope: personal and written school-initiated
    contacts and conferences, the naive before/after, and contacts by baseline
    completion (below / above the median)."""
    design = design or Design()
    prepared = Prepared(tables, design)
    rows = {k: prepared.rows(k) for k in DESIGNS}
    return _effects_table({**rows, "first": prepared.first_contacts()}, design, scope)[0]


def _wwc_band(sd: float) -> str:
    if not np.isfinite(sd):
        return "not computable (completion before did not vary)."
    size = abs(sd)
    if size <= 0.05:
        return f"{sd:+.2f} SD (within 0.05: equivalent)."
    if size <= 0.25:
        return (f"{sd:+.2f} SD (0.05-0.25: needs statistical adjustment; comparing changes, "
                "not levels, is that adjustment here).")
    return (f"{sd:+.2f} SD (over 0.25: not comparable in level. Comparing changes, not "
            "levels, rests on both groups' completion moving alike without the conference; "
            "the weeks before, in the event study, are the check).")


def _flags(tables: dict[str, pd.DataFrame], prepared: Prepared | None) -> pd.DataFrame:
    if prepared is not None:
        return prepared.flags
    return result_flags(tables["results"], tables["assignments"])


def school_week_counts(flags: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Work completed and counted, due in each school week (Monday to Sunday, local
    time): counts, so that parts of a division add up exactly."""
    flags = flags[flags["counted"] & flags["due_at"].notna()]
    week = week_start(flags["due_at"], timezone)
    return (flags.assign(week=week).groupby(["school_id", "week"], observed=True)
            .agg(done=("completed", "sum"), n=("completed", "size")).reset_index())


def school_weeks_from(counts: pd.DataFrame) -> pd.DataFrame:
    """Completion of each school week from its counts."""
    return counts.assign(completion=counts["done"] / counts["n"])[
        ["school_id", "week", "completion", "n"]]


def _school_weeks(tables: dict[str, pd.DataFrame], design: Design,
                  prepared: Prepared | None = None) -> pd.DataFrame:
    return school_weeks_from(school_week_counts(_flags(tables, prepared), design.timezone))


def _within_school_difference(weights: np.ndarray, onehot: np.ndarray,
                              completion: np.ndarray) -> np.ndarray:
    """Mean over schools of (exposed - unexposed) week means, for each row of weights;
    ``onehot`` columns alternate unexposed/exposed per school."""
    with np.errstate(invalid="ignore", divide="ignore"):
        means = _resampled(weights, onehot * completion) / _resampled(weights, onehot)
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
    rng = np.random.default_rng(design.seed + 3)
    weeks = _school_weeks(tables, design, prepared) if weeks is None else weeks
    b = tables["broadcasts"]
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
        onehot = np.zeros((len(m), 2 * (school.max() + 1)))
        onehot[np.arange(len(m)), group] = 1
        completion = m["completion"].to_numpy()[:, None]

        value = float(_within_school_difference(np.ones((1, len(m))), onehot, completion)[0])
        boot = _within_school_difference(_bootstrap(rng, len(m), min(design.n_boot, 500)),
                                         onehot, completion)
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
    return pd.DataFrame(out, columns=RESULT_COLUMNS)


def broadcast_effect(tables: dict[str, pd.DataFrame], *, design: Design | None = None,
                     scope: str = "division", weeks: pd.DataFrame | None = None
                     ) -> pd.DataFrame:
    """``att_broadcast``: the association of occasional broadcasts (channels that go out
    in fewer than half of the school weeks, such as a monthly newsletter) with the next
    week's completion, within schools. Routine channels (a weekly bulletin) leave too
    few weeks without them, and the few there are (after holidays) are not comparable.
    """
    design = design or Design()
    b = tables["broadcasts"]
    weeks = _school_weeks(tables, design) if weeks is None else weeks
    n_weeks = max(1, weeks.groupby("school_id").size().mean())
    week = week_start(b["sent_at"], design.timezone)
    share = (b.assign(week=week).drop_duplicates(["school_id", "channel", "week"])
             .groupby(["school_id", "channel"], observed=True).size()
             .groupby("channel", observed=True).mean() / n_weeks)
    occasional = share[share < 0.5].index
    if len(occasional) == 0:
        return pd.DataFrame([_not_estimable(
            "att_broadcast", scope, design, "every broadcast channel goes out in most weeks: "
            "too few weeks without one to compare")], columns=RESULT_COLUMNS)
    merged = b[b["channel"].isin(occasional)].assign(channel="occasional broadcast")
    table = broadcast_association({**tables, "broadcasts": merged}, design=design, scope=scope,
                                  weeks=weeks)
    return table.assign(estimand="att_broadcast")


def effects(tables: dict[str, pd.DataFrame], *, design: Design | None = None,
            prepared: Prepared | None = None) -> pd.DataFrame:
    """Every estimand for the division and for each school.

    The matched rows are built once for the division; a school's estimate uses its own
    rows (its students, its comparison students), so nothing is recomputed per school.
    """
    design = design or Design()
    prepared = prepared or Prepared(tables, design)
    rows = {k: prepared.rows(k) for k in DESIGNS}
    return effects_from_rows({**rows, "first": prepared.first_contacts()},
                             _school_weeks(tables, design, prepared), tables, design)


def effects_from_rows(rows: dict[str, pd.DataFrame], weeks: pd.DataFrame,
                      tables: dict[str, pd.DataFrame], design: Design) -> pd.DataFrame:
    """``effects`` from each design's rows (in (school, day, student) order, with their
    outcome), each student's first reached contact (``rows["first"]``) and the school
    weeks, however they were built (here, or on a cluster). Of ``tables``, only the small
    ones are used: students and broadcasts."""
    schools = sorted(tables["students"]["school_id"].astype("str").unique())
    division, held = _effects_table(rows, design, "division")
    parts = [division, broadcast_effect(tables, design=design, weeks=weeks)]
    # Split every table by school once (filtering per school would cost schools x rows).
    frames = {**rows, "weeks": weeks, "broadcasts": tables["broadcasts"]}
    by_school = {name: dict(tuple(frame.groupby(frame["school_id"].astype("str"), sort=False)))
                 for name, frame in frames.items()}

    def mine(name: str, school: str) -> pd.DataFrame:
        return by_school[name].get(school, frames[name].iloc[:0])

    for school in schools:
        scoped = {**tables, "broadcasts": mine("broadcasts", school)}
        parts += [_effects_table({k: mine(k, school) for k in rows}, design, school,
                                 held)[0],
                  broadcast_effect(scoped, design=design, scope=school,
                                   weeks=mine("weeks", school))]
    return pd.concat(parts, ignore_index=True)


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


def dose_response(tables: dict[str, pd.DataFrame], *, design: Design | None = None,
                  prepared: Prepared | None = None) -> pd.DataFrame:
    """Completion over the year by the number of personal school contacts that reached
    the family (0, 1, 2, 3, 4+), one value per student, with t intervals.

    Students contacted more are the ones who struggle most: this describes who gets
    contacted, it is not a dose-response effect.
    """
    design = design or Design()
    flags = _flags(tables, prepared)
    counted = flags[flags["counted"]]
    rate = counted.groupby("student_id", observed=True)["completed"].mean()
    calls = events_of_mode(tables["contacts"], "personal").groupby(
        "student_id", observed=True).size()
    doses = calls.reindex(rate.index, fill_value=0).clip(upper=4)
    out = []
    for dose, group in rate.groupby(doses.to_numpy()):
        mean, low, high = _mean_ci(group, design.confidence)
        out.append({"personal_contacts": "4+" if dose == 4 else str(dose),
                    "estimate": 100 * mean, "ci_low": 100 * low, "ci_high": 100 * high,
                    "ci_level": design.confidence, "n": len(group),
                    "method": "mean completion over the year of the students with this many "
                              "reached personal school contacts, t interval over students",
                    "caveat": "Describes who is contacted (struggling students are called "
                              "more), not what more calls do."})
    return pd.DataFrame(out)


def initiator_selection(tables: dict[str, pd.DataFrame], *, design: Design | None = None,
                        prepared: Prepared | None = None) -> pd.DataFrame:
    """Baseline completion (the window before the contact) of students whose families
    reached out themselves, against those the school contacted: selection made visible."""
    design = design or Design()
    tl = prepared.timeline if prepared is not None else Timeline(
        result_flags(tables["results"], tables["assignments"]), design.timezone)
    contacts = tables["contacts"]
    out = []
    for initiator in ("parent", "school"):
        c = contacts[contacts["initiator"].astype("str") == initiator]
        keys, _ = _day_keys(tl, c, "contact_at")
        keys = keys[keys >= 0]
        done, n = tl.window(keys, -design.window_days, 0)
        per = pd.DataFrame({"student": keys // 100_000, "done": done, "n": n})
        per = per[per["n"] > 0].groupby("student")[["done", "n"]].sum()
        mean, low, high = _mean_ci(per["done"] / per["n"], design.confidence)
        out.append({"initiator": initiator, "estimate": 100 * mean, "ci_low": 100 * low,
                    "ci_high": 100 * high, "ci_level": design.confidence,
                    "n_contacts": len(keys), "n_students": len(per),
                    "method": f"completion of work due in the {design.window_days} days "
                              "before each contact, averaged per student; t interval",
                    "caveat": "Families who call the school are often the already-engaged "
                              "ones: their contacts cannot show what reaching out does."})
    return pd.DataFrame(out)


PERSONAL_INVITATIONS = set(PERSONAL_CHANNELS) | {"letter", "email", "text", "portal_message"}


def invitations(tables: dict[str, pd.DataFrame], *, design: Design | None = None
                ) -> pd.DataFrame:
    """Conference attendance by how the family was invited (a personal call or note from
    the teacher, or a bulletin/newsletter), by school and grade, with Wilson intervals.

    Each family's first booking per conference day counts once; a rescheduled meeting
    counts as attended if the later one was."""
    design = design or Design()
    conf = tables["conferences"].merge(tables["students"][["student_id", "grade_level"]],
                                       on="student_id", how="left")
    conf = conf[conf["invited_via"].notna() & (conf["status"] != "cancelled")]
    conf = conf.assign(
        attended=conf["status"] == "attended",
        invitation=np.where(conf["invited_via"].isin(PERSONAL_INVITATIONS),
                            "personal (call or note)", "broadcast (bulletin, newsletter)"))
    rescheduled = conf["rescheduled_from"].notna()
    originals = conf[~rescheduled]
    later = conf.loc[rescheduled].set_index("rescheduled_from")["attended"]
    originals = originals.assign(attended=originals["attended"]
                                 | originals["conference_id"].map(later).fillna(False)
                                 .astype(bool))
    out = []
    for by in (["invitation"], ["school_id", "invitation"],
               ["school_id", "grade_level", "invitation"]):
        g = originals.groupby(by, observed=True)["attended"].agg(["sum", "size"]).reset_index()
        p, low, high = _wilson(g["sum"].to_numpy(), g["size"].to_numpy(), design.confidence)
        g = g.assign(level=" x ".join(by), estimate=100 * p, ci_low=100 * low,
                     ci_high=100 * high, ci_level=design.confidence,
                     n=g["size"]).drop(columns=["sum", "size"])
        out.append(g)
    table = pd.concat(out, ignore_index=True)
    return table.assign(method="share of invited families who attended, Wilson interval",
                        caveat="Teachers may call the families they expect to come, or those "
                               "they worry about: associated with, not caused by.")


def find_campaigns(contacts: pd.DataFrame, *, min_families: int = 10, days: int = 5
                   ) -> pd.DataFrame:
    """Phone campaigns ("tag teaming"): one staff member contacting at least
    ``min_families`` families about missing work within ``days`` days."""
    c = _school_contacts(contacts)
    c = c[(c["purpose"].astype("str") == "missing_work") & c["staff_id"].notna()]
    c = c.assign(day=c["contact_at"].dt.normalize()).sort_values(["staff_id", "day"])
    out = []
    for staff, group in c.groupby("staff_id", observed=True):  # one pass per staff member
        day = group["day"].dt.tz_localize(None).to_numpy()
        end = np.searchsorted(day, day + np.timedelta64(days, "D"), side="left")
        count = end - np.arange(len(day))  # contacts in the days starting at each one
        best = int(np.argmax(count))
        window = group.iloc[best:end[best]]
        if window["student_id"].nunique() >= min_families:  # families, not calls
            out.append({"staff_id": staff, "start": window["day"].min(),
                        "end": window["day"].max(),
                        "n_families": window["student_id"].nunique(),
                        "students": sorted(window["student_id"].unique())})
    return pd.DataFrame(out, columns=["staff_id", "start", "end", "n_families", "students"])


def results_by_class(tables: dict[str, pd.DataFrame], staff: list[str] | None = None
                     ) -> pd.DataFrame:
    """Results with their assignment's class, title and due time, indexed by class (built
    once when several campaigns are examined); only the classes of ``staff`` if given."""
    assignments = tables["assignments"][["assignment_id", "class_id", "title", "due_at"]]
    results = tables["results"]
    if staff is not None:
        e = tables["enrollments"]
        classes = e.loc[e["teacher_id"].isin(staff), "class_id"].unique()
        assignments = assignments[assignments["class_id"].isin(classes)]
        results = results[results["assignment_id"].isin(assignments["assignment_id"])]
    return results.merge(assignments, on="assignment_id").set_index("class_id").sort_index()


def campaign_hand_in(tables: dict[str, pd.DataFrame], campaign: pd.Series, *,
                     days_after: int = 14, results: pd.DataFrame | None = None
                     ) -> pd.DataFrame:
    """The cumulative share of students who handed in the assignment the campaign was
    about, by day since the first call, for contacted students and for students who had
    also not handed it in but were not contacted.

    The assignment is the one (by title, across the staff member's sections) due in the
    14 days before the last call that most contacted students had not handed in.
    """
    results = results_by_class(tables) if results is None else results
    teaches = tables["enrollments"].loc[
        tables["enrollments"]["teacher_id"] == campaign["staff_id"], "class_id"].unique()
    start = campaign["start"]
    results = results.loc[results.index.intersection(teaches)].reset_index()
    window = results[(results["due_at"] < campaign["end"] + pd.Timedelta(days=1))
                     & (results["due_at"] >= start - pd.Timedelta(days=14))]
    contacted = set(campaign["students"])
    # Work not handed in when the calls began: missing, or handed in late after that.
    not_in = window[(window["status"] == "missing")
                    | ((window["status"] == "late") & (window["submitted_at"] >= start))]
    target = not_in[not_in["student_id"].isin(contacted)]["title"].value_counts()
    if target.empty:
        return pd.DataFrame()
    assignment = target.index[0]
    rows = not_in[not_in["title"] == assignment].assign(
        contacted=lambda f: f["student_id"].isin(contacted))
    handed = (rows["submitted_at"].dt.normalize() - start).dt.days
    out = []
    for group, label in ((True, "contacted"), (False, "not contacted")):
        part = handed[rows["contacted"] == group]
        n = len(part)
        for day in range(days_after + 1):
            share = float((part <= day).sum() / n) if n else np.nan
            out.append({"assignment": assignment, "group": label, "day": day,
                        "handed_in": int((part <= day).sum()), "n": n,
                        "share_handed_in": share})
    return pd.DataFrame(out)


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
    out, pre_a, pre_b = [], [], []
    for k in range(-weeks, weeks):
        start, stop = (7 * k, 7 * k + 7) if k < 0 else (7 * k + 1, 7 * k + 8)
        done, n = tl.window(keys, start, stop)
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
