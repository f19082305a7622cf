"""Properties of cleaning on generated messy contact logs (Hypothesis).

Whatever the mess, every row is accounted for, and cleaning what cleaning wrote
changes nothing.
"""

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagement.dataset import clean_folder
from engagement.vocabulary import SPELLINGS

ROSTER = [f"{n:06d}" for n in (123, 4512, 77001, 120034, 999999)]
CHANNELS = sorted(SPELLINGS["channel"]) + ["Seesaw", "pigeon", ""]
INITIATORS = ["Teacher", "Parent", "school", "", "Principal", "the aunt"]


def student_numbers():
    real = st.sampled_from(ROSTER)
    return st.one_of(real, real.map(lambda s: s.lstrip("0")), real.map(lambda s: s + ".0"),
                     st.sampled_from(["888888", "", "abc"]))


def dates(day_first: bool):
    day = st.dates(min_value=pd.Timestamp("2025-09-01").date(),
                   max_value=pd.Timestamp("2026-06-30").date())
    fmt = "%d/%m/%Y" if day_first else "%m/%d/%Y"
    return st.one_of(day.map(lambda d: d.strftime(fmt)), day.map(lambda d: d.isoformat()),
                     st.sampled_from(["31/02/2026", "soon", ""]))


@st.composite
def contact_logs(draw):
    day_first = draw(st.booleans())
    n = draw(st.integers(min_value=1, max_value=25))
    rows = draw(st.lists(st.tuples(student_numbers(), dates(day_first),
                                   st.sampled_from(CHANNELS), st.sampled_from(INITIATORS)),
                         min_size=n, max_size=n))
    frame = pd.DataFrame(rows, columns=["Student Number", "Date", "Type", "Initiated by"])
    # A column that settles the day/month order, as a real log would have somewhere.
    anchor = "25/12/2025" if day_first else "12/25/2025"
    frame = pd.concat([frame, pd.DataFrame([[ROSTER[0], anchor, "Phone", "Teacher"]],
                                           columns=frame.columns)], ignore_index=True)
    repeats = draw(st.lists(st.integers(min_value=0, max_value=len(frame) - 1), max_size=3))
    frame = pd.concat([frame, frame.iloc[repeats]], ignore_index=True)
    lines = frame.to_csv(index=False, lineterminator="\n").splitlines()
    if draw(st.booleans()):
        lines.insert(draw(st.integers(min_value=1, max_value=len(lines))), "")
    if draw(st.booleans()):
        lines.append("Total,,,")
    return "\n".join(lines) + "\n"


def _write_roster(folder):
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"student_id": ROSTER, "school_id": "101", "grade_level": 7}).to_csv(
        folder / "students.csv", index=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(log=contact_logs())
def test_accounting_balances_and_cleaning_is_idempotent(log, tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw")
    _write_roster(raw)
    (raw / "contact_log.csv").write_text(log, encoding="utf-8")
    first = clean_folder(raw)
    for account in first.report.accounts:
        assert account.balanced, account
    lines_in_file = len(log.splitlines()) - 1
    contacts = next(a for a in first.report.accounts if a.file == "contact_log.csv")
    assert contacts.rows_in == lines_in_file
    assert len(first.quarantine) == sum(a.rows_quarantined for a in first.report.accounts)

    again = tmp_path_factory.mktemp("again")
    _write_roster(again)
    first.contacts.drop(columns=["source_file", "source_row"]).to_csv(
        again / "contacts.csv", index=False)
    second = clean_folder(again)
    columns = [c for c in first.contacts if c not in ("source_file", "source_row")]
    pd.testing.assert_frame_equal(second.contacts[columns], first.contacts[columns])
    assert all(a.rows_quarantined == 0 and a.rows_duplicate == 0
               for a in second.report.accounts)
