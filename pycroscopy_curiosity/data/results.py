"""Results as sidpy Datasets in NSID-HDF5 files.

Maps over the spectral grid (predicted error, acquisition, ...), predicted
spectra, and the measured points in the order they were measured are each a
sidpy Dataset with dims, units and provenance. :func:`write_results` puts them
into an NSID file; :func:`read_results` gives back equal arrays and metadata.

Arrays follow the axis order of the field's NSID files: axis 0 is ``x``,
axis 1 is ``y``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from pycroscopy_curiosity._version import __version__
from pycroscopy_curiosity.data.axes import Axis
from pycroscopy_curiosity.data.exploration import ExplorationData
from pycroscopy_curiosity.data.nsid import open_nsid, read_dataset, write_nsid_file
from pycroscopy_curiosity.errors import DataError, DataFileError

log = logging.getLogger(__name__)

__all__ = [
    "Results",
    "map_dataset",
    "measurements_dataset",
    "read_results",
    "spectra_dataset",
    "write_results",
]

#: HDF5 attribute holding each dataset's metadata as JSON, restored exactly.
METADATA_ATTR = "curiosity_metadata_json"
#: Prefix of the groups holding results.
RESULTS_GROUP = "Results"


def _native(value):
    """Turn numpy values into JSON-native ones."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _native(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_native(v) for v in value]
    return value


def _dimension(axis: Axis, dimension_type: str):
    import sidpy

    return sidpy.Dimension(
        np.asarray(axis.values, dtype=np.float64),
        axis.name,
        quantity=axis.quantity or axis.name,
        units=axis.units or "a.u.",
        dimension_type=dimension_type,
    )


def _base(
    values: np.ndarray, name: str, datatype: str, quantity: str, units: str, **kw
):
    import sidpy

    return sidpy.Dataset.from_array(
        values,
        title=name,
        datatype=datatype,
        quantity=quantity or "generic",
        units=units or "a.u.",
        modality="curiosity-driven exploration",
        source="pycroscopy_curiosity",
        **kw,
    )


def map_dataset(
    data: ExplorationData,
    values: np.ndarray,
    *,
    name: str,
    quantity: str,
    units: str = "a.u.",
):
    """A map over the spectral grid as a sidpy IMAGE.

    Parameters
    ----------
    data : ExplorationData
        Gives the grid's physical axes.
    values : numpy.ndarray
        ``ny x nx`` map (NaN where there is no value, e.g. non-candidates).
    name, quantity, units : str
        Title and meaning of the map.
    """
    values = np.asarray(values)
    if values.shape != data.grid_shape:
        raise DataError(
            f"map {name!r} has shape {values.shape}; the spectral grid is "
            f"{data.grid_shape}"
        )
    ds = _base(np.ascontiguousarray(values.T), name, "IMAGE", quantity, units)
    ds.set_dimension(0, _dimension(data.grid_x, "SPATIAL"))
    ds.set_dimension(1, _dimension(data.grid_y, "SPATIAL"))
    return ds


def spectra_dataset(
    data: ExplorationData,
    values: np.ndarray,
    *,
    name: str = "predicted_spectra",
    quantity: str | None = None,
    normalized: bool = True,
):
    """Spectra over the grid (``ny x nx x L``) as a sidpy SPECTRAL_IMAGE.

    With ``normalized=True`` the values are in the learners' normalised units
    and are returned to physical units first.
    """
    values = np.asarray(values)
    expected = (*data.grid_shape, data.n_spec)
    if values.shape != expected:
        raise DataError(
            f"spectra {name!r} have shape {values.shape}; expected {expected}"
        )
    if normalized:
        values = data.physical_spectra(values)
    values = np.ascontiguousarray(values.transpose(1, 0, 2), dtype=np.float32)
    ds = _base(
        values,
        name,
        "SPECTRAL_IMAGE",
        quantity or data.spectra_quantity,
        data.spectra_units,
    )
    ds.set_dimension(0, _dimension(data.grid_x, "SPATIAL"))
    ds.set_dimension(1, _dimension(data.grid_y, "SPATIAL"))
    ds.set_dimension(2, _dimension(data.spectral_axis, "SPECTRAL"))
    return ds


def measurements_dataset(
    data: ExplorationData,
    grid_index: np.ndarray,
    spectra: np.ndarray,
    *,
    name: str = "measured",
    normalized: bool = True,
    extra: Mapping[str, np.ndarray | list] | None = None,
):
    """Measured points in measurement order as a sidpy POINT_CLOUD.

    Parameters
    ----------
    data : ExplorationData
        Gives the grid's physical axes and the spectral axis.
    grid_index : numpy.ndarray
        ``n x 2`` ``(iy, ix)`` grid positions, in the order measured.
    spectra : numpy.ndarray
        ``n x L`` spectra measured there.
    normalized : bool
        Whether ``spectra`` are in normalised units (returned to physical).
    extra : mapping, optional
        Further per-point values (time, chooser, ...), each of length ``n``;
        kept in ``metadata['points']``.

    Notes
    -----
    The coordinates (``point_cloud['coordinates']``) are physical ``(x, y)``
    in the grid's units; ``metadata['points']`` also holds ``grid_iy``,
    ``grid_ix`` and ``order``.
    """
    import sidpy

    grid_index = np.asarray(grid_index, dtype=np.int64).reshape(-1, 2)
    spectra = np.asarray(spectra)
    n = len(grid_index)
    if spectra.shape != (n, data.n_spec):
        raise DataError(
            f"measured spectra have shape {spectra.shape}; expected ({n}, "
            f"{data.n_spec}) for {n} points"
        )
    if normalized:
        spectra = data.physical_spectra(spectra)
    yx = data.grid_coordinates(grid_index) if n else np.zeros((0, 2))
    ds = _base(
        np.asarray(spectra, dtype=np.float32),
        name,
        "point_cloud",
        data.spectra_quantity,
        data.spectra_units,
        coordinates=yx[:, ::-1].copy(),
    )
    ds.set_dimension(
        0,
        sidpy.Dimension(
            np.arange(n), "point", "measurement order", "index", "POINT_CLOUD"
        ),
    )
    ds.set_dimension(1, _dimension(data.spectral_axis, "SPECTRAL"))
    points = {
        "order": list(range(n)),
        "grid_iy": grid_index[:, 0],
        "grid_ix": grid_index[:, 1],
    }
    for key, column in (extra or {}).items():
        if len(column) != n:
            raise DataError(
                f"extra column {key!r} has {len(column)} values for {n} points"
            )
        points[key] = column
    ds.metadata = {"points": _native(points)}
    return ds


def _provenance(data: ExplorationData | None, parameters: Mapping) -> dict:
    prov = {"package": "pycroscopy_curiosity", "version": __version__}
    if data is not None:
        prov["source"] = data.source.as_dict()
    prov["parameters"] = _native(dict(parameters))
    return prov


def write_results(
    path: str | os.PathLike,
    datasets: Mapping[str, object],
    *,
    parameters: Mapping | None = None,
    data: ExplorationData | None = None,
    mode: str = "w",
) -> dict[str, str]:
    """Write result datasets with provenance into an NSID-HDF5 file.

    Parameters
    ----------
    path : str or path-like
        The results file; ``mode='a'`` adds a new results group to an existing
        NSID file (the source file, for example) and leaves the rest untouched.
    datasets : mapping of str to sidpy.Dataset
        Results by name, e.g. from :func:`map_dataset`.
    parameters : mapping, optional
        The settings that produced them; stored with every dataset.
    data : ExplorationData, optional
        The data they were computed on; its source goes into provenance.

    Returns
    -------
    dict of str to str
        HDF5 path of each dataset.
    """
    prov = _provenance(data, parameters or {})
    prepared = {}
    for name, ds in datasets.items():
        out = ds.copy()
        out.title = name
        metadata = _native(dict(ds.metadata or {}))
        metadata["curiosity"] = prov
        out.metadata = metadata
        try:
            out.add_provenance("pycroscopy_curiosity", "write_results", __version__)
        except (TypeError, AttributeError):
            log.debug("sidpy without add_provenance; skipped for %s", name)
        prepared[name] = out
    group = RESULTS_GROUP
    if mode == "a" and Path(path).exists():
        with h5py.File(path, "r", locking=False) as handle:
            k = 0
            while f"{RESULTS_GROUP}_{k:03d}" in handle:
                k += 1
        group = f"{RESULTS_GROUP}_{k:03d}"
    elif mode == "w":
        group = f"{RESULTS_GROUP}_000"
    written = write_nsid_file(path, prepared, group=group, mode=mode)
    with h5py.File(path, "a") as handle:
        for name, h5path in written.items():
            meta = json.dumps(prepared[name].metadata, sort_keys=True)
            handle[h5path].attrs[METADATA_ATTR] = meta
        handle[group].attrs["parameters_json"] = json.dumps(prov["parameters"])
        handle[group].attrs["package_version"] = __version__
    log.info("results written to %s (%s)", path, ", ".join(written))
    return written


@dataclass
class Results:
    """Results read back from a file: datasets by name and the parameters."""

    path: str
    group: str
    datasets: dict
    parameters: dict

    def __getitem__(self, name: str):
        return self.datasets[name]

    def __contains__(self, name: str) -> bool:
        return name in self.datasets

    def names(self) -> list[str]:
        """Names of the datasets, in the order written."""
        return list(self.datasets)


def read_results(path: str | os.PathLike, group: str | None = None) -> Results:
    """Read results written by :func:`write_results`.

    Parameters
    ----------
    path : str or path-like
        The results file.
    group : str, optional
        Which results group (``'Results_000'``...); the last one by default.
    """
    path = str(path)
    with open_nsid(path) as handle:
        groups = sorted(k for k in handle if k.startswith(RESULTS_GROUP + "_"))
        if not groups:
            raise DataFileError(
                f"{path!r} holds no results group ({RESULTS_GROUP}_NNN)"
            )
        group = group or groups[-1]
        if group not in handle:
            raise DataError(f"{path!r} has no results group {group!r}; it has {groups}")
        parameters = json.loads(handle[group].attrs.get("parameters_json", "{}"))
        entries = []
        for channel in handle[group].values():
            for name, sub in channel.items():
                main = sub.get(name) if isinstance(sub, h5py.Group) else None
                if isinstance(main, h5py.Dataset):
                    entries.append((name, main.name, main.attrs.get(METADATA_ATTR)))
    datasets = {}
    for name, h5path, meta in entries:
        ds = read_dataset(path, h5path)
        if meta is not None:
            ds.metadata = json.loads(meta)
        datasets[name] = ds
    return Results(path=path, group=group, datasets=datasets, parameters=parameters)
