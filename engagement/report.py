"""The report a principal can open: the package's report notebook, run on their data and
exported as one self-contained HTML file (charts embedded, code hidden).

The notebook (``report_template.ipynb``, shipped inside the package) reads the results
of ``engagement analyze`` (``Results.read``) and draws them with the same
``engagement.plots`` the notebooks use: it computes nothing again. This module runs the
analysis first when given exports or cleaned tables, fills in the notebook's parameters,
runs it cell by cell (with a progress bar) and exports it.
"""

from __future__ import annotations

import html
import re
import tempfile
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter
from tqdm.auto import tqdm

from engagement.manifest import is_results
from engagement.privacy import MIN_CELL, check_k, live_markup

TEMPLATE = Path(__file__).with_name("report_template.ipynb")
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 920px;
       margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.5; }
h1 { font-size: 1.8rem; margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem;
     border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
img { max-width: 100%; height: auto; display: block; margin: 0.8rem 0; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 0.6rem 0; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 0.25rem 0.6rem; text-align: left; }
th { background: #f4f4f4; } td { font-variant-numeric: tabular-nums; }
.jp-RenderedText pre, pre { background: #f8f8f8; padding: 0.5rem; white-space: pre-wrap; }
.caveat { background: #fff7e0; border-left: 4px solid #E69F00; padding: 0.4rem 0.8rem; }
"""


def parameters_cell(**values) -> nbformat.NotebookNode:
    """A code cell assigning the parameters (as papermill injects them)."""
    source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    cell.id = "injected-parameters"  # not a random id: the same inputs give the same page
    return cell


def run_notebook(nb: nbformat.NotebookNode, *, workdir: Path, progress: bool = True,
                 timeout: int = 3600) -> nbformat.NotebookNode:
    """Execute every cell in a fresh kernel of this Python, one by one."""
    with tempfile.TemporaryDirectory() as sockets:
        # IPC sockets in a private folder: the kernel talks to this process only, not TCP.
        manager = KernelManager(kernel_name="python3", transport="ipc",
                                ip=str(Path(sockets) / "kernel"))
        client = NotebookClient(nb, km=manager, timeout=timeout,
                                resources={"metadata": {"path": str(workdir)}})
        _run_cells(client, nb, progress)
    return nb


def _run_cells(client: NotebookClient, nb: nbformat.NotebookNode, progress: bool) -> None:
    with client.setup_kernel():
        cells = tqdm(nb.cells, desc="report", unit="cell", disable=not progress, leave=False)
        for index, cell in enumerate(cells):
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as err:
                # The notebook's own error (a sentence from the package), not the kernel's.
                raise ValueError(f"the report stopped: {_last_line(err)}") from None


def _last_line(err: CellExecutionError) -> str:
    lines = [line for line in str(err).splitlines() if line.strip()]
    return lines[-1] if lines else "an error in the report notebook"


def to_html(nb: nbformat.NotebookNode, title: str) -> str:
    """One self-contained page: outputs only, images inline, no script, no web fonts."""
    exporter = HTMLExporter(template_name="basic", exclude_input=True, anchor_link_text="",
                            exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    if live := live_markup(body):  # every value was escaped: this would be a bug
        raise ValueError(f"the report would carry live markup ({', '.join(live[:3])}); "
                         "nothing was written. Please report this")
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
            f"<body>{body}</body></html>\n")


def analyze_into(data_dir: str | Path, out_dir: str | Path, *, k: int = MIN_CELL,
                 window_days: int = 21, seed: int = 0, school: str | None = None,
                 progress: bool = True, dataset=None) -> Path:
    """Run the analysis on ``data_dir`` (raw or cleaned; ``school``: that school alone)
    and write its results, with their run record, to ``out_dir``: what a report reads."""
    from dataclasses import asdict

    from engagement import manifest
    from engagement.dataset import load
    from engagement.estimate import Design
    from engagement.results import analyze

    dataset = load(data_dir) if dataset is None else dataset
    if school is not None:
        dataset = dataset.school(school)
    design = Design(window_days=window_days, seed=seed)
    analyze(dataset, design=design, k=k, progress=progress).write(out_dir)
    manifest.write(Path(out_dir), manifest.build(
        Path(data_dir), command="analyze",
        parameters={**asdict(design), "k": k, "engine": "pandas", "school": school},
        report=dataset.report if dataset.report.accounts else None))
    return Path(out_dir)


def build_report(data_dir: str | Path, out_dir: str | Path, *, k: int | None = None,
                 window_days: int = 21, seed: int = 0, progress: bool = True,
                 school: str | None = None, name: str = "report.html",
                 school_reports: list[tuple[str, str]] | None = None,
                 name_staff: bool = True) -> Path:
    """The report of ``data_dir`` written to ``out_dir/name``.

    ``data_dir`` is a results folder of ``engagement analyze`` (read as it is: its
    settings and its ``k`` are the report's), or raw exports or a cleaned folder
    (analysed first, into ``out_dir/results``). The notebook only reads results: it
    computes nothing again. ``school`` narrows an analysis to one school;
    ``school_reports`` (school, file name) pairs are linked from a division report.
    ``name_staff=False`` for pages shared beyond the school: no staff member named."""
    data_dir = Path(data_dir).resolve()
    if not data_dir.is_dir():
        raise FileNotFoundError(f"{data_dir} is not a folder; pass the folder that holds the "
                                "exports, the cleaned tables or analyze's results")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if is_results(data_dir):
        _same_k(data_dir, k)
        results_dir = data_dir
    else:
        check_k(MIN_CELL if k is None else k)
        results_dir = analyze_into(data_dir, out / "results", k=MIN_CELL if k is None else k,
                                   window_days=window_days, seed=seed, school=school,
                                   progress=progress).resolve()
    return report_from_results(results_dir, out / name, school=school,
                               school_reports=school_reports, name_staff=name_staff,
                               progress=progress)


def _same_k(results_dir: Path, k: int | None) -> None:
    import json

    written = json.loads((results_dir / "manifest.json").read_text(encoding="utf-8"))
    shown = written["parameters"].get("k")
    if k is not None and k != shown:
        raise ValueError(f"the results in {results_dir} hide groups under {shown}, not {k}; "
                         f"run engagement analyze with --k {k} first")


def report_from_results(results_dir: Path, path: Path, *, school: str | None = None,
                        school_reports: list[tuple[str, str]] | None = None,
                        name_staff: bool = True, progress: bool = True) -> Path:
    """Run the report notebook on a results folder and write the page to ``path``."""
    nb = nbformat.read(TEMPLATE, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, parameters_cell(
        results_dir=str(Path(results_dir).resolve()),
        school=None if school is None else str(school),
        school_reports=[list(pair) for pair in school_reports] if school_reports else None,
        name_staff=name_staff))
    run_notebook(nb, workdir=path.parent, progress=progress)
    title = "Parent contact and assignment completion" + (
        f": school {school}" if school is not None else "")
    path.write_text(to_html(nb, title), encoding="utf-8")
    return path


def replicate(data_dir: str | Path, out_dir: str | Path, *, k: int = MIN_CELL,
              window_days: int = 21, seed: int = 0, progress: bool = True) -> list[Path]:
    """The same report for every school, and the division summary that pools them
    (``division.html``, with the forest plot, I² and links to each school's report).

    Raw exports are cleaned once, into ``out_dir/clean``; each school's results and the
    division's are in ``out_dir/results/``."""
    from engagement.dataset import clean_folder, load

    check_k(k)
    out = Path(out_dir)
    data_dir = Path(data_dir)
    if not (data_dir / "students.parquet").exists():
        clean_folder(data_dir, out / "clean")
        data_dir = out / "clean"
    dataset = load(data_dir)
    schools = sorted(dataset.students["school_id"].astype("str").unique())
    options = {"k": k, "window_days": window_days, "seed": seed, "progress": progress}
    pages = []
    for s in tqdm(schools, desc="schools", disable=not progress, leave=False):
        page = page_name(s)
        results = analyze_into(data_dir, out / "results" / page.removesuffix(".html"),
                               school=s, dataset=dataset, **options)
        # Division staff read these pages: no staff member is named on them.
        pages.append(report_from_results(results, out / page, school=s, name_staff=False,
                                         progress=progress))
    links = [(s, p.name) for s, p in zip(schools, pages, strict=True)]
    results = analyze_into(data_dir, out / "results" / "division", dataset=dataset, **options)
    division = report_from_results(results, out / "division.html", school_reports=links,
                                   name_staff=False, progress=progress)
    return [division, *pages]


def page_name(school: str) -> str:
    """A school's page as a file name that is safe on every system and in a link: the id
    as it is when it is plain letters and digits, else its safe part and a short hash."""
    import hashlib

    safe = re.sub(r"[^A-Za-z0-9_-]", "", school)[:40]
    if safe != school or not safe:
        safe += "-" + hashlib.sha256(school.encode()).hexdigest()[:8]
    return f"school_{safe}.html"
