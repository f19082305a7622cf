"""Readers: one per source format, each returning raw canonical-named tables.

Every reader returns a list of :class:`Reading`; each frame has one row per
record of the file (blank and junk lines included, with a ``reader_issue``),
raw text values, ``source_file`` and ``source_row``. Parsing, id normalisation
and vocabulary mapping happen in :mod:`engagement.cleaning`.
"""

from engagement.io.canvas import read_canvas_gradebook
from engagement.io.edfi import read_edfi
from engagement.io.folder import read_folder
from engagement.io.generic import HEADER_SYNONYMS, UnknownTableError, read_generic
from engagement.io.oneroster import read_oneroster
from engagement.io.powerschool import (
    POWERSCHOOL_CONTACT_CODES,
    POWERSCHOOL_CONTACT_LOG_TYPES,
    read_powerschool_log,
    read_powerschool_scores,
)
from engagement.io.text import ReadError, Reading, read_table_text

__all__ = [
    "HEADER_SYNONYMS",
    "POWERSCHOOL_CONTACT_CODES",
    "POWERSCHOOL_CONTACT_LOG_TYPES",
    "ReadError",
    "Reading",
    "UnknownTableError",
    "read_canvas_gradebook",
    "read_edfi",
    "read_folder",
    "read_generic",
    "read_oneroster",
    "read_powerschool_log",
    "read_powerschool_scores",
    "read_table_text",
]
