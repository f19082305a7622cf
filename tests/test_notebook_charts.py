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
