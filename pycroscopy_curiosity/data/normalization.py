"""Spectral index ranges and the affine normalisation of images and spectra."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pycroscopy_curiosity.errors import DataError, ParameterError

__all__ = ["NORMALIZATIONS", "Normalization", "parse_range", "range_indices"]

NORMALIZATIONS = ("standard", "minmax", "none")


def parse_range(text: str | tuple[int, int] | slice | None) -> slice | None:
    """Parse ``'A:B'`` (Python slice semantics, B excluded) into a slice.

    ``'49:99'`` selects indices 49 to 98; either end may be left out.
    """
    if text is None or isinstance(text, slice):
        return text
    if isinstance(text, tuple):
        return slice(*text)
    parts = str(text).split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        start, stop = (int(p) if p.strip() else None for p in parts)
    except ValueError:
        raise ParameterError(
            f"a range must look like 'A:B' with integers (B excluded), got {text!r}"
        ) from None
    return slice(start, stop)


def range_indices(rng: slice | None, length: int, what: str) -> np.ndarray:
    if rng is None:
        return np.arange(length)
    if rng.step not in (None, 1):
        raise ParameterError(f"{what} must be contiguous, got step {rng.step}")
    for end in (rng.start, rng.stop):
        if end is not None and not -length <= end <= length:
            raise DataError(
                f"{what} {rng.start}:{rng.stop} lies outside the spectral axis "
                f"of length {length}"
            )
    idx = np.arange(length)[rng]
    if idx.size == 0:
        raise DataError(
            f"{what} {rng.start}:{rng.stop} selects no point of the spectral "
            f"axis of length {length}"
        )
    return idx


@dataclass(frozen=True)
class Normalization:
    """An affine normalisation ``normalised = (value - offset) / scale``.

    Attributes
    ----------
    method : {'standard', 'minmax', 'none'}
        ``'standard'``: zero mean and unit standard deviation; ``'minmax'``:
        the range mapped to [0, 1]; ``'none'``: values unchanged.
    offset, scale : float
        The constants applied.
    """

    method: str
    offset: float = 0.0
    scale: float = 1.0

    @classmethod
    def fit(cls, values: np.ndarray, method: str) -> Normalization:
        """Fit to the finite entries of ``values``."""
        if method not in NORMALIZATIONS:
            raise ParameterError(
                f"normalisation must be one of {', '.join(NORMALIZATIONS)}; "
                f"got {method!r}"
            )
        finite = np.asarray(values, dtype=np.float64)
        finite = finite[np.isfinite(finite)]
        if method == "none" or finite.size == 0:
            return cls("none")
        if method == "standard":
            offset, scale = float(finite.mean()), float(finite.std())
        else:
            offset, scale = float(finite.min()), float(np.ptp(finite))
        return cls(method, offset, scale if scale > 0 else 1.0)

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Normalise physical values (float32 result)."""
        return ((np.asarray(values) - self.offset) / self.scale).astype(np.float32)

    def invert(self, values: np.ndarray) -> np.ndarray:
        """Return normalised values in physical units."""
        return np.asarray(values) * self.scale + self.offset

    def invert_difference(self, values: np.ndarray) -> np.ndarray:
        """Return normalised differences (errors) in physical units."""
        return np.asarray(values) * self.scale
