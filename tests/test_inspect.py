"""`engagement inspect`: every file of a folder explained, nothing written."""

from __future__ import annotations

import os
from pathlib import Path

from engagement.cli import main
from engagement.inspect import inspect_folder

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def test_every_sample_file_is_explained(capsys):
    frame = inspect_folder(SAMPLE)
    files = {p.relative_to(SAMPLE).as_posix() for p in SAMPLE.rglob("*") if p.is_file()}
    bundle = {f for f in files if f.startswith("oneroster/")}
    assert set(frame["file"]) >= files - bundle  # the bundle is listed by what it fills
    bundle_rows = frame[frame["file"].str.startswith("oneroster/")]
    assert set(bundle_rows["table"]) == {"students", "enrollments", "assignments", "results",
                                         "-"}
    # "-": orgs.csv, a bundle file not used, and the files read for the values they hold.
    assert bundle_rows.loc[bundle_rows["table"] == "-", "file"].tolist() == [
        "oneroster/orgs.csv", "oneroster/academicSessions.csv", "oneroster/categories.csv",
        "oneroster/classes.csv", "oneroster/manifest.csv"]
    assert set(frame["file"]) >= files  # every file, the bundle's included
    assert frame.loc[frame["file"] == "powerschool_log.csv", "format"].item() == \
        "powerschool-log"
    assert main(["inspect", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "| canvas_gradebook_C00325.csv | canvas (0.95; generic) | results |" in out


def test_a_broken_file_is_named_with_its_reason(tmp_path):
    (tmp_path / "students.csv").write_text("student_id,school_id,grade_level\n1,101,7\n")
    (tmp_path / "notes.json").write_text("{not json")
    frame = inspect_folder(tmp_path).set_index("file")
    assert frame.loc["students.csv", "table"] == "students"
    assert frame.loc["notes.json", "reason"].startswith("notes.json: ")


def test_links_out_of_the_folder_are_not_followed(tmp_path):
    outside = tmp_path / "private.csv"
    outside.write_text("student_id,school_id,grade_level\n999,101,7\n")
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "students.csv").write_text("student_id,school_id,grade_level\n1,101,7\n")
    os.symlink(outside, folder / "roster.csv")
    frame = inspect_folder(folder).set_index("file")
    assert "not followed" in frame.loc["roster.csv", "reason"]
    assert frame.loc["roster.csv", "rows"] == 0


def test_the_written_mapping_cleans_the_same_and_can_be_corrected(tmp_path, capsys):
    from engagement.dataset import clean_folder

    config = tmp_path / "engagement.toml"
    assert main(["inspect", str(SAMPLE), "--write-config", str(config)]) == 0
    text = config.read_text(encoding="utf-8")
    assert '[mapping."powerschool_log.csv"]' not in text  # a format of its own, no mapping
    assert '"Slot" = "scheduled_at"' in text
    plain, mapped = clean_folder(SAMPLE), clean_folder(SAMPLE, config=config)
    for table in plain.tables:
        assert len(plain.tables[table]) == len(mapped.tables[table])
    # A correction takes: the conferences' teacher left out.
    assert mapped.conferences["staff_id"].notna().any()
    config.write_text(text.replace('"Teacher ID" = "staff_id"', '"Teacher ID" = ""'),
                      encoding="utf-8")
    assert clean_folder(SAMPLE, config=config).conferences["staff_id"].isna().all()
