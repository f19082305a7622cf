"""The effect estimates on a Dask cluster, for divisions too big for one machine.

Everything about one student (their results, contacts, conferences; their timeline,
their before/after rows) is computed inside one partition: students are dealt into
partitions by a hash of their id, and every table follows its students. What crosses
students is combined exactly, as counts:

1. the (school, day) pairs on which each kind of contact happened (a student's
   comparison days are the days anyone at their school was contacted);
2. how many contacted and comparison rows each matching cell holds, so each partition
   keeps only the rows of cells that have both;
3. completed and counted work per school week.

Each partition's rows are built twice (once to count the cells, once to keep the
matched rows), so that a worker never holds more than the partitions it is working on.
The matched rows (a fraction of all rows) and the week counts come back to the client,
which runs the same estimation as ``engagement.estimate.effects``: the numbers are
identical to the single-machine path, not merely close (a test checks ``effects.csv``
byte for byte on the sample).

    from dask.distributed import Client
    from engagement.distributed import effects
    table = effects("my_clean", client=Client("tcp://scheduler:8786"))
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from engagement.estimate import (
    DESIGNS,
    MATCH_ON,
    Design,
    Prepared,
    decisions_of_mode,
    effects_from_rows,
    school_days,
    school_week_counts,
    school_weeks_from,
    with_exposures,
    with_outcome,
)
from engagement.estimate.panel import ROW_ORDER, schools_naming_teachers

# The columns the effect estimates read: the rest of each table stays on disk.
COLUMNS = {"results": ["student_id", "assignment_id", "status"],
           "contacts": ["student_id", "school_id", "staff_id", "contact_at", "mode",
                        "initiator", "purpose", "outcome"],
           "enrollments": ["student_id", "class_id", "teacher_id"],
           "conferences": ["student_id", "school_id", "staff_id", "scheduled_at", "status"],
           "students": ["student_id", "school_id"],
           "assignments": ["assignment_id", "class_id", "school_id", "due_at", "category"]}
PER_STUDENT = ("results", "contacts", "conferences", "students", "enrollments")
ROWS_PER_PARTITION = 2_000_000  # results: a partition's analysis then needs about 1 GB


def effects(clean_dir: str | Path, *, design: Design | None = None, client=None,
            partitions: int | None = None) -> pd.DataFrame:
    """``engagement.estimate.effects`` for a cleaned folder (Parquet), computed on a Dask
    cluster: ``client`` (a ``dask.distributed.Client``), or a local cluster of this
    machine's cores when none is given."""
    import dask
    from dask.distributed import Client, LocalCluster

    design = design or Design()
    folder = Path(clean_dir)
    own = None
    if client is None:
        own = client = Client(LocalCluster(processes=True, dashboard_address=None,
                                           silence_logs=logging.ERROR))
    try:
        workers = max(1, len(client.scheduler_info()["workers"]))
        results_rows = pq.ParquetFile(folder / "results.parquet").metadata.num_rows
        parts = partitions or max(2 * workers, -(-results_rows // ROWS_PER_PARTITION))
        # The tables dealt by student, kept in the workers' memory (spilled if need be).
        tables = client.persist([_by_student(folder, name, parts) for name in PER_STUDENT])
        pieces = list(zip(*(t.to_delayed() for t in tables), strict=True))
        assignments = client.scatter(pd.read_parquet(folder / "assignments.parquet",
                                                     columns=COLUMNS["assignments"]),
                                     broadcast=True)
        days = _division_days(dask.compute(*[dask.delayed(_contact_days)(p[1], design)
                                             for p in pieces]))
        # Which schools' contacts name the student's teachers: decided once, for the division.
        days["by_teacher"] = schools_naming_teachers(
            pd.read_parquet(folder / "contacts.parquet",
                            columns=["student_id", "school_id", "staff_id", "initiator"]),
            pd.read_parquet(folder / "enrollments.parquet", columns=COLUMNS["enrollments"]))
        # Two passes over the partitions, each building its students' rows afresh, so
        # that a worker holds one partition's rows at a time: first the counts...
        counts = dask.compute(*[dask.delayed(_partition_counts)(*p, assignments, days, design)
                                for p in pieces])
        cells = _matched_cells([c for c, _ in counts])
        # ...then the rows of cells matched across the division, with exposure shares.
        kept = dask.compute(*[dask.delayed(_partition_matched)(*p, assignments, days, cells,
                                                               design) for p in pieces])
    finally:
        if own is not None:
            own.close()
            own.cluster.close()

    rows = {k: with_outcome(_in_order([part[k] for part in kept]), k) for k in DESIGNS}
    rows["first"] = _in_order([part["first"] for part in kept], ["school_id", "student_id"])
    weeks = (pd.concat([w for _, w in counts]).groupby(["school_id", "week"], observed=True)
             [["done", "n"]].sum().reset_index())
    small = {"students": pd.read_parquet(folder / "students.parquet",
                                         columns=["student_id", "school_id"]),
             "broadcasts": pd.read_parquet(folder / "broadcasts.parquet")}
    return effects_from_rows(rows, school_weeks_from(weeks), small, design)


def _by_student(folder: Path, name: str, parts: int):
    """A table dealt into ``parts`` partitions by a hash of the student id: partition i
    of every table holds the same students."""
    import dask.dataframe as dd

    frame = dd.read_parquet(folder / f"{name}.parquet", columns=COLUMNS[name])
    bucket = frame["student_id"].map_partitions(_bucket, parts, meta=("part", "int64"))
    frame = frame.assign(part=bucket)
    # Explicit divisions: partition i is bucket i, the same for every table.
    return frame.set_index("part", divisions=[*range(parts), parts - 1])


def _bucket(ids: pd.Series, parts: int) -> pd.Series:
    hashed = pd.util.hash_pandas_object(ids.astype("str"), index=False).to_numpy()
    return pd.Series((hashed % np.uint64(parts)).astype(np.int64), index=ids.index)


def _contact_days(contacts: pd.DataFrame, design: Design) -> dict[str, pd.DataFrame]:
    return {k: school_days(decisions_of_mode(contacts, k), "contact_at", design.timezone)
            for k in DESIGNS if k != "conference"}


def _division_days(parts: tuple[dict[str, pd.DataFrame], ...]) -> dict[str, pd.DataFrame]:
    return {k: pd.concat([p[k] for p in parts]).drop_duplicates()
            .sort_values(["school_id", "day"]).reset_index(drop=True) for k in parts[0]}


def _prepared(results, contacts, conferences, students, enrollments, assignments, days,
              design):
    """The analysis of one partition's students (their tables, their timelines)."""
    tables = {"results": results.reset_index(drop=True), "assignments": assignments,
              "contacts": contacts.reset_index(drop=True),
              "conferences": conferences.reset_index(drop=True),
              "students": students.reset_index(drop=True),
              "enrollments": enrollments.reset_index(drop=True)}
    days = dict(days)
    return Prepared(tables, design, by_teacher=days.pop("by_teacher"), event_days=days)


def _partition_counts(*tables_and_settings):
    """How many treated and comparison rows each matching cell holds in one partition,
    and its school-week counts."""
    prepared = _prepared(*tables_and_settings)
    design = prepared.design
    cells = {k: prepared.all_rows(k).groupby(MATCH_ON[k] + ["treated"], observed=True).size()
             for k in DESIGNS}
    return cells, school_week_counts(prepared.flags, design.timezone)


def _partition_matched(results, contacts, conferences, students, enrollments, assignments,
                       days, cells, design):
    """One partition's rows in cells matched across the division, with their exposure
    shares (computed here, where the students' timelines are)."""
    prepared = _prepared(results, contacts, conferences, students, enrollments, assignments,
                         days, design)
    out = {}
    for k in DESIGNS:
        rows = prepared.all_rows(k)
        rows = rows[pd.MultiIndex.from_frame(rows[MATCH_ON[k]]).isin(cells[k])]
        out[k] = with_exposures(prepared.timeline, rows.reset_index(drop=True),
                                prepared.exposures, design)
    out["first"] = prepared.first_contacts()
    return out


def _matched_cells(parts) -> dict[str, pd.MultiIndex]:
    """The cells with both contacted and comparison rows, over the whole division."""
    out = {}
    for k in DESIGNS:
        size = pd.concat([p[k] for p in parts]).groupby(level=list(range(
            len(MATCH_ON[k]) + 1))).sum().unstack("treated")
        both = size.reindex(columns=[True, False]).notna().all(axis=1)
        out[k] = size.index[both.to_numpy()]
    return out


def _in_order(parts: list[pd.DataFrame], order: list[str] = ROW_ORDER) -> pd.DataFrame:
    """Rows in the order the single-machine path builds them, so that every sum adds
    the same numbers in the same order."""
    frame = pd.concat(parts, ignore_index=True)
    return (frame.sort_values([c for c in order if c in frame], kind="stable")
            .reset_index(drop=True))
