"""The data an exploration works on: a structure image and spectra on a grid.

:class:`ExplorationData` is built from an NSID-HDF5 file
(:func:`load_exploration_data`) or from sidpy Datasets in memory
(:meth:`ExplorationData.from_sidpy`). It holds everything the learners need
and everything needed to report their results in physical units.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field

import numpy as np

from pycroscopy_curiosity.data.axes import Axis, dimension_axis, spatial_layout
from pycroscopy_curiosity.data.image import (
    StructureImage,
    grid_axis_to_pixels,
    load_structure_image,
)
from pycroscopy_curiosity.data.normalization import (
    Normalization,
    parse_range,
    range_indices,
)
from pycroscopy_curiosity.data.nsid import list_datasets, read_dataset
from pycroscopy_curiosity.data.patches import (
    CandidateGrid,
    _check_border,
    _check_patch,
    patch_fits,
)
from pycroscopy_curiosity.errors import DataError, ParameterError

log = logging.getLogger(__name__)

__all__ = [
    "DataSource",
    "ExplorationData",
    "Normalization",
    "StructureImage",
    "load_exploration_data",
    "load_structure_image",
    "parse_range",
]

REDUCTIONS = ("mean", "median", "std", "min", "max", "ptp")
NONFINITE = ("raise", "mask")


@dataclass(frozen=True)
class DataSource:
    """Where the data came from, for provenance."""

    file: str | None
    spectral_dataset: str
    image_dataset: str | None
    image_file: str | None
    image_source: str
    spectral_range: tuple[int, int]

    def as_dict(self) -> dict[str, str | int]:
        """Flat dict with no ``None`` values, safe for NSID metadata."""
        out: dict[str, str | int] = {}
        for key, value in asdict(self).items():
            if key == "spectral_range":
                out["spectral_start"], out["spectral_stop"] = value
            elif value is not None:
                out[key] = value
        return out


def _finite_or_mask(
    values: np.ndarray, policy: str, what: str, axis: tuple[int, ...] | None
) -> np.ndarray | None:
    """Return a validity mask, or raise on non-finite values."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return None
    if axis is not None:
        bad = bad.any(axis=axis)
    where = np.argwhere(bad)
    first = ", ".join(str(tuple(int(i) for i in p)) for p in where[:5])
    if policy == "raise":
        raise DataError(
            f"{what} holds NaN or inf at {len(where)} position(s), first at "
            f"{first}; pass nonfinite='mask' (--nonfinite mask) to leave those "
            "points out"
        )
    log.warning(
        "%s: %d non-finite position(s) masked, first at %s", what, len(where), first
    )
    return ~bad


@dataclass(frozen=True, eq=False)
class ExplorationData:
    """Structure image, spectra on their grid, and how the two relate.

    Arrays are normalised (see :attr:`image_norm` and :attr:`spectra_norm`)
    and in numpy order: rows along ``y``, columns along ``x``.

    Attributes
    ----------
    image : numpy.ndarray
        ``H x W`` float32 structure image.
    spectra : numpy.ndarray
        ``ny x nx x L`` float32 spectra on the spectral grid.
    spectral_axis : Axis
        The ``L`` spectral coordinates (after the spectral range).
    grid_y, grid_x : Axis
        Physical coordinates of the spectral grid.
    image_y, image_x : Axis
        Physical coordinates of the image pixels.
    grid_to_pixel : numpy.ndarray
        ``ny x nx x 2`` integer ``(row, col)`` image pixel of each grid point.
    valid : numpy.ndarray
        ``ny x nx`` bool, ``False`` at grid points masked for non-finite
        spectra.
    image_valid : numpy.ndarray
        ``H x W`` bool, ``False`` at masked non-finite image pixels.
    image_norm, spectra_norm : Normalization
        What was applied; use :meth:`physical_spectra` to undo it.
    image_quantity, image_units, spectra_quantity, spectra_units : str
        What the image and spectra measure.
    source : DataSource
        File and dataset paths, for provenance.
    """

    image: np.ndarray
    spectra: np.ndarray
    spectral_axis: Axis
    grid_y: Axis
    grid_x: Axis
    image_y: Axis
    image_x: Axis
    grid_to_pixel: np.ndarray
    valid: np.ndarray
    image_valid: np.ndarray
    image_norm: Normalization
    spectra_norm: Normalization
    image_quantity: str
    image_units: str
    spectra_quantity: str
    spectra_units: str
    source: DataSource
    _candidates: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def grid_shape(self) -> tuple[int, int]:
        """``(ny, nx)`` of the spectral grid."""
        return self.spectra.shape[:2]

    @property
    def image_shape(self) -> tuple[int, int]:
        """``(H, W)`` of the structure image."""
        return self.image.shape

    @property
    def n_spec(self) -> int:
        """Number of points ``L`` of each spectrum."""
        return self.spectra.shape[2]

    def candidates(self, patch: int, border: str = "valid") -> CandidateGrid:
        """The grid points whose patch can be used, with their patches.

        With ``border='valid'`` only points whose ``P x P`` patch lies inside
        the image are candidates; with ``'reflect'`` every grid point is.
        Points masked for non-finite spectra, and points whose patch touches
        a masked image pixel, are left out.
        """
        _check_border(border)
        _check_patch(self.image_shape, patch)
        key = (int(patch), border)
        if key not in self._candidates:
            self._candidates[key] = self._make_candidates(int(patch), border)
        return self._candidates[key]

    def _make_candidates(self, patch: int, border: str) -> CandidateGrid:
        pixels = self.grid_to_pixel.reshape(-1, 2)
        keep = self.valid.reshape(-1).copy()
        if border == "valid":
            keep &= patch_fits(pixels, self.image_shape, patch)
        if not self.image_valid.all():
            from pycroscopy_curiosity.data.patches import extract_patches

            bad = (~self.image_valid).astype(np.float32)
            touched = extract_patches(bad, pixels, patch, "reflect").max(axis=(1, 2))
            keep &= touched == 0
        flat = np.flatnonzero(keep)
        if flat.size == 0:
            raise DataError(
                f"no grid point has a usable {patch} x {patch} patch in the "
                f"{self.image_shape[0]} x {self.image_shape[1]} image with "
                f"border={border!r}"
            )
        grid_index = np.stack(np.unravel_index(flat, self.grid_shape), axis=1)
        return CandidateGrid(
            image=self.image,
            patch=patch,
            border=border,
            grid_shape=self.grid_shape,
            grid_index=grid_index,
            pixels=pixels[flat],
        )

    def physical_spectra(self, values: np.ndarray) -> np.ndarray:
        """Undo the spectra normalisation (for predictions or measurements)."""
        return self.spectra_norm.invert(values)

    def grid_coordinates(self, grid_index: np.ndarray) -> np.ndarray:
        """Physical ``(y, x)`` of grid positions, ``n x 2``, in grid units."""
        grid_index = np.asarray(grid_index).reshape(-1, 2)
        return np.stack(
            [
                self.grid_y.values[grid_index[:, 0]],
                self.grid_x.values[grid_index[:, 1]],
            ],
            axis=1,
        )

    def summary(self) -> str:
        """A few lines saying what the data object holds."""
        ny, nx = self.grid_shape
        h, w = self.image_shape
        s = self.spectral_axis
        return (
            f"structure image: {h} x {w} {self.image_quantity or '-'} "
            f"[{self.image_units or '-'}] from {self.source.image_source}\n"
            f"spectra: {ny} x {nx} grid, {self.n_spec} points along {s.name} "
            f"({s.quantity or '-'} [{s.units or '-'}], indices "
            f"{self.source.spectral_range[0]}:{self.source.spectral_range[1]}), "
            f"{self.spectra_quantity or '-'} [{self.spectra_units or '-'}]\n"
            f"masked grid points: {int((~self.valid).sum())}"
        )

    @classmethod
    def from_sidpy(
        cls,
        spectral,
        image: StructureImage | object | None = None,
        *,
        image_index: int | None = None,
        image_reduce: str | None = None,
        image_range: str | slice | None = None,
        spectral_range: str | slice | None = None,
        nonfinite: str = "raise",
        image_normalization: str = "minmax",
        spectra_normalization: str = "standard",
        label: str | None = None,
        source_file: str | None = None,
        source_path: str | None = None,
    ) -> ExplorationData:
        """Build from a sidpy spectral image and, optionally, a structure image.

        Parameters
        ----------
        spectral : sidpy.Dataset
            3-D spectral image (two spatial dimensions and one spectral).
        image : StructureImage or sidpy.Dataset, optional
            A separate structure image; its grid may differ from the spectral
            grid, and each grid point is placed on its nearest image pixel
            through the physical axes. When omitted, the image is a reduction
            of the spectral data (``image_index`` or ``image_reduce``).
        image_index : int, optional
            Spectral index (of the full spectral axis) to use as the image.
        image_reduce : {'mean', 'median', 'std', 'min', 'max', 'ptp'}, optional
            Reduce the spectra over ``image_range`` (all by default).
        image_range, spectral_range : str or slice, optional
            ``'A:B'`` spectral index ranges, B excluded.
        nonfinite : {'raise', 'mask'}
            What to do about NaN or inf values.
        image_normalization, spectra_normalization : str
            ``'standard'``, ``'minmax'`` or ``'none'``.
        label : str, optional
            How to name the spectral dataset in messages.
        source_file, source_path : str, optional
            Provenance of the spectral dataset.
        """
        if nonfinite not in NONFINITE:
            raise ParameterError(
                f"nonfinite must be 'raise' or 'mask', got {nonfinite!r}"
            )
        label = label or f"spectral dataset {spectral.title!r}"
        iy, ix, (ispec,) = spatial_layout(spectral, 3, label)
        raw = np.asarray(spectral, dtype=np.float32).transpose(iy, ix, ispec)
        raw = np.ascontiguousarray(raw)
        full_axis = dimension_axis(spectral, ispec)
        spec_idx = range_indices(
            parse_range(spectral_range), raw.shape[2], "spectral range"
        )
        grid_y, grid_x = dimension_axis(spectral, iy), dimension_axis(spectral, ix)

        struct, image_source = cls._structure(
            raw,
            image,
            image_index,
            image_reduce,
            image_range,
            (grid_y, grid_x),
            (str(spectral.quantity or ""), str(spectral.units or "")),
            label,
        )
        if struct.values.ndim != 2 or min(struct.values.shape) < 1:
            raise DataError(f"{struct.label} is not a 2-D image")

        spectra = raw[:, :, spec_idx]
        valid = _finite_or_mask(spectra, nonfinite, label, axis=(2,))
        valid = np.ones(spectra.shape[:2], bool) if valid is None else valid
        image_valid = _finite_or_mask(struct.values, nonfinite, struct.label, axis=None)
        image_valid = (
            np.ones(struct.values.shape, bool) if image_valid is None else image_valid
        )

        cols = grid_axis_to_pixels(grid_x, struct.x, "x", f"{label} vs {struct.label}")
        rows = grid_axis_to_pixels(grid_y, struct.y, "y", f"{label} vs {struct.label}")
        grid_to_pixel = np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1)

        spectra_norm = Normalization.fit(spectra[valid], spectra_normalization)
        image_norm = Normalization.fit(struct.values[image_valid], image_normalization)
        spectra = np.where(valid[..., None], spectra_norm.apply(spectra), 0.0)
        fill = np.float32(struct.values[image_valid].mean()) if image_valid.any() else 0
        image = image_norm.apply(np.where(image_valid, struct.values, fill))

        source = DataSource(
            file=source_file,
            spectral_dataset=source_path or str(spectral.title),
            image_dataset=struct.path,
            image_file=struct.file if struct.file != source_file else None,
            image_source=image_source,
            spectral_range=(int(spec_idx[0]), int(spec_idx[-1]) + 1),
        )
        return cls(
            image=image.astype(np.float32),
            spectra=spectra.astype(np.float32),
            spectral_axis=Axis(
                full_axis.values[spec_idx],
                full_axis.name,
                full_axis.quantity,
                full_axis.units,
            ),
            grid_y=grid_y,
            grid_x=grid_x,
            image_y=struct.y,
            image_x=struct.x,
            grid_to_pixel=grid_to_pixel.astype(np.intp),
            valid=valid,
            image_valid=image_valid,
            image_norm=image_norm,
            spectra_norm=spectra_norm,
            image_quantity=struct.quantity,
            image_units=struct.units,
            spectra_quantity=str(spectral.quantity or ""),
            spectra_units=str(spectral.units or ""),
            source=source,
        )

    @staticmethod
    def _structure(
        raw: np.ndarray,
        image,
        image_index: int | None,
        image_reduce: str | None,
        image_range,
        grid_axes: tuple[Axis, Axis],
        meaning: tuple[str, str],
        label: str,
    ) -> tuple[StructureImage, str]:
        """The structure image and a description of where it came from."""
        chosen = [
            name
            for name, value in (
                ("a separate image", image),
                ("image_index", image_index),
                ("image_reduce", image_reduce),
            )
            if value is not None
        ]
        if len(chosen) > 1:
            raise ParameterError(
                f"choose one structure image source, got {' and '.join(chosen)}"
            )
        if image is not None:
            if not isinstance(image, StructureImage):
                image = StructureImage.from_sidpy(image)
            return image, f"dataset {image.path or image.label}"
        if image_index is None and image_reduce is None:
            raise ParameterError(
                "no structure image: give a separate IMAGE dataset "
                "(image_dataset / --image-dataset) or a reduction of the spectra "
                "(image_index / --image-index K, image_reduce / --image-reduce mean)"
            )
        length = raw.shape[2]
        if image_index is not None:
            if not -length <= int(image_index) < length:
                raise DataError(
                    f"image index {image_index} lies outside the spectral axis "
                    f"of length {length} of {label}"
                )
            values = raw[:, :, int(image_index)]
            how = f"spectral index {int(image_index)} of {label}"
        else:
            if image_reduce not in REDUCTIONS:
                raise ParameterError(
                    f"image_reduce must be one of {', '.join(REDUCTIONS)}; "
                    f"got {image_reduce!r}"
                )
            idx = range_indices(parse_range(image_range), length, "image range")
            values = getattr(np, image_reduce)(raw[:, :, idx], axis=2)
            how = (
                f"{image_reduce} over spectral indices {idx[0]}:{idx[-1] + 1} "
                f"of {label}"
            )
        struct = StructureImage(
            values=np.asarray(values, dtype=np.float32),
            y=grid_axes[0],
            x=grid_axes[1],
            quantity=meaning[0],
            units=meaning[1],
            label=how,
        )
        return struct, how


def _choose_spectral(path: str, dataset: str | None) -> str:
    infos = list_datasets(path)
    if dataset is not None:
        return dataset
    spectral = [i for i in infos if i.data_type == "SPECTRAL_IMAGE"]
    if len(spectral) == 1:
        log.info("using the only SPECTRAL_IMAGE of %s: %s", path, spectral[0].path)
        return spectral[0].path
    if not spectral:
        held = ", ".join(f"{i.path} ({i.data_type}, {i.shape})" for i in infos)
        raise DataError(
            f"{path!r} holds no SPECTRAL_IMAGE dataset (it holds: {held}); name a "
            "3-D dataset with dataset= / --dataset"
        )
    paths = ", ".join(i.path for i in spectral)
    raise DataError(
        f"{path!r} holds {len(spectral)} SPECTRAL_IMAGE datasets ({paths}); "
        "choose one with dataset= / --dataset"
    )


def load_exploration_data(
    path: str | os.PathLike,
    *,
    dataset: str | None = None,
    image_dataset: str | None = None,
    image_file: str | os.PathLike | None = None,
    **options,
) -> ExplorationData:
    """Read an NSID-HDF5 file into an :class:`ExplorationData`.

    Parameters
    ----------
    path : str or path-like
        NSID-HDF5 file holding the spectral image.
    dataset : str, optional
        HDF5 path of the spectral dataset; needed only when the file holds
        more than one SPECTRAL_IMAGE.
    image_dataset : str, optional
        HDF5 path of a separate IMAGE dataset to use as the structure image.
    image_file : str or path-like, optional
        File holding ``image_dataset`` when it is not ``path``.
    **options
        Passed to :meth:`ExplorationData.from_sidpy` (``image_index``,
        ``image_reduce``, ``spectral_range``, ``nonfinite``...).

    Examples
    --------
    >>> data = load_exploration_data(  # doctest: +SKIP
    ...     "pto_sspfm_49x49.h5", image_index=25, spectral_range="49:99"
    ... )
    >>> len(data.candidates(patch=9, border="valid"))  # doctest: +SKIP
    1681
    """
    path = str(path)
    spectral_path = _choose_spectral(path, dataset)
    spectral = read_dataset(path, spectral_path)
    label = f"{spectral_path!r} in {path!r}"
    image = None
    if image_dataset is not None:
        image = load_structure_image(image_file or path, image_dataset)
    elif image_file is not None:
        raise ParameterError("image_file needs image_dataset (--image-dataset)")
    data = ExplorationData.from_sidpy(
        spectral,
        image,
        label=label,
        source_file=path,
        source_path=spectral_path,
        **options,
    )
    log.info("loaded %s", label)
    return data
