import time

import numpy as np
import pytest

from pycroscopy_curiosity.data.exploration import ExplorationData
from pycroscopy_curiosity.data.synthetic import make_synthetic_sample
from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.explorer import CuriosityExplorer
from pycroscopy_curiosity.microscope import (
    Measurement,
    Microscope,
    MicroscopeError,
    ReplayMicroscope,
)


@pytest.fixture(scope="module")
def sample():
    return make_synthetic_sample(
        grid_shape=(10, 12), image_shape=(40, 48), n_bias=16, seed=3
    )


@pytest.fixture(scope="module")
def data(sample):
    return ExplorationData.from_sidpy(sample.spectra, sample.image)


def test_replay_returns_the_source_spectra_in_physical_units(sample, data):
    scope = ReplayMicroscope(data)
    points = np.array([[0, 0], [9, 11], [4, 7]])
    m = scope.measure(points, data.grid_coordinates(points))
    assert isinstance(m, Measurement) and m.spectra.shape == (3, 16)
    source = np.asarray(sample.spectra).transpose(1, 0, 2)  # NSID x, y -> y, x
    np.testing.assert_allclose(m.spectra, source[points[:, 0], points[:, 1]], atol=1e-5)
    np.testing.assert_allclose(m.axis, data.spectral_axis.values)
    assert m.axis_units == data.spectral_axis.units and scope.measured == 3
    assert scope.capabilities()["grid"] == [10, 12]


def test_replay_noise_is_seeded_and_delay_is_kept(data):
    points = np.array([[1, 1], [2, 2]])
    clean = ReplayMicroscope(data).measure(points).spectra
    a = ReplayMicroscope(data, noise=0.1, seed=1).measure(points).spectra
    b = ReplayMicroscope(data, noise=0.1, seed=1).measure(points).spectra
    np.testing.assert_array_equal(a, b)
    assert 0.05 < np.std(a - clean) < 0.15
    start = time.perf_counter()
    ReplayMicroscope(data, delay=0.05).measure(points)
    assert time.perf_counter() - start >= 0.1


def test_replay_errors_name_the_point_and_backend(data):
    scope = ReplayMicroscope(data)
    with pytest.raises(
        MicroscopeError,
        match=r"replay: point \(row 10, col 0\) is "
        r"outside the 10 x 12 grid",
    ):
        scope.measure(np.array([[10, 0]]))
    with pytest.raises(MicroscopeError, match="n x 2 array of grid"):
        scope.measure(np.array([1, 2, 3]))
    with pytest.raises(MicroscopeError, match="2 points but coordinates of shape"):
        scope.measure(np.array([[1, 1], [2, 2]]), np.zeros((3, 2)))
    with pytest.raises(ParameterError, match="delay and noise must be >= 0"):
        ReplayMicroscope(data, delay=-1)
    with pytest.raises(MicroscopeError, match="cannot acquire a structure image"):
        scope.acquire_image()


def test_explorer_drives_a_microscope_backend(data):
    class Counting(ReplayMicroscope):
        calls: list = []

        def measure(self, grid_index, coordinates=None):
            self.calls.append((np.array(grid_index), np.array(coordinates)))
            return super().measure(grid_index, coordinates)

    scope = Counting(data)
    fast = dict(
        channels=4,
        hidden=16,
        ensemble_epochs=3,
        update_epochs=1,
        error_epochs=3,
        best_window=2,
    )
    with scope:
        explorer = CuriosityExplorer(
            data, measure=scope, patch=8, init=6, budget=10, batch=2, seed=0, **fast
        ).run()
    replayed = CuriosityExplorer(
        data, patch=8, init=6, budget=10, batch=2, seed=0, **fast
    ).run()
    assert explorer.strategy.order == replayed.strategy.order
    assert sum(len(g) for g, _ in scope.calls) == 10
    grid, coords = scope.calls[0]
    np.testing.assert_allclose(coords, data.grid_coordinates(grid))
    assert explorer.history == []  # no truth to score against off replay
    assert issubclass(Counting, Microscope)
