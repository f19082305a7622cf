"""The action list: who is on it and why, hand-checked on six students, and where it may go."""

from pathlib import Path

import pandas as pd
import pytest

from engagement.actions import action_list
from engagement.cli import main
from engagement.dataset import clean_folder

# Five weekly essays (A1..A5, due 2 to 30 March); the last three are A3, A4, A5.
STATUS = {
    "S1": "on_time missing missing on_time missing",  # 2 of the last 3; reached 5 days before
    "S2": "on_time on_time missing missing on_time",  # 2 of the last 3; reached 20 days before
    "S3": "on_time on_time missing missing missing",  # 3 of 3; only a left message
    "S4": "on_time on_time on_time on_time on_time",  # on track; never reached
    "S5": "on_time on_time on_time on_time on_time",  # on track; reached in January
    "S6": "missing missing missing on_time on_time",  # behind earlier, 1 of the last 3
}
CONTACTS = """contact_id,student_id,school_id,staff_id,contact_at,channel,initiator,purpose,outcome
K1,S1,100,T1,2026-03-25,phone,school,missing_work,reached
K2,S2,100,T1,2026-03-10,phone,school,missing_work,reached
K3,S3,100,T1,2026-03-28,phone,school,missing_work,left_message
K4,S5,100,T1,2026-01-15,meeting,school,general,reached
K5,S6,100,T1,2026-02-01,phone,parent,general,reached
K6,S2,100,T1,2026-03-27,email,school,missing_work,unknown
"""


def write_school(folder: Path, school: str = "100") -> None:
    """The six students of ``STATUS`` in ``school`` (ids prefixed by the school but for
    school 100), one file per table, appended to when the folder has the school before."""
    folder.mkdir(parents=True, exist_ok=True)
    p = "" if school == "100" else school + "-"
    header = not (folder / "students.csv").exists()

    def write(name: str, columns: str, lines: list[str]) -> None:
        with (folder / f"{name}.csv").open("a") as handle:
            handle.write((columns + "\n" if header else "") + "".join(lines))

    write("students", "student_id,school_id,grade_level",
          [f"{p}{s},{school},7\n" for s in STATUS])
    write("enrollments", "student_id,class_id,teacher_id,school_id",
          [f"{p}{s},{p}C1,{p}T1,{school}\n" for s in STATUS])
    write("assignments", "assignment_id,class_id,school_id,title,due_at,points_possible",
          [f"{p}A{i},{p}C1,{school},Essay {i},2026-03-{2 + 7 * (i - 1):02d},10\n"
           for i in range(1, 6)])
    write("results", "student_id,assignment_id,status",
          [f"{p}{s},{p}A{i},{v}\n" for s, st in STATUS.items()
           for i, v in enumerate(st.split(), 1)])
    contacts = CONTACTS.splitlines()
    write("contacts", contacts[0], [
        ",".join(f"{p}{v}" if j in (0, 1, 3) else (school if j == 2 else v)
                 for j, v in enumerate(line.split(","))) + "\n" for line in contacts[1:]])


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    raw = tmp_path_factory.mktemp("school")
    write_school(raw)
    return clean_folder(raw)


def test_who_is_on_the_list_and_why(school):
    table = action_list(school)
    assert table["student_id"].tolist() == ["S3", "S2", "S4"]  # most behind first
    why = dict(zip(table["student_id"], table["why"], strict=True))
    assert why["S3"] == "missed 2+ of the last 3; family never reached in person"
    assert why["S2"] == "missed 2+ of the last 3; not reached in the last 14 days"
    assert why["S4"] == "family never reached in person"
    s2 = table.set_index("student_id").loc["S2"]
    assert s2["missed_of_last_3"] == 2 and s2["days_since_reached"] == 20
    # The last contact is any contact (an email); the last conversation is the call.
    assert s2["last_contact_channel"] == "email"
    assert s2["last_reached_at"].date() == pd.Timestamp("2026-03-10").date()
    assert (table["teacher_id"] == "T1").all()


def test_the_window_and_the_day_change_the_list(school):
    assert "S1" in set(action_list(school, days=3)["student_id"])  # reached 5 days before
    # On 20 March S1 had missed A2 and A3 (2 of A1..A3) and nobody had called yet.
    early = action_list(school, as_of="2026-03-20").set_index("student_id")
    assert early.loc["S1", "why"] == "missed 2+ of the last 3; family never reached in person"
    assert "S2" not in early.index  # reached on 10 March, within 14 days of the 20th


def test_a_division_needs_a_school(tmp_path):
    write_school(tmp_path, "100")
    write_school(tmp_path, "200")
    division = clean_folder(tmp_path)
    with pytest.raises(ValueError, match="2 schools"):
        action_list(division)
    theirs = action_list(division, school="200")
    assert theirs["student_id"].tolist() == ["200-S3", "200-S2", "200-S4"]


def test_the_command_writes_only_the_file_named(tmp_path, capsys):
    raw = tmp_path / "raw"
    write_school(raw)
    out = tmp_path / "private" / "calls.csv"
    assert main(["actions", str(raw), "--out", str(out), "--quiet"]) == 0
    assert pd.read_csv(out)["student_id"].tolist() == ["S3", "S2", "S4"]
    assert sorted(p.name for p in (tmp_path / "private").iterdir()) == ["calls.csv"]
    assert main(["actions", str(raw), "--out", str(tmp_path / "private")]) == 2
    assert "names the CSV file" in capsys.readouterr().err
