"""Reading and writing NSID-HDF5 files.

Files are always opened read-only for reading, with ``h5py`` and pyNSID's
reader (SciFiReaders' ``NSIDReader`` opens files for writing, which fails on
read-only media and on files another program holds open).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from pycroscopy_curiosity.errors import (
    DataError,
    DataFileError,
    DataFileNotFoundError,
)

log = logging.getLogger(__name__)

__all__ = [
    "DatasetInfo",
    "DimensionInfo",
    "list_datasets",
    "open_nsid",
    "read_dataset",
    "write_nsid_file",
]


@dataclass(frozen=True)
class DimensionInfo:
    """One dimension of an NSID dataset, read from its dimension scale."""

    name: str
    dimension_type: str
    quantity: str
    units: str
    size: int


@dataclass(frozen=True)
class DatasetInfo:
    """What a main NSID dataset holds, read without loading its values."""

    path: str
    data_type: str
    shape: tuple[int, ...]
    dtype: str
    title: str
    quantity: str
    units: str
    dimensions: tuple[DimensionInfo, ...]

    def describe(self) -> str:
        """Return a one-paragraph, human-readable description."""
        dims = ", ".join(
            f"{d.name} ({d.dimension_type}, {d.size}, {d.quantity or '-'}"
            f" [{d.units or '-'}])"
            for d in self.dimensions
        )
        shape = " x ".join(str(s) for s in self.shape)
        return (
            f"{self.path}\n"
            f"    {self.data_type}  {shape}  {self.dtype}\n"
            f"    {self.quantity or '-'} [{self.units or '-'}]"
            f"  title: {self.title or '-'}\n"
            f"    dims: {dims}"
        )


def _text(value: object, default: str = "") -> str:
    """Turn an HDF5 attribute (bytes, numpy string, None) into ``str``."""
    if value is None:
        return default
    if isinstance(value, bytes | np.bytes_):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _short_type(value: object) -> str:
    """``'DimensionType.SPATIAL'`` or ``'spatial'`` becomes ``'SPATIAL'``."""
    return _text(value, "UNKNOWN").split(".")[-1].upper()


@contextmanager
def open_nsid(path: str | os.PathLike) -> Iterator[h5py.File]:
    """Open an NSID-HDF5 file read-only, with errors that name the file.

    Parameters
    ----------
    path : str or path-like
        The file to open.

    Yields
    ------
    h5py.File
        The open file; it is closed when the ``with`` block ends.

    Raises
    ------
    DataFileNotFoundError
        When the file does not exist.
    DataFileError
        When the file is not HDF5, or is HDF5 without any NSID main dataset.
    """
    path = Path(path)
    if not path.exists():
        raise DataFileNotFoundError(f"data file {str(path)!r} does not exist")
    if path.is_dir():
        raise DataFileError(f"{str(path)!r} is a directory, not an NSID-HDF5 file")
    if not h5py.is_hdf5(path):
        raise DataFileError(
            f"{str(path)!r} is not an HDF5 file (an NSID-HDF5 file was expected)"
        )
    handle = _open_read_only(path)
    try:
        if not _main_datasets(handle):
            raise DataFileError(
                f"{str(path)!r} is an HDF5 file but holds no NSID main dataset "
                "(no dataset with NSID attributes and dimension scales)"
            )
        yield handle
    finally:
        handle.close()


def _open_read_only(path: Path) -> h5py.File:
    """Open without taking the file lock, so a file another program writes
    can be read; fall back to the default when this process already holds
    the file open with locking (HDF5 refuses mixed flags)."""
    try:
        return h5py.File(path, "r", locking=False)
    except OSError:
        pass
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise DataFileError(f"cannot open HDF5 file {str(path)!r}: {exc}") from exc


def _main_datasets(handle: h5py.File) -> list[h5py.Dataset]:
    """Every NSID main dataset in an open file, in file order."""
    from pyNSID.io.hdf_utils import get_all_main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return list(get_all_main(handle))


def _dimension_info(dset: h5py.Dataset, axis: int) -> DimensionInfo:
    scales = dset.dims[axis]
    if len(scales) == 0:
        return DimensionInfo(f"dim_{axis}", "UNKNOWN", "", "", dset.shape[axis])
    scale = scales[0]
    attrs = scale.attrs
    name = _text(attrs.get("name"), scale.name.rsplit("/", 1)[-1])
    return DimensionInfo(
        name=name,
        dimension_type=_short_type(attrs.get("dimension_type")),
        quantity=_text(attrs.get("quantity")),
        units=_text(attrs.get("units")),
        size=int(dset.shape[axis]),
    )


def _info(dset: h5py.Dataset) -> DatasetInfo:
    attrs = dset.attrs
    return DatasetInfo(
        path=dset.name,
        data_type=_short_type(attrs.get("data_type")),
        shape=tuple(int(s) for s in dset.shape),
        dtype=str(dset.dtype),
        title=_text(attrs.get("main_data_name")),
        quantity=_text(attrs.get("quantity")),
        units=_text(attrs.get("units")),
        dimensions=tuple(_dimension_info(dset, i) for i in range(dset.ndim)),
    )


def list_datasets(path: str | os.PathLike) -> list[DatasetInfo]:
    """List the NSID main datasets of a file without loading their values.

    Parameters
    ----------
    path : str or path-like
        An NSID-HDF5 file.

    Returns
    -------
    list of DatasetInfo
        HDF5 path, data type, shape, dimension names, types and units of
        every main dataset, in file order.

    Examples
    --------
    >>> for info in list_datasets("scan.h5"):  # doctest: +SKIP
    ...     print(info.describe())
    """
    with open_nsid(path) as handle:
        return [_info(d) for d in _main_datasets(handle)]


def read_dataset(path: str | os.PathLike, dataset_path: str):
    """Read one NSID main dataset into memory as a sidpy Dataset.

    The dataset keeps the dtype it has in the file (pyNSID's reader returns
    float64), and its title is restored from the ``main_data_name`` attribute
    (pyNSID's reader sets it to the HDF5 path).

    Raises
    ------
    DataError
        When ``dataset_path`` is not an NSID main dataset of the file; the
        message lists the paths that are.
    """
    from pyNSID.io.hdf_utils import read_h5py_dataset

    with open_nsid(path) as handle:
        mains = _main_datasets(handle)
        by_path = {d.name: d for d in mains}
        key = dataset_path if dataset_path.startswith("/") else "/" + dataset_path
        if key not in by_path:
            raise DataError(
                f"no NSID main dataset at {dataset_path!r} in {str(path)!r}; "
                f"the file holds: {', '.join(sorted(by_path)) or 'none'}"
            )
        dset = by_path[key]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            dataset = read_h5py_dataset(dset)
            title = _text(dset.attrs.get("main_data_name"), key)
            if dataset.dtype != dset.dtype:
                dataset = _astype(dataset, dset.dtype)
        dataset.title = title
        log.debug("read %s from %s: shape %s", key, path, dataset.shape)
        return dataset


#: Attributes that sidpy's ``astype`` does not carry over to its result.
_KEPT_ATTRIBUTES = ("metadata", "original_metadata", "provenance", "point_cloud")


def _astype(dataset, dtype):
    """``dataset.astype(dtype)`` keeping metadata, provenance and points."""
    converted = dataset.astype(dtype)
    for name in _KEPT_ATTRIBUTES:
        value = getattr(dataset, name, None)
        if value is not None:
            setattr(converted, name, value)
    return converted


def write_nsid_file(
    path: str | os.PathLike,
    datasets: Mapping[str, object],
    *,
    group: str = "Measurement_000",
    mode: str = "w",
) -> dict[str, str]:
    """Write sidpy Datasets into one NSID-HDF5 file, one channel group each.

    Parameters
    ----------
    path : str or path-like
        File to write.
    datasets : mapping of str to sidpy.Dataset
        Main dataset names and datasets; each is written as
        ``/<group>/Channel_<k>/<name>/<name>``.
    group : str
        Name of the measurement group.
    mode : {'w', 'a'}
        ``'w'`` replaces the file, ``'a'`` adds channels to an existing one.

    Returns
    -------
    dict of str to str
        The HDF5 path of each written main dataset.
    """
    from pyNSID.io.hdf_io import write_nsid_dataset

    if mode not in ("w", "a"):
        raise ValueError(f"mode must be 'w' or 'a', got {mode!r}")
    written: dict[str, str] = {}
    with h5py.File(path, mode) as handle:
        measurement = handle.require_group(group)
        start = len(measurement)
        for offset, (name, dataset) in enumerate(datasets.items()):
            channel = measurement.create_group(f"Channel_{start + offset:03d}")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                main = write_nsid_dataset(dataset, channel, main_data_name=name)
            written[name] = main.name
    log.info("wrote %d dataset(s) to %s", len(written), path)
    return written
