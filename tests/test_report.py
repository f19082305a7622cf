"""The HTML report: built by the command from the raw sample, free of anything that names a
student, and rendered in a real headless Chromium (Debian's package)."""

import re
import subprocess
import sys

import pandas as pd
import pytest

from tests.browser import CHROMIUM_FLAGS, chromium
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    done = subprocess.run([sys.executable, "-m", "engagement.cli", "report", str(SAMPLE),
                           "--out", str(out), "--quiet"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    return out / "report.html"


def _visible_text(page: str) -> str:
    """The page without its embedded images (base64 has every digit and letter)."""
    return re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", "", page)


def _raw_people() -> tuple[set[str], set[str], set[str]]:
    users = pd.read_csv(SAMPLE / "oneroster" / "users.csv", dtype="str")
    students = users[users["role"] == "student"]
    names = set(students["givenName"] + " " + students["familyName"]) | set(
        students["familyName"] + ", " + students["givenName"])
    numbers = set(students["identifier"].dropna()) | set(students["sourcedId"])
    log = pd.read_excel(SAMPLE / "contact_log_101.xlsx", dtype="str", engine="openpyxl")
    powerschool = pd.read_csv(SAMPLE / "powerschool_log.csv", dtype="str")
    notes = set(log["Notes"].dropna()) | set(powerschool["Entry"].dropna())
    return names, numbers, {n for n in notes if len(n) >= 12}


def test_report_has_findings_charts_and_cleaning(report):
    page = report.read_text(encoding="utf-8")
    assert page.count("<img") >= 9 and "data:image/png;base64," in page
    assert "<script" not in page  # nothing runs, nothing fetched from the web
    assert not re.search(r"""(src|href)=["']?https?:""", page)
    for heading in ("Key findings", "What was loaded and cleaned",
                    "What these numbers can and cannot say"):
        assert heading in page
    assert "associated with completion 9.5 points higher" in page
    assert "1,200 students in 3 schools;" in page and "school(s)" not in page
    assert "every school on the same estimate (Benjamini-Hochberg" in page
    assert "contact_log_101.xlsx" in page and "quarantined" in page
    assert "import engagement" not in page  # code hidden


def test_report_names_no_student_and_quotes_no_note(report):
    text = _visible_text(report.read_text(encoding="utf-8"))
    names, numbers, notes = _raw_people()
    assert not [n for n in names if n in text]
    assert not set(re.findall(r"\b\d{5,}\b", text)) & numbers
    assert not [n for n in notes if n in text]


def test_the_report_reads_analyze_results_and_computes_nothing(report, tmp_path):
    """Given analyze's folder, the report reads it: the same page, nothing recomputed."""
    import nbformat

    from engagement.report import TEMPLATE

    results = report.parent / "results"  # analyze's output, written before the notebook ran
    assert (results / "effects.csv").is_file() and (results / "manifest.json").is_file()
    done = subprocess.run([sys.executable, "-m", "engagement.cli", "report", str(results),
                           "--out", str(tmp_path), "--quiet"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    again = _visible_text((tmp_path / "report.html").read_text(encoding="utf-8"))
    first = _visible_text(report.read_text(encoding="utf-8"))
    assert again.replace(str(results), "") == first.replace(str(results), "")
    assert "From `effects.csv` in the results folder" not in again  # rendered, not literal
    assert "effects.csv</code> in the results folder" in again
    code = "\n".join(c.source for c in nbformat.read(TEMPLATE, as_version=4).cells
                     if c.cell_type == "code")
    for computing in ("analyze(", "load(", "Prepared(", "effects(", "clean_folder("):
        assert computing not in code
    wrong_k = subprocess.run([sys.executable, "-m", "engagement.cli", "report", str(results),
                              "--out", str(tmp_path), "--k", "12"], capture_output=True,
                             text=True, check=False)
    assert wrong_k.returncode == 2 and "hide groups under 10, not 12" in wrong_k.stderr


def test_report_refuses_k_below_six(tmp_path):
    done = subprocess.run([sys.executable, "-m", "engagement.cli", "report", str(SAMPLE),
                           "--out", str(tmp_path), "--k", "5"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 2 and "k=5 is too small" in done.stderr
    assert "Traceback" not in done.stderr


def test_report_renders_in_headless_chromium(report, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    path = chromium()
    requests, errors = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        images = page.eval_on_selector_all(
            "img", "imgs => imgs.map(i => [i.naturalWidth, i.getBoundingClientRect().width])")
        title = page.inner_text("h1")
        bullets = page.eval_on_selector_all("li", "items => items.length")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        height = page.evaluate("document.body.scrollHeight")
        browser.close()
    assert title == "Parent contact and assignment completion"
    assert len(images) >= 9 and all(natural > 300 and shown > 300 for natural, shown in images)
    assert bullets >= 8 and not errors
    assert [r for r in requests if not r.startswith(("file:", "data:"))] == []
    assert shot.stat().st_size > 100_000 and height > 5000


def test_replicate_writes_each_school_and_the_pooled_division(tmp_path):
    done = subprocess.run([sys.executable, "-m", "engagement.cli", "replicate", str(SAMPLE),
                           "--by", "school", "--out", str(tmp_path), "--quiet"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    division = (tmp_path / "division.html").read_text(encoding="utf-8")
    assert "School by school" in division
    assert "noisy" in division and "I² (%)" in division
    for school in ("101", "102", "103"):
        assert f'href="school_{school}.html"' in division
        page = (tmp_path / f"school_{school}.html").read_text(encoding="utf-8")
        assert f"Parent contact and assignment completion: school {school}" in page
        assert "School by school" not in page and "400 students in 1 school;" in page
    assert (tmp_path / "manifest.json").exists() and (tmp_path / "clean").is_dir()
