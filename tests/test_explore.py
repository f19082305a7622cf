"""The explorer: each view of a selection checked on the sample, no small group shown in
any of them, and the Voila dashboard driven in a real Chromium."""

import re
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from engagement.explorer import (
    MIN_STUDENTS_TO_ESTIMATE,
    Selection,
    choices,
    estimates,
    explore,
    headline,
    narrowed,
    reached,
    select,
    weekly,
)
from tests.browser import CHROMIUM_FLAGS, chromium

ROOT = Path(__file__).resolve().parents[1]
K = 10


@pytest.fixture(scope="module")
def tables(sample_dataset):
    return sample_dataset.tables


def test_a_selection_narrows_every_table(tables):
    school = select(tables, Selection(school="101"))
    assert set(school["students"]["school_id"].astype("str")) == {"101"}
    assert school["results"]["student_id"].isin(school["students"]["student_id"]).all()
    teacher = tables["enrollments"]["teacher_id"].astype("str").iloc[0]
    mine = select(tables, Selection(teacher=teacher))
    taught = tables["enrollments"].loc[tables["enrollments"]["teacher_id"] == teacher]
    assert set(mine["students"]["student_id"]) == set(taught["student_id"])
    assert set(mine["assignments"]["class_id"]) <= set(taught["class_id"])
    autumn = select(tables, Selection(start=date(2025, 10, 6), end=date(2025, 11, 24),
                                      mode="personal"))
    due = autumn["assignments"]["due_at"].dt.tz_convert("America/Edmonton")
    assert due.min() >= pd.Timestamp("2025-10-06", tz="America/Edmonton")
    assert due.max() < pd.Timestamp("2025-12-01", tz="America/Edmonton")
    assert set(autumn["contacts"]["mode"].astype("str")) == {"personal"}
    assert len(autumn["results"]) < len(tables["results"]) / 3


def test_choosing_a_school_clears_the_rest(tables):
    choice = narrowed(Selection(school="101", grade=3, teacher="T1"), school="102")
    assert (choice.school, choice.grade, choice.teacher) == ("102", None, None)
    assert choices(tables, choice)["grade"] == [7, 8, 9]


def test_the_headline_says_small_counts_as_fewer_than_k(tables):
    text = headline(select(tables, Selection(school="101", grade=3)), K)
    assert text.startswith("**57 students.**") and "21 never" in text
    week = select(tables, Selection(school="101", grade=3, start=date(2025, 10, 6),
                                    end=date(2025, 10, 6), mode="personal"))
    small = headline(week, K)
    assert "fewer than 10 contacts" in small
    assert not re.search(r"\b[1-9] (contacts|families|students)\b", small)


def test_no_view_shows_a_group_under_k(tables):
    for choice in (Selection(), Selection(school="101"), Selection(school="102", grade=8),
                   Selection(school="103", mode="written", start=date(2026, 1, 5))):
        picked = select(tables, choice)
        completion, activity = weekly(picked, K)
        shown = reached(picked, K)
        for frame, counts in ((completion, ["n"]), (activity, ["n_students"]),
                              (shown, ["n_families", "n_reached", "n_attempted"])):
            values = pd.to_numeric(frame[counts].stack(), errors="coerce").dropna()
            assert not ((values > 0) & (values < K)).any(), (choice, counts)


def test_estimates_only_for_a_group_large_enough(tables):
    grade = select(tables, Selection(school="101", grade=3))
    assert len(grade["students"]) < MIN_STUDENTS_TO_ESTIMATE
    assert estimates(grade, k=K).startswith("Too few students to estimate (57;")
    school = estimates(select(tables, Selection(school="101")), k=K)
    row = school.set_index("estimand").loc["att_personal_attempt"]
    assert row["ci_low"] < row["estimate"] < row["ci_high"] and row["n_treated"] >= K


def test_the_app_builds_with_every_tab(sample_dataset):
    app = explore(sample_dataset)
    tabs = app.children[-1]
    assert [tabs.get_title(i) for i in range(len(tabs.children))] == [
        "Overview", "Who was reached", "Estimates", "Whom to call"]


def test_a_results_folder_is_explored_on_the_data_and_settings_it_was_run_with(tmp_path):
    from engagement import manifest
    from engagement.explorer import _analysed
    from tests.conftest import SAMPLE

    results = tmp_path / "results"
    results.mkdir()
    (results / "effects.csv").write_text("estimand\n", encoding="utf-8")
    manifest.write(results, manifest.build(SAMPLE, command="analyze", parameters={
        "window_days": 28, "seed": 3, "k": 12, "school": "101"}))
    dataset, design, k = _analysed(results)
    assert set(dataset.students["school_id"].astype(str)) == {"101"}
    assert (design.window_days, design.seed, k) == (28, 3, 12)
    assert explore(results).children  # the app builds from the folder

    record = manifest.read(results)
    record["inputs"]["folder"] = str(tmp_path / "gone")
    manifest.write(results, record)
    with pytest.raises(FileNotFoundError, match="pass the cleaned folder"):
        explore(results)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def voila():
    """The explorer notebook served by Voila, as `voila notebooks/06-explore.ipynb`."""
    pytest.importorskip("voila")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "voila", "notebooks/06-explore.ipynb", "--no-browser",
         f"--port={port}", "--Voila.ip=127.0.0.1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_dashboard_follows_the_school_chosen(voila, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    path = chromium()
    errors = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(voila, wait_until="commit", timeout=180_000)
        # Inside the app's views only: the notebook's own text below it has figures too.
        app = page.locator(".widget-output")
        # The app draws once the notebook has run (cleaning the sample: some seconds).
        app.get_by_text("1,200 students.").wait_for(timeout=180_000)
        chart = app.locator("img").first
        chart.wait_for(timeout=60_000)
        before = chart.get_attribute("src")
        page.locator(".widget-dropdown select").first.select_option(label="101")
        app.get_by_text("400 students.").wait_for(timeout=120_000)
        page.wait_for_function(  # the chart is redrawn after the sentence above it
            "before => { const i = document.querySelector('.widget-output img');"
            " return i && i.src !== before; }", arg=before, timeout=60_000)
        after = chart.get_attribute("src")
        page.screenshot(path=str(tmp_path / "school.png"), full_page=True)
        page.locator(".lm-TabBar-tabLabel", has_text="Whom to call").click()
        calls = app.get_by_text("students to contact")
        calls.wait_for(timeout=60_000)
        listed = calls.inner_text()
        page.locator(".lm-TabBar-tabLabel", has_text="Estimates").click()
        app.get_by_text("Call or meeting attempted").wait_for(timeout=60_000)
        browser.close()
    assert before and after and before != after
    assert re.match(r"\d+ students to contact", listed)
    assert not errors
    assert (tmp_path / "school.png").stat().st_size > 50_000
