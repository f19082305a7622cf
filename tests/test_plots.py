"""Plots asserted on their Axes: what is drawn, its labels, and small groups left out."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from engagement import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _texts(ax) -> str:
    return " ".join(t.get_text() for t in ax.texts) + " " + " ".join(
        t.get_text() for t in ax.get_yticklabels() + ax.get_xticklabels())


def test_theme_leaves_global_settings_alone(sample_results):
    before = dict(matplotlib.rcParams)
    plots.effects_by_channel(sample_results.effects)
    assert dict(matplotlib.rcParams) == before


def test_draws_on_the_axes_given(sample_results):
    fig, ax = plt.subplots()
    assert plots.dose_response(sample_results.dose_response, ax=ax) is ax


def test_effects_by_channel_shows_each_estimate_with_n_and_the_naive_one(sample_results):
    ax = plots.effects_by_channel(sample_results.effects)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Call or meeting attempted", "Personal contact (reached)",
                      "Written message home", "Conference attended", "Bulletin or newsletter",
                      "Naive before/after (not an effect)"]
    text = _texts(ax)
    assert "+9.5  (n = 1,074 events)" in text and "+21.9" in text
    assert len(ax.containers) == 6  # one error bar per estimate
    assert "interval" in ax.get_xlabel()


def test_event_study_draws_both_groups_the_band_and_the_naive_arrow(sample_results):
    ax = plots.event_study(sample_results.event_study, sample_results.effects)
    labels = [line.get_label() for line in ax.get_lines()]
    assert any(label.startswith("contacted") for label in labels)
    assert any(label.startswith("comparison") for label in labels)
    assert len(ax.collections) >= 1  # the interval band
    text = " ".join(_texts(ax).split())  # the note under the chart is wrapped
    assert "Matched estimate for weeks 0 to 2: +9.5" in text
    assert "Naive before/after: +21.9" in text and "not the gap drawn" in text
    # The sample's contacted students fall below their comparison from week 3: said.
    assert "From week 3 the contacted students are below their comparison again" in text
    # Every note sits under the chart, none on the curves (a box once hid week -1).
    notes = [t for t in ax.texts if "estimate" in t.get_text()]
    assert notes and all(t.xyann[1] < 0 for t in notes)
    contacted = next(line for line in ax.get_lines() if line.get_label().startswith("contacted"))
    assert list(contacted.get_xdata()) == list(range(-6, 6))


def test_suppressed_campaign_group_is_absent_and_said_so(sample_results):
    curve = sample_results.campaign_hand_in
    # The sample's ten students not called are just enough to show at k = 10; with fewer
    # (as suppression at a larger k would leave them) the curve must go.
    small = curve["group"] == "not contacted"
    curve = curve.assign(suppressed=small, n=curve["n"].where(~small),
                         share_handed_in=curve["share_handed_in"].where(~small))
    ax = plots.campaign_hand_in(curve)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["contacted (n = 23)"]
    assert "Not shown: not contacted" in _texts(ax)


def test_conference_bars_leave_out_suppressed_cells(sample_results):
    outcomes = sample_results.conference_outcomes
    ax = plots.conference_attendance(outcomes)
    drawn = sum(p.get_width() for p in ax.patches)
    assert drawn == outcomes["n"].sum()  # only cells with n >= k
    assert f"{int(outcomes['suppressed'].sum())} cells hidden for privacy" in _texts(ax)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "school 101, grade K" in labels and not any("grade 0" in t for t in labels)


def test_small_groups_never_drawn_in_hand_made_frames():
    frame = pd.DataFrame({"personal_contacts": ["0", "1", "2"],
                          "estimate": [80.0, np.nan, 70.0], "ci_low": [78.0, np.nan, 65.0],
                          "ci_high": [82.0, np.nan, 75.0], "n": [50, 4, 20],
                          "suppressed": [False, True, False]})
    ax = plots.dose_response(frame)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "2"]
    assert "1 groups hidden for privacy" in _texts(ax)


def test_forest_has_each_school_and_the_pooled_diamond(sample_results):
    ax = plots.forest(sample_results.effects_by_school)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:3] == ["school 101", "school 102", "school 103"]
    assert labels[3].startswith("pooled (I² =")
    assert len(ax.patches) == 1  # the diamond


def test_funnel_draws_limits_and_every_school(sample_results):
    ax = plots.funnel(sample_results.school_completion)
    assert len(ax.collections[0].get_offsets()) == 3
    assert len(ax.get_lines()) == 5  # four limits and the division's mean
    assert "chance" in _texts(ax)


def test_completion_by_week_and_invitations(sample_results):
    ax = plots.completion_by_week(sample_results.completion_by_week,
                                  sample_results.contact_activity)
    assert [line.get_label() for line in ax.get_lines()] == [
        "school 101", "school 102", "school 103"]
    assert "school-weeks hidden for privacy" in _texts(ax)
    ax = plots.invitations(sample_results.invitations)
    assert len(ax.patches) == 6 and "associated with" in _texts(ax)


def test_one_colour_per_role_and_honest_axes(sample_results):
    """Blue is the contacted students and orange their comparison on every chart: never a
    school or a kind of contact. Completion runs from 0 to 100% and breaks at holidays."""
    from matplotlib.colors import to_hex

    roles = {plots.CONTACTED.lower(), plots.COMPARISON.lower()}
    ax = plots.completion_by_week(sample_results.completion_by_week,
                                  sample_results.contact_activity)
    assert not {to_hex(line.get_color()) for line in ax.get_lines()} & roles
    bars = next(other for other in ax.figure.axes if other is not ax)
    assert not {to_hex(p.get_facecolor()) for p in bars.patches} & roles
    assert ax.get_ylim() == (0, 100)
    # The highest tick of the contacts axis is within the bars drawn, not far above.
    tallest = max(p.get_y() + p.get_height() for p in bars.patches)
    assert max(bars.get_yticks()) <= tallest
    first = ax.get_lines()[0].get_ydata()
    assert np.isnan(first).any()  # a gap: the winter break
    assert ax.get_legend().get_bbox_to_anchor().y0 < ax.get_window_extent().y0  # below
    for draw, frame in ((plots.invitations, sample_results.invitations),
                        (plots.funnel, sample_results.school_completion),
                        (plots.conference_attendance, sample_results.conference_outcomes)):
        ax = draw(frame)
        colours = {to_hex(p.get_facecolor()) for p in ax.patches}
        colours |= {to_hex(c) for coll in ax.collections for c in coll.get_facecolors()}
        assert not colours & roles, draw.__name__


def test_only_plots_imports_matplotlib():
    from pathlib import Path

    package = Path(plots.__file__).parent
    importers = {p.name for p in package.rglob("*.py")
                 if "import matplotlib" in p.read_text() or "seaborn" in p.read_text()}
    assert importers == {"plots.py"}
