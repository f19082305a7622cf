"""The output policy, rule by rule: keys, free text, escaping for each medium, counts."""

import csv
import io
import secrets

import pandas as pd
import pytest

from engagement.privacy import (
    FREE_TEXT,
    WITHHELD,
    check_key,
    count_text,
    free_text,
    html_text,
    looks_like_a_key,
    markdown_text,
    read_key,
    safe_message,
    share_quarantine,
    spreadsheet_safe,
    suppress,
    write_csv,
)


@pytest.mark.parametrize("key", [b"a", b"a" * 16, b"a" * 64, b"ab" * 20, b"0123456789abcdef",
                                 b"passwordpassword", b"correcthorsebatterystaple",
                                 b"a long random secret kept elsewhere"])
def test_weak_keys_are_refused(key):
    with pytest.raises(ValueError, match="too weak"):
        check_key(key, "the key file")


@pytest.mark.parametrize("key", [secrets.token_hex(16), secrets.token_hex(32),
                                 secrets.token_urlsafe(24)])
def test_random_keys_are_accepted(key):
    check_key(key.encode(), "the key file")


def test_the_same_rule_for_the_environment_and_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ENGAGEMENT_KEY", "a")
    with pytest.raises(ValueError, match=r"\$ENGAGEMENT_KEY is too weak"):
        read_key(None)
    weak = tmp_path / "key.txt"
    weak.write_text("a" * 16)
    with pytest.raises(ValueError, match="the key file is too weak") as err:
        read_key(weak)
    assert str(tmp_path) not in str(err.value)  # the key's path is never repeated
    monkeypatch.setenv("ENGAGEMENT_KEY", "")
    assert read_key(None) is None


def test_a_key_file_is_recognised_without_being_shown(tmp_path):
    key = tmp_path / "key.txt"
    key.write_text(secrets.token_hex(32) + "\n")
    export = tmp_path / "ids.csv"
    export.write_text("student_id\n000123\n")
    header = tmp_path / "one_column.csv"
    header.write_text("student_identifier_number")
    assert looks_like_a_key(key)
    assert not looks_like_a_key(export) and not looks_like_a_key(header)


def test_free_text_is_told_from_categories():
    values = pd.Series(["Dad lost his job, family in shelter", "phone", "left voice mail",
                        "Spoke with parent", "the aunt", "called mom about the missing essay",
                        None], dtype="str")
    assert free_text(values).tolist() == [True, False, False, False, False, True, False]


def test_the_quarantine_shows_values_but_no_names_notes_or_raw_ids():
    q = pd.DataFrame({"file": "log.csv", "line": [2, 3, 4, 5], "table": "contacts",
                      "column": ["channel", "student_name", "contact_at", "student_id"],
                      "value": ["Seesaw", "Ava Smith", "Dad lost his job, family in shelter",
                                "555555"],
                      "reason": "x", "record": '{"notes": "private"}'})
    shared = share_quarantine(q, key=secrets.token_hex(32).encode())
    assert "record" not in shared
    assert shared["value"].tolist()[:3] == ["Seesaw", WITHHELD, FREE_TEXT]
    assert shared["value"].iloc[3].startswith("s_") and "555555" not in shared.to_csv()


def test_messages_drop_quoted_prose_only():
    assert safe_message("could not parse 'Dad lost his job, family in shelter' as a date") == (
        "could not parse '…' as a date")
    assert safe_message("column 'Date' has dates like '03/09/2025'") == (
        "column 'Date' has dates like '03/09/2025'")


@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", "[x](javascript:alert(1))",
                                     "![x](http://evil.example/x.png)", "<img src=x>",
                                     "a\n\n# heading", "$\\href{javascript:x}{y}$",
                                     '<img src="http://evil.example/x.png">', "www.evil.example"])
def test_markdown_text_is_never_markup(payload):
    from nbconvert.filters.markdown_mistune import markdown2html_mistune  # the report's

    text = markdown_text(payload)
    rendered = markdown2html_mistune(text)
    assert "<script" not in rendered and "<img" not in rendered and "<a " not in rendered
    assert "<h1" not in rendered and "\n" not in text
    assert all(text[i - 1] == "\\" for i, c in enumerate(text) if c == "$")  # no maths
    assert "<" not in html_text(payload) and '"' not in html_text('"')


def test_csv_cells_never_start_a_formula_or_break_a_row(tmp_path):
    frame = pd.DataFrame({"a": pd.Series(["=HYPERLINK(\"x\")", "-5", "@SUM(1)", "ok",
                                          "+cmd", "a\rb", "\tx"], dtype="str"),
                          "n": [-1, 2, 3, 4, 5, 6, 7]})
    safe = spreadsheet_safe(frame)
    assert safe["a"].tolist() == ["'=HYPERLINK(\"x\")", "-5", "'@SUM(1)", "ok", "'+cmd",
                                  "a\nb", "'\tx"]
    assert safe["n"].tolist() == [-1, 2, 3, 4, 5, 6, 7]
    path = write_csv(frame, tmp_path / "t.csv")
    rows = list(csv.reader(io.StringIO(path.read_text(), newline="")))
    assert len(rows) == 8 and all(len(r) == 2 for r in rows)


def test_suppression_blanks_a_row_when_any_group_is_small_and_its_counts_too():
    table = pd.DataFrame({"estimate": [1.0, 2.0, 3.0], "n_treated": [50, 4, 50],
                          "n_comparison": [50, 50, 3]})
    out = suppress(table, n=["n_treated", "n_comparison"], values=["estimate"])
    assert out["suppressed"].tolist() == [False, True, True]
    assert out.loc[1:, ["estimate", "n_treated", "n_comparison"]].isna().all().all()
    assert out.loc[0, "n_treated"] == 50


def test_sentences_bound_small_counts():
    assert count_text(9) == "fewer than 10" and count_text(float("nan")) == "fewer than 10"
    assert count_text(10) == "10" and count_text(0) == "0" and count_text(1234) == "1,234"
