"""The interface every microscope backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from pycroscopy_curiosity.errors import CuriosityError

__all__ = ["Measurement", "Microscope", "MicroscopeError"]


class MicroscopeError(CuriosityError, RuntimeError):
    """An instrument (or its stand-in) could not measure what was asked.

    The message names the backend and, where one is at fault, the point.
    """


@dataclass(frozen=True)
class Measurement:
    """Spectra measured at a list of points.

    Attributes
    ----------
    spectra : numpy.ndarray
        ``n x L`` float64 spectra in physical units, in the order asked.
    axis : numpy.ndarray
        ``(L,)`` spectral-axis values in acquisition order.
    axis_name, axis_units, quantity, units : str
        What the axis and the spectra are.
    seconds : float
        Wall time the measurement took.
    """

    spectra: np.ndarray
    axis: np.ndarray
    axis_name: str = ""
    axis_units: str = ""
    quantity: str = ""
    units: str = ""
    seconds: float = 0.0


def check_points(
    backend: str, grid_index: np.ndarray, coordinates: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``n x 2`` integer grid indices and, when given, ``n x 2`` coordinates."""
    index = np.asarray(grid_index)
    if index.ndim != 2 or index.shape[1] != 2 or len(index) == 0:
        raise MicroscopeError(
            f"{backend}: points must be a non-empty n x 2 array of grid (row, col) "
            f"indices; got shape {index.shape}"
        )
    if not np.issubdtype(index.dtype, np.integer):
        if not np.all(np.mod(index, 1) == 0):
            raise MicroscopeError(f"{backend}: grid indices must be integers")
        index = index.astype(np.int64)
    if coordinates is not None:
        coordinates = np.asarray(coordinates, dtype=np.float64)
        if coordinates.shape != index.shape:
            raise MicroscopeError(
                f"{backend}: {len(index)} points but coordinates of shape "
                f"{coordinates.shape}"
            )
    return index.astype(np.int64), coordinates


class Microscope(ABC):
    """Measures spectra at points; optionally acquires the structure image.

    Backends are context managers: ``with backend: ...`` closes them.
    """

    #: Short name used in messages, logs and sessions.
    name = "microscope"

    @abstractmethod
    def measure(
        self, grid_index: np.ndarray, coordinates: np.ndarray | None = None
    ) -> Measurement:
        """Measure the points; return their spectra in the order given.

        Parameters
        ----------
        grid_index : numpy.ndarray
            ``n x 2`` integer ``(row, col)`` positions on the spectral grid.
        coordinates : numpy.ndarray, optional
            ``n x 2`` physical ``(y, x)`` of the same points.

        Raises
        ------
        MicroscopeError
            Naming the backend and the point that could not be measured.
        """

    def measure_as(
        self,
        request_id: str,
        grid_index: np.ndarray,
        coordinates: np.ndarray | None = None,
    ) -> Measurement:
        """:meth:`measure` under a request id.

        Backends that can be asked twice for the same request (a remote
        server after a lost reply) answer a repeated id from their record
        instead of measuring again; the default simply measures.
        """
        return self.measure(grid_index, coordinates)

    def acquire_image(self):
        """The structure image as a sidpy Dataset, when the backend can."""
        raise MicroscopeError(f"{self.name} cannot acquire a structure image")

    def capabilities(self) -> dict:
        """What the backend can do, as plain values."""
        return {"name": self.name, "image": False}

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release the instrument; the default has nothing to release."""

    def __enter__(self) -> Microscope:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
