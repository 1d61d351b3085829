"""aecroscopy's scan frame: where grid points and positions lie on the scan.

aecroscopy places the tip at ``(x, y)``, each from ``-1`` to ``1`` across the
scan. :class:`ScanFrame` converts grid points and physical positions of the
data to that frame and back, with the scan's orientation as an option, and
lays a raster image out the way the grid is.
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass

import numpy as np

from pycroscopy_curiosity.errors import DataError, ParameterError

__all__ = ["ORIENTATIONS", "ScanFrame"]

ORIENTATIONS = ("flip_rows", "flip_cols", "transpose")
_TOL = 1e-9


def _pair(option: str, value, positive: bool = False) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"aecroscopy {option} must be two numbers; got {value!r}"
        ) from exc
    if not np.isfinite([a, b]).all() or (positive and min(a, b) <= 0):
        kind = "positive finite" if positive else "finite"
        raise ParameterError(
            f"aecroscopy {option} must be two {kind} numbers; got {value!r}"
        )
    return a, b


def _points(what: str, values) -> np.ndarray:
    """``n x 2`` finite float64 points (one pair may be given alone)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{what} must be numbers: {exc}") from exc
    if array.shape == (2,):
        array = array.reshape(1, 2)
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
        raise DataError(f"{what} must be a non-empty n x 2 array; got {array.shape}")
    if not np.isfinite(array).all():
        raise DataError(f"{what} must be finite")
    return array


@dataclass(frozen=True)
class ScanFrame:
    """Where grid points and physical positions lie in aecroscopy's scan frame.

    aecroscopy places the tip at ``(x, y)``, each ``-1`` to ``1`` across the
    scan. Its ``raster_scan`` takes lines at ``y`` from ``scan_y_start`` to
    ``scan_y_stop`` (first line first) and pixels along ``x``. The grid is
    laid over the ``window`` of the scan the same way: first and last grid
    row on its edges, the others evenly in between.

    Parameters
    ----------
    grid_shape : (int, int), optional
        ``(ny, nx)``; needed by the grid conversions.
    scan_size : (float, float), optional
        Physical ``(height, width)`` from the first to the last grid row and
        column; needed by the physical conversions.
    origin : (float, float)
        Physical ``(y, x)`` of grid point ``(0, 0)``.
    flip_rows : bool
        Grid row 0 lies on the last scan line (``y_stop``), not the first.
    flip_cols : bool
        Grid column 0 lies at ``x_stop``, not ``x_start``.
    transpose : bool
        Grid rows run along the scan's ``x``, columns along its ``y``
        (applied after the flips).
    window : (float, float, float, float)
        ``(x_start, y_start, x_stop, y_stop)`` of the part of the scan the
        grid covers, within ``[-1, 1]``, each start below its stop.
    """

    grid_shape: tuple[int, int] | None = None
    scan_size: tuple[float, float] | None = None
    origin: tuple[float, float] = (0.0, 0.0)
    flip_rows: bool = False
    flip_cols: bool = False
    transpose: bool = False
    window: tuple[float, float, float, float] = (-1.0, -1.0, 1.0, 1.0)

    def __post_init__(self) -> None:
        put = object.__setattr__
        if self.grid_shape is not None:
            shape = tuple(self.grid_shape)
            if len(shape) != 2 or not all(
                isinstance(n, numbers.Integral) and not isinstance(n, bool) and n > 0
                for n in shape
            ):
                raise ParameterError(
                    f"aecroscopy grid_shape must be two positive integers; got "
                    f"{self.grid_shape!r}"
                )
            put(self, "grid_shape", (int(shape[0]), int(shape[1])))
        if self.scan_size is not None:
            put(self, "scan_size", _pair("scan_size", self.scan_size, positive=True))
        put(self, "origin", _pair("origin", self.origin))
        try:
            window = tuple(float(v) for v in self.window)
        except (TypeError, ValueError):
            window = ()
        if (
            len(window) != 4
            or not all(abs(v) <= 1 + _TOL for v in window)
            or window[0] >= window[2]
            or window[1] >= window[3]
        ):
            raise ParameterError(
                f"aecroscopy window must be (x_start, y_start, x_stop, y_stop) within "
                f"[-1, 1], starts below stops; got {self.window!r}"
            )
        put(self, "window", window)
        for name in ORIENTATIONS:
            put(self, name, bool(getattr(self, name)))

    @staticmethod
    def parse_orientation(orientation) -> dict[str, bool]:
        """Flags from names: ``'flip_rows+transpose'``, ``['flip_cols']``,
        ``''`` or ``'none'``."""
        if isinstance(orientation, str):
            names = [n for n in re.split(r"[,+\s]+", orientation) if n]
        else:
            names = [str(n) for n in orientation]
        names = [n for n in names if n != "none"]
        unknown = [n for n in names if n not in ORIENTATIONS]
        if unknown:
            raise ParameterError(
                f"aecroscopy orientation: unknown {unknown}; use any of "
                f"{', '.join(ORIENTATIONS)} (or 'none')"
            )
        return {name: name in names for name in ORIENTATIONS}

    @property
    def orientation(self) -> str:
        """The flags that are set, joined by '+' ('none' when none is)."""
        return "+".join(n for n in ORIENTATIONS if getattr(self, n)) or "none"

    def _need(self, option: str):
        value = getattr(self, option)
        if value is None:
            raise ParameterError(f"aecroscopy: this conversion needs {option}")
        return value

    def _to_scan(self, u: np.ndarray, v: np.ndarray, names) -> np.ndarray:
        """Fractions 0 to 1 down the rows and along the columns to ``(x, y)``."""
        outside = (np.minimum(u, v) < -_TOL) | (np.maximum(u, v) > 1 + _TOL)
        if outside.any():
            i = int(np.argmax(outside))
            raise DataError(f"{names(i)} lies outside the scan")
        a, b = np.clip(u, 0.0, 1.0), np.clip(v, 0.0, 1.0)
        a, b = (1.0 - a if self.flip_rows else a), (1.0 - b if self.flip_cols else b)
        if self.transpose:
            a, b = b, a
        x0, y0, x1, y1 = self.window
        return np.stack([x0 + b * (x1 - x0), y0 + a * (y1 - y0)], axis=1)

    def _from_scan(self, scan) -> tuple[np.ndarray, np.ndarray]:
        xy = _points("scan positions", scan)
        x0, y0, x1, y1 = self.window
        a, b = (xy[:, 1] - y0) / (y1 - y0), (xy[:, 0] - x0) / (x1 - x0)
        outside = (np.minimum(a, b) < -_TOL) | (np.maximum(a, b) > 1 + _TOL)
        if outside.any():
            i = int(np.argmax(outside))
            raise DataError(
                f"scan position (x {xy[i, 0]:.6g}, y {xy[i, 1]:.6g}) lies outside "
                f"the window {self.window}"
            )
        if self.transpose:
            a, b = b, a
        a, b = (1.0 - a if self.flip_rows else a), (1.0 - b if self.flip_cols else b)
        return np.clip(a, 0.0, 1.0), np.clip(b, 0.0, 1.0)

    def from_grid(self, grid_index) -> np.ndarray:
        """``n x 2`` scan ``(x, y)`` of ``n x 2`` grid ``(row, col)``."""
        ny, nx = self._need("grid_shape")
        index = _points("grid indices", grid_index)
        if not (np.mod(index, 1) == 0).all():
            raise DataError("grid indices must be integers")
        inside = (index >= 0).all(1) & (index[:, 0] < ny) & (index[:, 1] < nx)
        if not inside.all():
            row, col = index[np.argmin(inside)].astype(int)
            raise DataError(
                f"grid point (row {row}, col {col}) is outside the {ny} x {nx} grid"
            )
        u = index[:, 0] / (ny - 1) if ny > 1 else np.full(len(index), 0.5)
        v = index[:, 1] / (nx - 1) if nx > 1 else np.full(len(index), 0.5)
        return self._to_scan(u, v, lambda i: f"grid point {index[i]}")

    def to_grid(self, scan) -> np.ndarray:
        """``n x 2`` fractional grid ``(row, col)`` of scan ``(x, y)``; round
        to get indices."""
        ny, nx = self._need("grid_shape")
        a, b = self._from_scan(scan)
        return np.stack([a * (ny - 1), b * (nx - 1)], axis=1)

    def from_physical(self, coordinates) -> np.ndarray:
        """``n x 2`` scan ``(x, y)`` of ``n x 2`` physical ``(y, x)``."""
        height, width = self._need("scan_size")
        yx = _points("coordinates", coordinates)
        oy, ox = self.origin
        u, v = (yx[:, 0] - oy) / height, (yx[:, 1] - ox) / width
        return self._to_scan(
            u, v, lambda i: f"position (y {yx[i, 0]:.6g}, x {yx[i, 1]:.6g})"
        )

    def to_physical(self, scan) -> np.ndarray:
        """``n x 2`` physical ``(y, x)`` of scan ``(x, y)``."""
        height, width = self._need("scan_size")
        a, b = self._from_scan(scan)
        oy, ox = self.origin
        return np.stack([oy + a * height, ox + b * width], axis=1)

    def to_data_frame(self, image: np.ndarray) -> np.ndarray:
        """A raster image (lines x pixels, first line first) laid out as the
        grid: pixel ``[r, c]`` is where grid fractions ``(r, c)`` point."""
        image = np.asarray(image)
        if self.transpose:
            image = image.T
        if self.flip_rows:
            image = image[::-1]
        if self.flip_cols:
            image = image[:, ::-1]
        return np.ascontiguousarray(image)
