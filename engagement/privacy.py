"""What may leave the package: one policy, applied by every writer.

- **Columns.** Names, notes and the raw text of quarantined rows never leave, unless the
  user asks for a private file for the data steward. With a key, student, staff and
  contact ids leave only as keyed pseudonyms.
- **Text.** A value that reads like prose, in a column meant for a code or a category,
  is reported as "free text", never quoted. Every string is escaped for the medium it is
  written in: Markdown and HTML get text, never markup; a CSV cell never starts a
  spreadsheet formula and never breaks its row.
- **Counts.** A group under k is blanked with every count that describes it (treated,
  comparison, denominator); sentences say "fewer than k".
- **Keys.** A key holds at least 128 random bits, read from a file or $ENGAGEMENT_KEY.

Why keyed pseudonyms: a plain or salted hash of a student number is not private, since a
9-digit number space is reversed in about a minute. HMAC-SHA256 with a secret key kept
outside the data cannot be reversed without the key, and gives the same pseudonym for the
same id on every run with the same key, so files cleaned on different days still join.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import html
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

KEY_ENVIRONMENT_VARIABLE = "ENGAGEMENT_KEY"
#: Id columns pseudonymised when a key is given, with the prefix their pseudonyms get.
ID_COLUMNS = {"student_id": "s_", "staff_id": "t_", "teacher_id": "t_", "contact_id": "k_"}
NAME_COLUMNS = ("given_name", "family_name", "student_name", "guardian_name")
PRIVATE_COLUMNS = ("notes", *NAME_COLUMNS)
MIN_CELL = 10  # the default k; never below 6
KEY_BITS = 128
MAKE_KEY = ("make one with `openssl rand -hex 32 > ~/engagement.key` and keep it outside "
            "the data folder")


# -- keys --------------------------------------------------------------------------------

def read_key(key_file: str | Path | None) -> bytes | None:
    """The secret key from a file, else from $ENGAGEMENT_KEY, else None (no pseudonyms).
    A weak key is refused, wherever it comes from."""
    if key_file is not None:
        path = Path(key_file)
        if not path.is_file():
            raise FileNotFoundError(f"the key file given to --key-file does not exist; {MAKE_KEY}")
        key, where = path.read_bytes().strip(), "the key file"
    else:
        key, where = os.environ.get(KEY_ENVIRONMENT_VARIABLE, "").strip().encode(), \
            f"${KEY_ENVIRONMENT_VARIABLE}"
        if not key:
            return None
    check_key(key, where)
    return key


def key_bits(key: bytes) -> float:
    """An upper bound on the randomness of a key, in bits, from its length and alphabet
    (hex digits carry 4 bits each, base64 characters 6, other bytes 8)."""
    text = key.decode("latin-1")
    if re.fullmatch(r"[0-9a-fA-F]+", text):
        per = 4
    elif re.fullmatch(r"[A-Za-z0-9+/=_-]+", text):
        per = 6
    else:
        per = 8 if any(b < 32 or b > 126 for b in key) else 6.5
    return len(key) * per


def check_key(key: bytes, where: str) -> None:
    """Refuse a key too short, made of a repeated pattern, or made of words."""
    problem = ""
    if key_bits(key) < KEY_BITS:
        problem = f"it holds fewer than {KEY_BITS} random bits ({len(key)} characters)"
    elif len(set(key)) < 8:
        problem = "it repeats a few characters"
    elif any(key == (key[:p] * len(key))[:len(key)] for p in range(1, len(key) // 2 + 1)):
        problem = "it repeats a pattern"
    elif re.fullmatch(rb"[A-Za-z .,'-]+", key):
        problem = "it is made of letters only, like words or a pass phrase"
    if problem:
        raise ValueError(f"the key in {where} is too weak: {problem}; {MAKE_KEY}")


def pseudonymise(values: pd.Series, key: bytes, prefix: str = "") -> pd.Series:
    """HMAC-SHA256 of each distinct id (first 16 hex digits), NA kept as NA."""
    distinct = values.dropna().unique()
    table = {v: prefix + hmac.new(key, str(v).encode("utf-8"), hashlib.sha256).hexdigest()[:16]
             for v in distinct}  # one HMAC per distinct id, not per row
    return values.map(table).astype("str")


# -- columns -----------------------------------------------------------------------------

def protect(table: pd.DataFrame, *, key: bytes | None, keep_notes: bool = False
            ) -> pd.DataFrame:
    """Drop names (and notes unless kept); pseudonymise ids when a key is given."""
    drop = [c for c in PRIVATE_COLUMNS if c in table and not (keep_notes and c == "notes")]
    out = table.drop(columns=drop)
    if key is not None:
        for column, prefix in ID_COLUMNS.items():
            if column in out:
                out[column] = pseudonymise(out[column], key, prefix)
    return out


FREE_TEXT = "(free text, not shown)"
WITHHELD = "(name, not shown)"


def free_text(values: pd.Series) -> pd.Series:
    """Whether each value reads like prose (a note) rather than a code or a category:
    five words or more, or 30 characters or more with a space, or a sentence's
    punctuation among three words or more."""
    text = values.astype("str").str.strip()
    words = text.str.count(r"\S+")
    prose = ((words >= 5) | ((text.str.len() >= 30) & (words >= 2))
             | ((words >= 3) & text.str.contains(r"[,.;:!?]", regex=True)))
    return prose.fillna(False).astype(bool)


def shown_values(values: pd.Series, columns: pd.Series, *, key: bytes | None) -> pd.Series:
    """The values a quarantine row may show, beside the column each comes from: names
    and notes never, free text never, ids as pseudonyms under a key."""
    text = values.astype("str")
    out = text.mask(free_text(text), FREE_TEXT)
    out = out.mask(columns.isin(NAME_COLUMNS) & text.notna(), WITHHELD)
    out = out.mask(columns.eq("notes") & text.notna(), FREE_TEXT)
    if key is not None:
        for column, prefix in ID_COLUMNS.items():
            is_id = columns.eq(column) & text.notna()
            if is_id.any():
                out = out.mask(is_id, pseudonymise(text[is_id], key, prefix))
    return out


def staff_label(staff_id) -> str:
    """A staff member as a report may name them: by an id that is a code (it has a digit,
    as pseudonyms and staff numbers do), never by what may be their name."""
    text = str(staff_id)
    return f"staff member {text}" if re.search(r"\d", text) else "a staff member"


PRIVATE_QUARANTINE = "PRIVATE_quarantine_raw_rows.csv"


def share_quarantine(quarantine: pd.DataFrame, *, key: bytes | None) -> pd.DataFrame:
    """The quarantine a person can act on without holding the data twice: file, line,
    table, column, the value only where it may be shown, and the reason. The raw rows
    stay in the data steward's private file (``--keep-raw-quarantine``)."""
    out = quarantine.drop(columns=["record"], errors="ignore")
    if len(out):
        out["value"] = shown_values(out["value"], out["column"].astype("str"), key=key)
        out["reason"] = out["reason"].astype("category").cat.rename_categories(
            safe_message).astype("str")
    return out


_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def safe_message(text: str) -> str:
    """A message with any quoted prose elided (an error raised on a row may quote it)."""
    def elide(match: re.Match) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        return "'…'" if free_text(pd.Series([inner])).iloc[0] else match.group(0)
    return _QUOTED.sub(elide, str(text))


# -- text, escaped for the medium it is written in ----------------------------------------

def markdown_text(value) -> str:
    """A value as Markdown that shows it as it is and cannot become markup: one line,
    ``< > &`` as HTML entities (no tag, no autolink), a backslash before the characters
    that make links, images, code, tables and maths (``[ ] ` * | $ \\``), and no
    scheme (``http:``) or ``www.`` a renderer would turn into a link."""
    text = re.sub(r"[\r\n\t]+", " ", str(value))
    text = html.escape(text, quote=False)
    text = re.sub(r"([\\`*\[\]|$])", r"\\\1", text)
    # No bare link either: renderers turn "http://..." and "www...." into links.
    text = re.sub(r"(?i)\b(https?|ftp|mailto|javascript|vbscript|data|file):", r"\1&#58;", text)
    return re.sub(r"(?i)\bwww\.", "www&#46;", text)


def html_text(value) -> str:
    """A value as HTML text (quotes too, so it is safe inside an attribute)."""
    return html.escape(str(value), quote=True)


def live_markup(page: str) -> list[str]:
    """What in an HTML page could run or fetch: a script, a frame, an embedded object,
    an event handler, a ``javascript:`` link, or anything loaded from the web. A report
    is one self-contained page with none of these."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Scan(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag in ("script", "iframe", "object", "embed", "frame", "base", "link", "meta"
                       ) and not (tag == "meta" and all(a in ("charset", "name", "content")
                                                        for a, _ in attrs)):
                found.append(f"<{tag}>")
            for name, value in attrs:
                value = (value or "").strip().lower()
                if name.startswith("on"):
                    found.append(f"<{tag} {name}=...>")
                elif name in ("href", "src", "action", "formaction", "srcset") and (
                        value.startswith(("javascript:", "vbscript:", "http:", "https:", "//"))
                        or (value.startswith("data:") and not value.startswith("data:image/"))):
                    found.append(f"<{tag} {name}={value[:40]}>")

    Scan().feed(page)
    return found


_FORMULA = re.compile(r"^[=+\-@\t\r\n]")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet can open without harm (OWASP CSV injection): a cell that
    would start a formula (``= + - @``, tab, line break) gets a leading apostrophe, and a
    bare carriage return becomes a line break, which the CSV writer quotes (a bare CR is
    not quoted and would split the row). A real number such as ``-5`` stays a number."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if not (pd.api.types.is_string_dtype(column) or column.dtype == object
                or isinstance(column.dtype, pd.CategoricalDtype)):
            continue
        text = column.astype("str").str.replace("\r\n", "\n").str.replace("\r", "\n")
        numeric = pd.to_numeric(text, errors="coerce").notna()
        risky = text.str.contains(_FORMULA, regex=True).fillna(False) & ~numeric
        out[name] = text.where(~risky, "'" + text)
    return out


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """The one way a table leaves the package as CSV: spreadsheet-safe, every field with
    a line break quoted."""
    spreadsheet_safe(frame).to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    return Path(path)


# -- counts ------------------------------------------------------------------------------

def check_k(k: int) -> None:
    if k < 6:
        raise ValueError(f"k={k} is too small to protect students; use 6 or more (default 10)")


def suppress(table: pd.DataFrame, *, n: str | list[str], values: list[str],
             k: int = MIN_CELL) -> pd.DataFrame:
    """Blank a row where any group it describes counts fewer than ``k`` (0 < n < k):
    its values and its counts too, so a blanked row says nothing about its size.

    ``n`` names the count columns (students treated, comparison students, the
    denominator). Returns a copy with a ``suppressed`` column.
    """
    check_k(k)
    counts = [n] if isinstance(n, str) else list(n)
    present = [c for c in counts if c in table]
    small = pd.Series(False, index=table.index)
    for column in present:
        count = pd.to_numeric(table[column], errors="coerce")
        small |= ((count > 0) & (count < k)).fillna(False)
    out = table.copy()
    for column in values:
        if column in out and column not in present:
            out[column] = out[column].astype("float64").where(~small)
    for column in present:  # counts stay whole numbers, blank where hidden
        count = pd.to_numeric(out[column], errors="coerce").where(~small)
        whole = (count.dropna() % 1 == 0).all()
        out[column] = count.astype("Int64") if whole else count.astype("float64")
    return out.assign(suppressed=small.to_numpy())


def count_text(n: float, k: int = MIN_CELL) -> str:
    """A count for a sentence: "fewer than k" when it is a small group."""
    if pd.isna(n):  # a blanked count
        return f"fewer than {k}"
    return f"fewer than {k}" if 0 < n < k else f"{int(n):,}"


def looks_like_a_key(path: Path) -> bool:
    """A small file of one line of random-looking text (a secret key, a token): never
    opened for display, so never quoted in a report."""
    try:
        if path.stat().st_size > 512:
            return False
        data = path.read_bytes().strip()
    except OSError:
        return False
    if not data or b"\n" in data or re.search(rb"[,;\t ]", data):
        return False
    mixed = re.search(rb"[0-9]", data) and re.search(rb"[A-Za-z]", data)
    return len(data) >= 16 and bool(mixed) and _entropy(data) >= 3.0


def _entropy(data: bytes) -> float:
    """Shannon entropy of the bytes, in bits per byte."""
    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    p = counts[counts > 0] / len(data)
    return float(-(p * np.log2(p)).sum())
