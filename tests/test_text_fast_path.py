"""Arrow's fast reader and the careful pandas reader give the same frame."""

import pandas as pd
import pytest

from engagement.io import text
from tests.conftest import SAMPLE


def _careful(path, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(text, "_read_with_arrow", lambda *a, **k: None)
        return text.read_table_text(path)


@pytest.mark.parametrize("name", ["powerschool_log.csv", "broadcast_log.csv",
                                  "oneroster/users.csv", "oneroster/lineItems.csv"])
def test_fast_and_careful_paths_agree_on_the_sample(name, monkeypatch):
    fast = text.read_table_text(SAMPLE / name)
    assert text._read_with_arrow((SAMPLE / name).read_bytes(), name=name, delimiter=None,
                                 encoding=None) is not None
    pd.testing.assert_frame_equal(fast, _careful(SAMPLE / name, monkeypatch))


def test_quoted_line_breaks_keep_line_numbers(tmp_path, monkeypatch):
    path = tmp_path / "notes.csv"
    path.write_bytes('id,note\r\n1,"two\r\nlines"\r\n2,=SUM(1)\r\n3,\r\n'.encode("utf-8-sig"))
    fast = text.read_table_text(path)
    assert fast["source_row"].tolist() == [2, 4, 5]
    assert fast.loc[1, "note"] == "=SUM(1)" and pd.isna(fast.loc[2, "note"])
    pd.testing.assert_frame_equal(fast, _careful(path, monkeypatch))


@pytest.mark.parametrize("content", [b"a,b\n1,2\n\n3,4\n", b"a,b\r\n1,2\r\n\r\n", b"a,b\n1,2\n\n"])
def test_blank_lines_take_the_careful_path(tmp_path, content):
    path = tmp_path / "blank.csv"
    path.write_bytes(content)
    assert text._read_with_arrow(content, name="blank.csv", delimiter=None,
                                 encoding=None) is None
    frame = text.read_table_text(path)
    assert frame["a"].isna().sum() == 1
