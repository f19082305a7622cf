"""Shared text reading for every reader: encodings, delimiters, line numbers.

A school's export may come as UTF-8 with or without a byte-order mark, UTF-16
(Excel's "Unicode text"), or Windows-1252 (older Excel "CSV"); comma, semicolon
(French-Canadian Excel), tab or pipe separated; with LF, CRLF or CR-only line
ends. Everything is read as text, so leading zeros of ids ("00123") and
formula-like cells ("=HYPERLINK(...)") survive exactly as written.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: Delimiters we try on the header line, most common first (ties go to the first).
DELIMITERS = (",", ";", "\t", "|")

#: Every Reading frame ends with these columns.
TRACE_COLUMNS = ("source_file", "source_row", "reader_issue")

_LINE_BREAK = r"\r\n|\r|\n"


#: Cells that mean "no value": blank, and the literal null that database exports write.
NULL_WORDS = ("", "NULL", "null")


class ReadError(ValueError):
    """A file cannot be read; the message names the file and the fix."""


@dataclass(frozen=True)
class Reading:
    """One canonical table read from one file, with raw values.

    Attributes
    ----------
    file : str
        The file's path relative to the folder the user gave (or its name).
    kind : str
        The source format, e.g. ``"oneroster-1.1"``, ``"canvas-gradebook"``.
    table : str
        One of the seven canonical tables (``students`` ... ``results``).
    frame : pandas.DataFrame
        One row per record of the file (blank and junk rows included), canonical
        column names, raw ``str`` values (missing = NA), plus ``source_file``
        (categorical: the one file name),
        ``source_row`` (Int64, 1-based physical line, header = 1) and
        ``reader_issue`` (why a record can never be kept; NA when fine).
    mapping : dict
        Raw header -> canonical column, for readers that find columns by their headers
        (what ``engagement inspect --write-config`` writes down).
    """

    file: str
    kind: str
    table: str
    frame: pd.DataFrame
    mapping: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"Reading(file={self.file!r}, kind={self.kind!r}, table={self.table!r}, "
                f"rows={len(self.frame)})")


def decode_bytes(raw: bytes, *, name: str, encoding: str | None = None) -> tuple[str, str]:
    """Decode a file's bytes; return ``(text, encoding used)``.

    Order: the given ``encoding``; a byte-order mark (UTF-8, UTF-16 LE/BE);
    strict UTF-8; Windows-1252 (what Excel on Windows writes for "CSV").
    """
    if encoding is not None:
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as err:
            raise ReadError(f"{name} cannot be read as {encoding!r} ({err}). Leave the "
                            "encoding out to detect it, or re-save the file as UTF-8.") from None
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(codec), codec
            except UnicodeDecodeError as err:
                raise ReadError(f"{name} starts with a {codec} byte-order mark but is not "
                                f"valid {codec} ({err}). Re-save it as UTF-8.") from None
    utf16 = _utf16_without_bom(raw)
    if utf16:
        try:
            return raw.decode(utf16), utf16
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Mostly UTF-8 with a stray Windows byte or two (a value pasted from another file):
    # only those bytes are read as Windows-1252, not every accented name of the file.
    valid = len(re.findall(rb"[\xc2-\xf4][\x80-\xbf]+", raw))
    stray = raw.decode("utf-8", errors="replace").count("\ufffd")
    if valid > stray:
        return raw.decode("utf-8", errors="engagement-cp1252"), "utf-8 (with Windows bytes)"
    # Five bytes are undefined in cp1252; latin-1 keeps them instead of failing.
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def _as_cp1252(err: UnicodeDecodeError) -> tuple[str, int]:
    return err.object[err.start:err.end].decode("cp1252", errors="replace"), err.end


codecs.register_error("engagement-cp1252", _as_cp1252)


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 saved without a byte-order mark, told by its zero bytes: mostly ASCII text
    has a zero in every other byte (odd positions: little-endian)."""
    head = raw[:4096]
    if len(head) < 4 or head.count(0) < len(head) // 4:
        return None
    odd, even = head[1::2].count(0), head[0::2].count(0)
    if odd > 3 * even:
        return "utf-16-le"
    if even > 3 * odd:
        return "utf-16-be"
    return None


def sniff_delimiter(header: str) -> str:
    """Pick the delimiter that splits the header line into the most fields."""
    counts = {d: len(next(csv.reader([header], delimiter=d), [])) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 1 else ","


def _first_line(text: str) -> str:
    for end in ("\r\n", "\n", "\r"):
        text = text.split(end, 1)[0]
    return text


def _count_breaks(data: bytes) -> int:
    """Line breaks in ``data``, counted as ``_LINE_BREAK`` counts them (CRLF is one)."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _line_numbers(frame: pd.DataFrame, header_breaks: int,
                  file_breaks: int | None = None) -> pd.Series:
    """1-based physical line of each record, counting line breaks inside quoted cells.

    ``file_breaks``: the line breaks of the whole file but its final one, when known.
    Every record but the first follows a break of its own, so when the file has no
    more breaks than the header's plus one per record, no cell holds a break and the
    per-cell count (a regex over every cell: 30 s on a 30M-row file) is skipped.
    """
    if frame.empty:
        return pd.Series([], dtype="Int64", index=frame.index)
    position = pd.Series(range(len(frame)), index=frame.index, dtype="int64")
    if file_breaks == header_breaks + len(frame):
        return (2 + header_breaks + position).astype("Int64")
    breaks = sum(frame[c].str.count(_LINE_BREAK).fillna(0).astype("int64")
                 for c in frame.columns)
    earlier = breaks.cumsum() - breaks
    return (2 + header_breaks + position + earlier).astype("Int64")


def _close_unterminated_quote(text: str) -> tuple[str, int]:
    """A quote opened and never closed would make every line after it part of one value.
    Returns the text with that quote taken out (the last quote of the line where the
    count of quotes last turned odd) and that line's number (0 when all quotes close)."""
    if text.count('"') % 2 == 0:
        return text, 0
    lines = text.splitlines(keepends=True)
    odd = np.cumsum([line.count('"') for line in lines]) % 2  # one number per line
    opened = np.flatnonzero((odd == 1) & (np.r_[0, odd[:-1]] == 0))
    at = int(opened[-1])
    line = lines[at]
    cut = line.rindex('"')
    lines[at] = line[:cut] + line[cut + 1:]
    return "".join(lines), at + 1


def read_table_text(path: str | Path, *, name: str | None = None,
                    delimiter: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Read a delimited text file as all-text columns with file and line numbers.

    Parameters
    ----------
    path : str or Path
        The file.
    name : str, optional
        How messages and ``source_file`` name the file (default: its file name).
    delimiter : str, optional
        Field separator; default: sniffed among ``,`` ``;`` tab ``|`` on the header.
    encoding : str, optional
        Default: detected (BOM, then strict UTF-8, then Windows-1252).

    Returns
    -------
    pandas.DataFrame
        The file's columns (header names stripped of spaces), ``str`` dtype, empty
        cells as NA, blank lines kept as all-NA rows; plus ``source_file`` (categorical)
        and ``source_row`` (Int64: physical line, header = 1). ``frame.attrs``
        holds ``encoding`` and ``delimiter``.

    Raises
    ------
    ReadError
        The file is missing or empty, or a line has more fields than the header.
    """
    path = Path(path)
    name = name or path.name
    if not path.is_file():
        raise ReadError(f"{name} not found at {path}. Check the folder and file name.")
    raw = path.read_bytes()
    fast = _read_with_arrow(raw, name=name, delimiter=delimiter, encoding=encoding)
    if fast is not None:
        return fast
    text, used = decode_bytes(raw, name=name, encoding=encoding)
    del raw
    if not text.strip():
        raise ReadError(f"{name} is empty: no header line. Export the table again with "
                        "its header row.")
    # Blank lines above the header (a spreadsheet's empty top rows): skipped, counted.
    body = text.lstrip("\r\n")
    above = text[:len(text) - len(body)]
    above_lines = above.count("\n") or above.count("\r")
    text = body
    text, unterminated = _close_unterminated_quote(text)
    header = _first_line(text)
    sep = delimiter or sniff_delimiter(header)
    try:
        with warnings.catch_warnings():
            # pandas only warns when a line has more fields than the header: an error here.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                                skip_blank_lines=False, index_col=False, engine="c")
    except pd.errors.ParserWarning:
        line, fields, expected = _first_long_line(text, sep)
        raise ReadError(f"{name}: line {line} has {fields} fields but the header has "
                        f"{expected}. A line has more fields than the header (often an "
                        "unquoted separator inside a value); fix that line or export again "
                        "with quoting.") from None
    except pd.errors.ParserError as err:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
        where = (f"line {found[2]} has {found[3]} fields but the header has {found[1]}"
                 if found else str(err).strip())
        raise ReadError(f"{name}: {where}. A line has more fields than the header (often "
                        "an unquoted separator inside a value); fix that line or export "
                        "again with quoting.") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.astype("str")
    header_breaks = int(pd.Series(list(frame.columns), dtype="str")
                        .str.count(_LINE_BREAK).sum())
    rows = _line_numbers(frame, header_breaks) + above_lines
    frame = frame.mask(frame.isin(NULL_WORDS))
    frame["source_file"] = file_column(name, frame.index)
    frame["source_row"] = rows
    if unterminated:
        frame["reader_issue"] = issue_where(
            rows.eq(unterminated), f'line {unterminated} opens a quote (") that is never '
            "closed; it was read as if the quote were not there, so that the lines after "
            "it stay records of their own. Close the quote (or remove it) and export again")
    frame.attrs.update(encoding=used, delimiter=sep)
    return frame


def _read_with_arrow(raw: bytes, *, name: str, delimiter: str | None,
                     encoding: str | None) -> pd.DataFrame | None:
    """The fast path for big, well-formed UTF-8 files: Arrow's multi-threaded reader.

    Returns None (use the careful path) for anything unusual: another encoding,
    blank lines (whose line numbers Arrow would drop), or a parse error (whose
    message the careful path words better).
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    # isspace, not strip: strip would copy the whole file to find out it is not blank.
    if encoding not in (None, "utf-8", "utf-8-sig") or not raw or raw.isspace():
        return None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    body = raw[len(codecs.BOM_UTF8):] if raw.startswith(codecs.BOM_UTF8) else raw
    if body.count(b'"') % 2:
        return None  # a quote never closed: the careful path keeps the lines after it
    end = len(body) - (2 if body.endswith(b"\r\n") else 1 if body.endswith((b"\n", b"\r")) else 0)
    last = memoryview(body)[:end]
    if last[-1:] in (b"\n", b"\r") or re.search(rb"\n[ \t]*\r?\n|\r[ \t]*\r", last):
        return None  # a blank line, kept as a record by the careful path
    try:
        header = _first_line(body[:65536].decode("utf-8"))
    except UnicodeDecodeError:
        return None
    sep = delimiter or sniff_delimiter(header)
    names = next(csv.reader([header], delimiter=sep))
    if len(set(names)) != len(names):
        return None  # pandas' careful path renames repeated headers
    try:
        # large_string: what pandas' str dtype holds, so the frame shares Arrow's buffers
        # instead of casting (copying) every column.
        table = pa_csv.read_csv(
            pa.py_buffer(body),
            read_options=pa_csv.ReadOptions(block_size=1 << 24),
            parse_options=pa_csv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={n: pa.large_string() for n in names}, strings_can_be_null=True,
                quoted_strings_can_be_null=True, null_values=list(NULL_WORDS)))
    except (pa.ArrowInvalid, pa.ArrowKeyError):
        return None
    text_dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    frame = table.to_pandas(types_mapper=lambda t: text_dtype if t == pa.large_string()
                            else None)
    del table  # the frame shares its buffers
    frame.columns = [str(c).strip() for c in frame.columns]
    header_breaks = len(re.findall(_LINE_BREAK, header))
    # The file's breaks but its final one (bytes.count: no copy of a 2 GB file).
    rows = _line_numbers(frame, header_breaks, _count_breaks(body) - (end < len(body)))
    frame["source_file"] = file_column(name, frame.index)
    frame["source_row"] = rows
    frame.attrs.update(encoding="utf-8-sig" if body is not raw else "utf-8", delimiter=sep)
    return frame


def file_column(name: str, index: pd.Index) -> pd.Series:
    """The file name for every record, as a categorical: one string, not one per row."""
    codes = np.zeros(len(index), dtype=np.int8)
    return pd.Series(pd.Categorical.from_codes(codes, categories=[name]), index=index)


def _first_long_line(text: str, sep: str) -> tuple[int, int, int]:
    """The first line with more fields than the header (only on the error path)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    expected = len(next(reader))
    for fields in reader:
        if len(fields) > expected:
            return reader.line_num, len(fields), expected
    return reader.line_num, expected, expected


def data_columns(frame: pd.DataFrame) -> list[str]:
    """The file's own columns (without the tracing columns)."""
    return [c for c in frame.columns if c not in TRACE_COLUMNS]


def blank_rows(frame: pd.DataFrame) -> pd.Series:
    """True where a record has no value at all (a blank line or a row of separators)."""
    cols = data_columns(frame)
    if not cols:
        return pd.Series(True, index=frame.index)
    return frame[cols].isna().all(axis=1)


def column(frame: pd.DataFrame, *names: str) -> pd.Series:
    """The first of ``names`` present in ``frame`` (case-insensitive), else an NA column."""
    lookup = {str(c).strip().lower(): c for c in frame.columns}
    for wanted in names:
        if wanted.lower() in lookup:
            return frame[lookup[wanted.lower()]].astype("str")
    return pd.Series(pd.NA, index=frame.index, dtype="str")


def has_column(frame: pd.DataFrame, name: str) -> bool:
    """Whether ``frame`` has the column ``name`` (case-insensitive)."""
    return name.lower() in {str(c).strip().lower() for c in frame.columns}


def first_issue(*issues: pd.Series) -> pd.Series:
    """Combine reasons: the first non-NA reason of each record wins."""
    result = issues[0].astype("str")
    for issue in issues[1:]:
        result = result.fillna(issue.astype("str"))
    return result


def issue_where(mask: pd.Series, reason: str | pd.Series) -> pd.Series:
    """``reason`` where ``mask`` is true, NA elsewhere."""
    mask = mask.fillna(False).astype(bool)
    if isinstance(reason, str):
        # The sentence only where it applies: a column of one repeated sentence costs
        # 2.6 GB on a 30M-row file, for a handful of flagged records.
        return pd.Series(pd.NA, index=mask.index, dtype="str").mask(mask, reason)
    return reason.astype("str").where(mask)


def make_reading(frame: pd.DataFrame, *, file: str, kind: str, table: str,
                 columns: dict[str, pd.Series], issue: pd.Series | None = None) -> Reading:
    """Assemble a Reading from mapped columns, keeping the source line of each record.

    ``columns`` maps output names (canonical first, then extras) to Series aligned
    with ``frame``; blank records always get the reader issue "blank line".
    """
    from engagement.schema import COLUMNS

    out = pd.DataFrame(index=frame.index)
    for col in COLUMNS[table]:
        out[col] = columns.get(col, pd.Series(pd.NA, index=frame.index)).astype("str")
    for col, values in columns.items():
        if col not in out.columns:
            out[col] = values.astype("str")
    out["source_file"] = file_column(file, frame.index)
    out["source_row"] = column_or_na(frame, "source_row").astype("Int64")
    blank = issue_where(blank_rows(frame), "blank line")
    reasons = [blank, column_or_na(frame, "reader_issue").astype("str")]
    if issue is not None:
        reasons.append(issue)
    out["reader_issue"] = first_issue(*reasons)
    return Reading(file=file, kind=kind, table=table, frame=out.reset_index(drop=True))


def column_or_na(frame: pd.DataFrame, name: str) -> pd.Series:
    """``frame[name]`` or an all-NA column."""
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index)
