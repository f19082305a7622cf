"""Charts of the result frames: honest (intervals, n, the comparison group) and private
(suppressed groups are left out and the chart says so).

The only module that imports matplotlib. Every function takes a result frame of
``engagement.analyze`` and ``ax=``, draws inside one colour-blind-safe theme without
touching global settings, and returns the Axes. None calls ``show()`` or ``savefig()``.
"""

from __future__ import annotations

import functools
import textwrap

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from engagement.estimate.design import ESTIMANDS, estimand_label
from engagement.metrics import grade_name

# Colours of Okabe & Ito (2008), distinguishable with every common colour-vision
# deficiency, and greys. One meaning per colour on every chart: blue is the contacted
# students (and an estimate), orange their comparison, grey what is not an effect;
# schools take the other colours; kinds of contact are shades of grey-blue.
CONTACTED, COMPARISON, NAIVE = "#0072B2", "#E69F00", "#7f7f7f"
SCHOOLS = ["#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"]
CHANNELS = {"personal": "#3B5B7A", "written": "#A7BBCF", "broadcast": "#D9D9D9"}
STATUSES = {"attended": "#009E73", "rescheduled": "#56B4E9", "no_show": "#D55E00",
            "cancelled": "#CC79A7", "declined": "#F0E442", "scheduled": "#BBBBBB"}
THEME = {
    "axes.prop_cycle": mpl.cycler(color=SCHOOLS),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "legend.frameon": False,
    "font.size": 10,
    "figure.dpi": 100,
    "text.parse_math": False,  # a '$' in a school or assignment id is text, not maths
}
STATUS_ORDER = ["attended", "rescheduled", "no_show", "cancelled", "declined", "scheduled"]


def _themed(size: tuple[float, float]):
    """Draw inside the theme; make a figure of ``size`` when no ``ax`` is given."""
    def decorate(draw):
        @functools.wraps(draw)
        def wrapper(*args, ax: Axes | None = None, **kwargs) -> Axes:
            with mpl.rc_context(THEME):
                if ax is not None:
                    return draw(*args, ax=ax, **kwargs)
                ax = draw(*args, ax=plt.figure(figsize=size, layout="constrained")
                          .add_subplot(), **kwargs)
            _show_in_notebook(ax.figure)
            return ax
        return wrapper
    return decorate


def _show_in_notebook(figure) -> None:
    """In a notebook, show the chart now, whatever the backend: left to pyplot, only
    the first chart of a fresh kernel was shown. Closed once shown, so that it is not
    drawn twice; outside a notebook, left open for the caller."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return
    from IPython.display import display

    display(figure)
    plt.close(figure)


def _footnote(ax: Axes, text: str, below: int = 0) -> None:
    """A note under the chart (``below``: lines of legend to leave room for)."""
    # Wrapped to the figure's width (about 14 characters an inch at 8 points).
    text = textwrap.fill(text, width=int(14 * ax.figure.get_figwidth()))
    ax.annotate(text, xy=(0, 0), xycoords="axes fraction", xytext=(0, -32 - 14 * below),
                textcoords="offset points", fontsize=8, color="#555555", va="top",
                annotation_clip=False)


def _hidden(frame: pd.DataFrame) -> int:
    return int(frame["suppressed"].sum()) if "suppressed" in frame else 0


def _privacy_note(frame: pd.DataFrame, what: str = "groups") -> str:
    hidden = _hidden(frame)
    # Hidden: small, or hidden so that a small one cannot be worked out from the rest.
    return (f"{hidden} {what} hidden for privacy." if hidden
            else "No group too small to show.")


@_themed((9, 4.8))
def completion_by_week(completion: pd.DataFrame, activity: pd.DataFrame | None = None, *,
                       ax: Axes) -> Axes:
    """Completion rate by school week, one line per school (broken where a school had no
    work due: holidays), from 0 to 100%, with school-initiated contacts per week as bars
    beneath (``results.completion_by_week``, ``results.contact_activity``)."""
    weeks = pd.to_datetime(completion["week"])
    for i, (school, rows) in enumerate(completion.assign(week=weeks).groupby("school_id")):
        line = _with_gaps(rows.set_index("week")["completion_rate"])
        ax.plot(line.index, 100 * line, color=SCHOOLS[i % len(SCHOOLS)],
                label=f"school {school}", lw=1.8)
    ax.set_ylim(0, 100)
    ax.set_ylabel("work completed (%)")
    ax.set_title("Completion by school week")
    note = (f"n = {int(completion['n'].sum()):,} assignments due. Lines break in weeks "
            f"with no work due (holidays). {_hidden(completion)} school-weeks hidden for "
            "privacy.")
    if activity is not None and len(activity):
        bars = ax.twinx()
        shown = activity[~activity["suppressed"]].assign(week=lambda f: pd.to_datetime(
            f["week"])).groupby(["week", "mode"])["contacts"].sum().unstack(fill_value=0)
        bottom = np.zeros(len(shown))
        for column in shown.columns:
            bars.bar(shown.index, shown[column], bottom=bottom, width=5,
                     color=CHANNELS.get(column, NAIVE), label=f"{column} contacts")
            bottom += shown[column].to_numpy()
        top = max(bottom.max(initial=0), 1)
        bars.set_ylim(0, 3 * top)  # bars in the lower third, under the lines
        bars.set_yticks([t for t in bars.get_yticks() if 0 <= t <= top])
        bars.set_ylabel("school contacts per week", loc="bottom")
        bars.grid(False)
        bars.spines["top"].set_visible(False)
        ax.set_zorder(bars.get_zorder() + 1)  # lines over bars
        ax.patch.set_visible(False)
        handles = ax.get_legend_handles_labels()[0] + bars.get_legend_handles_labels()[0]
        note += f" Contact bars: {_hidden(activity)} week-and-kind cells hidden for privacy."
    else:
        handles = ax.get_legend_handles_labels()[0]
    # Below the chart: a legend inside would cover weeks.
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=8,
              ncols=min(len(handles), 5))
    _footnote(ax, note, below=2)
    return ax


def _with_gaps(series: pd.Series) -> pd.Series:
    """A weekly series with NaN in the weeks it skips, so that a line breaks there."""
    if series.empty:
        return series
    every = pd.date_range(series.index.min(), series.index.max(), freq="7D")
    return series.reindex(series.index.union(every))


@_themed((8, 4.5))
def event_study(curve: pd.DataFrame, effects: pd.DataFrame | None = None, *,
                mode: str = "personal", ax: Axes) -> Axes:
    """Completion week by week around a contact, contacted students against their matched
    comparison (band: the interval of the difference, drawn around the contacted line),
    with the naive before/after drawn beside the matched estimate
    (``results.event_study``, ``results.effects``)."""
    c = curve[curve["mode"] == mode].sort_values("relative_week") if len(curve) else curve
    if c.empty or c["contacted"].isna().all():
        ax.text(0.5, 0.5, f"no {mode} contacts to study" if c.empty else
                f"{mode} contacts: groups too small to show (privacy)", ha="center",
                transform=ax.transAxes)
        return ax
    x = c["relative_week"].to_numpy()
    ax.axvspan(-3.5, -0.5, color="#dddddd", alpha=0.5, lw=0)
    ax.text(-2, 0.02, "record matched,\nweeks adjusted", transform=ax.get_xaxis_transform(),
            ha="center", fontsize=8, color="#555555")
    ax.axvline(-0.5, color="black", lw=0.8, ls=":")
    ax.plot(x, c["comparison"], color=COMPARISON, marker="s", ms=4,
            label=f"comparison, not contacted (n up to {int(c['n_comparison'].max()):,})")
    ax.plot(x, c["contacted"], color=CONTACTED, marker="o", ms=4,
            label=f"contacted (n up to {int(c['n_treated'].max()):,})")
    ax.fill_between(x, c["comparison"] + c["ci_low"], c["comparison"] + c["ci_high"],
                    color=CONTACTED, alpha=0.15, lw=0, label="95% interval of the difference")
    before = c.loc[c["relative_week"].between(-3, -1), "contacted"].mean()
    after = c.loc[c["relative_week"].between(0, 2), "contacted"].mean()
    ax.annotate("", xy=(1, after), xytext=(1, before),
                arrowprops={"arrowstyle": "->", "color": NAIVE, "lw": 1.5})
    ax.hlines(before, -3, 1, color=NAIVE, ls="--", lw=1)
    note = _event_study_note(c, effects, mode) if effects is not None else ""
    ax.set_xlabel("weeks from the contact")
    ax.set_ylabel("work completed (%)")
    ax.set_xticks(x)
    ax.set_title(f"{mode.capitalize()} contact: contacted students and their comparison")
    ax.legend(loc="upper left", fontsize=8)
    # Under the chart, not on it: a box inside covered the dip just before the contact.
    _footnote(ax, note + "Associated with, not proven to cause. " + _privacy_note(c, "weeks"))
    return ax


def _event_study_note(curve: pd.DataFrame, effects: pd.DataFrame, mode: str) -> str:
    """The matched estimate and the naive figure in words, and what the curve does after
    the weeks the estimate covers."""
    e = effects[(effects["scope"] == "division") & (effects["subgroup"] == "all")]
    e = e.set_index("estimand")
    # The contacted line is every attempt, answered or not: its estimand.
    honest = e.loc["att_personal_attempt" if mode == "personal" else f"att_{mode}_contact"]
    note = (f"Matched estimate for weeks 0 to 2: {honest['estimate']:+.1f} points "
            f"[{honest['ci_low']:+.1f}, {honest['ci_high']:+.1f}], adjusted for the weeks "
            "before, so not the gap drawn: contacted students had dipped further just "
            "before, and later contacts' share is removed. ")
    if mode == "personal" and "naive_before_after_personal" in e.index:
        naive = e.loc["naive_before_after_personal"]
        note += (f"Naive before/after: {naive['estimate']:+.1f} points (grey arrow; it "
                 "includes the rebound). ")
    later = curve[curve["relative_week"] >= 3]
    below = later[later["ci_high"] < 0]
    if len(below):
        note += (f"From week {int(below['relative_week'].min())} the contacted students "
                 "are below their comparison again: the association does not outlast the "
                 "weeks after the contact. ")
    return note


@_themed((8, 3.8))
def effects_by_channel(effects: pd.DataFrame, *, scope: str = "division", ax: Axes) -> Axes:
    """The matched estimate for each kind of contact with its interval and n, and the naive
    before/after in grey beneath (``results.effects``)."""
    e = effects[(effects["scope"] == scope) & (effects["subgroup"] == "all")]
    e = e.set_index("estimand").reindex(list(ESTIMANDS)).dropna(subset=["method"])
    y = np.arange(len(e))[::-1]
    for yi, (name, row) in zip(y, e.iterrows(), strict=True):
        naive = name.startswith("naive")
        colour = NAIVE if naive else CONTACTED
        if pd.isna(row["estimate"]):
            ax.text(0, yi, "  not estimable or suppressed", va="center", fontsize=8)
            continue
        ax.errorbar(row["estimate"], yi, xerr=[[row["estimate"] - row["ci_low"]],
                                               [row["ci_high"] - row["estimate"]]],
                    fmt="o" if not naive else "D", color=colour, capsize=3, ms=6,
                    mfc="white" if naive else colour)
        unit = "weeks" if name == "att_broadcast" else "events"
        ax.annotate(f"{row['estimate']:+.1f}  (n = {int(row['n_treated']):,} {unit})",
                    (row["ci_high"], yi), xytext=(6, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [estimand_label(n) for n in e.index])
    level = f"{e['ci_level'].dropna().iloc[0]:.0%}" if e["ci_level"].notna().any() else "95%"
    ax.set_xlabel(f"difference in work completed, percentage points ({level} interval)")
    ax.set_title("How completion changed after each kind of contact")
    ax.margins(x=0.25)
    _footnote(ax, "Matched comparison groups; associated with, not proven to cause. "
                  "The naive figure has no comparison group.")
    return ax


@_themed((7, 4))
def campaign_hand_in(curve: pd.DataFrame, *, campaign: int | None = None, ax: Axes) -> Axes:
    """Cumulative share who handed in the campaign's work, by day since the first call,
    for contacted students and those not contacted (``results.campaign_hand_in``); the
    campaign with the most students contacted unless ``campaign`` names one."""
    if campaign is None and len(curve):
        campaign = curve.loc[curve["n"].where(curve["group"] == "contacted").idxmax(),
                             "campaign"]
    c = curve[curve["campaign"] == campaign]
    missing = []
    for group, colour in (("contacted", CONTACTED), ("not contacted", COMPARISON)):
        rows = c[(c["group"] == group)]
        if rows.empty or rows["share_handed_in"].isna().all():
            if len(rows):
                missing.append(group)
            continue
        ax.step(rows["day"], 100 * rows["share_handed_in"], where="post", color=colour,
                lw=2, label=f"{group} (n = {int(rows['n'].iloc[0])})")
    title = c["assignment"].iloc[0] if len(c) else "no campaign found"
    ax.set_title(f"Hand-in after the phone campaign: {title}")
    ax.set_xlabel("days since the first call")
    ax.set_ylabel("handed in (%)")
    ax.set_ylim(0, 100)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left")
    note = "Students who had not handed it in when the calls began."
    if missing:
        note += f" Not shown: {', '.join(missing)} (too few students, privacy)."
    _footnote(ax, note)
    return ax


@_themed((8, 5))
def conference_attendance(outcomes: pd.DataFrame, *, ax: Axes) -> Axes:
    """Conferences by school and grade, split by what happened (attended, rescheduled,
    no-show, cancelled) (``results.conference_outcomes``)."""
    shown = outcomes[outcomes["n"].notna()]
    table = shown.pivot_table(index=["school_id", "grade_level"], columns="status",
                              values="n", aggfunc="sum", fill_value=0, observed=True)
    table = table[[s for s in STATUS_ORDER if s in table.columns]]
    labels = [f"school {s}, grade {grade_name(g)}" for s, g in table.index]
    y = np.arange(len(table))[::-1]
    left = np.zeros(len(table))
    for status in table.columns:
        ax.barh(y, table[status], left=left, color=STATUSES.get(status, NAIVE),
                label=status.replace("_", "-"))
        left += table[status].to_numpy()
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel("conferences scheduled")
    ax.set_title("Conferences: scheduled, then what happened")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    _footnote(ax, _privacy_note(outcomes, "cells"))
    return ax


@_themed((6, 4))
def dose_response(frame: pd.DataFrame, *, ax: Axes) -> Axes:
    """Completion over the year by number of personal contacts, with intervals and n
    (``results.dose_response``). Describes who is called, not what calls do."""
    shown = frame[frame["estimate"].notna()]
    x = np.arange(len(shown))
    ax.errorbar(x, shown["estimate"], yerr=[shown["estimate"] - shown["ci_low"],
                                            shown["ci_high"] - shown["estimate"]],
                fmt="o", color=CONTACTED, capsize=3)
    for xi, row in zip(x, shown.itertuples(), strict=True):
        ax.annotate(f"n = {row.n:,}", (xi, row.ci_low), xytext=(0, -12),
                    textcoords="offset points", ha="center", fontsize=8)
    ax.set_xticks(x, shown["personal_contacts"].astype(str))
    ax.set_xlabel("personal contacts that reached the family this year")
    ax.set_ylabel("work completed over the year (%)")
    ax.set_title("Completion by number of calls home")
    ax.margins(y=0.15)
    _footnote(ax, "Struggling students are called more: this shows who is called, not what "
                  "more calls do. " + _privacy_note(frame))
    return ax


@_themed((7, 3.5))
def forest(by_school: pd.DataFrame, *, estimand: str = "att_personal_contact",
           ax: Axes) -> Axes:
    """Each school's estimate with its interval, and the pooled random-effects estimate
    as a diamond, with I² (``results.effects_by_school``)."""
    e = by_school[by_school["estimand"] == estimand]
    schools = e[e["scope"] != "pooled"].sort_values("scope")
    pooled = e[e["scope"] == "pooled"]
    y = np.arange(len(schools) + 1)[::-1]
    for yi, row in zip(y[:-1], schools.itertuples(), strict=True):
        if pd.isna(row.estimate):
            ax.text(0, yi, "  suppressed or not estimable", va="center", fontsize=8)
            continue
        ax.errorbar(row.estimate, yi, xerr=[[row.estimate - row.ci_low],
                                            [row.ci_high - row.estimate]],
                    fmt="s", color=CONTACTED, capsize=3)
        ax.annotate(f"n = {int(row.n_treated):,}", (row.ci_high, yi), xytext=(6, 0),
                    textcoords="offset points", va="center", fontsize=8)
    label = "pooled"
    if len(pooled) and pd.notna(pooled["estimate"].iloc[0]):
        p = pooled.iloc[0]
        ax.fill([p["ci_low"], p["estimate"], p["ci_high"], p["estimate"]],
                [0, 0.25, 0, -0.25], color=COMPARISON)
        label = f"pooled (I² = {p['i2']:.0%})"
    ax.set_yticks(y, [f"school {s}" for s in schools["scope"]] + [label])
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("percentage points (95% interval)")
    ax.set_title(f"{estimand_label(estimand)}, school by school")
    ax.margins(x=0.2)
    _footnote(ax, "Random-effects (DerSimonian-Laird) pooling. Schools are not ranked.")
    return ax


@_themed((6, 4))
def funnel(schools: pd.DataFrame, *, ax: Axes) -> Axes:
    """Each school's completion against its size, inside the limits chance alone allows
    (95% and 99.8%): a small school far from the middle is often noise, not a worse school
    (``results.school_completion``)."""
    shown = schools[schools["completion"].notna()]
    centre = float(schools["division_completion"].iloc[0])
    sd = float(schools["student_sd"].iloc[0])
    n = np.linspace(10, schools["n_students"].max() * 1.5, 200)
    for z, style in ((1.96, "--"), (3.09, ":")):
        for sign in (-1, 1):
            ax.plot(n, centre + sign * z * sd / np.sqrt(n), color=NAIVE, ls=style, lw=1)
    ax.axhline(centre, color="black", lw=0.8)
    # Each school in its colour of the weekly chart (schools in id order there too).
    order = {sid: i for i, sid in enumerate(sorted(schools["school_id"].astype(str)))}
    ax.scatter(shown["n_students"], shown["completion"], zorder=3, color=[
        SCHOOLS[order[str(sid)] % len(SCHOOLS)] for sid in shown["school_id"]])
    # Schools of one size sit on one vertical: labels step down so none covers another.
    ordered = shown.sort_values(["n_students", "completion"], ascending=[True, False])
    step = ordered.groupby("n_students").cumcount().to_numpy()
    for row, k in zip(ordered.itertuples(), step, strict=True):
        ax.annotate(f"school {row.school_id}", (row.n_students, row.completion),
                    xytext=(6, 4 - 11 * k), textcoords="offset points", fontsize=8)
    ax.set_xlabel("students")
    ax.set_ylabel("work completed (%, mean of students)")
    ax.set_title("School completion against school size")
    _footnote(ax, "Dashed: 95% limits; dotted: 99.8%. Inside the funnel, differences are "
                  "what chance alone gives. " + _privacy_note(schools, "schools"))
    return ax


@_themed((7, 3.5))
def invitations(frame: pd.DataFrame, *, ax: Axes) -> Axes:
    """Conference attendance by how the family was invited, school by school, with Wilson
    intervals (``results.invitations``)."""
    rows = frame[(frame["level"] == "school_id x invitation") & frame["estimate"].notna()]
    kinds = sorted(rows["invitation"].unique())
    schools = sorted(rows["school_id"].astype(str).unique())
    width = 0.8 / max(len(kinds), 1)
    for i, kind in enumerate(kinds):
        colour = CHANNELS.get(kind.split()[0], NAIVE)  # "personal (call or note)"
        part = rows[rows["invitation"] == kind]
        part = part.set_index(part["school_id"].astype(str)).reindex(schools)
        x = np.arange(len(schools)) + (i - (len(kinds) - 1) / 2) * width
        ax.bar(x, part["estimate"], width=width, color=colour, label=kind, alpha=0.85)
        ax.errorbar(x, part["estimate"], yerr=[part["estimate"] - part["ci_low"],
                                               part["ci_high"] - part["estimate"]],
                    fmt="none", color="black", capsize=3, lw=1)
    ax.set_xticks(np.arange(len(schools)), [f"school {s}" for s in schools])
    ax.set_ylabel("invited families who came (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Conference attendance by invitation")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title="invited by")
    _footnote(ax, "Black lines: 95% intervals (Wilson). Teachers choose whom to call: "
                  "associated with, not caused by. "
                  + _privacy_note(frame[frame["level"] == "school_id x invitation"]))
    return ax
