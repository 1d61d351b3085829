"""Where the structure image comes from: datasets, layers, the spectra."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from pycroscopy_curiosity.data.axes import Axis
from pycroscopy_curiosity.data.image import StructureImage
from pycroscopy_curiosity.errors import DataError

log = logging.getLogger(__name__)

#: Choices that make the structure image from the spectra themselves.
FROM_SPECTRA = [
    ("spectra: mean over the spectral axis", ("reduce", "mean")),
    ("spectra: one spectral index", ("index", None)),
]


def same_file(a: str | None, b: str | None) -> bool:
    """Whether two paths name the same file."""
    if not a or not b:
        return False
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _image_datasets(file: str) -> list[tuple[str, str]]:
    """``(label, hdf5_path)`` of the 2-D datasets of a file."""
    from pycroscopy_curiosity.data.nsid import list_datasets

    try:
        infos = list_datasets(file)
    except (OSError, ValueError) as exc:
        log.info("no images listed from %s: %s", file, exc)
        return []
    images = [
        i
        for i in infos
        if len(i.shape) == 2 and not i.path.lstrip("/").startswith("Results_")
    ]
    names = [
        (i.title if i.title not in ("", "generic") else i.quantity) or i.path
        for i in images
    ]
    return [
        (
            f"dataset: {name}" if names.count(name) == 1 else f"dataset: {info.path}",
            info.path,
        )
        for name, info in zip(names, images, strict=True)
    ]


def structure_choices(file: str, layers) -> list[tuple[str, tuple]]:
    """Choices of the structure combo box: image datasets of ``file``, 2-D
    image layers (those read from an NSID file by the dataset they show),
    and images made from the spectra."""
    choices: list[tuple[str, tuple]] = []
    seen: set[tuple[str, str]] = set()
    if file:
        for label, path in _image_datasets(file):
            choices.append((label, ("dataset", (file, path))))
            seen.add((str(Path(file).resolve()), path))
    for layer in layers:
        if layer.__class__.__name__ != "Image" or layer.ndim != 2:
            continue
        meta = layer.metadata
        if "map" in meta or "curiosity_session" in meta:
            continue
        source, dataset = meta.get("source_file"), meta.get("dataset")
        if source and dataset and Path(source).is_file():
            key = (str(Path(source).resolve()), dataset)
            if key not in seen:
                seen.add(key)
                choices.append((f"layer: {layer.name}", ("dataset", (source, dataset))))
        elif not source:
            choices.append((f"layer: {layer.name}", ("layer", layer.name)))
    return choices + FROM_SPECTRA


def _length_units(layer, axis: int) -> str:
    units = getattr(layer, "units", None)
    if units is None:
        return ""
    text = f"{units[axis]:~}"
    return "" if text in ("px", "pixel") else text


def layer_structure(layer) -> StructureImage:
    """A 2-D image layer as a structure image, with axes from its scale and
    translate (in its units, or the world units of its metadata).

    Raises
    ------
    DataError
        When the layer is not a 2-D single-channel image.
    """
    values = np.asarray(layer.data, dtype=np.float32)
    if values.ndim != 2:
        raise DataError(
            f"layer {layer.name!r} has shape {values.shape}; a 2-D image is needed"
        )
    scale = np.asarray(layer.scale, dtype=np.float64)
    translate = np.asarray(layer.translate, dtype=np.float64)
    units = layer.metadata.get("world_units") or ""
    axes = []
    for k, name in enumerate(("y", "x")):
        n = values.shape[k]
        axes.append(
            Axis(
                translate[k] + scale[k] * np.arange(n),
                name,
                name,
                units or _length_units(layer, k),
            )
        )
    return StructureImage(
        values=values,
        y=axes[0],
        x=axes[1],
        quantity=str(layer.metadata.get("quantity") or layer.name),
        units=str(layer.metadata.get("units") or ""),
        label=f"layer {layer.name!r}",
    )
