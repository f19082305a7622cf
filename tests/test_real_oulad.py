"""The Open University Learning Analytics Dataset (real, anonymised) mapped to a
generic gradebook: every row accounted for, and the published late share found.

PROVENANCE.md (shared/real/oulad): 173,912 submissions; 171,047 with a known deadline,
of which 49,318 (28.83%) were handed in after it.
"""

import pandas as pd
import pytest

from engagement.dataset import clean_folder
from tests.conftest import REAL

OULAD = REAL / "oulad"
pytestmark = pytest.mark.skipif(not OULAD.is_dir(), reason=f"{OULAD} not present "
                                "(shared/real is not in this checkout)")


def _start(presentation: pd.Series) -> pd.Series:
    """Module start: 'B' presentations begin in February, 'J' in October."""
    month = presentation.str[-1].map({"B": "02", "J": "10"})
    return pd.to_datetime(presentation.str[:4] + "-" + month + "-01")


def _on(start: pd.Series, days: pd.Series) -> pd.Series:
    day = start + pd.to_timedelta(pd.to_numeric(days), unit="D")
    return day.dt.strftime("%Y-%m-%d")


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oulad")
    read = dict(dtype=str, keep_default_na=False)
    assessments = pd.read_csv(OULAD / "assessments.csv", **read)
    submissions = pd.concat([pd.read_csv(OULAD / f"studentAssessment_part{i}.csv", **read)
                             for i in (1, 2)], ignore_index=True)
    start = _start(assessments["code_presentation"])
    pd.DataFrame({
        "assignment_id": assessments["id_assessment"],
        "class_id": assessments["code_module"] + "-" + assessments["code_presentation"],
        "school_id": assessments["code_module"], "title": assessments["assessment_type"],
        "due_at": _on(start, assessments["date"]).where(assessments["date"] != "", ""),
        "points_possible": "100",
    }).to_csv(folder / "assignments.csv", index=False)
    start_of = pd.Series(start.to_numpy(), index=assessments["id_assessment"])
    pd.DataFrame({
        "student_id": submissions["id_student"], "assignment_id": submissions["id_assessment"],
        "submitted_at": _on(submissions["id_assessment"].map(start_of).reset_index(drop=True),
                            submissions["date_submitted"]),
        "score": submissions["score"],
    }).to_csv(folder / "results.csv", index=False)
    return clean_folder(folder), len(submissions)


def test_every_submission_is_accounted_for(gradebook):
    dataset, n = gradebook
    results = next(a for a in dataset.report.accounts if a.file == "results.csv")
    assert results.rows_in == n == 173_912
    assert results.balanced and results.rows_kept == n


def test_published_late_share_is_found(gradebook):
    dataset, _ = gradebook
    due = dataset.assignments.set_index("assignment_id")["due_at"]
    with_deadline = dataset.results[dataset.results["assignment_id"].map(due).notna()]
    assert len(with_deadline) == 171_047
    assert (with_deadline["status"] == "late").sum() == 49_318
