"""Phone campaigns are found from what the calls were about, whoever made them: on the
sample, on a tag team made from it, on small worlds built by hand, and on the tag-team
campaigns of the division simulator we did not write."""

import json
import shutil

import numpy as np
import pandas as pd

from engagement.estimate import campaign_hand_in, find_campaigns
from tests.conftest import SAMPLE

TRUTH = json.loads((SAMPLE / "ground_truth.json").read_text(encoding="utf-8"))


def test_the_sample_campaign_is_found_and_most_hand_in(sample_dataset):
    campaigns = find_campaigns(sample_dataset.tables)
    truth = TRUTH["phone_campaign"]
    assert len(campaigns) == 1
    found = campaigns.iloc[0]
    assert (found["teacher_id"], found["staff"]) == (truth["teacher_id"], truth["teacher_id"])
    assert found["assignment"] == "Science Fair Project"
    assert found["n_families"] == truth["students_called"]
    curve = campaign_hand_in(sample_dataset.tables, found)
    contacted = curve[curve["group"] == "contacted"].set_index("day")
    assert contacted.loc[0, "share_handed_in"] == 0
    assert contacted.loc[14, "share_handed_in"] > 0.7
    assert contacted["share_handed_in"].is_monotonic_increasing


def test_a_teacher_and_the_principal_splitting_the_list_are_one_campaign(sample_dataset):
    tables = dict(sample_dataset.tables)
    alone = find_campaigns(tables).iloc[0]
    contacts = tables["contacts"].copy()
    theirs = (contacts["student_id"].isin(alone["students"][::2])
              & (contacts["staff_id"] == alone["teacher_id"])
              & contacts["contact_at"].between(alone["start"],
                                               alone["end"] + pd.Timedelta(days=1)))
    contacts.loc[theirs, "staff_id"] = "P0001"
    tables["contacts"] = contacts
    together = find_campaigns(tables)
    assert len(together) == 1
    assert together.iloc[0]["staff"] == f"P0001; {alone['teacher_id']}"
    assert together.iloc[0]["n_staff"] == 2
    assert together.iloc[0]["students"] == alone["students"]


def _school(calls: list[tuple[str, str, str]], missing: list[tuple[str, int]]) -> dict:
    """A school of two teachers with 30 students each and twelve assignments a class,
    due on consecutive days from 1 March; ``missing`` (student, assignment number) were
    never handed in; ``calls`` (student, staff, day) are school calls about missing work."""
    zone = "America/Edmonton"
    students = [f"S{i:02d}" for i in range(60)]
    enrollments = pd.DataFrame({"student_id": students,
                                "class_id": ["C1"] * 30 + ["C2"] * 30,
                                "teacher_id": ["T1"] * 30 + ["T2"] * 30})
    assignments = pd.DataFrame([
        {"assignment_id": f"{c}-{n}", "class_id": c, "title": f"Work {n}",
         "due_at": pd.Timestamp("2026-03-01 23:59", tz=zone) + pd.Timedelta(days=n)}
        for c in ("C1", "C2") for n in range(12)])
    results = enrollments.merge(assignments, on="class_id")[["student_id", "assignment_id"]]
    out = set(missing)
    results["status"] = [("missing" if (s, int(a.split("-")[1])) in out else "on_time")
                         for s, a in zip(results["student_id"], results["assignment_id"],
                                         strict=True)]
    results["submitted_at"] = pd.Series(pd.NaT, index=results.index,
                                        dtype=f"datetime64[ns, {zone}]")
    contacts = pd.DataFrame([{"student_id": s, "staff_id": who,
                              "contact_at": pd.Timestamp(f"2026-03-{day} 10:00", tz=zone),
                              "initiator": "school", "purpose": "missing_work"}
                             for s, who, day in calls])
    return {"contacts": contacts, "results": results, "assignments": assignments,
            "enrollments": enrollments}


def test_calls_about_many_different_pieces_of_work_are_no_campaign():
    students = [f"S{i:02d}" for i in range(12)]
    scattered = _school([(s, "T1", "14") for s in students],
                        [(s, i) for i, s in enumerate(students)])
    assert find_campaigns(scattered).empty
    same_work = _school([(s, "T1", "14") for s in students], [(s, 3) for s in students])
    found = find_campaigns(same_work)
    assert list(found["assignment"]) == ["Work 3"]
    assert found.iloc[0]["n_families"] == 12


def test_two_teachers_calling_about_their_own_work_the_same_week_are_two_campaigns():
    mine = [f"S{i:02d}" for i in range(12)]
    theirs = [f"S{i:02d}" for i in range(30, 42)]
    school = _school([(s, "T1", "14") for s in mine] + [(s, "T2", "15") for s in theirs],
                     [(s, 5) for s in mine + theirs])
    found = find_campaigns(school)
    assert list(found["teacher_id"]) == ["T1", "T2"]
    assert list(found["staff"]) == ["T1", "T2"]


def test_the_simulators_tag_teams_are_found(division_sim, tmp_path):
    """Each planted tag team (a teacher and the principal splitting the families whose
    child is missing a project) is found with its teacher, its project, the principal
    among the callers, and its families."""
    import engagement

    folder = tmp_path / "world"
    division_sim.write_world(str(folder), n_students=2000, scenario="effect", seed=1)
    shutil.move(folder / "truth.json", tmp_path / "truth.json")
    truth = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    found = find_campaigns(engagement.load(folder).tables).set_index(["teacher_id",
                                                                       "assignment"])
    planted = [t for t in truth["events"]["tag_team"] if t["families_contacted"] >= 10]
    assert len(planted) >= 4
    for team in planted:
        teacher, principal = team["staff_ids"]
        row = found.loc[(teacher, team["project_title"])]
        assert {teacher, principal} <= set(row["staff"].split("; "))
        # A call from another teacher who set none of the student's missing work counts
        # toward whatever work is out: at most a family or two more than planted.
        assert team["families_contacted"] <= row["n_families"] <= team["families_contacted"] + 2


def test_pages_shared_beyond_the_school_name_no_caller(sample_results):
    text = next(f for f in sample_results.findings(staff=False) if "campaign" in f)
    assert text.startswith("A phone campaign: a staff member contacted 24 families about "
                           "'Science Fair Project' between 05 Feb and 09 Feb 2026.")
    assert "T0022" not in text


def test_the_largest_of_several_campaigns_is_said_with_its_callers():
    from engagement.sentences import _campaign_sentence

    day = pd.Timestamp("2025-02-03", tz="America/Edmonton")
    campaigns = pd.DataFrame({
        "campaign": [1, 2], "teacher_id": ["T-1", "T-2"], "assignment": ["Essay", "Lab 4"],
        "staff": ["P-1; T-1", "T-2"], "n_staff": [2, 1], "start": [day, day],
        "end": [day + pd.Timedelta(days=4)] * 2, "n_families": [31, 12]})
    curve = pd.DataFrame(columns=["campaign", "group", "day", "handed_in", "n",
                                  "share_handed_in", "suppressed", "assignment"])
    named = _campaign_sentence(campaigns, curve, 10, staff=True)
    assert named.startswith("2 phone campaigns (10 or more families called about the same "
                            "piece of work within a week); the largest: staff member T-1, "
                            "who set the work, with P-1 contacted 31 families about 'Essay'")
    unnamed = _campaign_sentence(campaigns, curve, 10, staff=False)
    assert "the largest: 2 staff members contacted 31 families" in unnamed
    assert "T-1" not in unnamed and "P-1" not in unnamed


def test_a_call_is_about_work_due_in_the_two_weeks_up_to_it_both_ends_included():
    from engagement.estimate.campaigns import _due_before
    day = 86_400_000_000
    # Student 0's work due 15, 14, 3 and 0 days before the call, and 1 day after; student
    # 1's due the same day; the second call's student has no work.
    work_student = np.array([0, 0, 0, 0, 0, 1])
    due = np.array([-15, -14, -3, 0, 1, 0]) * day + 100 * day
    call, row = _due_before(np.array([0, -1]), np.array([100, 100]) * day, work_student, due)
    assert call.tolist() == [0, 0, 0] and sorted(row.tolist()) == [1, 2, 3]
