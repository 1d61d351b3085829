"""Space-filling baselines: an interleaved regular grid and quasi-random points.

Neither strategy learns from the spectra; they are what a learning strategy
must beat at equal numbers of measurements. Both spread their first points
over the whole candidate region, so any prefix of a run is a coarse but even
survey.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.spatial import cKDTree
from scipy.stats import qmc

from pycroscopy_curiosity.data.patches import CandidateGrid
from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.strategies.base import Strategy

log = logging.getLogger(__name__)

__all__ = ["METHODS", "GridStrategy", "QuasiRandomStrategy", "interleaved_order"]

#: Point sets :class:`QuasiRandomStrategy` can draw from.
METHODS = ("sobol", "lhs")

_CENTRE_LEVEL = np.int64(1) << 62
# neighbours asked of the k-d tree before searching every open candidate
_NEIGHBOURS = (16, 256)


def _reversed_morton(first: np.ndarray, second: np.ndarray, bits: int) -> np.ndarray:
    """Interleave the bits of two non-negative integers, lowest bits first.

    The lowest bit of ``first`` becomes the highest bit of the key, the lowest
    bit of ``second`` the next, and so on, so points that share their low
    bits (a coarse sub-lattice) sort together and neighbours sort far apart.
    """
    key = np.zeros(first.shape, dtype=np.int64)
    for b in range(bits):
        shift = 2 * (bits - 1 - b)
        key |= ((first >> b) & 1) << (shift + 1)
        key |= ((second >> b) & 1) << shift
    return key


def interleaved_order(grid_index: np.ndarray, seed: int = 0) -> np.ndarray:
    """Coarse-to-fine order of grid points, so that every prefix is spread out.

    Offsets ``(dr, dc)`` are taken from the centre of the bounding box of
    ``grid_index``. The level of a point is the largest power of two dividing
    both offsets (the centre has the highest level); coarser levels come
    first. Within a level, points are sorted by the bit-reversed interleaving
    of ``(u ^ v, u ^ mask)``, with ``(u, v) = (dr, dc) / level`` the lattice
    coordinates and ``mask`` a seeded random integer: at every scale the
    diagonal (quincunx) sub-lattice comes before the two axis-aligned ones,
    and the mask only decides which of two opposite points comes first. So
    each stretch of the order visits a sub-lattice spanning the whole region
    before the sub-lattices between its points.

    Parameters
    ----------
    grid_index : numpy.ndarray
        ``n x 2`` integer ``(row, col)`` grid positions; any shape of region,
        holes allowed.
    seed : int
        Seeds the order within each level.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` int64, a permutation of ``0 .. n - 1``.
    """
    index = np.asarray(grid_index, dtype=np.int64).reshape(-1, 2)
    if len(index) == 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = index.min(0), index.max(0)
    offset = index - (lo + hi) // 2
    both = np.abs(offset[:, 0]) | np.abs(offset[:, 1])
    level = np.where(both == 0, _CENTRE_LEVEL, both & -both)
    lattice = offset // np.where(both == 0, 1, level)[:, None]
    bits = int((hi - lo).max() + 1).bit_length()
    u, v = np.mod(lattice, np.int64(1) << bits).T
    mask = np.random.default_rng(seed).integers(0, np.int64(1) << bits)
    key = _reversed_morton(u ^ v, u ^ mask, bits)
    return np.lexsort((key, -level)).astype(np.int64)


class GridStrategy(Strategy):
    """A regular grid over the candidates, measured coarse to fine.

    The order (see :func:`interleaved_order`) is computed once from
    ``candidates.grid_index``; each :meth:`ask` returns the next candidates
    of that order that are still unmeasured. Any block shape works, and
    candidates missing from the rectangle (masked points) are simply absent.

    Parameters
    ----------
    candidates : CandidateGrid
        The candidates.
    n_spec : int
        Spectrum length.
    seed : int
        Seeds the order within each level of the grid.

    Attributes
    ----------
    schedule : numpy.ndarray
        ``(n,)`` candidate indices in the order they are proposed.
    """

    name = "grid"

    def __init__(self, candidates: CandidateGrid, n_spec: int, seed: int = 0) -> None:
        super().__init__(len(candidates), n_spec, seed)
        self.candidates = candidates
        self.schedule = interleaved_order(candidates.grid_index, self.seed)

    def _propose(self, k: int) -> np.ndarray:
        remaining = self.schedule[~self.unavailable[self.schedule]]
        return remaining[:k]


def _half_cell(candidates: CandidateGrid) -> np.ndarray:
    """Half the pixel spacing of the grid along rows and columns, ``(2,)``."""
    pixels = np.asarray(candidates.pixels, dtype=np.float64)
    grid = np.asarray(candidates.grid_index, dtype=np.float64)
    pixel_span = pixels.max(0) - pixels.min(0)
    grid_span = grid.max(0) - grid.min(0)
    spacing = np.divide(pixel_span, grid_span, out=np.zeros(2), where=grid_span > 0)
    return spacing / 2


class QuasiRandomStrategy(Strategy):
    """Scrambled Sobol' or Latin-hypercube points snapped to open candidates.

    Points of the unit square are scaled to the bounding box of
    ``candidates.pixels`` widened by half a grid spacing on every side (so
    each candidate of a regular grid owns an equal share of the square), and
    each is snapped to the nearest candidate that is neither measured nor
    already in the batch. The Sobol' sequence continues across calls, drawn
    in blocks of powers of two so its balance properties hold; a
    Latin-hypercube design is drawn afresh for every batch.

    Parameters
    ----------
    candidates : CandidateGrid
        The candidates.
    n_spec : int
        Spectrum length.
    seed : int
        Seeds the scrambling or the design.
    method : {'sobol', 'lhs'}
        Point set; also the strategy's :attr:`name`.

    Raises
    ------
    ParameterError
        When ``method`` is not one of :data:`METHODS`.
    """

    name = "sobol"

    def __init__(
        self,
        candidates: CandidateGrid,
        n_spec: int,
        seed: int = 0,
        method: str = "sobol",
    ) -> None:
        if method not in METHODS:
            raise ParameterError(
                f"method must be one of {', '.join(METHODS)}; got {method!r}"
            )
        super().__init__(len(candidates), n_spec, seed)
        self.name = method
        self.candidates = candidates
        pixels = np.asarray(candidates.pixels, dtype=np.float64)
        half = _half_cell(candidates)
        self._low = pixels.min(0) - half
        self._extent = pixels.max(0) + half - self._low
        self._pixels = pixels
        self._tree = cKDTree(pixels)
        if method == "sobol":
            self._engine = qmc.Sobol(d=2, scramble=True, rng=self.seed)
        else:
            self._engine = qmc.LatinHypercube(d=2, rng=self.seed)
        self._buffer = np.zeros((0, 2))

    def _draw(self, k: int) -> np.ndarray:
        """``k x 2`` points of the unit square, next in the sequence."""
        if self.name == "lhs":
            return self._engine.random(k)
        while len(self._buffer) < k:
            done = self._engine.num_generated
            # double the points drawn so far (or start with enough for k)
            m = int(np.ceil(np.log2(k))) if done == 0 else int(np.log2(done))
            self._buffer = np.concatenate([self._buffer, self._engine.random_base2(m)])
        points, self._buffer = self._buffer[:k], self._buffer[k:]
        return points

    def _nearest_open(self, point: np.ndarray, open_: np.ndarray) -> int:
        for want in _NEIGHBOURS:
            _, near = self._tree.query(point, k=min(want, self.n_candidates))
            near = np.atleast_1d(near)
            free = near[open_[near]]
            if len(free):
                return int(free[0])
            if want >= self.n_candidates:
                break
        # every close candidate is taken: search all open ones
        candidates = np.flatnonzero(open_)
        gaps = np.sum((self._pixels[candidates] - point) ** 2, axis=1)
        return int(candidates[np.argmin(gaps)])

    def _propose(self, k: int) -> np.ndarray:
        points = self._low + self._draw(k) * self._extent
        open_ = ~self.unavailable
        chosen = np.empty(k, dtype=np.int64)
        for i, point in enumerate(points):
            chosen[i] = self._nearest_open(point, open_)
            open_[chosen[i]] = False
        return chosen
