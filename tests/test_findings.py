"""engagement check: claims recomputed and judged; the sample's findings file has claims
that hold, one that does not, and one that cannot be estimated."""

import subprocess
import sys

import pytest

from engagement.findings import Claim, check, judge, read_findings
from tests.conftest import SAMPLE

EXPECTED = {"calls-home-division": "reproduced", "calls-home-school-102": "reproduced",
            "newsletter-21-points": "not reproduced", "bulletins-no-change": "reproduced",
            "personal-invitations": "reproduced", "calls-home-grade-7": "not estimable"}


def test_sample_claims_are_judged_correctly(sample_results, sample_dataset):
    table = check(read_findings(SAMPLE / "findings.toml"), sample_results,
                  sample_dataset.tables)
    assert dict(zip(table["id"], table["verdict"], strict=True)) == EXPECTED
    naive = table.set_index("id").loc["newsletter-21-points"]
    assert "matches the naive before/after (21.9)" in naive["why"]
    assert table.set_index("id").loc["calls-home-division", "n"] == 871


def test_check_exits_non_zero_when_a_claim_is_not_reproduced(tmp_path):
    done = subprocess.run([sys.executable, "-m", "engagement.cli", "check",
                           str(SAMPLE / "findings.toml"), "--data", str(SAMPLE), "--quiet",
                           "--out", str(tmp_path / "verdicts.csv")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr
    assert "NOT REPRODUCED  newsletter-21-points" in done.stdout
    assert "4 reproduced, 1 not reproduced, 1 not estimable" in done.stdout
    assert (tmp_path / "verdicts.csv").exists()


def _claim(statement, value, tolerance=0.0):
    return Claim(id="c", text="t", what="att_personal_contact", statement=statement,
                 value=value, tolerance=tolerance)


@pytest.mark.parametrize(("statement", "value", "tolerance", "found", "verdict"), [
    ("value", 12, 0, (11, 9, 13), "reproduced"),
    ("value", 15, 0, (11, 9, 13), "not reproduced"),
    ("value", 15, 2, (11, 9, 13), "reproduced"),
    ("at_least", 10, 0, (11, 9, 13), "reproduced"),
    ("at_least", 10, 0, (9, 7, 11), "not reproduced"),
    ("at_least", 10, 1, (9, 7, 11), "reproduced"),
    ("at_least", 2, 0, (3, -1, 7), "not reproduced"),  # a change claimed, none shown
    ("at_most", 5, 0, (3, 1, 5), "reproduced"),
    ("direction", "positive", 0, (3, 1, 5), "reproduced"),
    ("direction", "positive", 0, (3, -1, 5), "not reproduced"),
    ("direction", "negative", 0, (-3, -5, -1), "reproduced"),
    ("direction", "none", 0, (0.2, -1, 1.4), "reproduced"),
    ("direction", "none", 1, (0.2, -1, 1.4), "not reproduced"),
    ("direction", "none", 0, (2, 1, 3), "not reproduced"),
])
def test_judge_rules(statement, value, tolerance, found, verdict):
    estimate, low, high = found
    got, why = judge(_claim(statement, value, tolerance),
                     {"estimate": estimate, "ci_low": low, "ci_high": high, "n": 100})
    assert got == verdict and why


def test_a_reason_means_not_estimable():
    assert judge(_claim("value", 1), {"reason": "too few"}) == ("not estimable", "too few")


@pytest.mark.parametrize(("body", "message"), [
    ('[[claim]]\nid = "a"\ntext = "t"\nestimand = "att_personal_contact"\nat_lest = 3\n',
     "claim 'a': unknown key(s) at_lest"),
    ('[[claim]]\nid = "a"\ntext = "t"\nestimand = "att_personal_contact"\n'
     'at_least = 3\nvalue = 4\n', "exactly one of value, at_least, at_most, direction"),
    ('[[claim]]\nid = "a"\ntext = "t"\nestimand = "calls"\nvalue = 4\n', "found 'calls'"),
    ('[[claim]]\nid = "a"\ntext = "t"\nmetric = "conference_attendance"\nvalue = 4\n',
     "needs invitation"),
    ('[[claim]]\nid = "a"\ntext = "t"\nestimand = "att_broadcast"\ndirection = "up"\n',
     "direction must be"),
    ("title = 'nothing'\n", "has no [[claim]] tables"),
    ("[[claim]\n", "is not valid TOML"),
])
def test_bad_findings_files_say_what_to_fix(tmp_path, body, message):
    path = tmp_path / "findings.toml"
    path.write_text(body, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "engagement.cli", "check", str(path),
                           "--data", str(SAMPLE)], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_completion_metric_is_the_mean_of_students_rates(sample_results, sample_dataset):
    from engagement.findings import recompute
    from engagement.metrics import result_flags

    claim = Claim(id="c", text="t", what="completion", scope="101", grade=3,
                  statement="at_least", value=50)
    found = recompute(claim, sample_results, sample_dataset.tables)
    t = sample_dataset.tables
    flags = result_flags(t["results"], t["assignments"])
    rates = flags[flags["counted"]].groupby("student_id", observed=True)["completed"].mean()
    s = t["students"]
    mine = s[(s["school_id"] == "101") & (s["grade_level"] == 3)]["student_id"]
    assert found["n"] == len(mine)
    assert found["estimate"] == pytest.approx(100 * rates[rates.index.isin(mine)].mean())
    assert found["ci_low"] < found["estimate"] < found["ci_high"]
