import pandas as pd
import pytest

from engagement.parsing import (
    AmbiguousDateOrder,
    normalise_ids,
    parse_numbers,
    parse_times,
    restore_leading_zeros,
)

TZ = "America/Edmonton"


def _parse(values, **kwargs):
    return parse_times(pd.Series(values, dtype="str"), timezone=TZ, column="Date",
                       file="log.csv", **kwargs)


def test_day_first_decided_from_the_column():
    times, reasons, fixes = _parse(["03/09/2025", "25/12/2025"])
    assert [str(t.date()) for t in times] == ["2025-09-03", "2025-12-25"]
    assert fixes == {"day_first_dates": 2}


def test_ambiguous_column_is_an_error_not_a_guess():
    with pytest.raises(AmbiguousDateOrder, match="--dayfirst or --monthfirst"):
        _parse(["03/09/2025", "04/10/2025"])
    times, _, _ = _parse(["03/09/2025"], dayfirst=False)
    assert str(times[0].date()) == "2025-03-09"


def test_mixed_orders_in_one_column_are_refused():
    with pytest.raises(AmbiguousDateOrder, match="mixes"):
        _parse(["25/12/2025", "12/25/2025"])


def test_impossible_and_unreadable_dates_get_reasons():
    _, reasons, _ = _parse(["31/02/2026", "soon", None, "2025-10-01"])
    assert reasons[0] == "not a calendar date (column 'Date')"
    assert "not a date engagement can read" in reasons[1]
    assert reasons[2] == "no date (column 'Date' is empty)"
    assert pd.isna(reasons[3])


def test_excel_serials_both_systems_and_times():
    t1900, _, _ = _parse(["45933"])
    t1904, _, _ = _parse(["44471"], excel_1904=True)
    assert str(t1900[0].date()) == str(t1904[0].date()) == "2025-10-03"
    pm, _, _ = _parse(["10/03/2025 1:14 PM"], dayfirst=False)
    assert str(pm[0]) == "2025-10-03 13:14:00-06:00"
    utc, _, _ = _parse(["2025-09-04T05:59:00Z"])
    assert str(utc[0]) == "2025-09-03 23:59:00-06:00"


def test_two_digit_years_use_an_explicit_pivot():
    times, _, fixes = _parse(["25/12/25", "25/12/69", "25/12/70"])
    assert [t.year for t in times] == [2025, 2069, 1970]
    assert fixes["two_digit_years"] == 3


def test_dst_gap_is_shifted_not_lost():
    times, reasons, _ = _parse(["2026-03-08 02:30"])
    assert reasons.isna().all() and str(times[0]) == "2026-03-08 03:00:00-06:00"


def test_numbers_as_exports_write_them():
    value, percent, word = parse_numbers(pd.Series(["85%", "8,5", "1 234,5", "EX", "", "-3"],
                                                   dtype="str"))
    assert value.iloc[:3].tolist() == [85.0, 8.5, 1234.5] and value.iloc[5] == -3.0
    assert percent.tolist() == [True, False, False, False, False, False]
    assert word.tolist() == [False, False, False, True, False, False]


def test_ids_keep_leading_zeros_and_lose_float_artefacts():
    ids, changed = normalise_ids(pd.Series(["12345.0", " 00123", "A-7"], dtype="str"))
    assert ids.tolist() == ["12345", "00123", "A-7"] and changed == 2
    padded, n = restore_leading_zeros(pd.Series(["4512", "999"], dtype="str"),
                                      pd.Index(["004512", "123456"]))
    assert padded.tolist() == ["004512", "999"] and n == 1


def test_a_date_impossible_in_both_orders_does_not_vote():
    times, reasons, fixes = _parse(["12/25/2025", "31/02/2026"])
    assert str(times[0].date()) == "2025-12-25" and fixes == {"month_first_dates": 2}
    assert reasons[1] == "not a calendar date (column 'Date')"
