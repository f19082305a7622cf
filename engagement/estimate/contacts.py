"""The effects of contacts and conferences, estimated together (the design and its
reasoning: ``engagement.estimate``), for the division and each school.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engagement.estimate.broadcasts import _school_weeks, occasional_broadcast_rows
from engagement.estimate.design import (
    CAVEAT,
    DESIGNS,
    METHOD,
    NAIVE_METHOD,
    REACHED_CAVEAT,
    REACHED_METHOD,
    Design,
)
from engagement.estimate.events import Prepared
from engagement.estimate.fit import _Fit
from engagement.estimate.frames import _row, effect_table
from engagement.estimate.inference import _bootstrap, _interval, _resampled


def _effects_table(fit: _Fit, first: pd.DataFrame, design: Design, scope: str) -> list[dict]:
    """The three designs of one scope, estimated together (``fit``): each kind of event,
    reached personal contacts, the naive before/after of personal contacts (``first``:
    each student's first reached contact) and contacts by baseline (below / above the
    median completion before the contact)."""
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
                            _naive(first, design), design, naive=True,
                            method=NAIVE_METHOD.format(w=design.window_days),
                            caveat="Not an effect: shown to explain why the comparison "
                                   "group matters."))
        if kind != "conference" and "att" in result:
            for label, low in (("baseline below median", True),
                               ("baseline above median", False)):
                out.append(_row(estimand, scope, fit.result(kind, low), design,
                                subgroup=label, method=method, caveat=CAVEAT[kind]))
    return out


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
    fit = _Fit({k: prepared.rows(k) for k in DESIGNS}, design,
               np.random.default_rng(design.seed))
    return effect_table(_effects_table(fit, prepared.first_contacts(), design, scope))


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
    # One fit for the division and each school: a school's resamples are the division's,
    # restricted to its students, teachers and pairs; its effects of kinds too rare there
    # are held at the division's.
    fit = _Fit({k: rows[k] for k in DESIGNS}, design, np.random.default_rng(design.seed),
               parts="school_id")
    out = _effects_table(fit, rows["first"], design, "division")
    out += occasional_broadcast_rows(tables["broadcasts"], weeks, design, "division")
    # Split the other tables by school once (filtering per school would cost schools x rows).
    frames = {"first": rows["first"], "weeks": weeks, "broadcasts": tables["broadcasts"]}
    by_school = {name: dict(tuple(frame.groupby(frame["school_id"].astype("str"), sort=False)))
                 for name, frame in frames.items()}

    def mine(name: str, school: str) -> pd.DataFrame:
        return by_school[name].get(school, frames[name].iloc[:0])

    held = dict(zip(fit.kinds, fit.effect, strict=True))
    for school in schools:
        part = fit.parts.get(school) or _Fit({k: rows[k].iloc[:0] for k in DESIGNS}, design,
                                             np.random.default_rng(design.seed), held)
        out += _effects_table(part, mine("first", school), design, school)
        out += occasional_broadcast_rows(mine("broadcasts", school), mine("weeks", school),
                                         design, school)
    return effect_table(out)
