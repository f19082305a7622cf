"""Effect estimates that tell the truth about parent contact and assignment completion.

Teachers call home *because* a student just missed work, and a dip is usually
followed by a rebound anyway; so the before/after change of contacted students is
not the effect of the call. The estimates here compare each contacted student with
**eligible-but-not-contacted** students of the same school, in the same calendar
week, with the same recent record (the number of assignments missed in the
``window_days`` before), as a
difference-in-differences of completion in the ``window_days`` after against the
``window_days`` before. Comparison students contacted later inside their own
outcome window are **censored** at their own contact (their window stops on that
day), the not-yet-treated control of staggered designs. Confidence intervals come
from a cluster bootstrap over students (seeded). Unless the design is randomised,
an estimate says "associated with", not "caused".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engagement.metrics import Timeline, result_flags

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
    # Comparison students contacted later in their own window stop counting at that
    # contact (True), or count on, shrinking the contrast to "now vs a week later".
    censor_comparisons: bool = True
    n_boot: int = 500
    confidence: float = 0.95
    seed: int = 0
    timezone: str = "America/Edmonton"


def _school_contacts(contacts: pd.DataFrame) -> pd.DataFrame:
    return contacts[contacts["initiator"].astype("str") == "school"]


def _events_of_mode(contacts: pd.DataFrame, mode: str) -> pd.DataFrame:
    """School-initiated contacts of one mode; personal ones only when the family was reached
    (a voicemail is an attempt, not a conversation)."""
    c = _school_contacts(contacts)
    c = c[c["mode"].astype("str") == mode]
    if mode == "personal":
        c = c[c["outcome"].astype("str") == "reached"]
    return c


def _day_keys(tl: Timeline, frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    day = tl.day_number(frame[column])
    return tl.keys(frame["student_id"], day), day


def _risk_set(tl: Timeline, events: pd.DataFrame, students: pd.DataFrame,
              time_column: str) -> pd.DataFrame:
    """Every student of the school on every day a treated event happened there."""
    keys, day = _day_keys(tl, events, time_column)
    treated = pd.DataFrame({"student_id": events["student_id"].to_numpy(),
                            "school_id": events["school_id"].to_numpy(), "day": day})
    days = treated[["school_id", "day"]].drop_duplicates()
    risk = days.merge(students[["student_id", "school_id"]], on="school_id")
    marked = treated.drop_duplicates(["student_id", "day"]).assign(treated=True)
    risk = risk.merge(marked[["student_id", "day", "treated"]], on=["student_id", "day"],
                      how="left")
    return risk.assign(treated=risk["treated"].fillna(False).astype(bool))


def _contact_days(tl: Timeline, contacts: pd.DataFrame) -> np.ndarray:
    keys, _ = _day_keys(tl, contacts, "contact_at")
    return np.sort(keys[keys >= 0])


def _did_rows(tl: Timeline, risk: pd.DataFrame, contact_keys: np.ndarray,
              design: Design, *, censor_treated: bool = False) -> pd.DataFrame:
    """Before and after completion for each (student, day), with the matching state,
    the exclusions and the censoring of comparison students at their own contact
    (and of treated students too when the event is not itself a contact)."""
    w = design.window_days
    keys = tl.keys(risk["student_id"], risk["day"].to_numpy())
    ok = keys >= 0
    risk, keys = risk[ok].reset_index(drop=True), keys[ok]
    # Any school contact in the window before (or on) the day contaminates the baseline.
    lo = np.searchsorted(contact_keys, keys - w, side="left")
    hi = np.searchsorted(contact_keys, keys, side="left")
    earlier = hi > lo
    # The next contact after the day ends a comparison student's window (censoring).
    padded = np.append(contact_keys, np.iinfo(np.int64).max)  # "no later contact"
    next_key = padded[np.searchsorted(contact_keys, keys + 1, side="left")]
    same_student = next_key // 100_000 == keys // 100_000
    stop = np.full(len(keys), w + 1)
    censor = same_student & (next_key - keys <= w) & design.censor_comparisons
    if not censor_treated:
        censor &= ~risk["treated"].to_numpy()
    stop = np.where(censor, next_key - keys + 1, stop)
    done_b, n_b = tl.window(keys, -w, 0)
    done_a, n_a = tl.window(keys, 1, stop)
    with np.errstate(invalid="ignore", divide="ignore"):
        before, after = done_b / n_b, done_a / n_a
    # The recent record to match on: assignments missed in the window before. (Matching on
    # the last three alone leaves most of the pre-contact dip unmatched: it inflated the
    # personal-contact estimate by half on simulated data.)
    out = risk.assign(state=n_b - done_b, week=risk["day"].to_numpy() // 7, before=before,
                      after=after, censored=censor, contacted_before=earlier)
    keep = (n_b > 0) & (n_a > 0) & ~earlier
    return out[keep].reset_index(drop=True)


def _estimate(rows: pd.DataFrame, design: Design, rng: np.random.Generator) -> dict:
    """Matched difference-in-differences with a cluster (student) bootstrap."""
    rows = rows.assign(diff=rows["after"] - rows["before"])
    cell = ["school_id", "week", "state"]
    stats = rows.groupby(cell + ["treated"], observed=True)["diff"].agg(["size", "mean"])
    stats = stats.unstack("treated")
    if ("size", True) not in stats or ("size", False) not in stats:
        return {}  # nobody treated, or nobody to compare with
    both = stats[("size", True)].notna() & stats[("size", False)].notna()
    cells = stats[both]
    if cells.empty:
        return {}
    idx = pd.MultiIndex.from_frame(rows[cell])
    matched = idx.isin(cells.index)
    rows = rows[matched].reset_index(drop=True)
    n_t = cells[("size", True)].reindex(pd.MultiIndex.from_frame(rows[cell])).to_numpy()
    n_c = cells[("size", False)].reindex(pd.MultiIndex.from_frame(rows[cell])).to_numpy()
    treated = rows["treated"].to_numpy()
    # ATT = sum over students of a linear contribution / number of treated events:
    # treated rows add their change; comparison rows subtract theirs, weighted by
    # how many treated events their cell's mean serves.
    contribution = np.where(treated, rows["diff"], -rows["diff"] * n_t / n_c)
    students, stu = np.unique(rows["student_id"].to_numpy(), return_inverse=True)
    a = np.bincount(stu, weights=contribution, minlength=len(students))
    t = np.bincount(stu, weights=treated, minlength=len(students))
    p1 = np.bincount(stu, weights=np.where(treated, rows["after"], 0), minlength=len(students))
    naive = np.bincount(stu, weights=np.where(treated, rows["diff"], 0), minlength=len(students))
    att = a.sum() / t.sum()
    after_t = p1.sum() / t.sum()
    draws = _bootstrap(rng, len(students), design.n_boot)
    att_b = (draws @ a) / (draws @ t)
    after_b = (draws @ p1) / (draws @ t)
    # Baseline equivalence after matching: each comparison row weighted as in the estimate.
    weight = np.where(treated, 0.0, n_t / n_c)
    control_before = np.sum(weight * rows["before"]) / weight.sum()
    treated_before = rows.loc[treated, "before"].mean()
    pooled_sd = rows["before"].std()
    control_rows = rows[~treated]
    return {
        "att": att, "att_b": att_b, "after": after_t, "after_b": after_b,
        "naive": naive.sum() / t.sum(), "naive_b": (draws @ naive) / (draws @ t),
        "n_treated": int(treated.sum()), "n_comparison": int(control_rows["student_id"].nunique()),
        "n_clusters": int(len(students)),
        "baseline_sd": float((treated_before - control_before) / pooled_sd)
        if pooled_sd > 0 else np.nan,
        "rows": rows,
    }


def _bootstrap(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """Resampling weights: how often each student is drawn in each resample."""
    draws = np.zeros((n_boot, n))
    for b in range(n_boot):  # one row of weights per resample, vectorised inside
        draws[b] = np.bincount(rng.integers(0, n, n), minlength=n)
    return draws


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
    if not fit:
        return _not_estimable(estimand, scope, design, "no eligible comparison students: "
                              "everyone with that record on those days was contacted (or no "
                              "event had work due both before and after)", subgroup=subgroup)
    value, draws = (fit["naive"], fit["naive_b"]) if naive else (fit["att"], fit["att_b"])
    low, high = _interval(draws, design.confidence)
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


DID_METHOD = ("matched difference-in-differences: completion of work due in the {w} days after "
              "against the {w} days before, each contacted student against students of the "
              "same school, calendar week and recent record (assignments missed in the {w} "
              "days before) not contacted; "
              "comparison students censored at their own later contact; cluster bootstrap "
              "over students ({b} resamples); estimate in percentage points")
NAIVE_METHOD = ("naive before/after: completion of work due in the {w} days after minus the "
                "{w} days before, contacted students only (no comparison group); inflated by "
                "the rebound that follows a bad week")


def contact_effects(tables: dict[str, pd.DataFrame], *, design: Design | None = None,
                    scope: str = "division") -> pd.DataFrame:
    """Personal and written school-initiated contacts: matched DiD, naive before/after,
    and heterogeneity by baseline completion (below / above the median)."""
    design = design or Design()
    rng = np.random.default_rng(design.seed)
    flags = result_flags(tables["results"], tables["assignments"])
    tl = Timeline(flags, design.timezone)
    contact_keys = _contact_days(tl, _school_contacts(tables["contacts"]))
    method = DID_METHOD.format(w=design.window_days, b=design.n_boot)
    out = []
    for mode in ("personal", "written"):
        events = _events_of_mode(tables["contacts"], mode)
        risk = _risk_set(tl, events, tables["students"], "contact_at")
        rows = _did_rows(tl, risk, contact_keys, design)
        fit = _estimate(rows, design, rng)
        out.append(_row(f"att_{mode}_contact", scope, fit, design, method=method))
        if mode == "personal":
            out.append(_row("naive_before_after_personal", scope, fit, design, naive=True,
                            method=NAIVE_METHOD.format(w=design.window_days),
                            caveat="Not an effect: shown to explain why the comparison "
                                   "group matters."))
        if fit:
            median = fit["rows"].loc[fit["rows"]["treated"], "before"].median()
            for label, low in (("baseline below median", True), ("baseline above median",
                                                                  False)):
                part = rows[(rows["before"] <= median) == low]
                out.append(_row(f"att_{mode}_contact", scope, _estimate(part, design, rng),
                                design, subgroup=label, method=method))
    return pd.DataFrame(out, columns=RESULT_COLUMNS)


def conference_effect(tables: dict[str, pd.DataFrame], *, design: Design | None = None,
                      scope: str = "division") -> pd.DataFrame:
    """Attended vs scheduled-but-not-attended conferences, same window and design, with
    baseline equivalence (What Works Clearinghouse bands in the caveat)."""
    design = design or Design()
    rng = np.random.default_rng(design.seed + 1)
    flags = result_flags(tables["results"], tables["assignments"])
    tl = Timeline(flags, design.timezone)
    conf = tables["conferences"]
    conf = conf[conf["status"].isin(["attended", "no_show"])]
    keys, day = _day_keys(tl, conf, "scheduled_at")
    risk = pd.DataFrame({"student_id": conf["student_id"].to_numpy(),
                         "school_id": conf["school_id"].to_numpy(), "day": day,
                         "treated": (conf["status"] == "attended").to_numpy()})
    risk = risk[keys >= 0].drop_duplicates(["student_id", "day"])
    contact_keys = _contact_days(tl, _school_contacts(tables["contacts"]))
    # A school contact after the conference would add its own effect: censor everyone there.
    rows = _did_rows(tl, risk, contact_keys, design, censor_treated=True)
    fit = _estimate(rows, design, rng)
    method = DID_METHOD.format(w=design.window_days, b=design.n_boot).replace(
        "each contacted student against students of the same school, calendar week and "
        f"recent record (assignments missed in the {design.window_days} days before) not "
        "contacted", "families who attended against families scheduled the same week who "
        f"did not come, with the same recent record (assignments missed in the "
        f"{design.window_days} days before)")
    row = _row("att_conference_attended", scope, fit, design, method=method)
    if fit:
        row["caveat"] = ASSOCIATION + " Baseline equivalence: " + _wwc_band(fit["baseline_sd"])
    return pd.DataFrame([row], columns=RESULT_COLUMNS)


def _wwc_band(sd: float) -> str:
    size = abs(sd)
    if size <= 0.05:
        return f"{sd:+.2f} SD (within 0.05: equivalent)."
    if size <= 0.25:
        return f"{sd:+.2f} SD (0.05-0.25: needs statistical adjustment)."
    return f"{sd:+.2f} SD (over 0.25: groups not comparable)."


def broadcast_effect(tables: dict[str, pd.DataFrame], *, design: Design | None = None,
                     scope: str = "division") -> pd.DataFrame:
    """Broadcasts reach every family of a school at once, so no student is 'not exposed':
    there is no comparison group, and the estimate is reported as not estimable."""
    design = design or Design()
    reason = ("broadcasts reach every family of the school at once, so there is no "
              "comparison group of families not reached")
    return pd.DataFrame([_not_estimable("att_broadcast", scope, design, reason)],
                        columns=RESULT_COLUMNS)


def effects(tables: dict[str, pd.DataFrame], *, design: Design | None = None) -> pd.DataFrame:
    """Every estimand for the division and for each school."""
    design = design or Design()
    parts = []
    scopes = [("division", tables)] + [
        (school, _school_tables(tables, school))
        for school in sorted(tables["students"]["school_id"].astype("str").unique())]
    for scope, scoped in scopes:
        parts += [contact_effects(scoped, design=design, scope=scope),
                  conference_effect(scoped, design=design, scope=scope),
                  broadcast_effect(scoped, design=design, scope=scope)]
    return pd.concat(parts, ignore_index=True)


def _school_tables(tables: dict[str, pd.DataFrame], school: str) -> dict[str, pd.DataFrame]:
    out = {}
    for name, frame in tables.items():
        if "school_id" in frame:
            out[name] = frame[frame["school_id"].astype("str") == school]
        else:
            out[name] = frame
    students = set(out["students"]["student_id"])
    out["results"] = tables["results"][tables["results"]["student_id"].isin(students)]
    return out
