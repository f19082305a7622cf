"""The effect estimates on a Dask cluster equal the single-machine ones, byte for byte."""

import subprocess
import sys

import pytest

from tests.conftest import SAMPLE

pytest.importorskip("dask.distributed")


def _engagement(*args):
    return subprocess.run([sys.executable, "-m", "engagement.cli", *map(str, args)],
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    assert _engagement("clean", SAMPLE, "--out", out, "--quiet").returncode == 0
    return out


def test_dask_on_a_running_cluster_gives_the_same_effects(cleaned, tmp_path):
    from dask.distributed import LocalCluster

    assert _engagement("analyze", cleaned, "--out", tmp_path / "pandas",
                       "--quiet").returncode == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        done = _engagement("analyze", cleaned, "--out", tmp_path / "dask", "--engine", "dask",
                           "--scheduler", cluster.scheduler_address)
    assert done.returncode == 0, done.stderr
    assert "att_personal_contact: +" in done.stdout
    for name in ("effects.csv", "effects_by_school.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "pandas" / name
                                                           ).read_bytes(), name


def test_dask_on_a_local_cluster_from_python(cleaned, sample_results):
    from engagement.distributed import effects
    from engagement.results import effect_frames

    table = effect_frames(effects(cleaned, partitions=3))["effects"]
    assert table.to_csv(index=False) == sample_results.effects.to_csv(index=False)


def test_dask_needs_a_cleaned_folder():
    done = _engagement("analyze", SAMPLE, "--out", "unused", "--engine", "dask")
    assert done.returncode == 2
    assert "Clean it first" in done.stderr and "Traceback" not in done.stderr
