"""From the package's data to napari layer-data tuples, without Qt.

Everything here returns plain ``(data, kwargs, layer_type)`` tuples, the
currency of napari readers, sample data and the widget. World coordinates are
physical: an image pixel ``(row, col)`` sits at ``(y[row], x[col])`` of its
axes, expressed in one length unit per viewer (see :class:`Placement`), so
that maps on the coarser spectral grid lie exactly over the structure image.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from pycroscopy_curiosity.data.axes import (
    Axis,
    convert_length,
    dimension_axis,
    length_factor,
    spatial_layout,
)
from pycroscopy_curiosity.errors import DataError

log = logging.getLogger(__name__)

LayerData = tuple[object, dict, str]

#: Metres per unit of the length units napari (pint) understands.
_PINT_LENGTHS = {
    1.0: "m",
    1e-3: "mm",
    1e-6: "um",
    1e-9: "nm",
    1e-10: "angstrom",
    1e-12: "pm",
}

#: How each map of a session is shown: colormap, opacity, visibility.
MAP_STYLES: dict[str, dict] = {
    "predicted_error": {"colormap": "inferno", "opacity": 0.4, "visible": True},
    "acquisition": {"colormap": "viridis", "opacity": 0.45, "visible": False},
    "error_spread": {"colormap": "magma", "opacity": 0.5, "visible": False},
    "exploration_reward": {"colormap": "cividis", "opacity": 0.5, "visible": False},
    "measured_order": {"colormap": "twilight", "opacity": 0.6, "visible": False},
}

#: Display names of the maps (also the layer names the widget uses).
MAP_TITLES = {
    "predicted_error": "predicted error",
    "acquisition": "acquisition",
    "error_spread": "error spread",
    "exploration_reward": "exploration reward",
    "measured_order": "measured order",
}

#: Marker of each kind of chooser in the measured-points layer.
CHOOSER_SYMBOLS = {"initial": "square", "model": "disc", "operator": "star"}

MEASURED_LAYER = "measured points"
CANDIDATES_LAYER = "next candidates"
OPERATOR_LAYER = "operator points"


def pint_length(units: str) -> str | None:
    """The napari (pint) name of a length unit, or ``None`` for others."""
    factor = length_factor(units or "")
    if factor is None:
        return None
    for value, name in _PINT_LENGTHS.items():
        if np.isclose(value, factor, rtol=1e-9, atol=0):
            return name
    return None


def axis_transform(values: np.ndarray, label: str = "axis") -> tuple[float, float]:
    """``(scale, translate)`` that put index ``i`` at ``values[i]``.

    Exact for evenly spaced axes; for uneven ones the straight line from the
    first to the last value is used and a warning is logged, since a napari
    layer has one step per axis.
    """
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size == 0:
        raise DataError(f"{label} has no values")
    if values.size == 1 or values[-1] == values[0]:
        return 1.0, float(values[0])
    step = (values[-1] - values[0]) / (values.size - 1)
    if not np.allclose(np.diff(values), step, rtol=1e-3, atol=0):
        log.warning(
            "%s is not evenly spaced; the layer places its %d points on a line "
            "from %g to %g",
            label,
            values.size,
            values[0],
            values[-1],
        )
    return float(step), float(values[0])


def _in_units(axis: Axis, world: str | None) -> np.ndarray:
    """Axis values expressed in the world length unit (as stored if none)."""
    if world is None or not axis.units:
        return np.asarray(axis.values, dtype=np.float64)
    try:
        return convert_length(np.asarray(axis.values, np.float64), axis.units, world)
    except DataError:
        return np.asarray(axis.values, dtype=np.float64)


def _axis_meta(axis: Axis) -> dict:
    return {
        "name": axis.name,
        "quantity": axis.quantity,
        "units": axis.units,
        "values": np.asarray(axis.values, dtype=np.float64),
    }


# -- placement of a session on the structure image ------------------------------


@dataclass(frozen=True)
class Placement:
    """Where the spectral grid and the structure image lie in world space.

    Attributes
    ----------
    world_units : str or None
        The length unit of world coordinates (``None``: the axes' own
        values, when they carry no length unit).
    image_scale, image_translate : tuple of float
        ``(y, x)`` of the ``H x W`` structure image layer.
    grid_scale, grid_translate : tuple of float
        ``(y, x)`` of the ``ny x nx`` map layers.
    grid_y, grid_x : numpy.ndarray
        World coordinates of the grid rows and columns.
    """

    world_units: str | None
    image_scale: tuple[float, float]
    image_translate: tuple[float, float]
    grid_scale: tuple[float, float]
    grid_translate: tuple[float, float]
    grid_y: np.ndarray
    grid_x: np.ndarray

    @classmethod
    def of(cls, data, world_units: str | None = None) -> Placement:
        """The placement of an :class:`ExplorationData` (a duck-typed object
        with ``image_y``, ``image_x``, ``grid_y`` and ``grid_x`` axes).

        ``world_units`` defaults to the structure image's length unit.
        """
        if world_units is None:
            world_units = pint_length(data.image_y.units) and data.image_y.units
        iy = axis_transform(_in_units(data.image_y, world_units), "image y axis")
        ix = axis_transform(_in_units(data.image_x, world_units), "image x axis")
        gy_values = _in_units(data.grid_y, world_units)
        gx_values = _in_units(data.grid_x, world_units)
        gy = axis_transform(gy_values, "spectral grid y axis")
        gx = axis_transform(gx_values, "spectral grid x axis")
        return cls(
            world_units=world_units or None,
            image_scale=(iy[0], ix[0]),
            image_translate=(iy[1], ix[1]),
            grid_scale=(gy[0], gx[0]),
            grid_translate=(gy[1], gx[1]),
            grid_y=gy_values,
            grid_x=gx_values,
        )

    @property
    def napari_units(self) -> tuple[str, str] | None:
        """Units for napari's ``units=`` (``None`` when not a length)."""
        name = pint_length(self.world_units or "")
        return None if name is None else (name, name)

    @property
    def point_size(self) -> float:
        """A marker size in world units: most of one grid step."""
        return 0.6 * min(abs(self.grid_scale[0]), abs(self.grid_scale[1]))

    def grid_to_world(self, grid_index: np.ndarray) -> np.ndarray:
        """``n x 2`` world ``(y, x)`` of grid ``(row, col)`` positions."""
        gi = np.asarray(grid_index, dtype=np.int64).reshape(-1, 2)
        return np.stack([self.grid_y[gi[:, 0]], self.grid_x[gi[:, 1]]], axis=1)

    def world_to_grid(self, position) -> tuple[int, int] | None:
        """The grid point nearest to a world ``(y, x)`` (the last two
        coordinates of ``position``), or ``None`` when the position is more
        than half a step outside the grid."""
        y, x = (float(v) for v in np.asarray(position, dtype=np.float64)[-2:])
        out = []
        for value, axis, step in (
            (y, self.grid_y, self.grid_scale[0]),
            (x, self.grid_x, self.grid_scale[1]),
        ):
            i = int(np.argmin(np.abs(axis - value)))
            if abs(axis[i] - value) > abs(step) / 2 * (1 + 1e-9):
                return None
            out.append(i)
        return out[0], out[1]

    def points_to_grid(self, coords: np.ndarray) -> np.ndarray:
        """Grid ``(row, col)`` of each world ``(y, x)``; ``-1`` rows when off
        the grid."""
        coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
        out = np.full((len(coords), 2), -1, dtype=np.int64)
        for k, position in enumerate(coords):
            found = self.world_to_grid(position)
            if found is not None:
                out[k] = found
        return out


# -- layers of sidpy datasets ----------------------------------------------------


def layer_name(dataset, path: str) -> str:
    """A readable layer name: the title, or the quantity when the title is
    uninformative (instrument exports call every channel 'generic')."""
    title = str(getattr(dataset, "title", "") or "").strip()
    if not title or title.lower() in ("generic", "none") or title.startswith("/"):
        title = str(getattr(dataset, "quantity", "") or "").strip()
    return title or path.rsplit("/", 1)[-1]


def world_length_unit(dataset) -> str | None:
    """The first length unit among a dataset's SPATIAL dimensions."""
    for i in range(dataset.ndim):
        dim = dataset._axes[i]
        kind = str(getattr(dim, "dimension_type", "")).split(".")[-1].upper()
        units = str(getattr(dim, "units", "") or "")
        if kind == "SPATIAL" and pint_length(units):
            return units
    return None


def image_layer(
    dataset,
    *,
    name: str,
    file: str | None = None,
    path: str | None = None,
    world_units: str | None = None,
    visible: bool = True,
    extra: dict | None = None,
) -> LayerData:
    """An Image layer of a 2-D image or a 3-D (spectral) image.

    The two spatial dimensions become the last two layer axes (rows along
    ``y``), with physical scale and translate; the other dimension of a 3-D
    dataset comes first and is browsed with napari's slider, in index steps
    (its values, often a bias triangle, are in the metadata).

    Raises
    ------
    DataError
        When the dataset is not 2-D or 3-D with two spatial dimensions.
    """
    label = f"{path or name!r}" + (f" in {file!r}" if file else "")
    ndim = dataset.ndim
    if ndim not in (2, 3):
        raise DataError(f"{label} is {ndim}-D; only images and 3-D stacks are shown")
    iy, ix, rest = spatial_layout(dataset, ndim, label)
    order = [*rest, iy, ix]
    values = np.ascontiguousarray(np.asarray(dataset).transpose(order))
    axes = [dimension_axis(dataset, i) for i in order]
    if world_units is None:
        world_units = world_length_unit(dataset)
    scale, translate, napari_units = [], [], []
    for k, axis in enumerate(axes):
        if k < len(rest):
            scale.append(1.0)
            translate.append(0.0)
            napari_units.append("pixel")
            continue
        world = _in_units(axis, world_units)
        step, start = axis_transform(world, f"{label} {axis.name}")
        scale.append(step)
        translate.append(start)
        napari_units.append(pint_length(world_units or "") or "pixel")
    metadata = {
        "source_file": file,
        "dataset": path,
        "title": str(getattr(dataset, "title", "") or ""),
        "data_type": str(getattr(dataset, "data_type", "")).split(".")[-1],
        "quantity": str(getattr(dataset, "quantity", "") or ""),
        "units": str(getattr(dataset, "units", "") or ""),
        "axis_names": [a.name for a in axes],
        "axis_units": [a.units for a in axes],
        "axes": [_axis_meta(a) for a in axes],
        "world_units": world_units,
    }
    if rest:
        metadata["spectral_axis"] = _axis_meta(axes[0])
    metadata.update(extra or {})
    kwargs = {
        "name": name,
        "scale": tuple(scale),
        "translate": tuple(translate),
        "axis_labels": tuple(a.name or f"axis {k}" for k, a in enumerate(axes)),
        "metadata": metadata,
        "visible": visible,
    }
    if any(u != "pixel" for u in napari_units):
        kwargs["units"] = tuple(napari_units)
    return values, kwargs, "image"


def map_layer(
    values: np.ndarray,
    placement: Placement,
    *,
    key: str,
    name: str | None = None,
    metadata: dict | None = None,
) -> LayerData:
    """A semi-transparent overlay of an ``ny x nx`` map on the structure."""
    default = {"colormap": "inferno", "opacity": 0.5, "visible": True}
    style = MAP_STYLES.get(key, default)
    values = np.asarray(values, dtype=np.float32)
    kwargs = {
        "name": name or MAP_TITLES.get(key, key),
        "scale": placement.grid_scale,
        "translate": placement.grid_translate,
        "colormap": style["colormap"],
        "opacity": style["opacity"],
        "visible": style["visible"],
        "blending": "translucent",
        "contrast_limits": finite_limits(values),
        "metadata": {"map": key, **(metadata or {})},
    }
    if placement.napari_units:
        kwargs["units"] = placement.napari_units
    return values, kwargs, "image"


def finite_limits(values: np.ndarray) -> tuple[float, float]:
    """Contrast limits over the finite values (``(0, 1)`` when none)."""
    finite = np.asarray(values)[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def measured_layer(
    coords: np.ndarray,
    *,
    choosers: list[str],
    errors: np.ndarray | None,
    size: float,
    units: tuple[str, str] | None = None,
    name: str = MEASURED_LAYER,
    metadata: dict | None = None,
) -> LayerData:
    """Measured points coloured by measurement order.

    Features: ``order`` (0 first), ``measured_error`` (the surrogate's mean
    absolute error at the point, NaN when unknown) and ``chooser``
    (``initial``, ``model`` or ``operator``, also shown by the marker).
    """
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    n = len(coords)
    errors = np.full(n, np.nan) if errors is None else np.asarray(errors, float)
    kwargs = {
        "name": name,
        "ndim": 2,
        "size": size,
        "features": point_features(n, choosers, errors),
        "face_color": "order",
        "face_colormap": "viridis",
        "face_contrast_limits": (0.0, float(max(n - 1, 1))),
        "border_color": "white",
        "border_width": 0.1,
        "symbol": [CHOOSER_SYMBOLS.get(c, "disc") for c in choosers] or "disc",
        "metadata": {"points": "measured", **(metadata or {})},
    }
    if units:
        kwargs["units"] = units
    return coords, kwargs, "points"


def point_features(n: int, choosers: list[str], errors: np.ndarray) -> dict:
    """The feature table of the measured-points layer."""
    if len(choosers) != n or len(errors) != n:
        raise DataError(
            f"{n} measured points but {len(choosers)} choosers and {len(errors)} errors"
        )
    return {
        "order": np.arange(n, dtype=np.float64),
        "measured_error": np.asarray(errors, dtype=np.float64),
        "chooser": np.asarray(list(choosers), dtype=object),
    }


def candidates_layer(
    coords: np.ndarray,
    *,
    size: float,
    units: tuple[str, str] | None = None,
) -> LayerData:
    """The next candidates of the model: hollow cyan rings."""
    kwargs = {
        "name": CANDIDATES_LAYER,
        "ndim": 2,
        "size": size * 1.4,
        "face_color": "transparent",
        "border_color": "cyan",
        "border_width": 0.2,
        "metadata": {"points": "candidates"},
    }
    if units:
        kwargs["units"] = units
    return np.asarray(coords, dtype=np.float64).reshape(-1, 2), kwargs, "points"


def mean_abs_error(predicted: np.ndarray | None, measured: np.ndarray) -> np.ndarray:
    """Per-point mean absolute difference of ``n x L`` spectra (NaN without
    a prediction)."""
    measured = np.asarray(measured, dtype=np.float64)
    if predicted is None:
        return np.full(len(measured), np.nan)
    diff = np.abs(np.asarray(predicted, np.float64) - measured)
    return diff.mean(axis=1) if diff.size else np.zeros(len(measured))
