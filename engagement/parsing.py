"""Turning raw export text into typed values, one column at a time.

Each parser returns the parsed values and a reason (or NA) per row; it never
drops a row. The caller decides what to quarantine and counts it. Nothing here
guesses per row: a column's day/month order is decided once, from the column.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engagement.vocabulary import SPELLINGS, normalise_spelling

_SLASHED = r"^(?P<a>\d{1,2})[/.-](?P<b>\d{1,2})[/.-](?P<y>\d{2}|\d{4})(?:[ T]+(?P<time>.+))?$"
_ISO = (r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[ T]+(?P<time>[^Zz+]+?))?"
        r"(?P<tz>[Zz]|[+-]\d{2}:?\d{2})?$")
# "7 Sep 2025", "7-Sep-25" (a spreadsheet's d-mmm-yy), "Sep 7, 2025".
_WORDY = (r"^(?:(?P<d1>\d{1,2})[ -](?P<mon1>[A-Za-zéû]{3,9})\.?,?[ -](?P<y1>\d{4}|\d{2})"
          r"|(?P<mon2>[A-Za-zéû]{3,9})\.? (?P<d2>\d{1,2}),? (?P<y2>\d{4}))(?:[ T]+(?P<time>.+))?$")
_SERIAL = r"^(?P<serial>\d{4,6}(?:\.\d+)?)$"
_TIME = (r"^(?P<h>\d{1,2})(?::(?P<mi>\d{2}))?(?::(?P<s>\d{2}))?(?:\.\d+)?\s*"
         r"(?P<ampm>[AaPp]\.?[Mm]\.?)?$")
MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
MONTHS.update({"sept": 9, "janv": 1, "févr": 2, "fevr": 2, "mars": 3, "avr": 4, "mai": 5,
               "juin": 6, "juil": 7, "août": 8, "aout": 8, "déc": 12})


class AmbiguousDateOrder(ValueError):
    """A column's dates could be day/month or month/day and nothing decides it."""


def distinct(raw: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes and distinct values of a column: parse each distinct value once.

    A results export of 30M rows holds a few hundred distinct dates, scores and
    statuses; parsing those and spreading the answer back is the fast path.
    NA gets code -1.
    """
    codes, uniques = pd.factorize(raw.astype("str"), use_na_sentinel=True)
    return codes, pd.Series(uniques, dtype="str")


def spread(values: pd.Series, codes: np.ndarray, index: pd.Index, fill=pd.NA) -> pd.Series:
    """Per-row values from per-distinct-value ones (``fill`` where the raw value was NA)."""
    padded = pd.concat([values.reset_index(drop=True),
                        pd.Series([fill], dtype=values.dtype)], ignore_index=True)
    return padded.iloc[np.where(codes < 0, len(values), codes)].set_axis(index)


def _extract(text: pd.Series, pattern: str) -> pd.DataFrame:
    """Like ``Series.str.extract`` but with Arrow's regex engine, one group at a time
    (pandas' own extract falls back to a Python loop per row on Arrow strings)."""
    matched = text.str.match(pattern).fillna(False).astype(bool)
    inside = text.where(matched)
    groups = {}
    for name, number in re.compile(pattern).groupindex.items():
        part = inside.str.replace(pattern, f"\\{number}", regex=True)
        groups[name] = part.where(part != "")
    return pd.DataFrame(groups, index=text.index)


def _time_of_day(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Seconds after midnight for 'HH:MM[:SS]' or 'h:mm AM'; a reason when unreadable."""
    parts = _extract(text.str.strip(), _TIME)
    hour = pd.to_numeric(parts["h"], errors="coerce")
    pm = parts["ampm"].str.lower().str.startswith("p")
    am = parts["ampm"].str.lower().str.startswith("a")
    hour = hour.where(~(am.fillna(False) & (hour == 12)), 0)
    hour = hour.where(~(pm.fillna(False) & (hour < 12)), hour + 12)
    minute = pd.to_numeric(parts["mi"], errors="coerce").fillna(0)
    second = pd.to_numeric(parts["s"], errors="coerce").fillna(0)
    seconds = hour * 3600 + minute * 60 + second
    bad = text.notna() & (hour.isna() | (hour > 23) | (minute > 59) | (second > 59))
    return seconds.where(~bad & text.notna(), 0), bad


def _year(y: pd.Series, pivot: int) -> pd.Series:
    """Four-digit years; two-digit ones by an explicit pivot (``yy < pivot`` -> 20yy)."""
    n = pd.to_numeric(y, errors="coerce")
    two = y.str.len() == 2
    return n.where(~two, np.where(n < pivot, 2000 + n, 1900 + n))


def _assemble(year, month, day, seconds) -> pd.Series:
    """Naive timestamps from parts; impossible dates (31 February) become NaT."""
    frame = pd.DataFrame({"year": year, "month": month, "day": day}).astype("Float64")
    ok = frame.notna().all(axis=1)
    text = (frame["year"].astype("Int64").astype("str").str.zfill(4) + "-"
            + frame["month"].astype("Int64").astype("str").str.zfill(2) + "-"
            + frame["day"].astype("Int64").astype("str").str.zfill(2))
    dates = pd.to_datetime(text.where(ok), format="%Y-%m-%d", errors="coerce")
    return dates + pd.to_timedelta(seconds, unit="s")


def decide_day_first(a: pd.Series, b: pd.Series, *, column: str, file: str,
                     dayfirst: bool | None, year: pd.Series | None = None) -> bool:
    """One day/month order for a whole column, from its unambiguous values.

    A value votes only when it is a calendar date in exactly one order ('25/12/2025'
    votes day-first); one that is a date in neither order ('31/02/2026' when the
    rest is month-first) does not vote, and is reported later as not a date.
    """
    year = pd.Series(2000, index=a.index) if year is None else year
    as_day_first = _assemble(year, b, a, 0).notna()
    as_month_first = _assemble(year, a, b, 0).notna()
    first_big = as_day_first & ~as_month_first
    second_big = as_month_first & ~as_day_first
    if first_big.any() and second_big.any():
        raise AmbiguousDateOrder(
            f"{file}: column '{column}' mixes day/month and month/day dates (e.g. "
            f"'{a[first_big].index[0]}' and '{b[second_big].index[0]}'); re-export it with "
            "one date format.")
    if first_big.any():
        return True
    if second_big.any():
        return False
    if dayfirst is not None:
        return dayfirst
    ambiguous = as_day_first & as_month_first
    if not ambiguous.any():
        return True  # no value is a date in either order: the order changes nothing
    raise AmbiguousDateOrder(
        f"{file}: column '{column}' has dates like '{a[ambiguous].index[0]}' "
        "that could be day/month or month/day, and no value decides it. Pass --dayfirst "
        "or --monthfirst (or set dayfirst in engagement.toml).")


def parse_times(raw: pd.Series, *, timezone: str, column: str, file: str,
                dayfirst: bool | None = None, excel_1904: bool = False,
                year_pivot: int = 70) -> tuple[pd.Series, pd.Series, dict[str, int]]:
    """Parse a column of raw times into tz-aware timestamps in ``timezone``.

    Accepts ISO dates and times (with or without an offset), slashed dates
    (``d/m/y`` or ``m/d/y``, decided for the whole column), '3 Oct 2025' or
    'Oct 3, 2025', and Excel serial numbers (1900 or 1904 system), each with an
    optional time ('14:05', '2:05 PM').

    Returns
    -------
    (times, reasons, fixes)
        ``times`` tz-aware (NaT where unparsed); ``reasons`` a sentence per row
        that could not be parsed (NA otherwise); ``fixes`` counts of what was done.
    """
    codes, text = distinct(raw.astype("str").str.strip())
    rows = np.bincount(codes[codes >= 0], minlength=len(text))
    times, reasons, fixes = _parse_distinct(
        text, rows, timezone=timezone, column=column, file=file, dayfirst=dayfirst,
        excel_1904=excel_1904, year_pivot=year_pivot)
    empty = f"no date (column '{column}' is empty)"
    return (spread(times, codes, raw.index), spread(reasons, codes, raw.index, fill=empty),
            fixes)


def _parse_distinct(text: pd.Series, rows: np.ndarray, *, timezone, column, file, dayfirst,
                    excel_1904, year_pivot) -> tuple[pd.Series, pd.Series, dict[str, int]]:
    """``parse_times`` on distinct values; ``rows`` says how many rows hold each."""
    present = text.notna() & (text != "")
    naive = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    aware_utc = pd.Series(False, index=text.index)
    fixes: dict[str, int] = {}
    reasons = pd.Series(pd.NA, index=text.index, dtype="str")

    def count(mask) -> int:
        return int(rows[np.asarray(mask, dtype=bool)].sum())

    iso = _extract(text, _ISO)
    is_iso = present & iso["y"].notna()
    secs, bad_time = _time_of_day(iso["time"])
    naive = naive.where(~is_iso, _assemble(iso["y"], iso["m"], iso["d"], secs))
    with_tz = is_iso & iso["tz"].notna()
    if with_tz.any():
        offset = iso["tz"].str.replace("Z", "+00:00").str.replace("z", "+00:00")
        sign = np.where(offset.str[0] == "-", -1, 1)
        hh = pd.to_numeric(offset.str[1:3], errors="coerce")
        mm = pd.to_numeric(offset.str[-2:], errors="coerce")
        naive = naive.where(~with_tz, naive - pd.to_timedelta(sign * (hh * 60 + mm), unit="m"))
        aware_utc = with_tz

    sl = _extract(text, _SLASHED)
    is_slashed = present & ~is_iso & sl["a"].notna()
    if is_slashed.any():
        a = pd.to_numeric(sl.loc[is_slashed, "a"])
        b = pd.to_numeric(sl.loc[is_slashed, "b"])
        a.index = text[is_slashed].to_numpy()
        b.index = a.index
        year = _year(sl.loc[is_slashed, "y"], year_pivot).set_axis(a.index)
        day_first = decide_day_first(a, b, column=column, file=file, dayfirst=dayfirst,
                                     year=year)
        day, month = (sl["a"], sl["b"]) if day_first else (sl["b"], sl["a"])
        secs_s, bad_s = _time_of_day(sl["time"])
        bad_time = bad_time | (is_slashed & bad_s)
        year = _year(sl["y"], year_pivot)
        naive = naive.where(~is_slashed, _assemble(year, month, day, secs_s))
        fixes["day_first_dates" if day_first else "month_first_dates"] = count(is_slashed)
        two_digit = is_slashed & (sl["y"].str.len() == 2).fillna(False)
        if two_digit.any():
            fixes["two_digit_years"] = count(two_digit)

    wd = _extract(text, _WORDY)
    is_wordy = present & ~is_iso & ~is_slashed & (wd["mon1"].notna() | wd["mon2"].notna())
    if is_wordy.any():
        mon = wd["mon1"].fillna(wd["mon2"]).str.lower().str.rstrip(".")
        month = mon.map(MONTHS).where(mon.notna(), None)
        month = month.fillna(mon.str[:3].map(MONTHS))
        secs_w, bad_w = _time_of_day(wd["time"])
        bad_time = bad_time | (is_wordy & bad_w)
        year = _year(wd["y1"].fillna(wd["y2"]), year_pivot)
        naive = naive.where(~is_wordy, _assemble(year, month, wd["d1"].fillna(wd["d2"]),
                                                  secs_w))
        two_digit = is_wordy & (wd["y1"].str.len() == 2).fillna(False)
        if two_digit.any():
            fixes["two_digit_years"] = fixes.get("two_digit_years", 0) + count(two_digit)

    serial = pd.to_numeric(_extract(text, _SERIAL)["serial"], errors="coerce")
    is_serial = present & ~is_iso & ~is_slashed & ~is_wordy & serial.between(1, 2_958_465)
    if is_serial.any():
        origin = pd.Timestamp("1904-01-01") if excel_1904 else pd.Timestamp("1899-12-30")
        seconds = serial.where(is_serial).astype(float) * 86400
        days = pd.to_timedelta(seconds, unit="s").dt.round("s")
        naive = naive.where(~is_serial, origin + days)
        fixes["excel_serial_dates"] = count(is_serial)

    recognised = is_iso | is_slashed | is_wordy | is_serial
    impossible = recognised & naive.isna() & ~bad_time
    # The reasons never quote the value: the quarantine shows it beside them, when the
    # output policy allows (a note in a date column is not repeated).
    reasons = reasons.mask(present & ~recognised,
                           f"not a date engagement can read (column '{column}'); write it "
                           "as YYYY-MM-DD")
    reasons = reasons.mask(impossible, f"not a calendar date (column '{column}')")
    reasons = reasons.mask(recognised & bad_time, f"not a time of day (column '{column}')")
    reasons = reasons.mask(~present, f"no date (column '{column}' is empty)")
    naive = naive.where(reasons.isna())

    local = naive.where(~aware_utc).dt.tz_localize(
        timezone, ambiguous=np.zeros(len(naive), dtype=bool), nonexistent="shift_forward")
    from_utc = naive.where(aware_utc).dt.tz_localize("UTC").dt.tz_convert(timezone)
    times = local.where(~aware_utc, from_utc)
    return times, reasons, fixes


_NUMBER = re.compile(r"^[+-]?(\d{1,3}([ \u00a0\u202f]\d{3})+|\d+)?([.,]\d+)?$")


def parse_numbers(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Numbers as exports write them: '85', '8,5' (decimal comma), '85%', '1 234,5', and
    '15/20' (a mark out of the points: 75%).

    Returns ``(value, is_percent, unreadable)``: the float value (a percentage
    as written, e.g. 85.0), whether it carried '%', and where text was present
    but is not a number (the caller decides: a status word, or quarantine).
    """
    codes, text = distinct(raw.astype("str").str.strip())
    value, percent, unreadable = _numbers_distinct(text)
    return (spread(value, codes, raw.index, fill=np.nan),
            spread(percent, codes, raw.index, fill=False).astype(bool),
            spread(unreadable, codes, raw.index, fill=False).astype(bool))


def _numbers_distinct(text: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    percent = text.str.endswith("%").fillna(False).astype(bool)
    body = text.str.rstrip("%").str.strip().str.replace(r"[ \u00a0\u202f]", "", regex=True)
    body = body.str.replace(",", ".", regex=False)
    value = pd.to_numeric(body.where(body.str.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)").fillna(False)),
                          errors="coerce").astype("float64")
    # "15/20": a mark out of the points, read as a percentage of them.
    fraction = body.str.extract(r"^(\d+\.?\d*)/(\d+\.?\d*)$").astype("float64")
    is_fraction = (fraction[1] > 0).fillna(False) & value.isna()
    value = value.mask(is_fraction, 100 * fraction[0] / fraction[1])
    percent = percent | is_fraction
    unreadable = (text.notna() & (text != "") & value.isna()).astype(bool)
    return value, percent, unreadable


def normalise_ids(raw: pd.Series) -> tuple[pd.Series, int]:
    """Trim ids and undo Excel's artefacts ('12345.0', '1.2345E+04' -> '12345'; "'000123"
    -> '000123'); keep leading zeros.

    Returns the ids and how many were changed.
    """
    codes, text = distinct(raw)
    # Excel's text mark ('000123) and its float artefacts (12345.0, 1.20034E+05).
    fixed = text.str.strip().str.replace(r"^'(?=\w)", "", regex=True)
    fixed = fixed.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    science = fixed.str.fullmatch(r"\d(\.\d+)?[eE]\+?\d{1,2}").fillna(False)
    if science.any():
        whole = pd.to_numeric(fixed.where(science), errors="coerce")
        exact = science & (whole % 1 == 0) & (whole < 1e15)
        fixed = fixed.mask(exact, whole.where(exact).astype("Int64").astype("str"))
    fixed = fixed.where(fixed != "", pd.NA)
    if fixed.equals(text):
        # Nothing to fix (the usual case): the column as it is, not a 30M-row copy.
        return raw.astype("str").rename(None), 0
    rows = np.bincount(codes[codes >= 0], minlength=len(text))
    changed = int(rows[(fixed.fillna("") != text).to_numpy()].sum())
    return spread(fixed, codes, raw.index), changed


def positions(values, index) -> np.ndarray:
    """Where each value sits in ``index`` (-1 where it is absent).

    Done in Arrow: pandas' ``get_indexer`` turns Arrow strings into Python objects, which
    cost 1.6 GB and a second for 9M student ids; this costs a tenth of either.
    """
    def arrow(x):
        a = pa.array(pd.Series(x).array)
        if isinstance(a, pa.ChunkedArray):
            a = a.combine_chunks()
        return a.dictionary_decode() if pa.types.is_dictionary(a.type) else a

    v, i = arrow(values), arrow(index)
    try:
        if v.type != i.type:
            v = v.cast(i.type)
        found = pc.index_in(v, value_set=i)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # mixed types: pandas can do it
        return pd.Index(index).get_indexer(values)
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def restore_leading_zeros(ids: pd.Series, known: pd.Index) -> tuple[pd.Series, int]:
    """Pad ids that lost their leading zeros (Excel) when exactly one known id fits."""
    if len(known) == 0:
        return ids, 0
    widths = known.str.len().unique()
    if len(widths) != 1:
        return ids, 0
    width = int(widths[0])
    # Only the short ids are looked at: padding and looking up every id copies a
    # 30M-row column twice to fix, usually, none.
    short = ids[(ids.notna() & (ids.str.len() < width)).fillna(False).astype(bool)]
    padded = short[short.str.fullmatch(r"\d+").fillna(False).astype(bool)].str.zfill(width)
    padded = padded[positions(padded, known) >= 0]
    if padded.empty:
        return ids, 0
    return ids.where(~ids.index.isin(padded.index), padded), len(padded)


def map_vocabulary(raw: pd.Series, vocabulary: str, *,
                   extra: dict[str, str] | None = None) -> tuple[pd.Series, pd.Series]:
    """Map raw spellings to canonical values through the vocabulary table.

    Returns ``(values, unknown)``: NA where the spelling is unknown or empty,
    and the raw spelling where it was not known (for the report).
    """
    table = dict(SPELLINGS[vocabulary])
    if extra:
        table.update({normalise_spelling(k): v for k, v in extra.items()})
    codes, text = distinct(raw)
    key = text.str.replace(r"\s+", " ", regex=True).str.strip().str.lower()
    key = key.str.rstrip(".").str.strip()
    values = key.map(table).astype("str")
    unknown = text.where(values.isna() & key.notna() & (key != ""))
    return spread(values, codes, raw.index), spread(unknown, codes, raw.index)
