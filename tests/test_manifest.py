"""The run record: inputs hashed, settings and versions kept; a one-byte change is caught
and named; a rerun on the same files gives the same numbers."""

import json
import shutil
import subprocess
import sys

from tests.conftest import SAMPLE


def _engagement(*args):
    return subprocess.run([sys.executable, "-m", "engagement.cli", *map(str, args)],
                          capture_output=True, text=True, check=False)


def test_manifest_names_a_one_byte_change_and_reruns_give_the_same_numbers(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE, raw)
    assert _engagement("clean", raw, "--out", tmp_path / "clean", "--quiet").returncode == 0
    for run in ("first", "second"):
        done = _engagement("analyze", tmp_path / "clean", "--out", tmp_path / run, "--quiet")
        assert done.returncode == 0, done.stderr
    for name in ("effects.csv", "event_study.csv", "invitations.csv"):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name
                                                            ).read_bytes()
    record = json.loads((tmp_path / "first" / "manifest.json").read_text())
    assert record["parameters"]["seed"] == 0 and record["parameters"]["k"] == 10
    assert {"pandas", "numpy", "engagement"} <= set(record["packages"])
    raw_files = {f["file"]: f for f in record["cleaned_from"]["files"]}
    assert raw_files["powerschool_log.csv"]["rows"] == {"contacts": 2948}
    assert len(raw_files["oneroster/results.csv"]["sha256"]) == 64

    assert _engagement("verify", tmp_path / "first").returncode == 0
    log = raw / "contact_log_101.xlsx"
    data = bytearray(log.read_bytes())
    data[-1] ^= 1  # one byte
    log.write_bytes(bytes(data))
    done = _engagement("verify", tmp_path / "first")
    assert done.returncode == 1
    assert "(raw) contact_log_101.xlsx: changed" in done.stdout
    assert "powerschool_log.csv" not in done.stdout


def test_verify_without_a_record_says_so(tmp_path):
    done = _engagement("verify", tmp_path)
    assert done.returncode == 2 and "has no manifest.json" in done.stderr
