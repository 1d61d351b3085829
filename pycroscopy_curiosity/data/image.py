"""Structure images and where the spectral grid lies on them."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from pycroscopy_curiosity.data.axes import (
    Axis,
    convert_length,
    dimension_axis,
    spatial_layout,
)
from pycroscopy_curiosity.data.nsid import read_dataset
from pycroscopy_curiosity.errors import DataError

__all__ = ["StructureImage", "grid_axis_to_pixels", "load_structure_image"]


@dataclass(frozen=True, eq=False)
class StructureImage:
    """A 2-D structure image in numpy order with its physical axes.

    Attributes
    ----------
    values : numpy.ndarray
        ``H x W`` float32, rows along ``y``.
    y, x : Axis
        Physical coordinates of the rows and the columns.
    quantity, units : str
        What the image shows.
    label : str
        File and dataset path (or title) for messages and provenance.
    """

    values: np.ndarray
    y: Axis
    x: Axis
    quantity: str
    units: str
    label: str
    file: str | None = None
    path: str | None = None

    @classmethod
    def from_sidpy(
        cls,
        dataset,
        *,
        label: str | None = None,
        file: str | None = None,
        path: str | None = None,
    ) -> StructureImage:
        """Build from a 2-D sidpy Dataset (IMAGE), whatever its axis order."""
        label = label or f"image {dataset.title!r}"
        iy, ix, _ = spatial_layout(dataset, 2, label)
        values = np.asarray(dataset, dtype=np.float32)
        values = np.ascontiguousarray(values.transpose(iy, ix))
        return cls(
            values=values,
            y=dimension_axis(dataset, iy),
            x=dimension_axis(dataset, ix),
            quantity=str(dataset.quantity or ""),
            units=str(dataset.units or ""),
            label=label,
            file=file,
            path=path,
        )


def load_structure_image(path: str | os.PathLike, dataset: str) -> StructureImage:
    """Read an IMAGE dataset of an NSID file as a :class:`StructureImage`."""
    sid = read_dataset(path, dataset)
    return StructureImage.from_sidpy(
        sid, label=f"{dataset!r} in {str(path)!r}", file=str(path), path=dataset
    )


def _nearest(axis_values: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Index of the nearest axis value for each target (vectorised)."""
    return np.abs(axis_values[None, :] - targets[:, None]).argmin(axis=1)


def grid_axis_to_pixels(grid: Axis, image: Axis, what: str, labels: str) -> np.ndarray:
    """Image pixel index of each grid coordinate along one axis."""
    try:
        coords = convert_length(grid.values, grid.units, image.units)
    except DataError as exc:
        raise DataError(
            f"cannot place the spectral grid on the structure image: the {what} "
            f"axis of the spectra is in {grid.units!r} but that of the image is in "
            f"{image.units!r} ({labels}); both need the same physical units"
        ) from exc
    values = image.values
    step = np.abs(np.diff(values)).min() if len(values) > 1 else 0.0
    lo, hi = values.min() - step / 2, values.max() + step / 2
    tol = 1e-9 * max(abs(lo), abs(hi), 1e-300)
    if coords.min() < lo - tol or coords.max() > hi + tol:
        raise DataError(
            f"the spectral grid's {what} axis spans {coords.min():.4g} to "
            f"{coords.max():.4g} {image.units}, outside the structure image's "
            f"{lo:.4g} to {hi:.4g} {image.units} ({labels})"
        )
    return _nearest(values, coords)
