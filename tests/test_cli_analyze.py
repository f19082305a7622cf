import subprocess
import sys

import pandas as pd

from tests.conftest import SAMPLE


def test_analyze_writes_effects_and_summaries(tmp_path):
    done = subprocess.run([sys.executable, "-m", "engagement.cli", "analyze", str(SAMPLE),
                           "--out", str(tmp_path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "att_personal_contact: +" in done.stdout and "Traceback" not in done.stderr
    effects = pd.read_csv(tmp_path / "effects.csv")
    assert {"estimate", "ci_low", "ci_high", "ci_level", "n_treated", "n_comparison",
            "n_clusters", "method", "caveat"} <= set(effects.columns)
    for name in ("completion_by_week.csv", "assignment_summary.csv", "reachability.csv"):
        table = pd.read_csv(tmp_path / name)
        assert "suppressed" in table.columns and len(table) > 0
    reach = pd.read_csv(tmp_path / "reachability.csv")
    small = reach["n_families"] < 10
    assert reach.loc[small, "share_reached"].isna().all()
