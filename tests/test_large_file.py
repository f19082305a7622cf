"""A results export at division scale (about 1 GB of CSV), generated on the fly."""

import numpy as np
import pandas as pd
import pytest

from engagement.dataset import clean_folder


@pytest.mark.slow
def test_a_one_gigabyte_results_export_is_accounted_for(tmp_path):
    rng = np.random.default_rng(0)
    n_assignments, n = 20_000, 12_000_000
    ids = "A" + pd.Series(np.arange(n_assignments)).astype("str").str.zfill(6)
    pd.DataFrame({"assignment_id": ids, "class_id": "C1", "school_id": "101",
                  "due_at": "2025-10-03 23:59", "points_possible": "20"}).to_csv(
        tmp_path / "assignments.csv", index=False)
    with (tmp_path / "results.csv").open("w", encoding="utf-8") as out:
        out.write("student_id,assignment_id,status,submitted_at,score,comment\n")
        for start in range(0, n, 2_000_000):  # chunks of rows, written vectorised
            k = min(2_000_000, n - start)
            pd.DataFrame({
                "student_id": pd.Series(rng.integers(1, 999_999, k)).astype("str").str.zfill(6),
                "assignment_id": ids.to_numpy()[rng.integers(0, n_assignments, k)],
                "status": rng.choice(["submitted", "not submitted", "exempt", "late"], k),
                "submitted_at": rng.choice(["2025-10-02 10:15:00", "2025-10-05 09:00:00", ""], k),
                "score": rng.choice(["17", "8,5", "", "EX", "0"], k),
                "comment": "Handed in on paper; see the note in the class binder.",
            }).to_csv(out, index=False, header=False)
    assert (tmp_path / "results.csv").stat().st_size > 0.9e9
    dataset = clean_folder(tmp_path)
    for account in dataset.report.accounts:
        assert account.balanced
    results = next(a for a in dataset.report.accounts if a.file == "results.csv")
    assert results.rows_in == n
    assert results.rows_kept + results.rows_duplicate + results.rows_quarantined == n
