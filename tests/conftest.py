import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
REAL = ROOT.parent / "shared" / "real"
WORLDS = ROOT.parent / "shared" / "worlds" / "division_sim.py"


def load_module(name: str, path):
    """A Python file that is not part of a package (a benchmark, the shared simulator)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def division_sim():
    """The division simulator we did not write (``../shared/worlds``)."""
    if not WORLDS.exists():
        pytest.skip("../shared/worlds is not here (a clone without the shared folder)")
    return load_module("division_sim", WORLDS)


@pytest.fixture(scope="session")
def small_division():
    """A small, fast simulation (300 students in 3 schools) shared by the tests."""
    from engagement.config import SampleConfig
    from engagement.sample import simulate

    return simulate(SampleConfig(students=300, students_per_school=100, seed=7))


@pytest.fixture(scope="session")
def sample_dataset():
    """The sample division's raw exports, cleaned once for the session."""
    from engagement.dataset import clean_folder

    return clean_folder(SAMPLE)


@pytest.fixture(scope="session")
def sample_results(sample_dataset):
    """Every analysis of the sample division, as the report and the notebooks see it."""
    from engagement import analyze

    return analyze(sample_dataset)
