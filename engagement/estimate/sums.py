"""A design's matched sums under the bootstrap: per cell of rows that must share their
record, the treated rows' values against their comparison rows', weighted so that each
cell's comparison counts as many as its treated rows in every resample; summed over the
cells of each part of a scope (a school of the division), so that one pass over the rows
serves the division and every school.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from engagement.estimate.design import CONTACTED_AFTER, EXPOSED, MATCH_ON, TREATED
from engagement.estimate.inference import DRAWS_IN_FLOATS
from engagement.estimate.panel import cell_numbers


def _design_sums(m: pd.DataFrame, kind: str, units: dict[str, np.ndarray],
                 weights: dict[str, np.ndarray], part: np.ndarray, n_parts: int
                 ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A design's sums per treated row (the columns above), at the point and under each
    resample of each scheme, for each part of the scope (a school of the division): the
    matched contrast of the outcome and of each share, treated rows, their completion
    after, those reached, and comparison weight (all, and contacted in the week after).

    Each cell's comparison rows count as the cell's treated rows over its comparison rows
    *in that resample*, and a cell that a resample left without either group counts for
    nothing: the weights of the whole sample, held fixed, would carry the level of
    completion into every resample through how many comparison rows it drew.

    ``units``: per scheme, each row's unit (student, teacher or pair); ``weights``: per
    scheme, how often each unit is drawn in each resample; ``part``: each row's part
    (a cell lies in one). Returns per scheme the sums (not yet per treated row, so that
    parts add up) at the point (parts x columns) and under the resamples (parts x
    resamples x columns)."""
    cell = cell_numbers(m, MATCH_ON[kind])
    t = m["treated"].to_numpy().astype(float)
    c = 1.0 - t
    values = [m["outcome"].to_numpy(), *(m[f"share_{k}"].to_numpy() for k in EXPOSED)]
    later = m["attempted_after"].to_numpy() if "attempted_after" in m else np.zeros(len(m))
    reached = m["reached"].to_numpy() if "reached" in m else np.ones(len(m))
    # Per cell: treated rows, their values, after and reached; then comparison rows, their
    # values and those contacted in the week after.
    columns = [t, *(t * v for v in values), t * m["after"].to_numpy(), t * reached,
               c, *(c * v for v in values), c * later]
    n_cells = cell.max() + 1 if len(cell) else 0
    # Cells renumbered part by part, so that each part's cells are one range.
    part_of_cell = np.zeros(n_cells, dtype=np.int64)
    part_of_cell[cell] = part
    order = np.argsort(part_of_cell, kind="stable")
    rank = np.empty(n_cells, dtype=np.int64)
    rank[order] = np.arange(n_cells)
    cell = rank[cell]
    edges = np.searchsorted(part_of_cell[order], np.arange(n_parts + 1))
    n_boot = next(iter(weights.values())).shape[1]

    def per_treated(cell_sums, draws: np.ndarray | None) -> np.ndarray:
        n = 1 if draws is None else draws.shape[1]
        sums = np.zeros((n_parts, CONTACTED_AFTER + 1, n))
        # Resamples a chunk at a time when the draws are held as small counts (as floats,
        # at most DRAWS_IN_FLOATS bytes); cells a block at a time: cells x columns x
        # resamples in memory (about 8 MB, which the allocator reuses; larger blocks are
        # fresh pages to fault in every time). Each resample's sum adds its cells in the
        # same order whatever the chunks.
        chunk = n if draws is None or draws.dtype == float else max(
            DRAWS_IN_FLOATS // (8 * max(len(draws), 1)), 1)
        block = max(2**20 // (len(columns) * n_boot), 1)  # the same blocks for every sum
        for r in range(0, n, chunk):
            d = (draws if draws is None or draws.dtype == float  # floats: as they are
                 else draws[:, r:r + chunk].astype(float, order="C"))
            for at in range(n_parts):
                for lo in range(edges[at], edges[at + 1], block):
                    s = cell_sums(d, lo, min(lo + block, edges[at + 1]))  # cells x columns x b
                    n_t, n_c = s[:, 0], s[:, 7]
                    both = ((n_t > 0) & (n_c > 0)).astype(float)
                    w = both * n_t / np.where(n_c > 0, n_c, 1.0)
                    # Summed over the cells without temporaries of cells x columns x b.
                    sums[at, :, r:r + chunk] += np.concatenate([
                        np.einsum("cjb,cb->jb", s[:, 1:5], both)
                        - np.einsum("cjb,cb->jb", s[:, 8:12], w),
                        np.einsum("cjb,cb->jb", s[:, [0, 5, 6]], both),
                        np.einsum("cjb,cb->jb", s[:, [7, 12]], w)])
        return sums.transpose(0, 2, 1)

    out, point = {}, None
    for scheme, draws in weights.items():
        cell_sums = _cell_sums(units[scheme], cell, columns, len(draws))
        if point is None:  # no draws: every unit once
            point = per_treated(cell_sums, None)[:, 0]
        out[scheme] = (point, per_treated(cell_sums, draws))
    return out


def _per_treated(sums: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / sums[..., TREATED, None]


def _part_sums(sums: dict, at: int | None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per treated row, each scheme's sums of one part (``at``), or of all of them."""
    return {scheme: tuple(_per_treated(x.sum(axis=0) if at is None else x[at])
                          for x in both) for scheme, both in sums.items()}


def _cell_sums(unit: np.ndarray, cell: np.ndarray, columns: list[np.ndarray], n_units: int):
    """A function of resampling weights (units x resamples, ``unit``: each row's; None:
    every unit once) and a range of cells, that sums each column over each cell's rows
    under each resample's weights, giving cells x columns x resamples. The rows are
    gathered once, for every resample; a range of cells is a block of rows."""
    n_cells, n_columns = (cell.max() + 1 if len(cell) else 0), len(columns)
    data = np.concatenate(columns)
    kept = data != 0  # a treated row adds nothing to comparison columns, and vice versa
    stacked = sparse.csr_matrix(
        (data[kept],
         ((np.tile(cell * n_columns, n_columns)
           + np.repeat(np.arange(n_columns), len(cell)))[kept],
          np.tile(unit, n_columns)[kept])),
        shape=(n_cells * n_columns, n_units))

    def sums(draws: np.ndarray | None, lo: int, hi: int) -> np.ndarray:
        # Each sum adds its row's units in the same order whatever the resamples.
        out = (stacked[lo * n_columns:hi * n_columns]
               @ (np.ones((n_units, 1)) if draws is None else draws))
        return out.reshape(hi - lo, n_columns, -1)

    return sums
