"""The seeded sample division: a simulation with known effects, and its messy exports."""

from __future__ import annotations

from pathlib import Path

from engagement.config import SampleConfig
from engagement.sample.exports import write_exports, write_ground_truth
from engagement.sample.simulate import Division, canonical_tables, simulate

__all__ = ["Division", "canonical_tables", "simulate", "write_sample"]

_README = Path(__file__).with_name("DATA_README.md")
_FINDINGS = Path(__file__).with_name("findings.toml")


def write_sample(out_dir: str | Path, config: SampleConfig | None = None) -> Division:
    """Simulate the division and write its raw exports, ``ground_truth.json``, a data
    dictionary (``README.md``) and claims to check (``findings.toml``) into ``out_dir``."""
    out = Path(out_dir)
    division = simulate(config)
    defects = write_exports(division, out)
    write_ground_truth(division, defects, out)
    (out / "README.md").write_bytes(_README.read_bytes())
    # Claims about this division, some that hold and some that do not (engagement check).
    (out / "findings.toml").write_bytes(_FINDINGS.read_bytes())
    return division
