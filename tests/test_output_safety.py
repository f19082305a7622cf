"""Nothing private and nothing live leaves the pipeline: every output of every command,
run on an adversarial raw folder (tests/adversarial.py), is searched for what was planted.

One fixture builds the folder and runs clean, analyze, report, replicate, export and check
in-process; a command that fails is recorded (test_every_command_ran), not raised, so the
other tests still search what was written. Each test then walks every file under every
output folder (Parquet: each cell and column name as text; anything else: the raw text) and
lists what it found, file by file. The scanners are tested first on files known to hold
(or not hold) what they look for, so a pass means the outputs are clean, not that the
scanner is blind.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import re
import subprocess
import sys
import traceback
import warnings
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from tests import adversarial

OUTPUTS = ("clean", "results", "report", "replicate", "export", "check")
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".pdf", ".xlsx", ".xls", ".zip", ".pkl"}
DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+")
SNIPPET = 40

FINDINGS = '''\
# Claims about the adversarial division (adapted from data/sample/findings.toml).

[[claim]]
id = "calls-home-division"
text = "Across the division, reaching a family by phone raised completion by 10 points."
estimand = "att_personal_contact"
scope = "division"
at_least = 10

[[claim]]
id = "calls-home-junior-high"
text = "At the junior high, completion rose within three weeks of a phone call."
estimand = "att_personal_contact"
scope = {junior}
direction = "positive"

[[claim]]
id = "completion-small-school"
text = "At the small elementary school, at least 80% of work was completed."
metric = "completion"
scope = {small}
at_least = 80

[[claim]]
id = "bulletins-no-change"
text = "Bulletins made no measurable difference to completion."
estimand = "att_broadcast"
scope = "division"
direction = "none"
tolerance = 1

[[claim]]
id = "personal-invitations-high-school"
text = "Most families invited personally came to their conference."
metric = "conference_attendance"
invitation = "personal"
scope = {high}
at_least = 50
'''


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r")
    return f'"{escaped}"'


@dataclass
class Run:
    planted: adversarial.Planted
    root: Path
    outputs: dict[str, Path]
    failures: dict[str, str] = field(default_factory=dict)
    console: dict[str, str] = field(default_factory=dict)  # command -> stdout + stderr


NOTEBOOK_COMMANDS = ("report", "replicate")  # their kernels' sockets outlive an in-process run


def _run(argv: list[str]) -> tuple[int | None, str, str | None]:
    """Run the CLI (in-process, but in a subprocess for the commands that start notebook
    kernels): (exit code, console text, traceback if it raised)."""
    from engagement.cli import main

    if argv[0] in NOTEBOOK_COMMANDS:
        done = subprocess.run([sys.executable, "-m", "engagement.cli", *argv],
                              capture_output=True, text=True, check=False)
        return done.returncode, done.stdout + done.stderr, None

    out, err = io.StringIO(), io.StringIO()
    error = None
    code: int | None = None
    with (contextlib.redirect_stdout(out), contextlib.redirect_stderr(err),
          warnings.catch_warnings()):
        warnings.simplefilter("default")  # a warning is not what this module tests
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except Exception:  # every failure is a finding, reported by test_every_command_ran
            error = traceback.format_exc(limit=6)
    return code, out.getvalue() + err.getvalue(), error


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Run:
    root = tmp_path_factory.mktemp("adversarial")
    planted = adversarial.build(root)
    schools = planted.school_ids
    findings = root / "findings.toml"
    findings.write_text(FINDINGS.format(junior=_toml_string(schools["102"]),
                                        high=_toml_string(schools["103"]),
                                        small=_toml_string(planted.small_school)),
                        encoding="utf-8")
    out = {name: root / name for name in OUTPUTS}
    clean = str(out["clean"])
    commands = {
        "clean": ["clean", str(planted.raw_dir), "--out", clean,
                  "--key-file", str(planted.key_file)],
        "analyze": ["analyze", clean, "--out", str(out["results"])],
        "report": ["report", clean, "--out", str(out["report"])],
        "replicate": ["replicate", clean, "--out", str(out["replicate"])],
        "export": ["export", clean, "--out", str(out["export"]), "--publishable"],
        "check": ["check", str(findings), "--data", clean,
                  "--out", str(out["check"] / "check.csv")],
    }
    result = Run(planted, root, out)
    for name, argv in commands.items():
        code, console, error = _run([*argv, "--quiet"])
        result.console[name] = console
        # check exits 1 when a claim is not reproduced: a verdict, not a failure.
        ok = {0, 1} if name == "check" else {0}
        if error is not None:
            result.failures[name] = error.strip().splitlines()[-1] + "\n" + error
        elif code not in ok:
            result.failures[name] = f"exit code {code}: {console.strip()[-600:]}"
    return result


# --- reading outputs ----------------------------------------------------------------------


def output_files(run: Run) -> list[Path]:
    return sorted(p for folder in run.outputs.values() if folder.is_dir()
                  for p in folder.rglob("*") if p.is_file())


def texts(path: Path) -> list[tuple[str, str]]:
    """(where in the file, text) pieces of one file: per column for Parquet (its name and
    every cell), the whole text otherwise (embedded base64 images removed); none for
    binary files."""
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        pieces = [(" [column names]", "\n".join(map(str, frame.columns)))]
        for column in frame.columns:
            cells = frame[column].astype(object).map(str)
            pieces.append((f" [column {column!r}]", "\n".join(cells)))
        return pieces
    if path.suffix.lower() in BINARY_SUFFIXES:
        return []
    data = path.read_bytes()
    if b"\0" in data[:4096]:
        return []
    return [("", DATA_URI.sub("", data.decode("utf-8", errors="replace")))]


def _snippet(text: str, start: int, end: int) -> str:
    return repr(text[max(0, start - SNIPPET):end + SNIPPET])


def search(pattern: re.Pattern, files: list[Path], root: Path,
           extra: dict[str, str] | None = None) -> list[str]:
    """One line per distinct (file, match): where, what and a bit around it."""
    found: dict[tuple[str, str], str] = {}
    pieces = [(p.relative_to(root).as_posix() + where, text)
              for p in files for where, text in texts(p)]
    pieces += [(f"<console of {name}>", text) for name, text in (extra or {}).items()]
    for where, text in pieces:
        for m in pattern.finditer(text):
            found.setdefault((where, m.group(0)), _snippet(text, m.start(), m.end()))
    return [f"{where}: {what!r} in {context}" for (where, what), context in found.items()]


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


def id_pattern(ids: list[str]) -> re.Pattern:
    """Whole tokens only: not inside a longer word, hex digest or decimal number."""
    long = [i for i in ids if len(i) >= 4]
    return re.compile(rf"(?<![\w.])(?:{_alternation(long)})(?![\w]|\.\d)")


def name_pattern(names: list[str]) -> re.Pattern:
    return re.compile(rf"\b(?:{_alternation(names)})\b", re.IGNORECASE)


def note_pattern(notes: list[str]) -> re.Pattern:
    return re.compile(_alternation(notes), re.IGNORECASE)


def key_pattern(planted: adversarial.Planted) -> re.Pattern:
    """The key, the key file's path, and digests of the key file (a digest of a weak key is
    enough to brute-force it offline, and with it every pseudonym)."""
    data = planted.key_file.read_bytes()
    secrets = [planted.key_text, str(planted.key_file), str(planted.key_file.resolve()),
               hashlib.sha256(data).hexdigest(), hashlib.sha256(data.strip()).hexdigest()]
    return re.compile(_alternation(secrets), re.IGNORECASE)


def _report(what: str, leaks: list[str], limit: int = 60) -> str:
    lines = leaks[:limit] + ([f"... and {len(leaks) - limit} more"] if len(leaks) > limit else [])
    return f"{len(leaks)} {what}:\n  " + "\n  ".join(lines)


# --- markup and CSV scanners --------------------------------------------------------------


class _Markup(HTMLParser):
    """Live markup made from the payloads: a script whose code carries them, a javascript:
    link or source, an image from the web, or any tag whose attributes carry them."""

    MARKERS = ("engxss", "evil.example", "javascript:")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self._tag(tag, attrs)
        if tag == "script":
            self._script = []

    def handle_startendtag(self, tag, attrs):
        self._tag(tag, attrs)

    def _tag(self, tag, attrs):
        shown = self.get_starttag_text() or tag
        for name, value in attrs:
            value = (value or "").strip().lower()
            if name in ("href", "src", "action", "formaction", "xlink:href") and \
                    re.sub(r"[\s\x00-\x1f]", "", value).startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>: {shown!r}")
            elif tag == "img" and name == "src" and value.startswith(("http:", "https:", "//")):
                self.found.append(f"<img> from the web: {shown!r}")
            elif any(m in value for m in self.MARKERS):
                self.found.append(f"<{tag}> attribute {name} carries a payload: {shown!r}")

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            code = "".join(self._script)
            if "engxss" in code:
                i = code.index("engxss")
                self.found.append(f"<script> running the payload: {_snippet(code, i, i + 6)}")
            self._script = None


def html_leaks(text: str) -> list[str]:
    parser = _Markup()
    parser.feed(text)
    parser.close()
    found = list(parser.found)
    for m in re.finditer(r"<script>alert\(", text, re.IGNORECASE):
        found.append("raw '<script>alert(' in the page source: "
                     + _snippet(text, m.start(), m.end()))
    return found


_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
_MD_LIVE = re.compile(r"(?<!\\)<script|(?<!\\)\]\(\s*javascript:|(?<!\\)<img",
                      re.IGNORECASE)


def markdown_leaks(text: str) -> list[str]:
    """Payload markup that a Markdown renderer would make live (code spans are inert)."""
    inert = _CODE_SPAN.sub(lambda m: " " * len(m.group(0)),
                           _FENCE.sub(lambda m: " " * len(m.group(0)), text))
    return [f"{m.group(0)!r} unescaped: {_snippet(text, m.start(), m.end())}"
            for m in _MD_LIVE.finditer(inert)]


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def csv_leaks(text: str) -> list[str]:
    """Rows of another length than the header (a bare CR or newline splits a row), and
    fields a spreadsheet runs as a formula (= + - @ tab CR first, unless a number)."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return []
    width = len(rows[0])
    found = []
    for line, row in enumerate(rows, start=1):
        if line > 1 and len(row) != width:
            found.append(f"record {line}: {len(row)} fields, header has {width}: "
                         f"{repr(','.join(row))[:120]}")
        for column, value in enumerate(row):
            if value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(value):
                name = rows[0][column] if column < width else f"#{column}"
                found.append(f"record {line}, column {name!r}: formula-like {value[:80]!r}")
    return found


def scan_files(files: list[Path], root: Path, suffixes: tuple[str, ...], scanner) -> list[str]:
    leaks = []
    for path in files:
        if path.suffix.lower() in suffixes:
            text = path.read_bytes().decode("utf-8-sig", errors="replace")
            leaks += [f"{path.relative_to(root).as_posix()}: {leak}" for leak in scanner(text)]
    return leaks


# --- the scanners find what they look for ----------------------------------------------------


def test_scanners_find_planted_secrets_in_the_raw_folder(run):
    """The raw folder holds everything planted: each search must find it there."""
    planted = run.planted
    raw = sorted(p for p in planted.raw_dir.rglob("*") if p.is_file())
    root = planted.raw_dir
    ids = search(id_pattern(planted.student_ids), raw, root)
    assert any(line.startswith("oneroster/users.csv") for line in ids), ids[:5]
    assert any("teacher_contacts_export.csv" in line for line in ids)
    names = search(name_pattern(planted.names), raw, root)
    assert any(line.startswith("oneroster/users.csv") for line in names)
    assert any("conference_schedule.csv" in line for line in names)
    notes = search(note_pattern(planted.notes), raw, root)
    assert any("powerschool_log.csv" in line for line in notes)
    assert any("teacher_contacts_export.csv" in line for line in notes)
    keys = search(key_pattern(planted), raw, root)
    assert any(line.startswith("key.txt") for line in keys)
    assert search(id_pattern(["123456"]), [], root, {"t": "x0.123456 a123456 123456.5"}) == []
    assert search(id_pattern(["123456"]), [], root, {"t": "id 123456, 7"})


def test_scanners_find_payloads_in_bad_files_and_pass_safe_ones(tmp_path):
    bad_html = (f"<p>{adversarial.IMG}</p><div>{adversarial.SCRIPT}</div>"
                '<a href=" javascript:alert(1)">click</a>')
    safe_html = ("<script>var x = 1;</script><p>&lt;script&gt;alert('engxss')&lt;/script&gt;"
                 "&lt;img src=&quot;http://evil.example/x.png&quot;&gt;"
                 "[click](javascript:alert(1))</p>")
    assert len(html_leaks(bad_html)) >= 3, html_leaks(bad_html)
    assert html_leaks(safe_html) == []

    bad_md = (f"| school |\n|---|\n| {adversarial.IMG} |\n\n"
              f"{adversarial.MD_LINK}\n{adversarial.SCRIPT}")
    safe_md = (f"`{adversarial.SCRIPT}` and ``{adversarial.IMG}``\n\n"
               r"\[click\]\(javascript:alert\(1\)\) &lt;script&gt; \<img>")
    assert len(markdown_leaks(bad_md)) == 3, markdown_leaks(bad_md)
    assert markdown_leaks(safe_md) == []

    bad = tmp_path / "bad.csv"
    pd.DataFrame({"a": [adversarial.HYPERLINK, "-4.5", adversarial.PLUS],
                  "b": ["x", adversarial.AT, "y"]}).to_csv(bad, index=False)
    bad.write_bytes(bad.read_bytes() + b"ok,Homework\rX\n")  # a bare CR splits a record
    found = csv_leaks(bad.read_bytes().decode())
    assert sum("formula-like" in f for f in found) == 3, found
    assert sum("fields, header has" in f for f in found) >= 1, found
    safe = tmp_path / "safe.csv"
    pd.DataFrame({"a": ["'" + adversarial.HYPERLINK, "-4.5", "1e-3"],
                  "b": ["Homework\rX", "x", "y"]}).to_csv(safe, index=False,
                                                           quoting=csv.QUOTE_ALL)
    assert csv_leaks(safe.read_bytes().decode()) == []

    table = tmp_path / "t.parquet"
    pd.DataFrame({"Vruiskov": ["a"], "b": ["Foster placement ended, now with an aunt"]}
                 ).to_parquet(table)
    assert search(name_pattern(["Vruiskov"]), [table], tmp_path)
    assert search(note_pattern(list(adversarial.HEADERLESS_NOTES)), [table], tmp_path)


# --- what must not leak ------------------------------------------------------------------


def test_no_key_or_key_file(run):
    leaks = search(key_pattern(run.planted), output_files(run), run.root, run.console)
    assert not leaks, _report("traces of the key (its text, its file's path or digest)", leaks)


def test_no_student_ids(run):
    leaks = search(id_pattern(run.planted.student_ids), output_files(run), run.root,
                   run.console)
    assert not leaks, _report("raw student or guardian ids", leaks)


def test_no_names(run):
    leaks = search(name_pattern(run.planted.names), output_files(run), run.root, run.console)
    assert not leaks, _report("names of students, guardians or staff", leaks)


def test_no_notes(run):
    leaks = search(note_pattern(run.planted.notes), output_files(run), run.root, run.console)
    assert not leaks, _report("free-text notes", leaks)


def test_no_live_markup_in_html(run):
    leaks = scan_files(output_files(run), run.root, (".html", ".htm"), html_leaks)
    assert not leaks, _report("live payloads in HTML", leaks)


def test_no_live_markup_in_markdown(run):
    leaks = scan_files(output_files(run), run.root, (".md",), markdown_leaks)
    assert not leaks, _report("live payloads in Markdown", leaks)


def test_csv_rows_whole_and_no_formulas(run):
    leaks = scan_files(output_files(run), run.root, (".csv",), csv_leaks)
    assert not leaks, _report("CSV problems (split records, formula-like fields)", leaks)


# --- the pipeline ran (last: with -x the searches above still run) ----------------------


def test_no_hidden_count_can_be_worked_out(run):
    """The linear-programming audit over every count the run published (the export and
    analyze's results), as tests/test_disclosure_audit.py runs it on the sample."""
    from tests.lp_audit import audit, from_run

    tables, links = from_run(run.outputs["export"], run.outputs["results"])
    result = audit(tables, links)
    found = [*result.recovered, *result.bounded_small, *result.one_band]
    assert not found, result.summary(limit=20)


def test_every_command_ran(run):
    assert not run.failures, "\n\n".join(f"engagement {name} failed: {why}"
                                         for name, why in run.failures.items())


def test_outputs_were_written(run):
    """The searches above are only worth something if there was something to search."""
    written = {name for name, folder in run.outputs.items()
               if folder.is_dir() and any(folder.iterdir())}
    assert written == set(OUTPUTS), f"nothing written by: {sorted(set(OUTPUTS) - written)}"
    assert (run.outputs["clean"] / "results.parquet").is_file()
