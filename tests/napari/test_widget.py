"""The curiosity panel: runs, layers and their alignment, spectra, operator
points, Stop, saving and reopening."""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import numpy as np
import pytest

from napari_plugin._layers import CHOOSER_SYMBOLS
from tests.napari.conftest import EXTENT, GRID, IMAGE, PLUGIN, wait_idle

STEP = EXTENT / GRID  # grid spacing, m
PIXEL = EXTENT / IMAGE  # image pixel, m


def _journal(path):
    from pycroscopy_curiosity.data.journal import Journal

    return Journal.read(path)


def test_three_iterations_layers_aligned(qtbot, panel, tmp_path):
    viewer = panel.viewer
    session = tmp_path / "session.h5"
    panel.controls.session_file.value = session
    panel.start()  # 10 initial points, then 2 batches of 2: three iterations
    wait_idle(qtbot, panel, states=("stopped",))
    explorer = panel.live.explorer
    assert explorer.n_measured == 14 and explorer.done
    assert explorer.iterations == [0] * 10 + [1, 1, 2, 2]
    assert panel.controls.progress.value == 14
    assert "14 of 14 measured" in panel.controls.status.value or "stopped" in (
        panel.controls.status.value
    )

    # maps on the 12 x 12 grid, exactly over the 48 x 48 structure image
    structure = viewer.layers["structure"]
    assert panel.structure_layer.name == "structure"  # the reader's layer
    maps = explorer.maps()
    for name, key in (
        ("predicted error", "predicted_error"),
        ("acquisition", "acquisition"),
    ):
        layer = viewer.layers[name]
        assert layer.data.shape == (GRID, GRID)
        np.testing.assert_allclose(layer.scale, [STEP, STEP])
        np.testing.assert_allclose(layer.translate, [STEP / 2, STEP / 2])
        np.testing.assert_array_equal(layer.data, maps[key])
        assert 0 < layer.opacity < 1
    np.testing.assert_allclose(structure.scale, [PIXEL, PIXEL])
    np.testing.assert_allclose(structure.translate, [PIXEL / 2, PIXEL / 2])
    # every grid point's world position falls on the image pixel its patch
    # is centred on
    pixels = explorer.data.grid_to_pixel.reshape(-1, 2)
    rows, cols = np.meshgrid(np.arange(GRID), np.arange(GRID), indexing="ij")
    grid = np.stack([rows.ravel(), cols.ravel()], axis=1)
    error = viewer.layers["predicted error"]
    world = np.array([error.data_to_world(g) for g in grid])
    on_image = np.array([structure.world_to_data(w) for w in world])
    assert np.abs(on_image - pixels).max() <= 0.5 + 1e-9

    # measured points: coloured by order, features, markers by chooser
    points = viewer.layers["measured points"]
    grid_index, _ = explorer.measured_points()
    np.testing.assert_allclose(points.data, (grid_index + 0.5) * STEP)
    np.testing.assert_array_equal(points.features["order"], np.arange(14))
    assert list(points.features["chooser"]) == ["initial"] * 10 + ["model"] * 4
    assert np.isfinite(points.features["measured_error"]).all()
    assert points.symbol[0].value == CHOOSER_SYMBOLS["initial"]
    assert points.symbol[-1].value == CHOOSER_SYMBOLS["model"]
    assert not np.allclose(points.face_color[0], points.face_color[-1])
    assert len(viewer.layers["next candidates"].data) == 0  # budget spent

    # the session file was closed with its results
    from pycroscopy_curiosity.data.results import read_results

    assert _journal(session).n == 14
    assert read_results(session)["measured"].shape == (14, 16)


def test_step_pause_and_stop(qtbot, panel, tmp_path):
    session = tmp_path / "session.h5"
    panel.controls.session_file.value = session
    panel.controls.budget.value = 60
    panel.step()
    wait_idle(qtbot, panel)
    assert panel.state == "paused" and panel.live.explorer.n_measured == 10
    assert panel.controls.start_button.text == "Resume"
    # the next candidates are what the next step measures
    candidates = panel.viewer.layers["next candidates"].data
    assert len(candidates) == 2
    expected = panel.live.explorer.candidates.grid_index[panel.live.explorer.propose()]
    np.testing.assert_allclose(candidates, (expected + 0.5) * STEP)
    panel.step()
    wait_idle(qtbot, panel)
    grid_index, _ = panel.live.explorer.measured_points()
    np.testing.assert_array_equal(grid_index[-2:], expected)

    panel.start()
    qtbot.waitUntil(lambda: panel.live.explorer.n_measured >= 14, timeout=60_000)
    panel.stop()
    assert panel.state == "stopping"
    wait_idle(qtbot, panel, states=("stopped",))
    explorer = panel.live.explorer
    assert 14 <= explorer.n_measured < 60 and not explorer.done
    record = _journal(session)
    assert record.n == explorer.n_measured
    from pycroscopy_curiosity.data.results import read_results

    assert read_results(session)["measured"].shape[0] == explorer.n_measured
    # the session file reopens as layers: maps and every journaled point
    from napari_plugin._reader import read_nsid

    layers = {kwargs["name"]: data for data, kwargs, _ in read_nsid(str(session))}
    assert layers["predicted error"].shape == (GRID, GRID)
    np.testing.assert_allclose(
        layers["measured points"], (explorer.measured_points()[0] + 0.5) * STEP
    )
    # a stopped session takes no more steps
    assert not panel.controls.stop_button.enabled


def test_clicking_a_pixel_shows_its_spectra(qtbot, panel):
    panel.step()
    wait_idle(qtbot, panel)
    explorer = panel.live.explorer
    data = explorer.data
    grid_index, spectra = explorer.measured_points()
    row, col = grid_index[3]
    # a click on the image at that grid point, through the viewer callback
    assert panel._on_click in panel.viewer.mouse_drag_callbacks
    position = (0.0, (row + 0.5) * STEP + 0.2 * STEP, (col + 0.5) * STEP)
    panel._on_click(
        panel.viewer, SimpleNamespace(type="mouse_press", position=position)
    )
    s = panel.spectrum
    assert s.grid_index == (row, col)
    np.testing.assert_allclose(s.measured, data.physical_spectra(spectra[3]))
    predicted = data.physical_spectra(explorer.maps()["predicted_spectra"][row, col])
    np.testing.assert_allclose(s.predicted, predicted, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s.x, data.spectral_axis.values)
    assert s.xlabel == "DC bias (V)" and s.ylabel == "Piezoresponse (a.u.)"
    assert "measured #3 (initial)" in s.title
    # an unmeasured candidate: a prediction only
    measured = {tuple(g) for g in grid_index}
    free = next(
        tuple(g) for g in explorer.candidates.grid_index if tuple(g) not in measured
    )
    panel.select_grid_point(*free)
    assert s.grid_index == free and s.measured is None
    assert s.predicted is not None and s.predicted.shape == (16,)
    # a click off the grid changes nothing
    panel._on_click(
        panel.viewer, SimpleNamespace(type="mouse_press", position=(0, -STEP, 0))
    )
    assert s.grid_index == free


def test_operator_points_are_measured_and_marked(qtbot, panel):
    panel.controls.budget.value = 30
    panel.step()
    wait_idle(qtbot, panel)
    explorer = panel.live.explorer
    measured = {tuple(g) for g in explorer.measured_points()[0]}
    free = [
        tuple(g) for g in explorer.candidates.grid_index if tuple(g) not in measured
    ]
    chosen = np.array(free[:2])
    panel.add_operator_points()
    layer = panel.viewer.layers["operator points"]
    assert layer.mode == "add"
    # clicked slightly off the grid points: snapped to the nearest
    layer.add((chosen + 0.5) * STEP + 0.1 * STEP)
    panel.send_operator_points()
    wait_idle(qtbot, panel)
    assert explorer.n_measured == 12
    assert explorer.choosers[-2:] == ["operator", "operator"]
    np.testing.assert_array_equal(explorer.measured_points()[0][-2:], chosen)
    assert len(layer.data) == 0
    points = panel.viewer.layers["measured points"]
    assert list(points.features["chooser"][-2:]) == ["operator", "operator"]
    assert points.symbol[-1].value == CHOOSER_SYMBOLS["operator"]

    # accepting the model's candidates sends them as the operator's
    proposal = explorer.candidates.grid_index[explorer.propose()]
    panel.accept_candidates()
    np.testing.assert_allclose(layer.data, (proposal + 0.5) * STEP)
    panel.send_operator_points()
    wait_idle(qtbot, panel)
    assert explorer.n_measured == 14
    np.testing.assert_array_equal(explorer.measured_points()[0][-2:], proposal)
    assert explorer.choosers[-2:] == ["operator", "operator"]

    # a point already measured is refused with the explorer's reason
    layer.add((chosen[:1] + 0.5) * STEP)
    panel.send_operator_points()
    wait_idle(qtbot, panel)
    assert explorer.n_measured == 14
    assert "already measured" in panel.controls.status.value


def test_save_and_reopen(qtbot, panel, tmp_path):
    viewer = panel.viewer
    panel.step()
    wait_idle(qtbot, panel)
    panel.step()
    wait_idle(qtbot, panel)
    out = tmp_path / "results.h5"
    viewer.layers.save(str(out), plugin=PLUGIN)  # the writer finds the session
    from pycroscopy_curiosity.data.results import read_results

    results = read_results(out)
    assert results["measured"].shape == (12, 16)
    assert results["measured"].metadata["points"]["chooser"][-1] == "model"

    viewer.layers.clear()
    viewer.open(str(out), plugin=PLUGIN)
    names = [layer.name for layer in viewer.layers]
    assert {"predicted error", "acquisition", "measured points"} <= set(names)
    error = viewer.layers["predicted error"]
    np.testing.assert_allclose(error.scale, [STEP, STEP])
    np.testing.assert_allclose(error.translate, [STEP / 2, STEP / 2])
    np.testing.assert_allclose(
        error.data, panel.live.explorer.maps()["predicted_error"], rtol=1e-6
    )
    points = viewer.layers["measured points"]
    grid_index, _ = panel.live.explorer.measured_points()
    np.testing.assert_allclose(points.data, (grid_index + 0.5) * STEP)
    np.testing.assert_array_equal(points.features["order"], np.arange(12))
    assert list(points.features["chooser"]) == ["initial"] * 10 + ["model"] * 2
    assert np.isfinite(points.features["measured_error"]).all()


def test_resume_a_stopped_session(qtbot, panel, tmp_path):
    session = tmp_path / "session.h5"
    panel.controls.session_file.value = session
    panel.controls.budget.value = 16
    panel.step()
    wait_idle(qtbot, panel)
    panel.stop()
    wait_idle(qtbot, panel, states=("stopped",))
    panel.resume(str(session))
    wait_idle(qtbot, panel)
    explorer = panel.live.explorer
    assert explorer.n_measured == 10 and panel.state == "paused"
    assert len(panel.viewer.layers["measured points"].data) == 10
    panel.step()
    wait_idle(qtbot, panel)
    assert explorer.n_measured == 12 and _journal(session).n == 12
    # saving into the session file itself keeps its journal
    panel.save(str(session))
    qtbot.waitUntil(lambda: "results saved" in panel.controls.status.value)
    from pycroscopy_curiosity.data.results import read_results

    assert _journal(session).n == 12
    assert read_results(session)["measured"].shape == (12, 16)


def test_clear_errors(qtbot, panel):
    c = panel.controls
    c.backend.value = "remote"
    c.address.value = "127.0.0.1:9090"
    panel.start()
    assert panel.state == "idle" and panel.live is None
    assert "remote://HOST:PORT" in c.status.value
    c.backend.value = "aecroscopy"
    c.backend_options.value = "[1, 2]"
    panel.start()
    assert "must be a JSON object" in c.status.value and panel.live is None
    if importlib.util.find_spec("aecroscopy") is None:
        c.backend_options.value = '{"points_per_call": 1}'
        panel.start()
        wait_idle(qtbot, panel)
        assert panel.live is None and panel.state == "idle"
        assert "cannot import aecroscopy" in c.status.value
    c.backend.value = "replay"
    c.budget.value = 5  # fewer than the 10 initial points
    panel.start()
    assert "exceed the budget" in c.status.value


@pytest.mark.parametrize("workflow", ["autoencoder", "random"])
def test_other_workflows(qtbot, panel, workflow):
    c = panel.controls
    c.workflow.value = workflow
    # the panel is not shown in tests: ask Qt whether a control is hidden
    assert c.sigma.native.isHidden() == (workflow != "autoencoder")
    assert c.direction.native.isHidden() == (workflow != "autoencoder")
    assert c.beta.native.isHidden() == (workflow != "ensemble")
    if workflow == "autoencoder":
        assert c.lam.value == 2.0
        panel.extra_options = {
            "ae_epochs": 2,
            "init_epochs": 3,
            "update_epochs": 1,
            "error_epochs": 2,
            "mc_passes": 4,
        }
    panel.step()
    wait_idle(qtbot, panel)
    panel.step()
    wait_idle(qtbot, panel)
    explorer = panel.live.explorer
    assert explorer.workflow == workflow and explorer.n_measured == 12
    assert panel.viewer.layers["predicted error"].data.shape == (GRID, GRID)
