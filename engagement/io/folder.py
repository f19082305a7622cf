"""Read a whole folder of exports: detect each file's format, call its reader."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engagement.io.format import Bundle, head_rows, is_workbook, sheets_of
from engagement.io.generic import TABLE_SUFFIXES
from engagement.io.registry import bundle_of, candidates
from engagement.io.text import ReadError, Reading, file_column
from engagement.privacy import looks_like_a_key, safe_message

_SKIP_NAMES = ("ground_truth.json", "engagement.toml")


def _skipped(path: Path) -> bool:
    name = path.name.lower()
    return (name.startswith(("readme", ".", "~$"))
            or name.endswith((".md", ".parquet", ".toml"))
            or name in _SKIP_NAMES)


def _relocate(reading: Reading, prefix: str) -> Reading:
    """Name a bundle file by its path within the folder ("oneroster/results.csv")."""
    if not prefix:
        return reading
    file = f"{prefix}/{reading.file}"
    frame = reading.frame.assign(source_file=file_column(file, reading.frame.index))
    return dataclasses.replace(reading, file=file, frame=frame)


@dataclass
class FileRead:
    """What became of one file of a folder: the format that read it (and how sure it
    was, and the next most likely), its readings, or why nothing was read."""

    file: str
    format: str = ""
    confidence: float = 0.0
    runner_up: str = ""
    readings: list[Reading] = field(default_factory=list)
    reason: str = ""
    headers: list[str] = field(default_factory=list)  # of a file no table fits


def read_files(path: str | Path, *, config: Mapping[str, Any] | None = None,
               progress: bool = False, private: list[str | Path] = ()) -> list[FileRead]:
    """Every file of a folder (recursively, in sorted path order), each read on its own:
    what goes wrong in one file is recorded against it and the rest are still read. A
    OneRoster bundle (a folder with manifest.csv) is one entry, at its manifest.

    ``private`` files (the key file) and files that look like a secret key are never
    opened: named in the report, never quoted."""
    folder = Path(path)
    if not folder.is_dir():
        raise ReadError(f"{folder} is not a folder. Pass the folder that holds the exports.")
    config = config or {}
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    names: dict[Path, set[str]] = {}
    for p in files:
        names.setdefault(p.parent, set()).add(p.name.lower())
    bundles = {d: b for d, n in names.items() if (b := bundle_of(d, n))}
    read_bundles: set[Path] = set()
    inside = folder.resolve()
    private = {Path(p).resolve() for p in private}
    out: list[FileRead] = []
    from tqdm.auto import tqdm

    for file in tqdm(files, desc="reading", unit="file", disable=not progress, leave=False):
        relative = file.relative_to(folder).as_posix()
        if not file.resolve().is_relative_to(inside):
            out.append(FileRead(relative, reason=f"{relative}: a link to a file outside the "
                                                 "folder; not followed"))
        elif file.resolve() in private or looks_like_a_key(file):
            out.append(FileRead(relative, reason=f"{relative}: looks like a secret key, so "
                                                 "it was not opened; keep keys outside the "
                                                 "data folder"))
        elif file.parent in bundles:
            bundle = bundles[file.parent]
            if file.parent not in read_bundles:  # the whole bundle, at its first file
                read_bundles.add(file.parent)
                prefix = file.parent.relative_to(folder).as_posix()
                out.append(_guarded(FileRead(relative, bundle.name, 1.0), _read_bundle,
                                    bundle, file.parent, "" if prefix == "." else prefix))
            if file.stem.lower() not in bundle.files:
                out.append(FileRead(relative))  # a bundle file engagement does not use
        elif _skipped(file):
            out.append(FileRead(relative))  # documentation: listed by name alone
        elif file.suffix.lower() == ".zip":
            out += _read_zip(file, relative, config)
        elif file.suffix.lower() in TABLE_SUFFIXES and is_workbook(file):
            out += _read_workbook(file, relative, config)
        else:
            out.append(_read_file(file, relative, config))
    return out


#: What a zip of exports may unpack to: more is refused (a zip bomb, or not exports).
ZIP_MEMBERS, ZIP_BYTES, ZIP_RATIO = 10_000, 8 * 2**30, 200


def _read_zip(file: Path, relative: str, config: Mapping[str, Any]) -> list[FileRead]:
    """The exports in a zip, read as if unpacked beside it ("exports.zip/users.csv").
    Unpacked into a private temporary folder, and only after every member's path stays
    inside it and the sizes are those of exports."""
    import tempfile
    import zipfile

    try:
        with zipfile.ZipFile(file) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            problem = _zip_problem(members)
            if problem:
                return [FileRead(relative, reason=f"{relative}: not unpacked: {problem}")]
            with tempfile.TemporaryDirectory(prefix="engagement-zip-") as temp:
                archive.extractall(temp, members)
                inner = read_files(temp, config=config)
    except (zipfile.BadZipFile, OSError) as err:
        return [_failed(FileRead(relative), err)]
    out = []
    for entry in inner:
        name = f"{relative}/{entry.file}"
        readings = [_relocate(r, relative) for r in entry.readings]
        reason = entry.reason.replace(entry.file, name, 1) if entry.reason else ""
        out.append(dataclasses.replace(entry, file=name, readings=readings, reason=reason))
    return out


def _zip_problem(members) -> str:
    names = [m.filename for m in members]
    escaping = [n for n in names if n.startswith(("/", "\\")) or ".." in Path(n).parts
                or ":" in n.split("/")[0]]
    if escaping:
        return f"{escaping[0]!r} would be written outside the folder"
    if len(members) > ZIP_MEMBERS:
        return f"{len(members):,} files (more than {ZIP_MEMBERS:,})"
    size = sum(m.file_size for m in members)
    packed = max(sum(m.compress_size for m in members), 1)
    if size > ZIP_BYTES or size / packed > ZIP_RATIO:
        return (f"{size / 2**20:,.0f} MB unpacked from {packed / 2**20:,.1f} MB: larger "
                "than exports are; unpack it yourself if it is what you meant")
    return ""


def _read_workbook(file: Path, relative: str, config: Mapping[str, Any]) -> list[FileRead]:
    """Every sheet of a workbook on its own, named "file [sheet]" when there are several
    (an instructions sheet beside the table is passed over with its reason)."""
    try:
        sheets = sheets_of(file)
    except Exception as err:  # noqa: BLE001 - encrypted, truncated, not a workbook
        return [_failed(FileRead(relative), err)]
    if len(sheets) == 1:
        return [_read_file(file, relative, config)]
    out = []
    for sheet in sheets:
        name = f"{relative} [{sheet}]"
        empty = not _guarded_head(file, sheet)
        out.append(FileRead(name) if empty else _read_file(file, name, config, sheet))
    return out


def _guarded_head(file: Path, sheet: str) -> bool:
    """Whether a sheet holds anything (an unreadable one is left to its reader to say)."""
    try:
        return bool(head_rows(file, sheet))
    except Exception:  # noqa: BLE001
        return True


def read_folder(path: str | Path, *, config: Mapping[str, Any] | None = None,
                progress: bool = False, private: list[str | Path] = ()
                ) -> tuple[list[Reading], list[str]]:
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
        ``skipped``: the files not read, each as ``file: reason`` (README*, *.md,
        *.toml, ground_truth.json and *.parquet by name alone).

    Raises
    ------
    ReadError
        The folder holds no file engagement can read (every file's reason listed).
    """
    read = read_files(path, config=config, progress=progress, private=private)
    readings = [r for f in read for r in f.readings]
    skipped = [f.reason or f.file for f in read if not f.readings]
    if not readings:
        raise ReadError(f"{Path(path)} holds no file engagement can read: expected CSV/XLSX "
                        "exports, a OneRoster bundle (manifest.csv), a Canvas gradebook or "
                        "Ed-Fi JSON. Why each file was passed over:\n"
                        + "\n".join(f"- {s}" for s in skipped))
    return readings, skipped


def _read_file(file: Path, relative: str, config: Mapping[str, Any],
               sheet: str | None = None) -> FileRead:
    try:
        found = candidates(file, sheet)
    except Exception as err:  # noqa: BLE001 - an unreadable head costs this file only
        return _failed(FileRead(relative), err)
    if not found:
        return FileRead(relative, reason=(
            f"{relative}: not a kind of file engagement reads ({file.suffix or 'no extension'})"
            "; exports are CSV, TXT, TSV, XLSX, XLS, ODS or Ed-Fi JSON"))
    (chosen, confidence), *others = found
    entry = FileRead(relative, chosen.name, confidence, others[0][0].name if others else "")
    entry = _guarded(entry, chosen.read, file, relative, config, sheet)
    if not entry.readings and not entry.reason:
        entry.reason = (f"{relative}: read as {chosen.description}, but it holds nothing "
                        "engagement uses")
    return entry


def _read_bundle(bundle: Bundle, folder: Path, prefix: str) -> list[Reading]:
    return [_relocate(r, prefix) for r in bundle.read(folder)]


def _guarded(entry: FileRead, read, *args) -> FileRead:
    """``entry`` with ``read(*args)``'s readings, or with the reason it failed."""
    try:
        entry.readings = read(*args)
    except Exception as err:  # noqa: BLE001 - any failure costs this file, not the run
        return _failed(entry, err)
    return entry


def _failed(entry: FileRead, err: Exception) -> FileRead:
    relative = entry.file
    if isinstance(err, ReadError):  # the package's own sentence, with the fix
        message = str(err)
        if not message.startswith(relative + ":"):  # "file: reason", whoever wrote it
            message = (f"{relative}:{message[len(relative):]}" if message.startswith(relative)
                       else f"{relative}: {message}")
    elif "password" in f"{type(err).__name__} {err}".lower():
        message = (f"{relative}: the workbook is protected by a password, so it cannot be "
                   "read; open it, save a copy without the password, and put that copy in "
                   "the folder")
    else:
        message = (f"{relative}: could not be read ({type(err).__name__}: {err}); export it "
                   "again, or report it if it opens in a spreadsheet")
    entry.reason = safe_message(message)  # an error may quote a line of the file
    entry.headers = getattr(err, "headers", [])
    return entry
