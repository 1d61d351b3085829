"""napari reader for NSID-HDF5 files and curiosity session files.

Only files this package can show are claimed: HDF5 files with NSID main
datasets (or a session journal). Any other HDF5 file gets no reader, so other
plugins can open it.

- IMAGE datasets become Image layers and SPECTRAL_IMAGE (or other 3-D
  datasets with two spatial dimensions) become Image layers whose first axis,
  the spectral one, is browsed with the slider; scale and translate come from
  the physical axes, and names and units of every axis are in the layer's
  metadata.
- Results of a session (``Results_NNN`` groups) come back as the widget
  shows them: semi-transparent maps and the measured points coloured by
  order, with their chooser and measured error as features. A session
  journal (``/Session``) gives the measured points even before any results
  were written.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence

import h5py
import numpy as np

from napari_plugin._layers import (
    MAP_STYLES,
    MAP_TITLES,
    LayerData,
    Placement,
    image_layer,
    layer_name,
    map_layer,
    mean_abs_error,
    measured_layer,
    pint_length,
)
from pycroscopy_curiosity.data.axes import Axis, convert_length
from pycroscopy_curiosity.errors import DataError, DataFileError

log = logging.getLogger(__name__)

EXTENSIONS = (".h5", ".hdf5", ".nsid")
RESULTS_PREFIX = "Results_"
JOURNAL_GROUP = "Session"


def _main_paths(handle: h5py.File) -> list[str]:
    import warnings

    from pyNSID.io.hdf_utils import get_all_main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return [d.name for d in get_all_main(handle)]


def _claims(path: str) -> bool:
    """Whether ``path`` is an HDF5 file with NSID datasets or a journal."""
    if not path.lower().endswith(EXTENSIONS) or not os.path.isfile(path):
        return False
    try:
        if not h5py.is_hdf5(path):
            return False
        with h5py.File(path, "r", locking=False) as handle:
            return JOURNAL_GROUP in handle or bool(_main_paths(handle))
    except Exception as exc:  # a reader must never fail on a file it cannot use
        log.debug("not claiming %s: %s", path, exc)
        return False


def napari_get_reader(path: str | Sequence[str]) -> Callable | None:
    """The reader for an NSID-HDF5 file, or ``None`` for any other file.

    Parameters
    ----------
    path : str or list of str
        What napari was asked to open; a list is claimed only when every
        file in it is.
    """
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    if not paths or not all(_claims(str(p)) for p in paths):
        return None
    return read_nsid


def read_nsid(path: str | Sequence[str]) -> list[LayerData]:
    """Layers of one or more NSID-HDF5 files (see the module docstring).

    Raises
    ------
    DataFileError
        When a file cannot be read; the message names it.
    """
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    layers: list[LayerData] = []
    for p in paths:
        layers.extend(_read_one(str(p)))
    return layers


def _split(path: str) -> tuple[list[str], list[str], bool]:
    """Main datasets outside results, results groups, journal present."""
    try:
        handle = h5py.File(path, "r", locking=False)
    except OSError as exc:
        raise DataFileError(f"cannot open HDF5 file {path!r}: {exc}") from exc
    with handle:
        journal = JOURNAL_GROUP in handle
        mains = _main_paths(handle)
        groups = sorted(k for k in handle if k.startswith(RESULTS_PREFIX))
    if not journal and not mains:
        raise DataFileError(
            f"{path!r} holds no NSID main dataset and no session journal"
        )
    plain = [m for m in mains if not m.lstrip("/").startswith(RESULTS_PREFIX)]
    return plain, groups, journal


def _read_one(path: str) -> list[LayerData]:
    from pycroscopy_curiosity.data.nsid import list_datasets, read_dataset

    plain, groups, journal = _split(path)
    infos = {i.path: i for i in list_datasets(path)} if plain or groups else {}
    world = _file_world_units(path, plain, infos)
    images: list[LayerData] = []
    stacks: list[LayerData] = []
    names: set[str] = set()
    for h5path in plain:
        info = infos.get(h5path)
        if info is None or len(info.shape) not in (2, 3):
            log.info("%s: %s is not an image; not shown", path, h5path)
            continue
        dataset = read_dataset(path, h5path)
        name = _unique(layer_name(dataset, h5path), names)
        try:
            layer = image_layer(
                dataset, name=name, file=path, path=h5path, world_units=world
            )
        except DataError as exc:
            log.warning("%s: %s not shown: %s", path, h5path, exc)
            continue
        (stacks if layer[0].ndim == 3 else images).append(layer)
    # spectral stacks lie under the images, hidden when there is an image
    for layer in stacks:
        layer[1]["visible"] = not images
    layers = [*stacks, *images]
    if groups or journal:
        layers.extend(_session_layers(path, groups, journal, world, names))
    log.info("read %d layer(s) from %s", len(layers), path)
    return layers


def _unique(name: str, taken: set[str]) -> str:
    out, k = name, 1
    while out in taken:
        k += 1
        out = f"{name} [{k}]"
    taken.add(out)
    return out


def _file_world_units(path: str, plain: list[str], infos: dict) -> str | None:
    """One length unit for every layer of a file: that of its first spatial
    axis (files mixing m and um still line up)."""
    for h5path in plain:
        info = infos.get(h5path)
        if info is None:
            continue
        for dim in info.dimensions:
            if dim.dimension_type == "SPATIAL" and pint_length(dim.units):
                return dim.units
    return None


# -- sessions and results -----------------------------------------------------------


class _GridPlacement:
    """Duck-typed data for :meth:`Placement.of` built from map axes only."""

    def __init__(self, grid_y: Axis, grid_x: Axis) -> None:
        self.grid_y = self.image_y = grid_y
        self.grid_x = self.image_x = grid_x


def _grid_axes(dataset) -> tuple[Axis, Axis]:
    from pycroscopy_curiosity.data.axes import dimension_axis, spatial_layout

    iy, ix, _ = spatial_layout(dataset, dataset.ndim, f"map {dataset.title!r}")
    return dimension_axis(dataset, iy), dimension_axis(dataset, ix)


def _session_layers(
    path: str, groups: list[str], journal: bool, world: str | None, names: set
) -> list[LayerData]:
    """Maps, predicted spectra and measured points of a results or session
    file."""
    from pycroscopy_curiosity.data.results import read_results

    results = read_results(path, groups[-1]) if groups else None
    layers, placement, predicted = [], None, None
    if results is not None:
        layers, placement, predicted = _result_layers(path, results, world, names)
        if placement is not None:
            world = placement.world_units
    points = _measured_points(path, results, journal, predicted)
    if points is None:
        return layers
    coords, choosers, errors, meta = points
    units_of_coords = meta.pop("coordinate_units", "")
    if placement is None:
        size, units = 0.8 * _coordinate_step(coords), None
    else:
        size, units = placement.point_size, placement.napari_units
        coords = _to_world(coords, units_of_coords, world)
    layers.append(
        measured_layer(
            coords,
            choosers=choosers,
            errors=errors,
            size=size,
            units=units,
            name=_unique("measured points", names),
            metadata={"source_file": path, **meta},
        )
    )
    return layers


def _result_layers(path: str, results, world: str | None, names: set):
    """``(layers, placement, predicted)``: the maps of a results group as
    overlays and its predicted spectra as a hidden stack, the placement of
    its grid, and the ``ny x nx x L`` predicted spectra (or ``None``)."""
    layers: list[LayerData] = []
    maps = [n for n in results.names() if n in MAP_STYLES]
    reference = results[maps[0]] if maps else None
    if reference is None and "predicted_spectra" in results:
        reference = results["predicted_spectra"]
    if reference is None:
        return layers, None, None
    gy, gx = _grid_axes(reference)
    world = world or (gy.units if pint_length(gy.units) else None)
    placement = Placement.of(_GridPlacement(gy, gx), world)
    for key in maps:
        ds = results[key]
        meta = {
            "source_file": path,
            "dataset": f"/{results.group}/{key}",
            "quantity": str(ds.quantity),
            "units": str(ds.units),
            "axis_names": [gy.name, gx.name],
            "axis_units": [gy.units, gx.units],
        }
        values = np.ascontiguousarray(np.asarray(ds).T)  # stored x first
        name = _unique(MAP_TITLES.get(key, key), names)
        layers.append(map_layer(values, placement, key=key, name=name, metadata=meta))
    predicted = None
    if "predicted_spectra" in results:
        ds = results["predicted_spectra"]
        stack = image_layer(
            ds,
            name=_unique("predicted spectra", names),
            file=path,
            path=f"/{results.group}/predicted_spectra",
            world_units=world,
            visible=False,
        )
        layers.insert(0, stack)
        predicted = np.asarray(ds).transpose(1, 0, 2)  # ny x nx x L
    return layers, placement, predicted


def _to_world(coords: np.ndarray, units: str, world: str | None) -> np.ndarray:
    if not world or not units:
        return coords
    try:
        return convert_length(coords, units, world)
    except DataError:
        return coords


def _coordinate_step(coords: np.ndarray) -> float:
    """A marker size for points with no map to measure the grid on."""
    steps = [np.diff(np.unique(coords[:, k])) for k in range(coords.shape[1])]
    positive = [s[s > 0].min() for s in steps if (s > 0).any()]
    return float(min(positive)) if positive else 1.0


def _measured_points(path: str, results, journal: bool, predicted):
    """``(coords_yx, choosers, errors, metadata)`` of the measured points:
    from the journal when there is one (it is never behind the results),
    else from the results' ``measured`` point cloud."""
    if journal:
        from pycroscopy_curiosity.data.journal import Journal

        record = Journal.read(path)
        grid_index = np.asarray(record.grid_index, dtype=np.int64).reshape(-1, 2)
        spectra = np.asarray(record.spectra, dtype=np.float64)
        coords = np.asarray(record.coordinates, dtype=np.float64).reshape(-1, 2)
        choosers = list(record.chooser)
        units = _journal_units(results)
        meta = {
            "grid_index": grid_index,
            "iteration": np.asarray(record.iteration),
            "coordinate_units": units,
        }
    elif results is not None and "measured" in results:
        ds = results["measured"]
        table = dict((ds.metadata or {}).get("points", {}))
        spectra = np.asarray(ds, dtype=np.float64)
        xy = np.asarray(ds.point_cloud["coordinates"], dtype=np.float64)
        coords = xy.reshape(-1, 2)[:, ::-1].copy()
        n = len(coords)
        grid_index = np.stack(
            [
                np.asarray(table.get("grid_iy", np.zeros(n)), np.int64),
                np.asarray(table.get("grid_ix", np.zeros(n)), np.int64),
            ],
            axis=1,
        )
        choosers = [str(c) for c in table.get("chooser", ["model"] * n)]
        meta = {
            "grid_index": grid_index,
            "iteration": np.asarray(table.get("iteration", np.zeros(n)), np.int64),
            "coordinate_units": _journal_units(results),
        }
    else:
        return None
    errors = None
    if predicted is not None and len(grid_index):
        at = predicted[grid_index[:, 0], grid_index[:, 1]]
        if at.shape == spectra.shape:
            errors = mean_abs_error(at, spectra)
    return coords, choosers, errors, meta


def _journal_units(results) -> str:
    """The length unit of grid coordinates, read from a map's axes."""
    if results is None:
        return ""
    for name in (*MAP_STYLES, "predicted_spectra"):
        if name in results:
            gy, _ = _grid_axes(results[name])
            return gy.units
    return ""
