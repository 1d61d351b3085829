"""The reader, the sample data and the manifest."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from napari_plugin._reader import napari_get_reader, read_nsid
from tests.napari.conftest import EXTENT, GRID, IMAGE, PLUGIN


def test_manifest_contributions_import():
    import npe2

    # found through the installed distribution's entry point
    manifest = npe2.PluginManifest.from_distribution("pycroscopy-curiosity")
    assert manifest.name == PLUGIN
    contributions = manifest.contributions
    assert [r.command for r in contributions.readers] == [f"{PLUGIN}.get_reader"]
    assert contributions.writers[0].layer_types == ["image*", "points*"]
    assert contributions.sample_data[0].key == "synthetic"
    assert contributions.widgets[0].display_name == "Curiosity explorer"
    for command in contributions.commands:
        assert callable(_resolve(command)), command.python_name


def _resolve(command):
    import importlib

    module, name = command.python_name.split(":")
    return getattr(importlib.import_module(module), name)


def test_no_reader_for_other_files(tmp_path):
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as handle:
        handle["values"] = np.arange(4)
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5")
    assert napari_get_reader(str(plain)) is None
    assert napari_get_reader(str(text)) is None
    assert napari_get_reader(str(tmp_path / "missing.h5")) is None
    assert napari_get_reader(str(tmp_path)) is None


def test_synthetic_sample_layers(make_napari_viewer, sample_file, sample):
    assert napari_get_reader(str(sample_file)) is read_nsid
    viewer = make_napari_viewer()
    viewer.open(str(sample_file), plugin=PLUGIN)
    assert [layer.name for layer in viewer.layers] == ["loops", "structure"]
    loops, structure = viewer.layers
    # the structure image in numpy order, placed on its physical pixels
    np.testing.assert_allclose(structure.data, np.asarray(sample.image).T)
    pixel = EXTENT / IMAGE
    np.testing.assert_allclose(structure.scale, [pixel, pixel])
    np.testing.assert_allclose(structure.translate, [pixel / 2, pixel / 2])
    assert structure.metadata["axis_names"] == ["y", "x"]
    assert structure.metadata["axis_units"] == ["m", "m"]
    assert [str(u) for u in structure.units] == ["meter", "meter"]
    # the loops: bias steps on the slider, spatial axes physical
    assert loops.data.shape == (16, GRID, GRID)
    np.testing.assert_allclose(
        loops.data, np.asarray(sample.spectra).transpose(2, 1, 0)
    )
    step = EXTENT / GRID
    np.testing.assert_allclose(loops.scale, [1.0, step, step])
    np.testing.assert_allclose(loops.translate, [0.0, step / 2, step / 2])
    assert tuple(loops.axis_labels) == ("bias", "y", "x")
    assert loops.metadata["spectral_axis"]["units"] == "V"
    assert loops.metadata["data_type"] == "SPECTRAL_IMAGE"
    assert not loops.visible  # under the structure image, hidden
    assert viewer.dims.axis_labels[0] == "bias"


def test_sample_data(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "synthetic")
    names = [layer.name for layer in viewer.layers]
    assert names == ["loops", "structure"]
    assert viewer.layers["structure"].data.shape == (96, 96)
    assert viewer.layers["loops"].data.shape == (32, 24, 24)


@pytest.mark.realdata
def test_real_pfm_scan(pto_images):
    layers = read_nsid(str(pto_images))
    names = [kwargs["name"] for _, kwargs, _ in layers]
    assert names == [
        "HeightRetrace",
        "AmplitudeRetrace",
        "DeflectionRetrace",
        "PhaseRetrace",
    ]
    for data, kwargs, kind in layers:
        assert kind == "image" and data.shape == (256, 256)
        np.testing.assert_allclose(kwargs["scale"], [1e-6 / 255] * 2)
        np.testing.assert_allclose(kwargs["translate"], [0.0, 0.0])
    phase = layers[3][1]["metadata"]
    assert phase["quantity"] == "PhaseRetrace" and phase["units"] == "deg"
    # the export's faulty axis units are kept for the user to see
    assert phase["axis_units"] == ["deg", "deg"]


@pytest.mark.realdata
def test_real_loops(pto_loops, make_napari_viewer):  # skip before a viewer
    viewer = make_napari_viewer()
    viewer.open(str(pto_loops), plugin=PLUGIN)
    (layer,) = viewer.layers
    assert layer.data.shape == (99, 49, 49)
    assert tuple(layer.axis_labels) == ("step", "y", "x")
    np.testing.assert_allclose(layer.scale, [1.0, 1.0, 1.0])
    assert layer.visible
    assert layer.metadata["spectral_axis"]["values"].shape == (99,)
