"""Square image patches around candidate points, extracted without pixel loops.

A patch of size ``P`` around pixel ``(r, c)`` covers rows ``r - P // 2`` to
``r - P // 2 + P - 1`` (and the same for columns): centred for odd ``P``, one
pixel more before the centre than after it for even ``P``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pycroscopy_curiosity.errors import DataError, ParameterError

log = logging.getLogger(__name__)

BORDERS = ("valid", "reflect")

__all__ = ["BORDERS", "CandidateGrid", "extract_patches", "patch_fits"]


def _check_patch(image_shape: tuple[int, int], patch: int) -> None:
    if isinstance(patch, bool) or not isinstance(patch, int | np.integer):
        raise ParameterError(f"patch size must be an integer, got {patch!r}")
    if patch < 1:
        raise ParameterError(f"patch size must be at least 1, got {patch}")
    if patch > min(image_shape):
        raise DataError(
            f"patch size {patch} is larger than the structure image "
            f"({image_shape[0]} x {image_shape[1]} pixels)"
        )


def _check_border(border: str) -> None:
    if border not in BORDERS:
        raise ParameterError(
            f"border must be one of {', '.join(BORDERS)}; got {border!r}"
        )


def patch_fits(
    pixels: np.ndarray, image_shape: tuple[int, int], patch: int
) -> np.ndarray:
    """Whether the patch around each pixel lies inside the image.

    Parameters
    ----------
    pixels : numpy.ndarray
        ``n x 2`` integer ``(row, col)`` centres.
    image_shape : tuple of int
        ``(H, W)``.
    patch : int
        Patch size ``P``.

    Returns
    -------
    numpy.ndarray
        Boolean, shape ``(n,)``.
    """
    pixels = np.asarray(pixels)
    start = pixels - patch // 2
    stop = start + patch
    shape = np.asarray(image_shape)
    return np.all((start >= 0) & (stop <= shape), axis=-1)


def _windows(image: np.ndarray, patch: int, border: str) -> tuple[np.ndarray, int]:
    """Sliding-window view of the (padded) image and the offset of centres."""
    half = patch // 2
    if border == "reflect":
        padded = np.pad(image, ((half, patch - 1 - half),) * 2, mode="reflect")
        return sliding_window_view(padded, (patch, patch)), 0
    return sliding_window_view(image, (patch, patch)), half


def extract_patches(
    image: np.ndarray, pixels: np.ndarray, patch: int, border: str = "valid"
) -> np.ndarray:
    """Extract square patches around pixels.

    Parameters
    ----------
    image : numpy.ndarray
        ``H x W`` structure image.
    pixels : numpy.ndarray
        ``n x 2`` integer ``(row, col)`` centres.
    patch : int
        Patch size ``P`` (odd or even).
    border : {'valid', 'reflect'}
        ``'valid'`` requires each patch to lie inside the image;
        ``'reflect'`` pads the image by reflection at its edges.

    Returns
    -------
    numpy.ndarray
        ``n x P x P`` float32 patches (a copy).

    Raises
    ------
    DataError
        When the patch is larger than the image, or with ``'valid'`` when a
        patch crosses the image border.
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise DataError(f"structure image must be 2-D, got shape {image.shape}")
    _check_patch(image.shape, patch)
    _check_border(border)
    pixels = np.asarray(pixels, dtype=np.intp).reshape(-1, 2)
    inside = np.all((pixels >= 0) & (pixels < np.asarray(image.shape)), axis=1)
    if not inside.all():
        bad = pixels[~inside][0]
        raise DataError(
            f"pixel ({bad[0]}, {bad[1]}) lies outside the "
            f"{image.shape[0]} x {image.shape[1]} structure image"
        )
    if border == "valid":
        fits = patch_fits(pixels, image.shape, patch)
        if not fits.all():
            bad = pixels[~fits][0]
            raise DataError(
                f"the {patch} x {patch} patch around pixel ({bad[0]}, {bad[1]}) "
                f"crosses the border of the {image.shape[0]} x {image.shape[1]} "
                "image; use border='reflect' or drop such points"
            )
    windows, offset = _windows(image, patch, border)
    corner = pixels - offset
    return np.asarray(windows[corner[:, 0], corner[:, 1]], dtype=np.float32)


@dataclass(frozen=True)
class CandidateGrid:
    """The spectral-grid points a strategy may choose, and their patches.

    Candidates are numbered ``0 .. n - 1`` in row-major order of the grid.

    Attributes
    ----------
    image : numpy.ndarray
        ``H x W`` structure image the patches come from.
    patch : int
        Patch size ``P``.
    border : str
        ``'valid'`` or ``'reflect'``.
    grid_shape : tuple of int
        ``(ny, nx)`` of the spectral grid.
    grid_index : numpy.ndarray
        ``n x 2`` ``(iy, ix)`` grid position of each candidate.
    pixels : numpy.ndarray
        ``n x 2`` ``(row, col)`` image pixel of each candidate.
    """

    image: np.ndarray
    patch: int
    border: str
    grid_shape: tuple[int, int]
    grid_index: np.ndarray
    pixels: np.ndarray

    def __len__(self) -> int:
        return len(self.grid_index)

    @property
    def flat_index(self) -> np.ndarray:
        """Row-major index of each candidate on the spectral grid, ``(n,)``."""
        return np.ravel_multi_index(tuple(self.grid_index.T), self.grid_shape)

    @property
    def block_shape(self) -> tuple[int, int] | None:
        """``(rows, cols)`` when the candidates fill a rectangle of the grid."""
        if len(self) == 0:
            return None
        lo, hi = self.grid_index.min(0), self.grid_index.max(0)
        rows, cols = (hi - lo + 1).tolist()
        return (rows, cols) if rows * cols == len(self) else None

    def patches(self, index: np.ndarray | slice | None = None) -> np.ndarray:
        """Patches of the candidates ``index`` (all when ``None``), ``n x P x P``."""
        pixels = self.pixels if index is None else self.pixels[index]
        return extract_patches(self.image, pixels, self.patch, self.border)

    def iter_batches(
        self, batch_size: int = 4096
    ) -> Iterator[tuple[slice, np.ndarray]]:
        """Yield ``(slice, patches)`` batches, never holding all patches at once."""
        if batch_size < 1:
            raise ParameterError(f"batch_size must be at least 1, got {batch_size}")
        for start in range(0, len(self), batch_size):
            part = slice(start, min(start + batch_size, len(self)))
            yield part, self.patches(part)

    def to_dask(self, chunk: int = 4096):
        """All patches as a lazy dask array, ``n x P x P``, chunked along ``n``.

        Each chunk is extracted only when computed, so an image of 2048 x 2048
        with 65,536 candidates never needs all patches in memory at once.
        """
        import dask.array as da

        if chunk < 1:
            raise ParameterError(f"chunk must be at least 1, got {chunk}")
        index = da.arange(len(self), chunks=chunk)
        return index.map_blocks(
            lambda block: self.patches(np.asarray(block)),
            new_axis=[1, 2],
            chunks=(index.chunks[0], (self.patch,), (self.patch,)),
            dtype=np.float32,
            meta=np.empty((0, self.patch, self.patch), np.float32),
        )

    def to_grid(self, values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """Place per-candidate values on the spectral grid.

        Parameters
        ----------
        values : numpy.ndarray
            Shape ``(n, ...)``.
        fill : float
            Value at grid points that are not candidates.

        Returns
        -------
        numpy.ndarray
            Shape ``(ny, nx, ...)``.
        """
        values = np.asarray(values)
        if values.shape[:1] != (len(self),):
            raise DataError(
                f"expected one value per candidate ({len(self)}), got an array "
                f"of shape {values.shape}"
            )
        dtype = np.result_type(values.dtype, np.float32)
        out = np.full(self.grid_shape + values.shape[1:], fill, dtype=dtype)
        out[self.grid_index[:, 0], self.grid_index[:, 1]] = values
        return out

    def from_grid(self, grid_values: np.ndarray) -> np.ndarray:
        """Read per-candidate values from an ``(ny, nx, ...)`` grid array."""
        grid_values = np.asarray(grid_values)
        if grid_values.shape[:2] != self.grid_shape:
            raise DataError(
                f"expected an array on the {self.grid_shape} grid, got shape "
                f"{grid_values.shape}"
            )
        return grid_values[self.grid_index[:, 0], self.grid_index[:, 1]]
