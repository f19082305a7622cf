"""The cleaned dataset: ``clean_folder`` reads and cleans a folder of exports and writes
the canonical tables; ``load`` reads them back (or cleans a raw folder in memory).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from engagement.accounting import CleaningReport, FileAccount
from engagement.cleaning import clean_readings, load_settings
from engagement.schema import COLUMNS, TABLES, validate


@dataclass
class Dataset:
    """The seven canonical tables, the cleaning report and the quarantine."""

    tables: dict[str, pd.DataFrame]
    report: CleaningReport
    quarantine: pd.DataFrame

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)

    def __repr__(self) -> str:
        counts = ", ".join(f"{t} {len(f):,}" for t, f in self.tables.items())
        return f"Dataset({counts}; quarantined {len(self.quarantine):,})"

    def school(self, school_id: str) -> Dataset:
        """The same dataset for one school: its students, their results, its contacts,
        conferences, broadcasts and classes. The cleaning report stays the whole one."""
        school_id = str(school_id)
        known = set(self.tables["students"]["school_id"].astype("str"))
        if school_id not in known:
            raise ValueError(f"school {school_id!r} is not in the data; schools: "
                             f"{', '.join(sorted(known))}")
        tables = {}
        for name, frame in self.tables.items():
            if "school_id" in frame:
                tables[name] = frame[frame["school_id"].astype("str") == school_id]
        students = set(tables["students"]["student_id"])
        tables["results"] = self.tables["results"][
            self.tables["results"]["student_id"].isin(students)]
        return Dataset({t: tables[t] for t in self.tables}, self.report, self.quarantine)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{t}</td><td style='text-align:right'>{len(f):,}</td></tr>"
                       for t, f in self.tables.items())
        files = len(self.report.accounts)
        return (f"<div><strong>Dataset</strong> from {files} file(s): "
                f"{len(self.quarantine):,} rows quarantined (see <code>.quarantine</code>), "
                f"the cleaning report in <code>.report</code>."
                f"<table><tr><th>table</th><th>rows</th></tr>{rows}</table></div>")


def clean_folder(raw_dir: str | Path, out_dir: str | Path | None = None, *,
                 config: str | Path | None = None, key_file: str | Path | None = None,
                 keep_notes: bool = False, dayfirst: bool | None = None,
                 keep_raw_quarantine: bool = False, progress: bool = False) -> Dataset:
    """Read every export in ``raw_dir``, clean it, and (if ``out_dir``) write one Parquet
    file per table, ``quarantine.csv``, ``cleaning_report.json`` and ``cleaning_report.md``.
    ``keep_raw_quarantine`` also writes the quarantined rows as they were read, for the
    data steward, in a file named as private. ``progress`` shows a bar per file read (big
    exports take minutes).

    Raises ``ValueError`` (a sentence naming the file and the fix) when it cannot
    proceed: a missing folder, no readable file, an undecidable date order.
    """
    from engagement.io import read_folder
    from engagement.privacy import (
        PRIVATE_QUARANTINE,
        protect,
        read_key,
        share_quarantine,
        write_csv,
    )

    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"{raw_dir} is not a folder; pass the folder that holds the "
                                "exports")
    settings, options = load_settings(config)
    if dayfirst is not None:
        settings.dayfirst = dayfirst
    key = read_key(key_file)
    readings, skipped = read_folder(raw_dir, config=options, progress=progress,
                                    private=[key_file] if key_file is not None else [])
    cleaned = clean_readings(readings, settings)  # empties readings: frees the raw frames
    tables = {t: protect(f, key=key, keep_notes=keep_notes) for t, f in cleaned.tables.items()}
    cleaned.tables.clear()  # the notes column (when dropped) goes with the unprotected tables
    report = CleaningReport(cleaned.accounts, skipped)
    dataset = Dataset(tables, report, share_quarantine(cleaned.quarantine, key=key))
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.items():
            frame.to_parquet(out / f"{name}.parquet", index=False)
        write_csv(dataset.quarantine, out / "quarantine.csv")
        if keep_raw_quarantine:
            write_csv(cleaned.quarantine, out / PRIVATE_QUARANTINE)
        (out / "cleaning_report.json").write_text(report.to_json(), encoding="utf-8")
        (out / "cleaning_report.md").write_text(report.summary(), encoding="utf-8")
    return dataset


def load(path: str | Path, *, traced: bool = True, **kwargs) -> Dataset:
    """A Dataset from a cleaned folder (Parquet files) or a raw one (cleaned in memory).

    ``traced=False``: without the file and line of each row of a cleaned folder (what the
    analysis does not use: 0.3 GB of a division's 30M results)."""
    path = Path(path)
    if (path / "students.parquet").exists():
        tables = {t: validate(pd.read_parquet(path / f"{t}.parquet",
                                              columns=None if traced else COLUMNS[t]), t)
                  for t in TABLES if (path / f"{t}.parquet").exists()}
        report_file = path / "cleaning_report.json"
        accounts = []
        skipped = []
        if report_file.exists():
            data = json.loads(report_file.read_text(encoding="utf-8"))
            accounts = [FileAccount(**a) for a in data["files"]]
            skipped = data.get("skipped", [])
        quarantine = (pd.read_csv(path / "quarantine.csv", dtype="str")
                      if (path / "quarantine.csv").exists() else pd.DataFrame())
        return Dataset(tables, CleaningReport(accounts, skipped), quarantine)
    return clean_folder(path, None, **kwargs)
