"""Fixtures of the napari plugin tests: a small sample and a ready panel."""

from __future__ import annotations

import pytest

pytest.importorskip("napari")
pytest.importorskip("pytestqt")

from pycroscopy_curiosity.data.synthetic import (  # noqa: E402
    make_synthetic_sample,
    write_synthetic_sample,
)

PLUGIN = "pycroscopy-curiosity"
WIDGET = "Curiosity explorer"

#: Sample geometry: 12 x 12 grid over a 48 x 48 image, 2 um square.
GRID, IMAGE, EXTENT = 12, 48, 2e-6

#: Workflow options small enough for a few seconds per session.
LIGHT = {
    "architectures": ("im2spec",),
    "channels": 4,
    "hidden": 16,
    "ensemble_epochs": 3,
    "update_epochs": 1,
    "error_epochs": 3,
    "ensemble_fraction": 0.0,
}

#: Worker time limit of one wait, in milliseconds.
WAIT_MS = 60_000


@pytest.fixture
def sample():
    """The small synthetic sample (sidpy datasets and truth)."""
    return make_synthetic_sample(
        grid_shape=(GRID, GRID), image_shape=(IMAGE, IMAGE), n_bias=16, seed=3
    )


@pytest.fixture
def sample_file(tmp_path, sample):
    """The small sample written as NSID-HDF5."""
    path = tmp_path / "sample.h5"
    write_synthetic_sample(path, sample)
    return path


@pytest.fixture
def panel(make_napari_viewer, sample_file):
    """A viewer with the sample opened and the panel docked and set up for
    quick sessions: patch 8, 10 initial points, batches of 2."""
    viewer = make_napari_viewer()
    viewer.open(str(sample_file), plugin=PLUGIN)
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, WIDGET)
    c = widget.controls
    c.patch.value = 8
    c.init.value = 10
    c.batch.value = 2
    c.budget.value = 14
    c.seed.value = 1
    widget.extra_options = dict(LIGHT)
    yield widget
    if widget.worker is not None:  # a failed test left a session going
        widget.worker.quit()
        widget.worker.await_workers(msecs=WAIT_MS)


def wait_idle(qtbot, widget, states=("paused", "stopped", "idle")):
    """Wait until no worker of the panel is going."""
    qtbot.waitUntil(
        lambda: widget.worker is None and widget.state in states, timeout=WAIT_MS
    )
