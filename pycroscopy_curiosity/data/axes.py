"""Axes of sidpy Datasets: which dimension is x, y or spectral, and their units.

sidpy leaves the order of dimensions to the writer. Files of this field
usually store axis 0 as ``x`` and axis 1 as ``y``; the learners want numpy
image order, rows along ``y`` and columns along ``x``. The helpers here find
the dimensions by type and name and say what they decided.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from pycroscopy_curiosity.errors import DataError

log = logging.getLogger(__name__)

#: Length units this package converts between, in metres.
LENGTH_UNITS: dict[str, float] = {
    "m": 1.0,
    "mm": 1e-3,
    "um": 1e-6,
    "µm": 1e-6,
    "μm": 1e-6,
    "micron": 1e-6,
    "nm": 1e-9,
    "pm": 1e-12,
    "a": 1e-10,
    "å": 1e-10,
    "angstrom": 1e-10,
}


@dataclass(frozen=True)
class Axis:
    """Values and meaning of one axis.

    Attributes
    ----------
    values : numpy.ndarray
        Coordinates, shape ``(n,)``; order as stored, never sorted (a BEPS
        bias axis is a triangle).
    name, quantity, units : str
        As recorded in the source dataset.
    """

    values: np.ndarray
    name: str
    quantity: str
    units: str

    def __len__(self) -> int:
        return len(self.values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Axis):
            return NotImplemented
        return (self.name, self.quantity, self.units) == (
            other.name,
            other.quantity,
            other.units,
        ) and np.array_equal(self.values, other.values)


def _dim_type(dim) -> str:
    return str(getattr(dim, "dimension_type", "UNKNOWN")).split(".")[-1].upper()


def dimension_axis(dataset, index: int) -> Axis:
    """Return the :class:`Axis` of dimension ``index`` of a sidpy Dataset."""
    dim = dataset._axes[index]
    return Axis(
        values=np.asarray(dim.values, dtype=np.float64).copy(),
        name=str(dim.name),
        quantity=str(getattr(dim, "quantity", "") or ""),
        units=str(getattr(dim, "units", "") or ""),
    )


def _is_y(name: str) -> bool:
    name = name.strip().lower()
    return name in ("y", "row", "rows", "y_pos", "ypos") or name.startswith("y ")


def _is_x(name: str) -> bool:
    name = name.strip().lower()
    return name in ("x", "col", "cols", "column", "x_pos", "xpos") or name.startswith(
        "x "
    )


def _order_xy(dataset, spatial: list[int], label: str) -> tuple[int, int]:
    """Return ``(y_index, x_index)`` among two spatial dimensions."""
    names = [str(dataset._axes[i].name) for i in spatial]
    if _is_y(names[0]) or _is_x(names[1]):
        return spatial[0], spatial[1]
    if _is_x(names[0]) or _is_y(names[1]):
        return spatial[1], spatial[0]
    log.info(
        "%s: spatial dimensions %r carry no x/y names; taking the first as x "
        "and the second as y, as NSID files of this field store them",
        label,
        names,
    )
    return spatial[1], spatial[0]


def spatial_layout(dataset, n_spatial: int, label: str) -> tuple[int, int, list[int]]:
    """Find the y, x and remaining dimensions of a sidpy Dataset.

    Parameters
    ----------
    dataset : sidpy.Dataset
        An image (2-D) or spectral image (3-D).
    n_spatial : int
        Number of dimensions expected in all (2 for an image, 3 for a spectral
        image).
    label : str
        How to name the dataset in messages (file and HDF5 path).

    Returns
    -------
    y, x : int
        Indices of the row and column dimensions.
    rest : list of int
        The other dimensions (the spectral one for a spectral image).
    """
    ndim = dataset.ndim
    if ndim != n_spatial:
        kind = "an image" if n_spatial == 2 else "a spectral image"
        need = (
            "two spatial dimensions"
            if n_spatial == 2
            else "two spatial and one spectral dimension"
        )
        raise DataError(
            f"{label} is {ndim}-D (shape {tuple(dataset.shape)}); {kind} needs {need}"
        )
    types = [_dim_type(dataset._axes[i]) for i in range(ndim)]
    spatial = [i for i, t in enumerate(types) if t == "SPATIAL"]
    if len(spatial) != 2:
        if n_spatial == 3 and types.count("SPECTRAL") == 1:
            spatial = [i for i, t in enumerate(types) if t != "SPECTRAL"]
        else:
            spatial = [0, 1]
        log.info(
            "%s: dimension types %s do not mark exactly two SPATIAL dimensions; "
            "using dimensions %s as spatial",
            label,
            types,
            spatial,
        )
    y, x = _order_xy(dataset, spatial, label)
    rest = [i for i in range(ndim) if i not in (y, x)]
    return y, x, rest


def length_factor(units: str) -> float | None:
    """Metres per unit for a length unit, or ``None`` when not a length."""
    return LENGTH_UNITS.get(units.strip().lower().replace("micro", "u"), None)


def convert_length(values: np.ndarray, units: str, target: str) -> np.ndarray:
    """Express ``values`` given in ``units`` in ``target`` units.

    Identical unit strings always match; different length units (m, um, nm,
    ...) are converted. Anything else is a :class:`DataError`.
    """
    if units.strip() == target.strip():
        return values
    source_f, target_f = length_factor(units), length_factor(target)
    if source_f is None or target_f is None:
        raise DataError(
            f"physical units differ: {units!r} cannot be expressed in {target!r}"
        )
    return values * (source_f / target_f)
