"""The run record: what went in (every file with its SHA-256 and rows), with which
versions and settings, so a rerun on the same files gives the same numbers and a
changed input is caught and named.

Every folder the ``engagement`` command writes carries ``manifest.json``;
``engagement verify FOLDER`` re-hashes the inputs it names.
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pyarrow.parquet as pq

from engagement.privacy import looks_like_a_key

NAME = "manifest.json"
PACKAGES = ("engagement", "pandas", "numpy", "scipy", "pyarrow", "pandera", "matplotlib",
            "openpyxl", "nbclient", "nbconvert")


def input_files(folder: str | Path, private: list[str | Path] = ()) -> list[dict]:
    """Every file under ``folder`` (not hidden, not a manifest) with its size and SHA-256.
    A secret key (the key file, or a file that looks like one) is left out: its hash
    would let anyone test guesses of the key."""
    folder = Path(folder)
    private = {Path(p).resolve() for p in private}
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if path.name == NAME or any(part.startswith(".") for part in relative.parts):
            continue
        if path.resolve() in private or looks_like_a_key(path):
            continue
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        out.append({"file": relative.as_posix(), "bytes": path.stat().st_size,
                    "sha256": digest})
    return out


def _versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def build(data_dir: str | Path, *, command: str, parameters: dict, report=None,
          private: list[str | Path] = ()) -> dict:
    """The manifest of one run over ``data_dir``: every input file with its rows (from
    the cleaning ``report``, or a Parquet file's own count), the settings and versions.
    A cleaned folder's own manifest is carried along as ``cleaned_from``."""
    files = input_files(data_dir, private)
    rows = rows_read(report) if report is not None else {}
    for entry in files:
        if entry["file"].endswith(".parquet"):
            rows[entry["file"]] = {entry["file"].removesuffix(".parquet"): pq.ParquetFile(
                Path(data_dir) / entry["file"]).metadata.num_rows}
        if entry["file"] in rows:
            entry["rows"] = rows[entry["file"]]
    manifest = {"command": command,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "inputs": {"folder": str(Path(data_dir).resolve()), "files": files},
                "parameters": parameters, "python": platform.python_version(),
                "packages": _versions()}
    if (Path(data_dir) / NAME).is_file():
        manifest["cleaned_from"] = read(data_dir)["inputs"]
    return manifest


def is_results(folder: str | Path) -> bool:
    """A folder ``engagement analyze`` wrote (effects.csv and its run record)."""
    folder = Path(folder)
    return (folder / "effects.csv").is_file() and (folder / NAME).is_file()


def write(out_dir: str | Path, manifest: dict) -> Path:
    path = Path(out_dir) / NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read(folder: str | Path) -> dict:
    path = Path(folder) / NAME
    if not path.is_file():
        raise FileNotFoundError(f"{folder} has no {NAME}: it was not written by engagement, "
                                "or was written before run records existed")
    return json.loads(path.read_text(encoding="utf-8"))


def changes(inputs: dict, data_dir: str | Path | None = None) -> list[str]:
    """How the files of a manifest's ``inputs`` differ now from when it was written, one
    sentence per file; empty when every file is byte-for-byte the same."""
    folder = Path(data_dir or inputs["folder"])
    if not folder.is_dir():
        return [f"the input folder {folder} no longer exists"]
    then = {f["file"]: f for f in inputs["files"]}
    now = {f["file"]: f for f in input_files(folder)}
    out = [f"{name}: changed (SHA-256 differs; {then[name]['bytes']:,} bytes then, "
           f"{now[name]['bytes']:,} now)" for name in sorted(then.keys() & now.keys())
           if then[name]["sha256"] != now[name]["sha256"]]
    out += [f"{name}: missing" for name in sorted(then.keys() - now.keys())]
    out += [f"{name}: new" for name in sorted(now.keys() - then.keys())]
    return out


def rows_read(report) -> dict[str, dict[str, int]]:
    """Rows read per input file and table, from a cleaning report (a Canvas gradebook
    feeds two tables)."""
    rows: dict[str, dict[str, int]] = {}
    for account in report.accounts:
        rows.setdefault(account.file, {})[account.table] = account.rows_in
    return rows
