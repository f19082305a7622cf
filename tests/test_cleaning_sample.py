"""Cleaning the sample division: every planted defect is found, exactly."""

import json
import subprocess
import sys

import pandas as pd
import pytest

import engagement
from engagement.dataset import clean_folder
from engagement.sample import canonical_tables, simulate
from engagement.schema import COLUMNS
from tests.conftest import SAMPLE

PLANTED = json.loads((SAMPLE / "ground_truth.json").read_text(encoding="utf-8"))["files"]


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    return clean_folder(SAMPLE, out), out


def _account(dataset, file, table=None):
    return next(a for a in dataset.report.accounts
                if a.file == file and (table is None or a.table == table))


def test_every_row_is_accounted_for(cleaned):
    dataset, _ = cleaned
    for account in dataset.report.accounts:
        assert account.balanced, account
    assert dataset.report.skipped == ["README.md", "findings.toml", "ground_truth.json",
                                      "oneroster/orgs.csv"]


def test_teacher_spreadsheet_defects_found_exactly(cleaned):
    dataset, _ = cleaned
    planted = PLANTED["contact_log_101.xlsx"]
    a = _account(dataset, "contact_log_101.xlsx")
    assert a.rows_in == planted["rows"]
    assert a.rows_duplicate == planted["duplicate_rows"]
    assert a.rows_quarantined == (planted["unknown_channels"] + planted["impossible_dates"]
                                  + planted["blank_lines"] + planted["total_rows"])
    assert a.fixes["names_matched_fuzzy"] == planted["misspelled_names"]
    assert a.fixes["day_first_dates"] == planted["day_first_dates"]
    assert a.unknown_spellings == {"channel": {"Seesaw": 1}}
    q = dataset.quarantine[dataset.quarantine["file"] == a.file]
    shown = set(zip(q["column"], q["value"], q["reason"], strict=True))
    assert ("contact_at", "31/02/2026", "not a calendar date (column 'contact_at')") in shown


def test_exports_defects_found_exactly(cleaned):
    dataset, _ = cleaned
    ps = _account(dataset, "powerschool_log.csv")
    assert ps.rows_duplicate == PLANTED["powerschool_log.csv"]["duplicate_rows"]
    assert ps.rows_quarantined == PLANTED["powerschool_log.csv"]["not_contact_entries"]
    conf = _account(dataset, "conference_schedule.csv")
    planted = PLANTED["conference_schedule.csv"]
    assert conf.rows_duplicate == planted["duplicate_rows"]
    assert conf.rows_quarantined == planted["blank_lines"]
    assert conf.fixes["ids_leading_zeros_restored"] == planted["ids_lost_leading_zeros"]
    bc = _account(dataset, "broadcast_log.csv")
    assert bc.rows_duplicate == PLANTED["broadcast_log.csv"]["duplicate_rows"]
    assert bc.rows_quarantined == 0


def test_cleaned_tables_match_the_simulated_truth(cleaned):
    dataset, _ = cleaned
    truth = canonical_tables(simulate())
    # Every contact but the two planted unusable rows (unknown channel, impossible date).
    assert len(dataset.contacts) == len(truth["contacts"]) - 2
    assert len(dataset.students) == len(truth["students"])
    assert len(dataset.conferences) == len(truth["conferences"])
    assert len(dataset.broadcasts) == len(truth["broadcasts"])
    assert len(dataset.results) == len(truth["results"])
    # Result statuses from OneRoster equal the truth exactly (Canvas blanks become pending).
    merged = dataset.results.merge(truth["results"], on=["student_id", "assignment_id"],
                                   suffixes=("", "_true"))
    oneroster = merged[merged["source_file"] == "oneroster/results.csv"]
    assert (oneroster["status"] == oneroster["status_true"]).all()
    channels = dataset.contacts.merge(truth["contacts"][["student_id", "channel"]]
                                      .value_counts().rename("n").reset_index(),
                                      on=["student_id", "channel"], how="left")
    assert channels["n"].notna().all()


def test_outputs_are_private_and_reload(cleaned):
    dataset, out = cleaned
    for name, table in dataset.tables.items():
        assert not {"notes", "given_name", "family_name", "student_name"} & set(table), name
    text = b"".join(p.read_bytes() for p in out.glob("*.parquet"))
    assert b"will check the agenda nightly" not in text
    again = engagement.load(out)  # validated against the schema on the way in
    assert {t: len(f) for t, f in again.tables.items()} == \
        {t: len(f) for t, f in dataset.tables.items()}
    # What the analysis loads: the same tables without each row's file and line.
    untraced = engagement.load(out, traced=False)
    for name, table in untraced.tables.items():
        assert list(table) == COLUMNS[name], name
        pd.testing.assert_frame_equal(table, again.tables[name][COLUMNS[name]])
    report = json.loads((out / "cleaning_report.json").read_text(encoding="utf-8"))
    assert {f["file"] for f in report["files"]} >= set(PLANTED) - {
        "oneroster/manifest.csv", "oneroster/orgs.csv", "oneroster/academicSessions.csv",
        "oneroster/classes.csv", "oneroster/categories.csv"}
    assert "# Cleaning report" in (out / "cleaning_report.md").read_text(encoding="utf-8")


def test_pseudonyms_are_keyed_and_stable(tmp_path):
    key = tmp_path / "key.txt"
    key.write_text("5f0c9d2b8e41a7c63d90be12f4a8c7e15d2b9a04c8e3f61b7d50a9c2e4f81b36",
                   encoding="utf-8")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "students.csv").write_text("student_id,school_id,grade_level\n000123,101,5\n"
                                      "000456,101,6\n", encoding="utf-8")
    first = clean_folder(raw, key_file=key).students["student_id"]
    second = clean_folder(raw, key_file=key).students["student_id"]
    assert list(first) == list(second)
    assert not first.str.contains("000123").any()
    assert first.str.startswith("s_").all()


def test_canonical_csv_folder_loads_with_no_configuration(tmp_path):
    (tmp_path / "students.csv").write_text(
        "student_id,school_id,grade_level\n000123,101,5\n", encoding="utf-8")
    (tmp_path / "contacts.csv").write_text(
        "contact_id,student_id,school_id,staff_id,contact_at,channel,mode,initiator,purpose,"
        "outcome\nK1,000123,101,T1,2025-10-01 10:00,phone,personal,school,missing_work,"
        "reached\n", encoding="utf-8")
    dataset = clean_folder(tmp_path)
    assert dataset.contacts.loc[0, "student_id"] == "000123"
    assert str(dataset.contacts.loc[0, "contact_at"]) == "2025-10-01 10:00:00-06:00"


def test_cli_clean_names_a_missing_folder(tmp_path):
    done = subprocess.run([sys.executable, "-m", "engagement.cli", "clean",
                           str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "is not a folder" in done.stderr and "Traceback" not in done.stderr


def test_cli_clean_on_sample(tmp_path):
    done = subprocess.run([sys.executable, "-m", "engagement.cli", "clean", str(SAMPLE),
                           "--out", str(tmp_path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "| contact_log_101.xlsx | contacts | 1,555 |" in done.stdout
    assert (tmp_path / "results.parquet").exists()
    assert pd.read_parquet(tmp_path / "results.parquet").shape[0] > 300_000
