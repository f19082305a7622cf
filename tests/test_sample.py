"""The sample generator: determinism, the planted mechanisms and the planted effects."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from engagement.config import Effects, SampleConfig
from engagement.sample import simulate, write_sample
from tests.conftest import SAMPLE

EFFECT_KEYS = ("att_personal_contact", "att_written_contact", "att_conference_attended",
               "att_broadcast", "naive_before_after_personal")


def test_same_seed_same_world(small_division):
    again = simulate(small_division.config)
    pd.testing.assert_frame_equal(again.results, small_division.results)
    pd.testing.assert_frame_equal(again.contacts, small_division.contacts)
    assert again.truth == small_division.truth


def test_another_seed_another_world(small_division):
    other = simulate(SampleConfig(students=300, students_per_school=100, seed=8))
    assert not other.results["status"].equals(small_division.results["status"])


def test_division_shape(small_division):
    d = small_division
    assert list(d.schools["low_grade"]) == [0, 7, 10]
    assert len(d.students) == 300
    assert d.students["student_id"].is_unique
    assert d.students["student_id"].str.fullmatch(r"\d{6}").all()
    # 8 classes per student, 35-40 assignments per class.
    assert (d.enrollments.groupby("stu").size() == 8).all()
    per_class = d.assignments.groupby("class_id").size()
    assert per_class.between(35, 40).all()
    assert set(d.results["status"]) <= {"on_time", "late", "missing", "excused"}


def test_effects_planted_in_the_probabilities(small_division):
    truth = small_division.truth
    config = small_division.config.effects
    for name, planted in (("personal_contact", config.personal_contact),
                          ("written_contact", config.written_contact),
                          ("conference_attended", config.conference_attended)):
        entry = truth[f"att_{name}"]
        assert entry["planted_effect"] == planted
        assert entry["treated_results"] > 500
        # Clipping at 1 only ever shrinks what is applied.
        assert 0.6 * planted < entry["realised_att"] <= planted + 1e-12
    assert truth["att_broadcast"]["realised_att"] == 0.0
    assert (truth["att_personal_contact"]["realised_att"]
            > truth["att_written_contact"]["realised_att"]
            > truth["att_conference_attended"]["realised_att"] > 0)


def test_naive_before_after_is_inflated_by_regression_to_the_mean(small_division):
    truth = small_division.truth
    naive = truth["naive_before_after_personal"]["estimate"]
    assert naive > 1.4 * truth["att_personal_contact"]["realised_att"]


def test_null_world_has_no_effect_but_naive_still_shows_one():
    null = Effects(personal_contact=0, written_contact=0, conference_attended=0)
    d = simulate(SampleConfig(students=300, students_per_school=100, seed=7, effects=null))
    for key in EFFECT_KEYS[:4]:
        assert d.truth[key]["realised_att"] == 0.0
    assert d.truth["naive_before_after_personal"]["estimate"] > 0.05


def test_missing_work_contacts_follow_missed_work(small_division):
    """Every triggered contact follows a missed assignment in that class, and some
    students who missed as much were not contacted (the comparison group exists)."""
    d = small_division
    keys = {"stu": "int64", "cls": "int64", "day": "int64"}
    r = d.results.assign(cls=d.assignments["cls"].to_numpy()[d.results["assignment"]])
    c = d.contacts[(d.contacts["purpose"] == "missing_work") & (d.contacts["cls"] >= 0)]
    last = (pd.merge_asof(c.sort_values("day")[["stu", "cls", "day"]].astype(keys),
                          r.sort_values("due_day")[["stu", "cls", "due_day", "status"]]
                          .rename(columns={"due_day": "day"}).astype(keys),
                          on="day", by=["stu", "cls"], allow_exact_matches=False))
    assert (last["status"] == "missing").mean() > 0.95
    missed = r[r["status"] == "missing"].groupby("stu").size()
    contacted = set(c["stu"])
    assert (missed >= 3).sum() > len(contacted & set(missed[missed >= 3].index))


def test_engaged_families_reach_out_more(small_division):
    d = small_division
    parent = d.contacts[d.contacts["initiator"] == "parent"].groupby("stu").size()
    calls = parent.reindex(range(len(d.students)), fill_value=0)
    assert np.corrcoef(calls, d.students["engagement"])[0, 1] > 0.1


def test_conference_attendance_mechanisms(small_division):
    d = small_division
    m = d.conferences[~d.conferences["rescheduled"] & (d.conferences["status"] != "cancelled")]
    m = m.assign(personal=m["invited_via"].isin(["phone", "letter"]),
                 attended=m["status"].isin(["attended", "rescheduled"]),
                 grade=d.students["grade_level"].to_numpy()[m["stu"]])
    by_invite = m.groupby("personal")["attended"].mean()
    assert by_invite[True] > by_invite[False]
    assert set(m.loc[m["grade"] >= 7, "format"].unique()) == {"three_way"}
    assert set(m.loc[m["grade"] <= 6, "format"].unique()) == {"parent_teacher"}
    assert set(d.conferences["status"]) == {"attended", "no_show", "rescheduled", "cancelled"}


def test_phone_campaign_calls_24_families_and_most_hand_in(small_division):
    camp = small_division.truth["phone_campaign"]
    assert camp["students_called"] == 24
    assert camp["handed_in_within_7_days"] >= 12
    project = small_division.assignments[small_division.assignments["title"]
                                         == "Science Fair Project"]
    r = small_division.results[small_division.results["assignment_id"]
                               .isin(project["assignment_id"])]
    assert (r["status"] == "late").sum() >= camp["handed_in_within_7_days"]


def test_written_sample_matches_data_sample_byte_for_byte(tmp_path):
    write_sample(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    stored = sorted(p.relative_to(SAMPLE) for p in SAMPLE.rglob("*") if p.is_file())
    assert written == stored
    different = [str(p) for p in written
                 if (tmp_path / p).read_bytes() != (SAMPLE / p).read_bytes()]
    assert different == [], "run `make sample` to refresh data/sample/"


def test_ground_truth_has_the_named_keys():
    truth = json.loads((SAMPLE / "ground_truth.json").read_text(encoding="utf-8"))
    for key in EFFECT_KEYS:
        assert key in truth
    assert truth["config"]["seed"] == 0 and truth["config"]["students"] == 1200
    for name, counts in truth["files"].items():
        assert (SAMPLE / name).exists(), name
        assert counts["rows"] > 0


def test_cli_sample_writes_a_small_division(tmp_path):
    config = tmp_path / "small.toml"
    config.write_text("students_per_school = 50\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "engagement.cli", "sample", str(tmp_path / "out"),
         "--students", "150", "--seed", "2", "--config", str(config)],
        capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "150 students" in done.stdout
    truth = json.loads((tmp_path / "out" / "ground_truth.json").read_text(encoding="utf-8"))
    assert truth["config"]["seed"] == 2 and truth["config"]["students_per_school"] == 50


def test_cli_bad_config_is_one_clear_sentence(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("colour = 'blue'\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "engagement.cli", "sample", str(tmp_path), "--config",
         str(config)], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "unknown setting(s) colour" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_division_scale_generation(tmp_path):
    d = simulate(SampleConfig(students=20_000))
    assert len(d.results) > 5_000_000


def test_a_decision_is_a_missing_work_contact_with_none_in_the_four_weeks_before():
    """What ``realised_per_decision`` averages over: the first school contact about
    missing work in 28 days; a second call 10 days later, a call about something else
    and a family's own call are not decisions (a family's call does not hold one back)."""
    from engagement.estimate import Design
    from engagement.sample.simulate import DECISION_HOLD_DAYS, _decisions

    assert DECISION_HOLD_DAYS == Design().hold_days  # the truth counts what is estimated

    contacts = pd.DataFrame({
        "stu": [1, 1, 1, 2, 2, 3, 3],
        "day": [10, 20, 60, 10, 15, 5, 12],
        "initiator": ["school"] * 5 + ["parent", "school"],
        "purpose": ["missing_work", "missing_work", "missing_work", "positive",
                    "missing_work", "general", "missing_work"]})
    decided = _decisions(contacts)
    assert list(zip(decided["stu"], decided["day"], strict=True)) == [(1, 10), (1, 60),
                                                                       (3, 12)]
