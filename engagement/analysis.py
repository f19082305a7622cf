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
from scipy import stats

from engagement.metrics import Timeline, result_flags, week_start

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
    # Days until the student's own next contact (for curves beyond the window).
    next_contact = np.where(same_student, next_key - keys, np.iinfo(np.int32).max)
    out = risk.assign(state=n_b - done_b, week=risk["day"].to_numpy() // 7, before=before,
                      after=after, censored=censor, next_contact=next_contact)
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
    stu, students = _students_in_order(rows["student_id"])
    a = np.bincount(stu, weights=contribution, minlength=len(students))
    t = np.bincount(stu, weights=treated, minlength=len(students))
    p1 = np.bincount(stu, weights=np.where(treated, rows["after"], 0), minlength=len(students))
    naive = np.bincount(stu, weights=np.where(treated, rows["diff"], 0), minlength=len(students))
    att = a.sum() / t.sum()
    after_t = p1.sum() / t.sum()
    draws = _bootstrap(rng, len(students), design.n_boot)
    # With few contacted students a resample can hold none: undefined, left out of the
    # interval (such estimates fall under k and are not shown anyway).
    with np.errstate(divide="ignore", invalid="ignore"):
        att_b = (draws @ a) / (draws @ t)
        after_b = (draws @ p1) / (draws @ t)
        naive_b = (draws @ naive) / (draws @ t)
    # Baseline equivalence after matching: each comparison row weighted as in the estimate.
    weight = np.where(treated, 0.0, n_t / n_c)
    control_before = np.sum(weight * rows["before"]) / weight.sum()
    treated_before = rows.loc[treated, "before"].mean()
    pooled_sd = rows["before"].std()
    control_rows = rows[~treated]
    return {
        "att": att, "att_b": att_b, "after": after_t, "after_b": after_b,
        "naive": naive.sum() / t.sum(), "naive_b": naive_b,
        "n_treated": int(treated.sum()), "n_comparison": int(control_rows["student_id"].nunique()),
        "n_clusters": int(len(students)),
        "baseline_sd": float((treated_before - control_before) / pooled_sd)
        if pooled_sd > 0 else np.nan,
        "rows": rows.assign(weight=np.where(treated, 1.0, n_t / n_c)),
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


class Prepared:
    """What every estimate of a dataset shares, computed once: the completion timeline
    and the days of school-initiated contacts."""

    def __init__(self, tables: dict[str, pd.DataFrame], design: Design):
        self.tables = tables
        self.design = design
        # Every result with its flags: computed once here and shared by every analysis.
        self.flags = result_flags(tables["results"], tables["assignments"])
        self.timeline = Timeline(self.flags, design.timezone)
        self.contact_keys = _contact_days(self.timeline, _school_contacts(tables["contacts"]))
        self._rows: dict[str, pd.DataFrame] = {}

    def contact_rows(self, mode: str) -> pd.DataFrame:
        if mode not in self._rows:  # kept with this object, freed with it
            events = _events_of_mode(self.tables["contacts"], mode)
            risk = _risk_set(self.timeline, events, self.tables["students"], "contact_at")
            self._rows[mode] = _did_rows(self.timeline, risk, self.contact_keys, self.design)
        return self._rows[mode]

    def conference_rows(self) -> pd.DataFrame:
        conf = self.tables["conferences"]
        conf = conf[conf["status"].isin(["attended", "no_show"])]
        keys, day = _day_keys(self.timeline, conf, "scheduled_at")
        risk = pd.DataFrame({"student_id": conf["student_id"].to_numpy(),
                             "school_id": conf["school_id"].to_numpy(), "day": day,
                             "treated": (conf["status"] == "attended").to_numpy()})
        risk = risk[keys >= 0].drop_duplicates(["student_id", "day"])
        # A school contact after the conference would add its own effect: censor everyone.
        return _did_rows(self.timeline, risk, self.contact_keys, self.design,
                         censor_treated=True)


def _contact_table(rows_by_mode: dict[str, pd.DataFrame], design: Design, scope: str
                   ) -> pd.DataFrame:
    rng = np.random.default_rng(design.seed)
    method = DID_METHOD.format(w=design.window_days, b=design.n_boot)
    out = []
    for mode, rows in rows_by_mode.items():
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


def _conference_table(rows: pd.DataFrame, design: Design, scope: str) -> pd.DataFrame:
    fit = _estimate(rows, design, np.random.default_rng(design.seed + 1))
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


def contact_effects(tables: dict[str, pd.DataFrame], *, design: Design | None = None,
                    scope: str = "division") -> pd.DataFrame:
    """Personal and written school-initiated contacts: matched DiD, naive before/after,
    and heterogeneity by baseline completion (below / above the median)."""
    design = design or Design()
    prepared = Prepared(tables, design)
    return _contact_table({m: prepared.contact_rows(m) for m in ("personal", "written")},
                          design, scope)


def conference_effect(tables: dict[str, pd.DataFrame], *, design: Design | None = None,
                      scope: str = "division") -> pd.DataFrame:
    """Attended vs scheduled-but-not-attended conferences, same window and design, with
    baseline equivalence (What Works Clearinghouse bands in the caveat)."""
    design = design or Design()
    return _conference_table(Prepared(tables, design).conference_rows(), design, scope)


def _wwc_band(sd: float) -> str:
    size = abs(sd)
    if size <= 0.05:
        return f"{sd:+.2f} SD (within 0.05: equivalent)."
    if size <= 0.25:
        return f"{sd:+.2f} SD (0.05-0.25: needs statistical adjustment)."
    return f"{sd:+.2f} SD (over 0.25: groups not comparable)."


def _flags(tables: dict[str, pd.DataFrame], prepared: Prepared | None) -> pd.DataFrame:
    if prepared is not None:
        return prepared.flags
    return result_flags(tables["results"], tables["assignments"])


def _school_weeks(tables: dict[str, pd.DataFrame], design: Design,
                  prepared: Prepared | None = None) -> pd.DataFrame:
    """Completion of work due in each school week (Monday to Sunday, local time)."""
    flags = _flags(tables, prepared)
    flags = flags[flags["counted"] & flags["due_at"].notna()]
    week = week_start(flags["due_at"], design.timezone)
    return (flags.assign(week=week).groupby(["school_id", "week"], observed=True)["completed"]
            .agg(["mean", "size"]).reset_index()
            .rename(columns={"mean": "completion", "size": "n"}))


def _within_school_difference(weights: np.ndarray, onehot: np.ndarray,
                              completion: np.ndarray) -> np.ndarray:
    """Mean over schools of (exposed - unexposed) week means, for each row of weights;
    ``onehot`` columns alternate unexposed/exposed per school."""
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (weights @ (onehot * completion)) / (weights @ onehot)
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
                    "method": f"completion of work due in the week after a {channel} went "
                              "out, minus weeks after none, within each school (weeks as "
                              "units, bootstrap over school-weeks)",
                    "caveat": "School-level association: weeks differ in many ways "
                              "(holidays, report cards), and every family gets the broadcast."})
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
    contact_rows = {m: prepared.contact_rows(m) for m in ("personal", "written")}
    conference_rows = prepared.conference_rows()
    weeks = _school_weeks(tables, design, prepared)
    schools = sorted(tables["students"]["school_id"].astype("str").unique())
    parts = [_contact_table(contact_rows, design, "division"),
             _conference_table(conference_rows, design, "division"),
             broadcast_effect(tables, design=design, weeks=weeks)]
    # Split every table by school once (filtering per school would cost schools x rows).
    by_school = {name: dict(tuple(frame.groupby(frame["school_id"].astype("str"), sort=False)))
                 for name, frame in [*(("contact_" + m, r) for m, r in contact_rows.items()),
                                     ("conference", conference_rows), ("weeks", weeks),
                                     ("broadcasts", tables["broadcasts"])]}
    empty = {name: frame.iloc[:0] for name, frame in
             [*(("contact_" + m, r) for m, r in contact_rows.items()),
              ("conference", conference_rows), ("weeks", weeks),
              ("broadcasts", tables["broadcasts"])]}

    def mine(name: str, school: str) -> pd.DataFrame:
        return by_school[name].get(school, empty[name])

    for school in schools:
        scoped = {**tables, "broadcasts": mine("broadcasts", school)}
        parts += [_contact_table({m: mine("contact_" + m, school) for m in contact_rows},
                                 design, school),
                  _conference_table(mine("conference", school), design, school),
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
    calls = _events_of_mode(tables["contacts"], "personal").groupby(
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
    [7k + 1, 7k + 8) after it. Comparison students stop counting at their own contact.
    """
    design = design or Design()
    rng = np.random.default_rng(design.seed + 2)
    prepared = prepared or Prepared(tables, design)
    tl = prepared.timeline
    fit = _estimate(prepared.contact_rows(mode), design, rng)
    if not fit:
        return pd.DataFrame(), {}
    rows = fit["rows"]
    keys = tl.keys(rows["student_id"], rows["day"].to_numpy())
    treated = rows["treated"].to_numpy()
    stu, students = _students_in_order(rows["student_id"])
    draws = _bootstrap(rng, len(students), design.n_boot)
    out, pre_a, pre_b = [], [], []
    for k in range(-weeks, weeks):
        start, stop = (7 * k, 7 * k + 7) if k < 0 else (7 * k + 1, 7 * k + 8)
        # A comparison student counts up to (and including) the day of their own later
        # contact, as in the estimate, when comparisons are censored.
        until = np.full(len(rows), stop)
        if design.censor_comparisons:
            until = np.where(treated, stop, np.minimum(stop, rows["next_contact"] + 1))
        done, n = tl.window(keys, start, np.maximum(until, start))
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
                       "matching window: near zero if the groups were on parallel paths"}
    return pd.DataFrame(out), check
