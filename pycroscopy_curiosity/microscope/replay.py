"""Replay: serve spectra from a pre-acquired dataset as if measured now."""

from __future__ import annotations

import logging
import time

import numpy as np

from pycroscopy_curiosity.data.exploration import ExplorationData
from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.microscope.base import (
    Measurement,
    Microscope,
    MicroscopeError,
    check_points,
)

log = logging.getLogger(__name__)

__all__ = ["ReplayMicroscope"]


class ReplayMicroscope(Microscope):
    """The offline twin of an instrument, for demos, benchmarks and tests.

    Parameters
    ----------
    data : ExplorationData
        The pre-acquired spectra (and structure image).
    delay : float
        Seconds to wait per measured point, to mimic the instrument.
    noise : float
        Standard deviation of Gaussian noise added to every spectrum, in the
        spectra's physical units.
    seed : int
        Seeds the noise.
    """

    name = "replay"

    def __init__(
        self, data: ExplorationData, delay: float = 0.0, noise: float = 0.0, seed=0
    ) -> None:
        if delay < 0 or noise < 0:
            raise ParameterError(
                f"replay delay and noise must be >= 0, got {delay} and {noise}"
            )
        self.data = data
        self.delay = float(delay)
        self.noise = float(noise)
        self.rng = np.random.default_rng(seed)
        self.measured = 0
        self._physical = data.physical_spectra(data.spectra)

    @classmethod
    def from_file(cls, path, data_options: dict | None = None, **kwargs):
        """Replay an NSID-HDF5 file (``data_options`` as for
        :func:`~pycroscopy_curiosity.data.exploration.load_exploration_data`)."""
        from pycroscopy_curiosity.data.exploration import load_exploration_data

        return cls(load_exploration_data(path, **(data_options or {})), **kwargs)

    def measure(
        self, grid_index: np.ndarray, coordinates: np.ndarray | None = None
    ) -> Measurement:
        """Spectra of the points, read from the data (plus noise, after the
        delay)."""
        start = time.perf_counter()
        index, _ = check_points(self.name, grid_index, coordinates)
        ny, nx = self.data.grid_shape
        where = self.data.source.spectral_dataset or "the data"
        inside = (index >= 0).all(1) & (index[:, 0] < ny) & (index[:, 1] < nx)
        if not inside.all():
            row, col = index[np.argmin(inside)]
            raise MicroscopeError(
                f"{self.name}: point (row {row}, col {col}) is outside the "
                f"{ny} x {nx} grid of {where}"
            )
        finite = self.data.valid[index[:, 0], index[:, 1]]
        if not finite.all():
            row, col = index[np.argmin(finite)]
            raise MicroscopeError(
                f"{self.name}: point (row {row}, col {col}) has no finite spectrum "
                f"in {where}"
            )
        if self.delay:
            time.sleep(self.delay * len(index))
        spectra = self._physical[index[:, 0], index[:, 1]].astype(np.float64)
        if self.noise:
            spectra = spectra + self.rng.normal(0.0, self.noise, spectra.shape)
        self.measured += len(index)
        axis = self.data.spectral_axis
        return Measurement(
            spectra=spectra,
            axis=np.asarray(axis.values, dtype=np.float64),
            axis_name=axis.name,
            axis_units=axis.units,
            quantity=self.data.spectra_quantity,
            units=self.data.spectra_units,
            seconds=time.perf_counter() - start,
        )

    def capabilities(self) -> dict:
        """Grid shape, spectrum length, delay and noise."""
        ny, nx = self.data.grid_shape
        return {
            "name": self.name,
            "image": False,
            "grid": [int(ny), int(nx)],
            "n_spec": int(self.data.n_spec),
            "delay": self.delay,
            "noise": self.noise,
        }
