"""Positions of neurons in space, for connectivity and values written as expressions of
distance (:mod:`axonforge.expressions`).

``net.population(model, positions=...)`` takes an ``(n, d)`` array (d = 1, 2 or 3,
metres or any unit the expressions use consistently), :func:`grid` or
:func:`random_positions`. A population then has ``pop.positions`` (``(n, d)`` float64)
and ``pop.extent``: the box size per dimension when the space is periodic (distances
wrap around, NEST's ``edge_wrap``), else None.
"""

from __future__ import annotations

import numpy as np


class Layout:
    """How to place a population's neurons; :meth:`place` returns ``(positions, extent)``."""

    periodic = False

    def count(self):
        """The number of positions the layout defines (None: as many as neurons)."""
        return None

    def place(self, pop):
        raise NotImplementedError


class grid(Layout):  # noqa: N801 - lowercase like the distributions
    """A regular grid: ``shape`` points per dimension (1 to 3 dimensions), ``spacing``
    apart (a number or one per dimension), the first at ``origin``; neurons are placed in
    C order (the last dimension fastest). With ``periodic=True`` the box is ``shape *
    spacing`` and distances wrap around."""

    def __init__(self, shape, spacing=1.0, origin=0.0, periodic=False):
        shape = tuple(int(s) for s in np.atleast_1d(shape))
        if not 1 <= len(shape) <= 3 or min(shape) < 1:
            raise ValueError(f"grid(shape={shape}): 1 to 3 dimensions of at least 1 point")
        self.shape = shape
        d = len(shape)
        self.spacing = np.broadcast_to(np.asarray(spacing, np.float64), (d,)).copy()
        self.origin = np.broadcast_to(np.asarray(origin, np.float64), (d,)).copy()
        if not np.all(self.spacing > 0) or not np.all(np.isfinite(self.origin)):
            raise ValueError(f"grid: spacing must be > 0 and origin finite, got {spacing}")
        self.periodic = bool(periodic)

    def count(self):
        return int(np.prod(self.shape))

    def place(self, pop):
        axes = [o + s * np.arange(k) for o, s, k in zip(self.origin, self.spacing, self.shape)]
        mesh = np.meshgrid(*axes, indexing="ij")
        pos = np.stack([m.reshape(-1) for m in mesh], axis=1)
        extent = self.spacing * np.asarray(self.shape) if self.periodic else None
        return pos, extent


class random_positions(Layout):  # noqa: N801
    """Positions drawn uniformly in the box ``[0, extent)`` (one size per dimension), keyed
    by the network's seed and the neuron (the same for any number of threads or ranks).
    With ``periodic=True`` distances wrap around the box."""

    def __init__(self, extent, periodic=False):
        self.extent = np.atleast_1d(np.asarray(extent, np.float64))
        if not 1 <= len(self.extent) <= 3 or not np.all(self.extent > 0):
            raise ValueError(f"random_positions(extent={extent}): 1 to 3 sizes > 0")
        self.periodic = bool(periodic)

    def place(self, pop):
        from axonforge import draws

        rng = draws.neuron_draws(pop, draws.POSITIONS, np.arange(pop.n, dtype=np.int64))
        pos = np.stack([rng.uniform(0.0, e) for e in self.extent], axis=1)
        return pos, (self.extent.copy() if self.periodic else None)


def place(pop, positions):
    """Give population ``pop`` its positions (an array or a :class:`Layout`); errors say
    what shape is expected."""
    where = f"population {pop.name!r}: positions"
    if isinstance(positions, Layout):
        count = positions.count()
        if count is not None and count != pop.n:
            raise ValueError(f"{where}: the layout has {count} points for {pop.n} neurons")
        pos, extent = positions.place(pop)
    else:
        pos, extent = np.asarray(positions, dtype=np.float64), None
        if pos.ndim == 1:
            pos = pos[:, None]
    if pos.ndim != 2 or pos.shape[0] != pop.n or not 1 <= pos.shape[1] <= 3:
        raise ValueError(
            f"{where}: expected an array of shape ({pop.n}, d) with d = 1, 2 or 3 (one row "
            f"per neuron), got shape {np.shape(positions)}"
        )
    if not np.all(np.isfinite(pos)):
        raise ValueError(f"{where}: not finite (row {int(np.argwhere(~np.isfinite(pos))[0, 0])})")
    pop.positions = np.ascontiguousarray(pos)
    pop.extent = extent


def wrapped(pos, extent):
    """Positions folded into the periodic box ``[0, extent)`` per dimension."""
    out = pos - extent * np.floor(pos / extent)
    return np.where(out >= extent, out - extent, out)


def cells(pos, extent, radius, split=2, limit=None):
    """Cells for a cut-off ``radius``: points of ``pos`` (``(n, d)``; wrapped into the
    box where ``extent`` is periodic, else None) sorted by a grid of cells at least
    ``radius / split`` wide, so that every point within ``radius`` of a point ``t`` lies
    in the ``2 split + 1`` cells around ``t``'s along each axis (all cells along an axis
    with fewer).

    Returns ``(order, grid_n, grid_f, cell_start)``: the points in cell order, the cells
    per axis and ``split`` (int64 ``(n0, n1, n2, split)``; a layout of d dimensions uses
    the last d axes, the others have one cell), the grid's origin, inverse cell width
    and period per axis and the radius (float64, 10 values; period 0: not periodic),
    and where each cell's points start in ``order`` (``n0 n1 n2 + 1`` values). At most
    ``limit`` cells (default: twice the points)."""
    pos = np.asarray(pos, np.float64)
    n, d = pos.shape
    limit = max(1, 2 * n if limit is None else int(limit))
    scale = max(float(np.max(np.abs(pos), initial=0.0)), float(radius))
    if extent is not None:
        scale = max(scale, float(np.max(extent)))
        origin = np.zeros(d)
        span = np.asarray(extent, np.float64)
    else:
        origin = np.min(pos, axis=0, initial=np.inf) if n else np.zeros(d)
        span = (np.max(pos, axis=0, initial=-np.inf) - origin) if n else np.zeros(d)
    # cells a little wider than radius/split: rounding in the cell of a point must not
    # move a neighbour within the radius out of reach
    width = float(radius) / split * (1.0 + 1e-9) + 64 * np.finfo(np.float64).eps * scale
    count = np.maximum(np.floor(span / width), 1.0)
    total = float(np.prod(count))
    if total > limit:  # fewer, wider cells: still at least ``width`` wide
        count = np.maximum(np.floor(count * (limit / total) ** (1.0 / d)), 1.0)
    count = np.where(count < 2 * split + 1, 1.0, count).astype(np.int64)
    inv = np.where(span > 0, count / np.where(span > 0, span, 1.0), 0.0)
    grid_n = np.ones(4, np.int64)
    grid_f = np.zeros(10)
    grid_f[9] = radius
    axes = slice(3 - d, 3)
    grid_n[axes], grid_n[3] = count, split
    grid_f[0:3][axes], grid_f[3:6][axes] = origin, inv
    if extent is not None:
        grid_f[6:9][axes] = extent
    index = np.zeros(n, np.int64)
    for a in range(d):
        c = np.clip(np.floor((pos[:, a] - origin[a]) * inv[a]), 0, count[a] - 1).astype(np.int64)
        index = index * count[a] + c
    order = np.argsort(index, kind="stable")
    cell_start = np.zeros(int(np.prod(count)) + 1, np.int64)
    np.cumsum(np.bincount(index, minlength=len(cell_start) - 1), out=cell_start[1:])
    return order, grid_n, grid_f, cell_start
