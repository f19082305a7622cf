"""The estimators, proven on simulated data: planted effects recovered, nulls not found."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engagement.config import Effects, SampleConfig
from engagement.dataset import clean_folder
from engagement.estimate import (
    DESIGNS,
    MATCH_ON,
    Design,
    Prepared,
    contact_effects,
    effects,
    inference,
    sums,
)
from engagement.estimate.fit import _Fit
from engagement.estimate.panel import cell_numbers
from engagement.sample import canonical_tables, simulate
from tests.conftest import SAMPLE

TRUTH = json.loads((SAMPLE / "ground_truth.json").read_text(encoding="utf-8"))
FAST = Design(n_boot=200)


def _truth(estimand: str) -> float:
    """The planted effect an estimate aims at: per decision for the comparisons of
    decisions (a fresh attempt or message about missing work), else per event."""
    planted = TRUTH[estimand]
    return planted.get("realised_per_decision", planted["realised_per_event"])


@pytest.fixture(scope="module")
def sample_tables():
    return clean_folder(SAMPLE).tables


@pytest.fixture(scope="module")
def sample_effects(sample_tables):
    return contact_effects(sample_tables, design=FAST)


def _row(table, estimand, subgroup="all"):
    return table[(table["estimand"] == estimand) & (table["subgroup"] == subgroup)].iloc[0]


@pytest.mark.parametrize("estimand", ["att_personal_attempt", "att_personal_contact",
                                      "att_written_contact", "att_conference_attended"])
def test_planted_effects_lie_inside_their_confidence_intervals(sample_effects, estimand):
    row = _row(sample_effects, estimand)
    truth = 100 * _truth(estimand)
    assert row["ci_low"] <= truth <= row["ci_high"], (row["estimate"], truth)
    assert row["ci_low"] <= row["estimate"] <= row["ci_high"]
    assert row["n_treated"] > 500 and row["n_comparison"] > 300


def test_naive_before_after_is_clearly_larger_than_the_planted_effect(sample_effects):
    naive = _row(sample_effects, "naive_before_after_personal")
    matched = _row(sample_effects, "att_personal_contact")
    assert naive["ci_low"] > 100 * TRUTH["att_personal_contact"]["realised_per_event"] + 3
    assert naive["estimate"] > matched["ci_high"]


def test_odds_ratio_and_baseline_equivalence_are_reported(sample_effects):
    row = _row(sample_effects, "att_personal_attempt")
    assert row["or_ci_low"] < row["odds_ratio"] < row["or_ci_high"] and row["odds_ratio"] > 1
    # Matched on the teacher's view, adjusted for the weeks before: within WWC's band for
    # statistical adjustment (0.05-0.25), which the lagged completion provides.
    assert abs(row["baseline_difference_sd"]) <= 0.25
    assert "Associated with" in row["caveat"]


def test_heterogeneity_by_baseline_completion(sample_effects):
    below = _row(sample_effects, "att_personal_attempt", "baseline below median")
    above = _row(sample_effects, "att_personal_attempt", "baseline above median")
    # Splitting can leave a few treated events without a comparison in their half (the
    # cells are fine: the teacher's view of the record and its timing, week and longer-run
    # completion; 5.5% of contacted students on the sample).
    total = _row(sample_effects, "att_personal_attempt")["n_treated"]
    assert 0.9 * total <= below["n_treated"] + above["n_treated"] <= total
    assert below["ci_low"] < below["estimate"] < below["ci_high"]


def test_counting_later_contacts_and_removing_their_share_recovers_the_effect(sample_tables):
    """Comparison students called a week later carry the effect into their own window:
    the raw contrast falls short of the planted effect; estimated together with the
    share of each group's work that fell after a later contact, it is recovered."""
    prepared = Prepared(sample_tables, FAST)
    fit = _Fit({k: prepared.rows(k) for k in DESIGNS}, FAST, np.random.default_rng(0))
    personal = fit.result("personal")
    truth = _truth("att_personal_attempt")
    low, high = np.nanpercentile(personal["att_b"], [2.5, 97.5])
    assert low <= truth <= high
    assert personal["contrast"] < personal["att"] - 0.005  # half a point or more short
    comparisons = fit.matched["personal"].query("not treated")
    assert 0 < comparisons["exposed_personal"].mean() < 0.2


def test_a_null_world_finds_no_effect():
    null = Effects(personal_contact=0.0, written_contact=0.0, conference_attended=0.0)
    tables = canonical_tables(simulate(SampleConfig(students=900, students_per_school=300,
                                                    seed=11, effects=null)))
    table = contact_effects(tables, design=FAST)
    for estimand in ("att_personal_contact", "att_written_contact", "att_conference_attended"):
        row = _row(table, estimand)
        assert row["ci_low"] <= 0 <= row["ci_high"], row[["estimate", "ci_low", "ci_high"]]
    assert _row(table, "naive_before_after_personal")["ci_low"] > 3  # the rebound remains


def test_results_do_not_depend_on_row_order(sample_tables):
    rng = np.random.default_rng(1)
    shuffled = {name: frame.sample(frac=1, random_state=rng) for name, frame in
                sample_tables.items()}
    first = contact_effects(sample_tables, design=Design(n_boot=50))
    second = contact_effects(shuffled, design=Design(n_boot=50))
    pd.testing.assert_frame_equal(first, second, check_exact=False, rtol=1e-9)


def test_no_comparison_group_is_not_estimable_never_a_number():
    stamp = pd.Timestamp("2025-10-06 10:00", tz="America/Edmonton")
    due = [stamp + pd.Timedelta(days=d) for d in range(-20, 21, 4)]
    students = pd.DataFrame({"student_id": ["1", "2"], "school_id": "101", "grade_level": 8})
    assignments = pd.DataFrame({"assignment_id": [f"A{i}" for i in range(len(due))],
                                "class_id": "C1", "school_id": "101", "due_at": due})
    ids = assignments["assignment_id"]
    results = pd.DataFrame([(s, a, "missing" if i < 3 else "on_time")
                            for s in ("1", "2") for i, a in enumerate(ids)],
                           columns=["student_id", "assignment_id", "status"]).assign(score=np.nan)
    contacts = pd.DataFrame({"contact_id": ["K1", "K2"], "student_id": ["1", "2"],
                             "school_id": "101", "contact_at": stamp, "channel": "phone",
                             "mode": "personal", "initiator": "school",
                             "purpose": "missing_work", "outcome": "reached"})
    empty = pd.DataFrame(columns=["conference_id", "student_id", "school_id", "scheduled_at",
                                  "status"])
    tables = {"students": students, "assignments": assignments, "results": results,
              "contacts": contacts, "conferences": empty}
    row = _row(contact_effects(tables, design=FAST), "att_personal_contact")
    assert np.isnan(row["estimate"]) and row["method"].startswith("not estimable: no eligible")


def test_effects_cover_the_division_and_each_school(sample_tables):
    table = effects(sample_tables, design=Design(n_boot=50))
    assert set(table["scope"]) == {"division", "101", "102", "103"}
    assert set(table["estimand"]) == {"att_personal_attempt", "att_personal_contact",
                                      "att_written_contact",
                                      "att_conference_attended", "att_broadcast",
                                      "naive_before_after_personal"}
    broadcast = table[table["estimand"] == "att_broadcast"].set_index("scope")
    # Planted at zero: the division's interval contains it; each school's estimate is
    # small (with about ten newsletter weeks a school, one of four may miss by chance).
    assert broadcast.loc["division", "ci_low"] <= 0 <= broadcast.loc["division", "ci_high"]
    assert (broadcast["estimate"].abs() < 2).all()


def test_broadcast_association_by_channel_is_near_zero(sample_tables):
    from engagement.estimate import broadcast_association

    table = broadcast_association(sample_tables, design=FAST).set_index("estimand")
    assert set(table.index) == {"broadcast_newsletter", "broadcast_sis_bulletin",
                                "broadcast_social_media"}
    assert ((table["ci_low"] <= 0) & (0 <= table["ci_high"])).all()
    assert (table["ci_high"] - table["ci_low"] < 3).all()  # near zero, not just unknown


def test_dose_response_describes_who_is_contacted(sample_tables):
    from engagement.estimate import dose_response

    table = dose_response(sample_tables, design=FAST)
    assert list(table["personal_contacts"]) == ["0", "1", "2", "3", "4+"]
    assert table["n"].sum() == sample_tables["students"].shape[0]
    assert (table["ci_low"] <= table["estimate"]).all() and (table["estimate"]
                                                              <= table["ci_high"]).all()
    assert table["estimate"].is_monotonic_decreasing  # struggling students are called more


def test_families_who_reach_out_are_the_engaged_ones_and_school_calls_follow_a_dip(
        sample_tables):
    from engagement.estimate import initiator_before_after

    table = initiator_before_after(sample_tables, design=FAST).set_index(["initiator",
                                                                          "period"])
    assert table.loc[("parent", "before"), "ci_low"] > table.loc[("school", "before"),
                                                                 "ci_high"]
    # The school calls at the bottom of a dip: completion rises after, with or without
    # an effect; a family's own call comes at no dip, so its change is smaller.
    assert table.loc[("school", "change"), "ci_low"] > 0
    assert table.loc[("school", "change"), "estimate"] > table.loc[("parent", "change"),
                                                                   "estimate"]
    change = table.xs("change", level="period")
    assert (change["n_students"] <= table.xs("before", level="period")["n_students"]).all()


def test_personal_invitations_and_attendance(sample_tables):
    from engagement.estimate import invitations

    table = invitations(sample_tables, design=FAST)
    overall = table[table["level"] == "invitation"].set_index("invitation")
    personal = overall.loc["personal (call or note)"]
    broadcast = overall.loc["broadcast (bulletin, newsletter)"]
    assert personal["ci_low"] > broadcast["ci_high"]
    assert {"invitation", "school_id x invitation", "school_id x grade_level x invitation"} \
        == set(table["level"])


def test_event_study_curve_and_pretrend_check(sample_tables):
    from engagement.estimate import event_study

    curve, check = event_study(sample_tables, design=FAST)
    assert list(curve["relative_week"]) == list(range(-6, 6))
    assert (curve["ci_low"] <= curve["difference"]).all()
    assert (curve["difference"] <= curve["ci_high"]).all()
    after = curve[curve["relative_week"].between(0, 2)]
    assert (after["ci_low"] > 0).all()  # contacted students complete more in the window
    # The check is reported as it is: on the sample, contacted students were a little
    # lower 4-6 weeks before (less engaged families), and the check says so.
    assert set(check) >= {"estimand", "estimate", "ci_low", "ci_high", "passes", "method"}
    assert check["passes"] == (check["ci_low"] <= 0 <= check["ci_high"])


def test_a_school_fitted_in_the_division_pass_is_the_school_fitted_alone(sample_tables):
    """Each school's fit comes from the division's pass over the rows (its resamples the
    division's, restricted to it): the same estimates, halves and counts as a fit of the
    school's rows alone, with intervals of the same width within resampling noise."""
    prepared = Prepared(sample_tables, FAST)
    rows = {k: prepared.rows(k) for k in DESIGNS}
    division = _Fit(rows, FAST, np.random.default_rng(0), parts="school_id")
    held = dict(zip(division.kinds, division.effect, strict=True))
    assert set(division.parts) == set(sample_tables["students"]["school_id"].astype("str"))
    for school, part in division.parts.items():
        alone = _Fit({k: r[r["school_id"].astype("str") == school] for k, r in rows.items()},
                     FAST, np.random.default_rng(1), held=held)
        assert part.kinds == alone.kinds
        for kind in part.kinds:
            for below in (None, True, False):
                a, b = part.result(kind, below), alone.result(kind, below)
                assert a["att"] == pytest.approx(b["att"], abs=1e-12)
                assert a["n_treated"] == b["n_treated"]
                assert a["n_comparison"] == b["n_comparison"]
                if below is None:
                    width = np.subtract(*np.nanpercentile([a["att_b"], b["att_b"]],
                                                          [97.5, 2.5], axis=1))
                    assert 0.75 < width[0] / width[1] < 1.33


def test_draws_held_as_counts_give_the_same_digits(sample_tables, monkeypatch):
    """A division's resampling weights are held as small counts and summed a chunk of
    resamples at a time: every estimate and resample is the same, to the last digit, as
    with the weights held as floats and summed at once."""
    prepared = Prepared(sample_tables, FAST)
    rows = {k: prepared.rows(k) for k in DESIGNS}
    floats = _Fit(rows, FAST, np.random.default_rng(0))
    monkeypatch.setattr(inference, "DRAWS_IN_FLOATS", 8 * 7)  # 7 floats: chunks of 1-7
    monkeypatch.setattr(sums, "DRAWS_IN_FLOATS", 8 * 7 * len(floats.teachers))
    counts = _Fit(rows, FAST, np.random.default_rng(0))
    assert all(w.dtype == np.uint8 for w in counts.weights.values())
    for kind in floats.kinds:
        for below in (None, True):
            a, b = floats.result(kind, below), counts.result(kind, below)
            assert a["att"] == b["att"] and (a["att_b"] == b["att_b"]).all()


def test_a_rare_kind_is_held_not_solved_and_spoils_no_resample(sample_tables):
    """A school with three families at conferences: the conference effect there is not
    estimable, its share is removed at the division's effect, and every resample of the
    personal-contact estimate still counts."""
    prepared = Prepared(sample_tables, FAST)
    rows = {k: prepared.rows(k) for k in DESIGNS}
    conf = rows["conference"]
    few = conf.loc[conf["treated"], "student_id"].drop_duplicates().iloc[:3]
    rows["conference"] = conf[~conf["treated"] | conf["student_id"].isin(few)]
    fit = _Fit(rows, FAST, np.random.default_rng(0), held={"conference": 0.035})
    assert fit.result("conference") == {
        "reason": "fewer than 10 contacted students with a comparison: too few to estimate"}
    personal = fit.result("personal")
    assert np.isfinite(personal["att_b"]).all()
    truth = _truth("att_personal_attempt")
    assert abs(personal["att"] - truth) < 0.02


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["101", "102", None]), st.integers(0, 3),
                          st.sampled_from([0.5, 1.0, np.nan])), max_size=40))
def test_cells_are_numbered_as_a_grouping_would(values):
    """Cells numbered from the columns' positions are pandas' groups (first appearance
    order; -1 where a key is blank, which pandas leaves NaN), so every sum adds rows in
    the same order."""
    rows = pd.DataFrame(values, columns=["school_id", "week", "band"]).astype(
        {"school_id": "str", "week": "int64", "band": "float64"})
    columns = ["school_id", "week", "band"]
    expected = rows.groupby(columns, observed=True, sort=False).ngroup().fillna(-1)
    assert (cell_numbers(rows, columns) == expected.to_numpy()).all()


def test_only_calls_about_schoolwork_are_treated_but_every_call_counts(small_division):
    """A call about behaviour (or to praise) to a student who is behind is not a decision
    about missing work: not a treated row; but it is a call, so its student is no row,
    treated or comparison, on that day or in the weeks after (not fresh). A call with no
    purpose recorded counts as schoolwork."""
    tables = canonical_tables(small_division)
    contacts = tables["contacts"]
    personal = ((contacts["initiator"].astype("str") == "school")
                & (contacts["mode"].astype("str") == "personal")).to_numpy()
    other = personal & (np.arange(len(contacts)) % 2 == 0)  # every other call: behaviour
    purpose = np.where(personal, "unknown", contacts["purpose"].astype("str"))
    all_work = Prepared({**tables, "contacts": contacts.assign(purpose=purpose)}, FAST)
    prepared = Prepared({**tables, "contacts": contacts.assign(
        purpose=np.where(other, "behaviour", purpose))}, FAST)
    rows = prepared.all_rows("personal")
    assert 0 < rows["treated"].sum() < 0.7 * all_work.all_rows("personal")["treated"].sum()
    calls = pd.DataFrame({"student_id": contacts.loc[other, "student_id"].astype("str"),
                          "call": prepared.timeline.day_number(contacts.loc[other, "contact_at"])})
    near = rows.assign(student_id=rows["student_id"].astype("str")).merge(calls, on="student_id")
    since = near["day"] - near["call"]
    # (A call about work the same day is still a decision: the only rows that day.)
    recent = (since >= 0) & (since < FAST.hold_days) & ~((since == 0) & near["treated"])
    assert len(near) > 0 and not recent.any()


def test_later_contacts_shares_are_adjusted_for_the_weeks_before_like_completion(
        small_division):
    """Comparison students doing worse before are contacted more later, so the share of
    their work after a later contact goes with the weeks before: it is adjusted like
    completion (on the comparison rows, within cells, what is left of it no longer goes
    with the weeks before), or the adjustment would take part of the effect."""
    rows = Prepared(canonical_tables(small_division), FAST).rows("personal")
    comparison = rows[~rows["treated"]]
    cell = cell_numbers(comparison, MATCH_ON["personal"])

    def within(v: pd.Series) -> np.ndarray:
        v = v.to_numpy(dtype=float)
        return v - (np.bincount(cell, v) / np.bincount(cell))[cell]

    lag = within(comparison["lag_0"].fillna(comparison["lag_0"].mean()))
    raw = within(comparison["exposed_after_personal"])
    adjusted = within(comparison["share_personal"])
    assert np.corrcoef(lag, raw)[0, 1] < -0.1  # doing worse before: more exposure later
    assert abs(np.corrcoef(lag, adjusted)[0, 1]) < 1e-6


def test_decision_rows_built_a_few_schools_at_a_time_are_the_rows_built_at_once(
        sample_tables, monkeypatch):
    """A division's decision rows are built a group of schools at a time (memory): the
    same rows, in the same order, as all schools at once."""
    from engagement.estimate import panel
    at_once = {k: Prepared(sample_tables, FAST).all_rows(k, matched_only=True)
               for k in ("personal", "written")}
    monkeypatch.setattr(panel, "STUDENTS_AT_ONCE", 150)  # a school a group
    assert len(panel._school_groups(
        pd.DataFrame({"school_id": sample_tables["students"]["school_id"].unique()}),
        sample_tables["students"])) == sample_tables["students"]["school_id"].nunique() > 1
    for kind, rows in at_once.items():
        pd.testing.assert_frame_equal(
            Prepared(sample_tables, FAST).all_rows(kind, matched_only=True), rows)
