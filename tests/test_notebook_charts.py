"""Every notebook cell that draws a chart stores the chart. nbval re-runs the notebooks
and compares each output, so a chart that a fresh kernel no longer shows (its
display_data output gone) fails there; this test fails when the stored notebook itself
has lost one, which nbval, comparing nothing with nothing, would not see."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_chart_cell_stores_its_image(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    blind = [i for i, c in enumerate(cells) if c["cell_type"] == "code"
             and "plots." in "".join(c["source"])
             and not any(k.startswith("image/") for o in c.get("outputs", [])
                         for k in o.get("data", {}))]
    assert not blind, f"{path.name}: chart cells {blind} store no image"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_tables_say_estimands_in_words_and_no_p_value_is_zero(path):
    """What the notebooks show a reader (nbval holds the live run to these outputs): no
    estimand by its code name, no p-value printed as 0."""
    import re

    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    shown = ["".join(o.get("data", {}).get("text/html", "")) for c in cells
             if c["cell_type"] == "code" and "Table(" in "".join(c["source"])
             for o in c.get("outputs", [])]
    for html in shown:
        assert not re.search(r"\b(att_[a-z_]+|naive_before_after_[a-z]+|pretrend_[a-z]+_contact"
                             r"|broadcast_(sis_bulletin|newsletter|social_media))\b", html), html
        header = re.findall(r"<th>(.*?)</th>", html)
        for column in (i for i, name in enumerate(header) if name.endswith("p")):
            values = [re.findall(r"<td>(.*?)</td>", row)[column]
                      for row in re.findall(r"<tr>(.*?)</tr>", html)[1:]]
            assert "0" not in values and "0.000" not in values, values


def test_a_table_shows_estimands_by_label_and_small_p_values_as_less_than():
    import pandas as pd

    from engagement.display import Table

    frame = pd.DataFrame({"estimand": ["att_personal_attempt", "pretrend_written_contact",
                                       "broadcast_sis_bulletin"],
                          "p_value": [1e-9, 0.0231, float("nan")]})
    rows = Table(frame, {"estimand": "what", "p_value": "p"}).rows()
    assert rows == [["Call or meeting attempted", "< 0.001"],
                    ["Parallel before? (written contact)", "0.023"],
                    ["Broadcast: SIS bulletin", ""]]
