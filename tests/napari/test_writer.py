"""The writer for layers that belong to no live session."""

from __future__ import annotations

import numpy as np
import pytest

from napari_plugin._reader import read_nsid
from napari_plugin._writer import write_session
from pycroscopy_curiosity.errors import DataError
from tests.napari.conftest import EXTENT, GRID


def test_layers_round_trip(tmp_path, sample_file):
    from napari.layers import Layer, Points

    from pycroscopy_curiosity.data.results import read_results

    layers = [Layer.create(*item) for item in read_nsid(str(sample_file))]
    step = EXTENT / GRID
    coords = (np.array([[1, 2], [5, 7]]) + 0.5) * step
    points = Points(
        coords,
        features={"order": [0.0, 1.0], "chooser": ["model", "operator"]},
        name="picked",
    )
    out = tmp_path / "layers"
    written = write_session(
        str(out), [layer.as_layer_data_tuple() for layer in [*layers, points]]
    )
    assert written == [str(out) + ".h5"]
    results = read_results(written[0])
    assert results.names() == ["loops", "structure", "picked"]
    loops = results["loops"]
    assert loops.shape == (GRID, GRID, 16)  # x, y, bias as the field stores it
    np.testing.assert_allclose(np.asarray(loops), layers[0].data.transpose(2, 1, 0))
    x = loops._axes[0]
    assert (x.name, x.units) == ("x", "m")
    np.testing.assert_allclose(x.values, (np.arange(GRID) + 0.5) * step)
    bias = loops._axes[2]
    assert (bias.name, bias.units, bias.quantity) == ("bias", "V", "DC bias")
    np.testing.assert_allclose(
        bias.values, layers[0].metadata["spectral_axis"]["values"]
    )
    assert results["structure"].units == "a.u."
    picked = results["picked"]
    np.testing.assert_allclose(picked.point_cloud["coordinates"], coords[:, ::-1])
    assert picked.metadata["text_features"]["chooser"] == ["model", "operator"]


def test_nothing_to_write(tmp_path):
    from napari.layers import Points

    empty = Points(np.zeros((0, 2)), name="none")
    with pytest.raises(DataError, match="'none' holds no points"):
        write_session(str(tmp_path / "x.h5"), [empty.as_layer_data_tuple()])
