"""Workbooks as people keep them: several sheets, a title above the table, old .xls, a
workbook saved under a .csv name, a damaged one beside good files."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from engagement.dataset import clean_folder

ROSTER = "student_id,school_id,grade_level\n000123,101,7\n120034,101,8\n"
HEADER = ["Student Number", "Date", "Type", "Initiated by", "Reason", "Outcome"]
ROWS = [["000123", "2025-10-01", "Phone", "Teacher", "Missing work", "reached"],
        ["120034", "2025-10-02", "Email", "Teacher", "Missing work", "reached"]]


def folder_with(tmp_path: Path) -> Path:
    (tmp_path / "students.csv").write_text(ROSTER, encoding="utf-8")
    return tmp_path


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)


def account(dataset, file):
    return next(a for a in dataset.report.accounts if a.file == file)


def test_every_sheet_is_read_on_its_own(tmp_path):
    folder = folder_with(tmp_path)
    write_xlsx(folder / "log.xlsx", {
        "How to fill this in": [["Type one call per line."], ["Ask the office for help."]],
        "Contacts": [HEADER, *ROWS],
        "Sheet3": []})
    dataset = clean_folder(folder)
    assert len(dataset.contacts) == 2
    assert account(dataset, "log.xlsx [Contacts]").rows_in == 2
    assert set(dataset.contacts["source_file"].astype(str)) == {"log.xlsx [Contacts]"}
    skipped = dataset.report.skipped
    assert any(s.startswith("log.xlsx [How to fill this in]: ") for s in skipped)
    assert "log.xlsx [Sheet3]" in skipped  # empty: listed by name, not a failure
    assert len(dataset.report.not_read) == 1


def test_a_title_and_a_blank_row_above_the_table(tmp_path):
    folder = folder_with(tmp_path)
    write_xlsx(folder / "log.xlsx", {"Fall": [["Parent contact log - Fall 2025"], [],
                                              HEADER, *ROWS]})
    dataset = clean_folder(folder)
    assert len(dataset.contacts) == 2
    assert dataset.contacts["source_row"].tolist() == [4, 5]  # Excel's own row numbers
    assert account(dataset, "log.xlsx").rows_in == 2


def test_old_excel_xls(tmp_path):
    xlwt = pytest.importorskip("xlwt")
    folder = folder_with(tmp_path)
    book = xlwt.Workbook()
    sheet = book.add_sheet("Contacts")
    for r, row in enumerate([HEADER, *ROWS]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.save(str(folder / "log.xls"))
    dataset = clean_folder(folder)
    assert sorted(dataset.contacts["student_id"]) == ["000123", "120034"]
    assert list(dataset.contacts["channel"]) == ["phone", "email"]


def test_a_workbook_saved_under_a_csv_name(tmp_path):
    folder = folder_with(tmp_path)
    write_xlsx(folder / "contacts.csv", {"Contacts": [HEADER, *ROWS]})
    dataset = clean_folder(folder)
    assert len(dataset.contacts) == 2


def test_a_damaged_workbook_is_named_and_the_rest_goes_on(tmp_path):
    folder = folder_with(tmp_path)
    write_xlsx(tmp_path / "whole.xlsx", {"Contacts": [HEADER, *ROWS]})
    data = (tmp_path / "whole.xlsx").read_bytes()
    (folder / "cut.xlsx").write_bytes(data[: len(data) // 2])
    (tmp_path / "whole.xlsx").unlink()
    dataset = clean_folder(folder)
    assert len(dataset.students) == 2
    assert any(s.startswith("cut.xlsx: ") for s in dataset.report.not_read)


def test_a_zip_of_exports_is_read_as_if_unpacked(tmp_path):
    import shutil
    import zipfile

    from tests.conftest import SAMPLE

    folder = tmp_path / "raw"
    folder.mkdir()
    with zipfile.ZipFile(folder / "sis_export.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted((SAMPLE / "oneroster").iterdir()):
            archive.write(file, f"oneroster/{file.name}")
        archive.write(SAMPLE / "powerschool_log.csv", "powerschool_log.csv")
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    shutil.copytree(SAMPLE / "oneroster", unpacked / "oneroster")
    shutil.copy(SAMPLE / "powerschool_log.csv", unpacked)
    zipped, plain = clean_folder(folder), clean_folder(unpacked)
    for table in ("students", "enrollments", "results", "contacts"):
        assert len(zipped.tables[table]) == len(plain.tables[table]) > 0
    files = {a.file for a in zipped.report.accounts}
    assert "sis_export.zip/oneroster/users.csv" in files
    assert "sis_export.zip/powerschool_log.csv" in files


def test_a_zip_that_would_write_outside_or_explode_is_not_unpacked(tmp_path):
    import zipfile

    folder = folder_with(tmp_path)
    with zipfile.ZipFile(folder / "escape.zip", "w") as archive:
        archive.writestr("../../outside.csv", "student_id,school_id,grade_level\n9,101,7\n")
    with zipfile.ZipFile(folder / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.csv", "0" * (50 * 2**20))
    dataset = clean_folder(folder)
    reasons = "\n".join(dataset.report.not_read)
    assert "escape.zip: not unpacked: '../../outside.csv' would be written outside" in reasons
    assert "bomb.zip: not unpacked:" in reasons
    assert not (tmp_path.parent / "outside.csv").exists()
    assert len(dataset.students) == 2
