import h5py
import numpy as np
import pytest

from pycroscopy_curiosity import __version__
from pycroscopy_curiosity.data.exploration import ExplorationData
from pycroscopy_curiosity.data.nsid import list_datasets, write_nsid_file
from pycroscopy_curiosity.data.results import (
    map_dataset,
    measurements_dataset,
    read_results,
    spectra_dataset,
    write_results,
)
from pycroscopy_curiosity.errors import DataError, DataFileError
from tests.conftest import make_spectral


@pytest.fixture
def data(rng):
    values = rng.normal(2.0, 0.5, size=(9, 11, 6))
    spectral = make_spectral(values, x=np.arange(11) * 1e-7, y=np.arange(9) * 1e-7)
    return ExplorationData.from_sidpy(spectral, image_index=0, source_file="loops.h5")


def _results(data, rng):
    cands = data.candidates(3)
    error = cands.to_grid(rng.random(len(cands)).astype(np.float32))
    picked = cands.grid_index[[4, 0, 17]]
    measured = data.spectra[picked[:, 0], picked[:, 1]]
    return {
        "predicted_error": map_dataset(
            data,
            error,
            name="predicted_error",
            quantity="predicted L1 error",
            units="a.u.",
        ),
        "predicted_spectra": spectra_dataset(data, data.spectra * 0.5),
        "measured": measurements_dataset(
            data,
            picked,
            measured,
            extra={"chooser": ["model", "operator", "model"], "time": [0.5, 1.5, 2.5]},
        ),
    }


def test_results_round_trip(tmp_path, data, rng):
    path = tmp_path / "results.h5"
    results = _results(data, rng)
    params = {
        "workflow": "ensemble",
        "beta": 1.0,
        "lam": 0.1,
        "seed": 7,
        "init": None,
        "sizes": [16, 3],
    }
    paths = write_results(path, results, parameters=params, data=data)
    assert set(paths) == set(results)
    back = read_results(path)
    assert back.names() == list(results) and back.parameters == params
    for name, ds in results.items():
        got = back[name]
        assert got.dtype == np.float32 and got.data_type == ds.data_type
        np.testing.assert_array_equal(np.asarray(got), np.asarray(ds))
        for i in range(ds.ndim):
            assert got._axes[i].name == ds._axes[i].name
            assert got._axes[i].units == ds._axes[i].units
            np.testing.assert_array_equal(got._axes[i].values, ds._axes[i].values)
        prov = got.metadata["curiosity"]
        assert prov["version"] == __version__ and prov["parameters"] == params
        assert prov["source"]["file"] == "loops.h5"
    points = back["measured"].metadata["points"]
    assert points["chooser"] == ["model", "operator", "model"] and points["order"] == [
        0,
        1,
        2,
    ]
    first = np.array([[points["grid_iy"][0], points["grid_ix"][0]]])
    expected_xy = data.grid_coordinates(first)[0, ::-1]
    np.testing.assert_allclose(
        back["measured"].point_cloud["coordinates"][0], expected_xy
    )


def test_results_are_physical_and_oriented_as_nsid(data, rng):
    results = _results(data, rng)
    spectra = np.asarray(results["predicted_spectra"])
    assert spectra.shape == (11, 9, 6)  # axis 0 = x
    np.testing.assert_allclose(
        spectra.transpose(1, 0, 2), data.physical_spectra(data.spectra * 0.5), rtol=1e-5
    )
    assert results["predicted_error"].shape == (11, 9)


def test_results_appended_to_an_existing_file(tmp_path, data, rng):
    path = tmp_path / "source.h5"
    write_nsid_file(path, {"loops": make_spectral(rng.normal(size=(3, 3, 4)))})
    write_results(path, _results(data, rng), parameters={"run": 1}, mode="a")
    write_results(path, _results(data, rng), parameters={"run": 2}, mode="a")
    assert read_results(path).parameters == {"run": 2}
    assert read_results(path, group="Results_000").parameters == {"run": 1}
    assert len(list_datasets(path)) == 7
    with h5py.File(path, "r") as f:
        assert "Measurement_000" in f


def test_result_shape_errors(tmp_path, data):
    with pytest.raises(
        DataError, match=r"map 'm' has shape \(3, 3\); the spectral grid is \(9, 11\)"
    ):
        map_dataset(data, np.zeros((3, 3)), name="m", quantity="q")
    with pytest.raises(DataError, match=r"expected \(2, 6\) for 2 points"):
        measurements_dataset(data, np.zeros((2, 2), int), np.zeros((2, 5)))
    path = tmp_path / "nores.h5"
    write_nsid_file(path, {"loops": make_spectral(np.zeros((3, 3, 4)))})
    with pytest.raises(DataFileError, match="holds no results group"):
        read_results(path)
