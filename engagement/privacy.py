"""Privacy at the edge: notes and names dropped, ids pseudonymised with a keyed HMAC.

A plain or salted hash of a student number is not private: a 9-digit number
space is reversed in about a minute. HMAC-SHA256 with a secret key kept outside
the data cannot be reversed without the key, and gives the same pseudonym for
the same id on every run with the same key, so files cleaned on different days
still join.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import pandas as pd

KEY_ENVIRONMENT_VARIABLE = "ENGAGEMENT_KEY"
#: Id columns pseudonymised when a key is given, with the prefix their pseudonyms get.
ID_COLUMNS = {"student_id": "s_", "staff_id": "t_", "teacher_id": "t_", "contact_id": "k_"}
PRIVATE_COLUMNS = ("notes", "given_name", "family_name", "student_name", "guardian_name")


def read_key(key_file: str | Path | None) -> bytes | None:
    """The secret key from a file, else from $ENGAGEMENT_KEY, else None (no pseudonyms)."""
    if key_file is not None:
        path = Path(key_file)
        if not path.is_file():
            raise FileNotFoundError(f"key file {path} does not exist; create it with a long "
                                    "random secret (e.g. `openssl rand -hex 32 > key.txt`) "
                                    "and keep it out of the data folder")
        key = path.read_bytes().strip()
    else:
        key = os.environ.get(KEY_ENVIRONMENT_VARIABLE, "").encode()
    if key_file is not None and len(key) < 16:
        raise ValueError(f"key file {key_file} holds fewer than 16 bytes; use a long random "
                         "secret")
    return key or None


def pseudonymise(values: pd.Series, key: bytes, prefix: str = "") -> pd.Series:
    """HMAC-SHA256 of each distinct id (first 16 hex digits), NA kept as NA."""
    distinct = values.dropna().unique()
    table = {v: prefix + hmac.new(key, str(v).encode("utf-8"), hashlib.sha256).hexdigest()[:16]
             for v in distinct}  # one HMAC per distinct id, not per row
    return values.map(table).astype("str")


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


MIN_CELL = 10  # the default k; never below 6


def suppress(table: pd.DataFrame, *, n: str, values: list[str], k: int = MIN_CELL
             ) -> pd.DataFrame:
    """Blank the values of rows whose count is below ``k`` (0 < n < k), and say so.

    Returns a copy with a ``suppressed`` column. Complementary suppression (so totals
    cannot reveal a blanked cell) belongs to the publishable export.
    """
    if k < 6:
        raise ValueError(f"k={k} is too small to protect students; use 6 or more (default 10)")
    small = (table[n] > 0) & (table[n] < k)
    out = table.copy()
    for column in values:
        out[column] = out[column].astype("float64").where(~small)
    return out.assign(suppressed=small)
