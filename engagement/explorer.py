"""The explorer: the questions a principal asks next (which grade, which class, whom to
call), answered in Jupyter or as a Voila dashboard.

``explore(dataset)`` (or a folder: raw, cleaned, or analyze's results) returns an
ipywidgets app. Choose a school, a grade, a class or a teacher, a span of weeks and a kind
of contact; the headline figures, completion week by week, who was reached, the effect
estimates and (for one school) the action list follow the choice. Every view goes
through the package's one output policy: small groups are blanked and said as "fewer than
k"; estimates are computed for the selection only when it holds enough students,
otherwise the view says so.

The computations are plain functions of the tables (``select``, ``headline``,
``weekly``, ``reached``, ``estimates``), so the app is a thin layer over what the tests
check.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pandas as pd

from engagement.dataset import Dataset, load
from engagement.estimate import Design, contact_effects
from engagement.estimate.design import estimand_label
from engagement.manifest import is_results
from engagement.metrics import (
    completion_by,
    contact_activity,
    grade_name,
    reachability,
    result_flags,
    week_start,
)
from engagement.privacy import MIN_CELL, check_k, count_text, suppress
from engagement.publish import protect_counts, shown_reachability

#: Fewer students than this in a selection: no estimate, only the descriptive views.
MIN_STUDENTS_TO_ESTIMATE = 100
MODES = {"any": "every kind of contact", "personal": "calls and meetings",
         "written": "written messages"}


@dataclass(frozen=True)
class Selection:
    """What the explorer is looking at; ``None`` means all."""

    school: str | None = None
    grade: int | None = None
    teacher: str | None = None
    class_id: str | None = None
    start: date | None = None  # first week shown (a Monday)
    end: date | None = None  # last week shown (a Monday)
    mode: str = "any"


def select(tables: dict[str, pd.DataFrame], choice: Selection,
           timezone: str = "America/Edmonton") -> dict[str, pd.DataFrame]:
    """The seven tables narrowed to the selection: its students, their work (of the
    class or teacher chosen) due in the weeks chosen, and their contacts (of the kind
    chosen), conferences and broadcasts in those weeks."""
    students = tables["students"]
    if choice.school is not None:
        students = students[students["school_id"].astype("str") == choice.school]
    if choice.grade is not None:
        students = students[students["grade_level"] == choice.grade]
    enrollments = tables["enrollments"]
    classes = None
    if choice.class_id is not None:
        classes = {choice.class_id}
    elif choice.teacher is not None:
        classes = set(enrollments.loc[enrollments["teacher_id"].astype("str") == choice.teacher,
                                      "class_id"].astype("str"))
    if classes is not None:
        enrollments = enrollments[enrollments["class_id"].astype("str").isin(classes)]
        students = students[students["student_id"].isin(enrollments["student_id"])]
    ids = students["student_id"]
    assignments = tables["assignments"]
    if choice.school is not None:
        assignments = assignments[assignments["school_id"].astype("str") == choice.school]
    if classes is not None:
        assignments = assignments[assignments["class_id"].astype("str").isin(classes)]
    assignments = assignments[_in_weeks(assignments["due_at"], choice, timezone)]
    results = tables["results"]
    results = results[results["student_id"].isin(ids)
                      & results["assignment_id"].isin(assignments["assignment_id"])]
    contacts = tables["contacts"]
    contacts = contacts[contacts["student_id"].isin(ids)
                        & _in_weeks(contacts["contact_at"], choice, timezone)]
    if choice.mode != "any":
        contacts = contacts[contacts["mode"].astype("str") == choice.mode]
    conferences = tables["conferences"]
    conferences = conferences[conferences["student_id"].isin(ids)
                              & _in_weeks(conferences["scheduled_at"], choice, timezone)]
    broadcasts = tables["broadcasts"]
    broadcasts = broadcasts[broadcasts["school_id"].isin(students["school_id"])
                            & _in_weeks(broadcasts["sent_at"], choice, timezone)]
    return {"students": students, "enrollments": enrollments[enrollments["student_id"]
                                                             .isin(ids)],
            "contacts": contacts, "broadcasts": broadcasts, "conferences": conferences,
            "assignments": assignments, "results": results}


def _in_weeks(times: pd.Series, choice: Selection, timezone: str) -> pd.Series:
    keep = pd.Series(True, index=times.index)
    if choice.start is None and choice.end is None:
        return keep
    week = week_start(times, timezone).dt.date
    if choice.start is not None:
        keep &= (week >= choice.start).fillna(False)
    if choice.end is not None:
        keep &= (week <= choice.end).fillna(False)
    return keep


def headline(tables: dict[str, pd.DataFrame], k: int = MIN_CELL) -> str:
    """The selection in one paragraph (Markdown): students, completion, contacts, and
    families reached in person (the sum of what the reached view shows, so that no
    hidden grade can be worked out from the total); small counts as "fewer than k"."""
    n = len(tables["students"])
    if n == 0:
        return "No student matches this choice."
    flags = result_flags(tables["results"], tables["assignments"])
    counted = flags[flags["counted"]]
    completion = (f"{100 * counted['completed'].mean():.1f}% of the work due was completed"
                  if counted["student_id"].nunique() >= k else
                  f"completion is not shown: fewer than {k} students had work due")
    shown = reached(tables, k)
    n_reached = int(shown["n_reached"].sum())
    never = int(shown["n_families"].sum()) - n_reached
    families = f"{count_text(n_reached, k)} families reached in person" + (
        " in the grades shown (some are hidden for privacy)" if shown["suppressed"].any()
        else f" at least once, {count_text(never, k)} never")
    contacts = tables["contacts"]
    return (f"**{count_text(n, k)} students.** {completion}. "
            f"{count_text(len(contacts), k)} contacts with "
            f"{count_text(contacts['student_id'].nunique(), k)} families; {families}.")


def weekly(tables: dict[str, pd.DataFrame], k: int = MIN_CELL,
           timezone: str = "America/Edmonton") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Completion by school week and school contacts per week, as the report's chart
    takes them, small groups blanked."""
    flags = result_flags(tables["results"], tables["assignments"])
    flags = flags[flags["due_at"].notna()]
    by_week = completion_by(flags.assign(week=week_start(flags["due_at"], timezone)),
                            ["school_id", "week"])
    completion = suppress(by_week.assign(week=by_week["week"].dt.date), n="n", k=k,
                          values=["completed", "completion_rate"])
    activity = suppress(contact_activity(tables["contacts"], timezone=timezone),
                        n="n_students", values=["contacts", "n_students"], k=k)
    return completion, activity


def reached(tables: dict[str, pd.DataFrame], k: int = MIN_CELL) -> pd.DataFrame:
    """Families reached in person by school and grade, hidden as the export hides them."""
    counts = protect_counts(tables, k)
    shown = shown_reachability(reachability(tables["contacts"], tables["students"]),
                               counts["families_by_contact"], k)
    # The grid holds every grade of every school; a grade with no family says nothing.
    shown = shown[shown["suppressed"] | (shown["n_families"].fillna(0) > 0)]
    return shown.assign(grade=shown["grade_level"].map(grade_name)).reset_index(drop=True)


def estimates(tables: dict[str, pd.DataFrame], design: Design | None = None,
              k: int = MIN_CELL) -> pd.DataFrame | str:
    """The effect estimates for the selection, blanked as analyze blanks them, or a
    sentence saying why there are none."""
    from engagement.results import effect_frames

    n = len(tables["students"])
    if n < MIN_STUDENTS_TO_ESTIMATE:
        return (f"Too few students to estimate ({count_text(n, k)}; an estimate needs at "
                f"least {MIN_STUDENTS_TO_ESTIMATE}): choose a larger group.")
    table = contact_effects(tables, design=design or Design())
    shown = effect_frames(table, k)["effects"]
    return shown[shown["subgroup"] == "all"].reset_index(drop=True)


def explore(data: Dataset | str | Path, *, design: Design | None = None,
            k: int | None = None):
    """The explorer app for a dataset, a cleaned or raw folder, or a results folder of
    ``engagement analyze`` (its data read again from the folder its run record names,
    with the run's settings: the explorer recomputes for each selection)."""
    if not isinstance(data, Dataset) and is_results(data):
        data, run_design, run_k = _analysed(Path(data))
        design, k = design or run_design, k or run_k
    k = MIN_CELL if k is None else k
    check_k(k)
    dataset = data if isinstance(data, Dataset) else load(data)
    return _App(dataset, design or Design(), k).widget


def _analysed(results: Path) -> tuple[Dataset, Design, int]:
    """The dataset a results folder was computed from, with the run's design and k."""
    from engagement import manifest

    record = manifest.read(results)
    folder = Path(record["inputs"]["folder"])
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{results} was analysed from {folder}, which is not here any more: pass the "
            "cleaned folder (engagement clean EXPORTS --out CLEANED) to explore instead")
    parameters = record["parameters"]
    fields = Design.__dataclass_fields__
    dataset = load(folder)
    if parameters.get("school"):
        dataset = dataset.school(str(parameters["school"]))
    return (dataset, Design(**{f: v for f, v in parameters.items() if f in fields}),
            int(parameters["k"]))


def choices(tables: dict[str, pd.DataFrame], choice: Selection,
            timezone: str = "America/Edmonton") -> dict[str, list]:
    """The values each control offers, given the school chosen."""
    students = tables["students"]
    enrollments = tables["enrollments"]
    if choice.school is not None:
        students = students[students["school_id"].astype("str") == choice.school]
        enrollments = enrollments[enrollments["student_id"].isin(students["student_id"])]
    due = tables["assignments"]["due_at"].dropna()
    weeks = sorted(week_start(due, timezone).dt.date.unique()) if len(due) else []
    return {
        "school": sorted(tables["students"]["school_id"].astype("str").unique()),
        "grade": sorted(int(g) for g in students["grade_level"].dropna().unique()),
        "teacher": sorted(enrollments["teacher_id"].dropna().astype("str").unique()),
        "class": sorted(enrollments["class_id"].dropna().astype("str").unique()),
        "week": weeks,
    }


def narrowed(choice: Selection, **changes) -> Selection:
    """The selection with some controls changed; choosing a school clears the grade,
    class and teacher chosen in another."""
    if "school" in changes and changes["school"] != choice.school:
        changes = {"grade": None, "teacher": None, "class_id": None, **changes}
    return replace(choice, **changes)


class _App:
    """The widgets: controls above, four tabs below, each redrawn when a control moves."""

    def __init__(self, dataset: Dataset, design: Design, k: int):
        import ipywidgets as w

        self.tables, self.design, self.k = dataset.tables, design, k
        self.choice = Selection()
        self._busy = False  # set while the app itself changes a control
        options = choices(self.tables, self.choice, design.timezone)
        every = ("all", None)
        self.school = w.Dropdown(description="School", options=[("all schools", None)] + [
            (s, s) for s in options["school"]])
        self.grade = w.Dropdown(description="Grade", options=[every])
        self.group = w.Dropdown(description="Class", options=[every])
        weeks = [(f"{d:%d %b %Y}", d) for d in options["week"]] or [("no weeks", None)]
        self.weeks = w.SelectionRangeSlider(description="Weeks", options=weeks,
                                            index=(0, len(weeks) - 1), readout=False,
                                            layout=w.Layout(width="560px"))
        self.span = w.Label()  # the slider's own readout cuts long dates short
        self.mode = w.ToggleButtons(description="Contacts", options=[
            (words, mode) for mode, words in MODES.items()], style={"button_width": "auto"})
        self.views = {name: w.Output() for name in
                      ("Overview", "Who was reached", "Estimates", "Whom to call")}
        tabs = w.Tab(children=list(self.views.values()))
        for i, name in enumerate(self.views):
            tabs.set_title(i, name)
        self._controls()
        for control in (self.school, self.grade, self.group, self.weeks, self.mode):
            control.observe(self._changed, names="value")
        self.widget = w.VBox([w.HBox([self.school, self.grade, self.group]),
                              w.HBox([self.weeks, self.span]), self.mode, tabs])
        self._draw()

    def _controls(self) -> None:
        """The grade and class lists of the school chosen (back to "all")."""
        options = choices(self.tables, self.choice, self.design.timezone)
        self._busy = True
        try:
            self.grade.options = [("all", None)] + [(grade_name(g), g)
                                                    for g in options["grade"]]
            self.group.options = ([("all", None)] + [(f"teacher {t}", ("teacher", t))
                                                     for t in options["teacher"]]
                                  + [(f"class {c}", ("class", c)) for c in options["class"]])
            self.grade.value = self.group.value = None
        finally:
            self._busy = False

    def _changed(self, change) -> None:
        if self._busy:
            return
        group = self.group.value or (None, None)
        start, end = self.weeks.value
        school = self.school.value
        self.choice = narrowed(self.choice, school=school, grade=self.grade.value,
                               teacher=group[1] if group[0] == "teacher" else None,
                               class_id=group[1] if group[0] == "class" else None,
                               start=start, end=end, mode=self.mode.value)
        if change["owner"] is self.school:
            self._controls()
        self._draw()

    def _draw(self) -> None:
        from IPython.display import Markdown, display

        from engagement import plots
        from engagement.actions import action_list
        from engagement.display import Table

        tables = select(self.tables, self.choice, self.design.timezone)
        self.span.value = " to ".join(self.weeks.label) if self.weeks.label else ""
        views = self.views
        for view in views.values():
            view.clear_output(wait=True)
        with views["Overview"]:
            display(Markdown(headline(tables, self.k)))
            completion, activity = weekly(tables, self.k, self.design.timezone)
            if len(completion):
                plots.completion_by_week(completion, activity)
        with views["Who was reached"]:
            display(Table(reached(tables, self.k), {
                "school_id": "school", "grade": "grade", "n_families": "families",
                "n_reached": "reached in person", "share_reached": "share reached",
                "unanswered_attempts": "unanswered calls"}, digits=2, k=self.k))
        with views["Whom to call"]:
            if self.choice.school is None:
                display(Markdown("Choose a school: the list is for one school."))
            else:
                try:
                    calls = action_list(Dataset(tables, None, pd.DataFrame()),
                                        school=self.choice.school)
                except ValueError as err:  # no student or no work in the selection
                    display(Markdown(f"No list: {err}."))
                else:
                    display(Markdown(f"{len(calls):,} students to contact (private to the "
                                     "school: `engagement actions` writes it to a file)."))
                    display(calls)
        with views["Estimates"]:
            display(Markdown("Estimating for this selection..."))
        shown = estimates(tables, self.design, self.k)  # the slow view, drawn last
        views["Estimates"].clear_output(wait=True)
        with views["Estimates"]:
            if isinstance(shown, str):
                display(Markdown(shown))
            else:
                shown = shown.assign(estimand=shown["estimand"].map(estimand_label))
                display(Table(shown, {"estimand": "estimate of", "estimate": "points",
                                      "ci_low": "95% CI from", "ci_high": "to",
                                      "n_treated": "contacted", "n_comparison": "comparison"},
                              k=self.k))
