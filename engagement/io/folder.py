"""Read a whole folder of exports: detect each file's format, call its reader."""

from __future__ import annotations

import csv
import dataclasses
import fnmatch
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engagement.io.canvas import read_canvas_gradebook
from engagement.io.edfi import read_edfi
from engagement.io.generic import UnknownTableError, read_generic
from engagement.io.oneroster import read_oneroster
from engagement.io.powerschool import read_powerschool_log, read_powerschool_scores
from engagement.io.text import (
    ReadError,
    Reading,
    decode_bytes,
    file_column,
    sniff_delimiter,
)

#: Extensions read as tables (anything else is skipped).
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
_SKIP_NAMES = ("ground_truth.json", "engagement.toml")
_HEAD_BYTES = 65536


def _skipped(path: Path) -> bool:
    name = path.name.lower()
    return (name.startswith(("readme", ".", "~$")) or name.endswith((".md", ".parquet"))
            or name in _SKIP_NAMES)


def _head_lines(path: Path, count: int = 3) -> list[list[str]]:
    """The first ``count`` lines of a delimited file, split into stripped cells."""
    raw = path.read_bytes()[:_HEAD_BYTES]
    try:
        text, _ = decode_bytes(raw, name=path.name)
    except ReadError:
        text, _ = decode_bytes(path.read_bytes(), name=path.name)
    lines = text.splitlines()[:count]
    if not lines:
        return []
    sep = sniff_delimiter(lines[0])
    return [[c.strip() for c in row] for row in csv.reader(lines, delimiter=sep)]


def sniff_format(path: Path) -> str:
    """The reader a file needs: canvas, powerschool-log, powerschool-scores, edfi, generic."""
    if path.suffix.lower() == ".json":
        return "edfi"
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return "generic"
    lines = _head_lines(path)
    if not lines:
        return "generic"
    header = {c.lower() for c in lines[0]}
    firsts = [row[0].lower() for row in lines[1:3] if row]
    if "points possible" in firsts or (
            lines[0] and lines[0][0].lower() == "student"
            and {"id", "sis user id", "section"} <= header):
        return "canvas"
    if {"logtypeid", "entry_date"} <= header:
        return "powerschool-log"
    if "assignmentsectionid" in header and header & {"studentsdcid", "scorepoints",
                                                     "scorepercent", "ismissing"}:
        return "powerschool-scores"
    if header & {"studentuniqueid", "gradebookentryidentifier",
                 "studentreference.studentuniqueid",
                 "gradebookentryreference.gradebookentryidentifier"}:
        return "edfi"
    return "generic"


def _is_manifest(path: Path) -> bool:
    if path.name.lower() != "manifest.csv":
        return False
    lines = _head_lines(path, 1)
    return bool(lines) and {"propertyname", "value"} <= {c.lower() for c in lines[0]}


def _mapping_for(relative: str, config_mapping: Mapping[str, Any]) -> dict[str, str]:
    """The ``[mapping]`` entries that apply to a file (by relative path, name or glob).

    Top-level string values (``raw header = "canonical"``) apply to every file.
    """
    name = relative.rsplit("/", 1)[-1]
    out: dict[str, str] = {k: v for k, v in config_mapping.items() if not isinstance(v, Mapping)}
    for pattern, table in config_mapping.items():
        if isinstance(table, Mapping) and (
                fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(name, pattern)):
            out.update(table)
    return out


def _relocate(reading: Reading, prefix: str) -> Reading:
    """Name a bundle file by its path within the folder ("oneroster/results.csv")."""
    if not prefix:
        return reading
    file = f"{prefix}/{reading.file}"
    frame = reading.frame.assign(source_file=file_column(file, reading.frame.index))
    return dataclasses.replace(reading, file=file, frame=frame)


def read_folder(path: str | Path, *, config: Mapping[str, Any] | None = None,
                progress: bool = False) -> tuple[list[Reading], list[str]]:
    """Read every export in a folder (recursively, in sorted path order).

    Parameters
    ----------
    path : str or Path
        The folder.
    config : mapping, optional
        Parsed engagement.toml: ``mapping`` (``{file name or glob: {raw header:
        canonical}}``, or top-level ``{raw header: canonical}`` for every file)
        for generic files; ``powerschool`` (``contact_log_types``, ``codes``
        ``{code: [channel, outcome]}``) for PowerSchool logs.

    Returns
    -------
    (readings, skipped)
        ``readings``: every Reading, ``file`` = path relative to the folder.
        ``skipped``: relative paths not read: README*, *.md, ground_truth.json,
        engagement.toml, *.parquet, other extensions, and table files whose
        headers fit no canonical table (pass a mapping to read them).

    Raises
    ------
    ReadError
        The folder holds no file engagement can read, or a file is broken.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ReadError(f"{folder} is not a folder. Pass the folder that holds the exports.")
    config = config or {}
    mapping_config = config.get("mapping") or {}
    ps = config.get("powerschool") or {}
    codes = ps.get("codes")
    codes = None if codes is None else {k: tuple(v) for k, v in codes.items()}
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    bundles = sorted({p.parent for p in files if _is_manifest(p)})
    readings: list[Reading] = []
    skipped: list[str] = []
    done_bundles: set[Path] = set()
    from tqdm.auto import tqdm

    for file in tqdm(files, desc="reading", unit="file", disable=not progress, leave=False):
        relative = file.relative_to(folder).as_posix()
        if file.parent in bundles:
            if file.parent not in done_bundles:
                done_bundles.add(file.parent)
                prefix = file.parent.relative_to(folder).as_posix()
                readings += [_relocate(r, "" if prefix == "." else prefix)
                             for r in read_oneroster(file.parent)]
            continue
        suffix = file.suffix.lower()
        if _skipped(file) or suffix not in TABLE_SUFFIXES + (".json",):
            skipped.append(relative)
            continue
        kind = sniff_format(file)
        if kind == "edfi":
            readings += read_edfi(file, name=relative)
        elif kind == "canvas":
            readings += read_canvas_gradebook(file, name=relative)
        elif kind == "powerschool-log":
            readings += read_powerschool_log(
                file, name=relative, codes=codes,
                contact_log_types=ps.get("contact_log_types"))
        elif kind == "powerschool-scores":
            readings += read_powerschool_scores(file, name=relative)
        else:
            try:
                readings += read_generic(file, name=relative,
                                         mapping=_mapping_for(relative, mapping_config))
            except UnknownTableError as err:
                skipped.append(str(err))  # the reason and the fix, for the report
    if not readings:
        raise ReadError(f"{folder} holds no file engagement can read: expected CSV/XLSX "
                        "exports, a OneRoster bundle (manifest.csv), a Canvas gradebook or "
                        "Ed-Fi JSON.")
    return readings, skipped
