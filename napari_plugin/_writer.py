"""napari writer: a session's results as NSID-HDF5.

When the layers to save belong to a live session of the curiosity widget
(their metadata carry its id), the explorer writes its complete results:
maps, predicted spectra, measured points with their spectra and choosers,
learning curve and provenance. Layers without a live session (maps of a
reopened file, any image) are written one NSID dataset each, with physical
axes rebuilt from the layers' scale and translate and the axis names and
units of their metadata.
"""

from __future__ import annotations

import logging

import numpy as np

from napari_plugin._registry import SESSION_KEY, lookup
from pycroscopy_curiosity.errors import DataError

log = logging.getLogger(__name__)


def write_session(path: str, layer_data: list[tuple]) -> list[str]:
    """Write layers (see the module docstring) to ``path``; returns
    ``[path]``.

    Raises
    ------
    DataError
        When the layers hold nothing that can be written (the message names
        the layer).
    """
    path = str(path)
    if not path.lower().endswith((".h5", ".hdf5")):
        path += ".h5"
    sessions = {
        meta.get("metadata", {}).get(SESSION_KEY) for _, meta, _ in layer_data
    } - {None}
    for key in sessions:
        session = lookup(key)
        if session is not None:
            from napari_plugin._session import save_results

            with session.lock:  # waits for a running step to finish
                save_results(session.explorer, path)
            log.info("session results written to %s", path)
            return [path]
    datasets = {}
    for data, meta, kind in layer_data:
        name = _free(str(meta.get("name") or kind), datasets)
        if kind == "image":
            datasets[name] = image_dataset(np.asarray(data), meta, name)
        elif kind == "points":
            datasets[name] = points_dataset(np.asarray(data), meta, name)
        else:
            raise DataError(f"layer {name!r}: {kind} layers cannot be written")
    if not datasets:
        raise DataError("no layers to write")
    from pycroscopy_curiosity.data.results import write_results

    write_results(path, datasets, parameters={"written_by": "napari", "mode": "layers"})
    return [path]


def _free(name: str, taken: dict) -> str:
    safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in name) or "layer"
    out, k = safe, 1
    while out in taken:
        k += 1
        out = f"{safe}_{k}"
    return out


def _units_of(meta: dict) -> list[str]:
    units = meta.get("units")
    if units is None:
        return []
    return ["" if str(u) in ("pixel", "") else f"{u:~}" for u in units]


def _dimension(values, name, quantity, units, kind):
    import sidpy

    return sidpy.Dimension(
        np.asarray(values, dtype=np.float64),
        name,
        quantity=quantity or name,
        units=units or "a.u.",
        dimension_type=kind,
    )


def image_dataset(values: np.ndarray, meta: dict, name: str):
    """A 2-D or 3-D Image layer as a sidpy Dataset with physical axes."""
    import sidpy

    if values.ndim not in (2, 3):
        raise DataError(f"layer {name!r} is {values.ndim}-D; 2-D or 3-D expected")
    info = meta.get("metadata") or {}
    scale = np.asarray(meta.get("scale", np.ones(values.ndim)), dtype=np.float64)
    translate = np.asarray(meta.get("translate", np.zeros(values.ndim)), np.float64)
    names = list(info.get("axis_names") or [])
    saved = list(info.get("axes") or [])
    world = info.get("world_units") or ""
    napari_units = _units_of(meta)
    dims = []
    for k in range(values.ndim):
        n = values.shape[k]
        spatial = k >= values.ndim - 2
        axis = saved[k] if k < len(saved) else {}
        label = names[k] if k < len(names) else ("y", "x")[k - values.ndim + 2]
        if spatial:
            units = world or (napari_units[k] if k < len(napari_units) else "")
            dims.append(
                _dimension(
                    translate[k] + scale[k] * np.arange(n),
                    label,
                    axis.get("quantity") or label,
                    units or "pixel",
                    "SPATIAL",
                )
            )
        else:
            axis_values = np.asarray(axis.get("values", np.arange(n)), np.float64)
            if axis_values.shape != (n,):
                axis_values = np.arange(n, dtype=np.float64)
            dims.append(
                _dimension(
                    axis_values,
                    label,
                    axis.get("quantity") or label,
                    axis.get("units") or "index",
                    "SPECTRAL",
                )
            )
    # NSID files of the field store x first: (x, y) or (x, y, spectral)
    order = [values.ndim - 1, values.ndim - 2, *range(values.ndim - 2)]
    dataset = sidpy.Dataset.from_array(
        np.ascontiguousarray(values.transpose(order)),
        title=name,
        datatype="IMAGE" if values.ndim == 2 else "SPECTRAL_IMAGE",
        quantity=info.get("quantity") or name,
        units=info.get("units") or "a.u.",
        modality="napari layer",
        source="pycroscopy_curiosity napari plugin",
    )
    for i, k in enumerate(order):
        dataset.set_dimension(i, dims[k])
    dataset.metadata = {"layer": name, "source_file": str(info.get("source_file"))}
    return dataset


def points_dataset(coords: np.ndarray, meta: dict, name: str):
    """A Points layer as a sidpy POINT_CLOUD: its numeric features are the
    values, its world ``(x, y)`` the coordinates, text features metadata."""
    import sidpy

    if not len(coords):
        raise DataError(f"points layer {name!r} holds no points")
    coords = coords.reshape(len(coords), -1)
    if coords.shape[1] != 2:
        raise DataError(f"points layer {name!r} is {coords.shape[1]}-D; 2-D expected")
    scale = np.asarray(meta.get("scale", (1.0, 1.0)), dtype=np.float64)
    translate = np.asarray(meta.get("translate", (0.0, 0.0)), dtype=np.float64)
    coords = coords * scale + translate  # world coordinates
    features = meta.get("features")
    numeric, text = {}, {}
    if features is not None and len(features):
        for column in features.columns:
            values = np.asarray(features[column])
            if np.issubdtype(values.dtype, np.number):
                numeric[str(column)] = values.astype(np.float64)
            else:
                text[str(column)] = [str(v) for v in values]
    if not numeric:
        numeric["order"] = np.arange(len(coords), dtype=np.float64)
    table = np.stack(list(numeric.values()), axis=1)
    units = (meta.get("metadata") or {}).get("world_units") or ""
    dataset = sidpy.Dataset.from_array(
        table,
        title=name,
        datatype="point_cloud",
        quantity="point features",
        units="a.u.",
        modality="napari layer",
        source="pycroscopy_curiosity napari plugin",
        coordinates=coords[:, ::-1].copy(),
    )
    dataset.set_dimension(
        0, _dimension(np.arange(len(coords)), "point", "point", "index", "POINT_CLOUD")
    )
    dataset.set_dimension(
        1,
        _dimension(np.arange(table.shape[1]), "feature", "feature", "index", "CHANNEL"),
    )
    dataset.metadata = {
        "features": list(numeric),
        "text_features": text,
        "coordinate_units": units,
    }
    return dataset


__all__ = ["image_dataset", "points_dataset", "write_session"]
