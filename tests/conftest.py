from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
REAL = ROOT.parent / "shared" / "real"


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
