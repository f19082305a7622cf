"""Metrics on hand-made frames whose answers can be computed on paper."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engagement.metrics import (
    KEY,
    DayIndex,
    assignment_summary,
    completion_by,
    reachability,
    result_flags,
    student_week_panel,
)

TZ = "America/Edmonton"


def _tables():
    due = pd.Timestamp("2025-10-08 23:59", tz=TZ)  # a Wednesday
    assignments = pd.DataFrame({"assignment_id": ["A1", "A2"], "class_id": "C1",
                                "school_id": "101", "due_at": [due, due + pd.Timedelta(days=7)]})
    results = pd.DataFrame({
        "student_id": ["1", "2", "3", "4", "1", "2"],
        "assignment_id": ["A1", "A1", "A1", "A1", "A2", "A2"],
        "status": ["on_time", "late", "missing", "excused", "pending", "on_time"],
        "score": [8.0, 6.0, None, None, None, 10.0]})
    students = pd.DataFrame({"student_id": ["1", "2", "3", "4"], "school_id": "101",
                             "grade_level": [7, 7, 7, 8]})
    contacts = pd.DataFrame({
        "contact_id": ["K1", "K2", "K3"], "student_id": ["1", "1", "3"], "school_id": "101",
        "contact_at": pd.Timestamp("2025-10-07 10:00", tz=TZ), "channel": "phone",
        "mode": "personal", "initiator": ["school", "parent", "school"],
        "purpose": "missing_work", "outcome": ["reached", "reached", "no_answer"]})
    conferences = pd.DataFrame({"conference_id": ["M1"], "student_id": ["2"], "school_id": "101",
                                "scheduled_at": due, "status": ["attended"]})
    broadcasts = pd.DataFrame({"broadcast_id": ["B1"], "school_id": "101",
                               "sent_at": due, "channel": "newsletter"})
    return {"assignments": assignments, "results": results, "students": students,
            "contacts": contacts, "conferences": conferences, "broadcasts": broadcasts}


def test_completion_leaves_excused_and_pending_out_of_the_denominator():
    t = _tables()
    flags = result_flags(t["results"], t["assignments"])
    by = completion_by(flags, ["assignment_id"]).set_index("assignment_id")
    assert by.loc["A1", "n"] == 3 and by.loc["A1", "completion_rate"] == pytest.approx(2 / 3)
    assert by.loc["A2", "n"] == 1 and by.loc["A2", "completion_rate"] == 1.0


def test_assignment_summary_by_hand():
    t = _tables()
    summary = assignment_summary(t["results"], t["assignments"]).set_index("assignment_id")
    a1 = summary.loc["A1"]
    assert (a1["n_students"], a1["n_submitted"]) == (4, 2)
    assert a1["pct_submitted"] == pytest.approx(200 / 3)  # 2 of 3 counted
    # Its denominator is in the file: pct_submitted = n_submitted / n_counted, every row.
    assert a1["n_counted"] == 3
    assert (summary["pct_submitted"] == 100 * summary["n_submitted"] / summary["n_counted"]
            ).all()
    assert a1["pct_late"] == 50.0 and a1["mean_score"] == 7.0
    assert a1["sd_score"] == pytest.approx(2 ** 0.5)


def test_reachability_by_school_and_grade():
    t = _tables()
    reach = reachability(t["contacts"], t["students"]).set_index("grade_level")
    assert reach.loc[7, "n_families"] == 3 and reach.loc[7, "n_reached"] == 1
    assert reach.loc[7, "unanswered_attempts"] == 1
    assert reach.loc[8, "share_reached"] == 0


def test_student_week_panel_by_hand():
    panel = student_week_panel(_tables()).set_index(["student_id", "week"])
    first = panel.loc[("1", pd.Timestamp("2025-10-06"))]
    assert first["assignments_due"] == 1 and first["completion_rate"] == 1.0
    assert first["contacts_mode_personal"] == 2 and first["contacts_initiator_parent"] == 1
    assert first["broadcasts"] == 1
    assert panel.loc[("2", pd.Timestamp("2025-10-06")), "conference_attended"]
    later = panel.loc[("1", pd.Timestamp("2025-10-13"))]
    assert later["counted"] == 0 and pd.isna(later["completion_rate"])


def test_conference_formats_by_hand():
    from engagement.metrics import REBOOKED, conference_formats

    conferences = pd.DataFrame({
        "status": ["attended", "no_show", "attended", "rescheduled", "attended", "cancelled"],
        "format": ["three_way", "three_way", "parent_teacher", "parent_teacher",
                   "parent_teacher", None],
        "rescheduled_from": [None, None, None, None, "C4", None]})
    out = conference_formats(conferences).set_index("kind")
    assert list(out.index) == ["three_way", "parent_teacher", REBOOKED]
    assert out.loc["three_way", ["n", "attended", "not_attended"]].tolist() == [2, 1, 1]
    # The rescheduled slot did not take place; its new booking did, and is counted twice:
    # as parent-teacher and as a rebooked slot. A cancelled one is neither.
    assert out.loc["parent_teacher", ["n", "attended"]].tolist() == [2, 2]
    assert out.loc[REBOOKED, ["n", "attended", "share_attended"]].tolist() == [1, 1, 1.0]


@settings(max_examples=200, deadline=None)
@given(units=st.integers(1, 12), days=st.lists(st.tuples(st.integers(0, 11),
                                                        st.integers(9000, 9040)), max_size=60),
       queries=st.lists(st.tuples(st.integers(-2, 14), st.integers(8980, 9060)), max_size=60))
def test_day_index_answers_as_a_binary_search_would(units, days, queries):
    """The lookup table gives searchsorted's answer for every (unit, day), inside the
    span, before and after it, and for units outside the table (a key of -1 too)."""
    key = np.sort(np.array([u % units * KEY + d for u, d in days], dtype=np.int64))
    q = np.array([u * KEY + d for u, d in queries] + [-1], dtype=np.int64)
    q = np.concatenate([q, key, key + 1, key - 1])
    assert (DayIndex(key, units)(q) == np.searchsorted(key, q)).all()


def test_day_index_searches_when_dates_span_many_years():
    key = np.array([0 * KEY + 1, 0 * KEY + 90_000, 399 * KEY + 5], dtype=np.int64)
    index = DayIndex(key, 400)
    assert index.before is None  # a table of 400 x 90,000 days would be mostly empty
    q = np.array([0, 2, 90_000, 90_001, KEY, 399 * KEY + 6, 400 * KEY])
    assert (index(q) == np.searchsorted(key, q)).all()
