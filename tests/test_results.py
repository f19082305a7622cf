"""analyze(): every result frame private (groups under k blanked, no student ids) and the
findings worded as associations with their intervals."""

import pandas as pd
import pytest

from engagement import analyze

COUNT_COLUMNS = ("n", "n_students", "n_families", "n_treated")


def test_every_aggregate_shown_has_at_least_k(sample_results):
    k = sample_results.k
    for name, frame in sample_results.frames.items():
        assert "student_id" not in frame.columns, name
        counts = [c for c in COUNT_COLUMNS if c in frame.columns]
        if not counts or "suppressed" not in frame:
            continue
        small = (frame[counts[0]] > 0) & (frame[counts[0]] < k)
        assert frame.loc[small, "suppressed"].all(), name
        numbers = frame.loc[small].select_dtypes("number").drop(columns=counts, errors="ignore")
        numbers = numbers.drop(columns=["grade_level", "day", "ci_level", "relative_week",
                                        "n_comparison", "n_clusters"], errors="ignore")
        assert numbers.isna().all().all(), f"{name}: a value of a group under {k} is shown"


def test_counts_that_are_the_outcome_are_blanked_too(sample_results):
    outcomes = sample_results.conference_outcomes
    assert outcomes["suppressed"].any()
    assert outcomes.loc[outcomes["suppressed"], "n"].isna().all()


def test_findings_say_associated_with_intervals_and_n(sample_results):
    findings = sample_results.findings()
    personal = next(f for f in findings if f.startswith("Reaching the family"))
    assert "associated with completion 11.7 points higher" in personal
    assert "95% CI +7.8 to +13.8" in personal and "871 contacts" in personal
    attempt = next(f for f in findings if f.startswith("A teacher calling"))
    assert "9.5 points higher" in attempt and "answered or not" in attempt
    # Every broadcast channel, as broadcasts.csv has it, said to be descriptive only.
    broadcast = next(f for f in findings if f.startswith("Weeks in which a broadcast"))
    assert "after a newsletter, -0.2 points (95% CI -0.6 to +0.3; 30 weeks against 87)" \
        in broadcast
    assert "after an SIS bulletin, +0.6 points" in broadcast
    assert "after a social media post, +0.4 points" in broadcast
    assert "Descriptive only, not an effect" in broadcast
    assert any("would have said +21.9 points" in f for f in findings)
    campaign = next(f for f in findings if "T0022 contacted 24 families" in f)
    # What the students not called did is in the sentence, not only in notebook 4.
    assert "10 students who had not handed it in were not called; all of them had handed " \
           "it in by day 8." in campaign
    conference = next(f for f in findings if f.startswith("Attending a parent-teacher"))
    # Attended bookings (not families) against families booked that week; the gap before.
    assert "1,629 conferences attended, against 539 families booked the same week who did " \
           "not come" in conference
    assert "already differed before (+0.42 standard deviations" in conference
    formats = next(f for f in findings if f.startswith("Conferences that took place"))
    assert "3-way conferences (student, family and teacher): 67% of 1,528 attended" in formats
    assert "parent-teacher conferences: 79% of 768 attended" in formats
    assert "slots booked again after a reschedule: 74% of 129 attended" in formats
    # Reachability comes first, from the rows reachability.csv shows.
    assert findings[0] == ("Of 1,143 families in the grades shown (1 school-grade group hidden "
                           "for privacy), 818 were reached in person (a call or meeting that "
                           "got through) at least once; 325 never were.")
    assert any(f.startswith("Before a personal contact, the contacted and comparison students "
                            "moved in parallel: weeks 6 to 4 before it, they differed by -0.9")
               for f in findings)


def test_results_read_back_say_the_same(sample_results, tmp_path):
    """The report reads analyze's folder: what it reads must be what analyze computed."""
    from engagement import manifest

    sample_results.write(tmp_path)
    manifest.write(tmp_path, {"parameters": {"k": sample_results.k,
                                             **sample_results.design.__dict__}})
    read = type(sample_results).read(tmp_path)
    assert read.findings() == sample_results.findings()
    assert read.design == sample_results.design and read.k == sample_results.k
    assert list(read.frames) == list(sample_results.frames)


def test_results_show_as_short_summaries(sample_results, sample_dataset):
    page = sample_results._repr_html_()
    assert page.count("<li>") == len(sample_results.findings()) and len(page) < 5000
    assert "<table>" in sample_dataset._repr_html_()
    assert "| file |" in sample_dataset.report._repr_markdown_()


def test_k_below_six_is_refused(sample_dataset):
    with pytest.raises(ValueError, match="k=5 is too small"):
        analyze(sample_dataset, k=5)


def test_write_gives_one_csv_per_frame(sample_results, tmp_path):
    sample_results.write(tmp_path)
    for name, frame in sample_results.frames.items():
        assert len(pd.read_csv(tmp_path / f"{name}.csv")) == len(frame)


def test_a_small_school_is_blanked_p_values_included(small_division):
    from engagement.sample import canonical_tables

    tables = canonical_tables(small_division)
    contacts = tables["contacts"]
    school = contacts["school_id"].astype(str)
    # School 101 keeps only a handful of its contacts: its estimates fall under k.
    few = contacts[(school != "101") | (contacts.index.isin(contacts[school == "101"].index[:6]))]
    results = analyze({**tables, "contacts": few})
    rows = results.effects_by_school
    small = rows[(rows["scope"] == "101") & rows["estimand"].str.contains("personal")]
    assert small["suppressed"].all()
    assert small[["estimate", "ci_low", "ci_high", "p_value", "p_adjusted"]].isna().all().all()


def test_no_contacts_at_all_still_gives_results(small_division):
    from engagement.sample import canonical_tables

    tables = canonical_tables(small_division)
    results = analyze({**tables, "contacts": tables["contacts"].iloc[:0]})
    personal = results.headline().set_index("estimand").loc["att_personal_contact"]
    assert pd.isna(personal["estimate"]) and "not estimable" in personal["method"]
    assert results.event_study.empty and results.campaigns.empty
    assert any(f.startswith("Reaching the family in person or by phone about schoolwork: "
                            "not estimable")
               for f in results.findings())


def test_a_missing_table_is_named(small_division):
    from engagement.sample import canonical_tables

    tables = canonical_tables(small_division)
    del tables["broadcasts"]
    with pytest.raises(ValueError, match="missing: broadcasts"):
        analyze(tables)


def test_quarantine_summary_counts_by_file_column_and_reason():
    from engagement.accounting import quarantine_summary

    q = pd.DataFrame({"file": ["r.csv"] * 3, "column": ["student_id", "student_id", "channel"],
                      "value": ["344097", "344098", "Seesaw"],
                      "reason": ["the student is not on the roster"] * 2
                      + ["not a channel engagement knows"]})
    summary = quarantine_summary(q)
    assert summary["rows"].tolist() == [2, 1] and "value" not in summary
    assert "344097" not in summary.to_csv()


def test_a_failed_pre_trend_check_changes_the_finding_not_only_a_caution(sample_results):
    from engagement.results import Results

    failed = sample_results.pretrend.assign(passes=False, estimate=-2.5, ci_low=-3.5,
                                            ci_high=-1.5)
    results = Results({**sample_results.frames, "pretrend": failed}, sample_results.design,
                      sample_results.k)
    findings = results.findings()
    attempt = next(f for f in findings if f.startswith("A teacher calling"))
    assert "no fair comparison" in attempt and "should not be relied on" in attempt
    assert "was associated with" not in attempt
    assert not any(f.startswith("Caution") for f in findings)
