"""Open the synthetic sample in napari, explore it and save a screenshot.

The picture in the README is made with this script: the curiosity panel
runs a short ensemble session on the built-in synthetic sample (replay
microscope), a pixel is selected for the spectrum panel, and the whole
window is saved. It needs a display; on a machine without one::

    xvfb-run -a python examples/napari_screenshot.py docs/napari.png
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import napari
import numpy as np
from qtpy.QtWidgets import QApplication

from napari_plugin._sample_data import sample_path

log = logging.getLogger("napari_screenshot")

#: Light settings so that the picture takes a minute or two on two cores.
LIGHT = {"channels": 8, "ensemble_epochs": 20, "update_epochs": 5}
#: Measurements after which the run is paused for the picture.
PAUSE_AT = 64


def wait(until, limit: float = 600.0) -> None:
    """Let Qt run until ``until()`` is true."""
    app = QApplication.instance()
    start = time.monotonic()
    while not until():
        app.processEvents()
        time.sleep(0.02)
        if time.monotonic() - start > limit:
            raise TimeoutError(f"the session did not get there in {limit:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="docs/napari.png")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    with tempfile.TemporaryDirectory() as folder:
        path = sample_path(folder)
        viewer = napari.Viewer(show=True)
        viewer.window.resize(1500, 980)
        viewer.open(str(path), plugin="pycroscopy-curiosity")
        _, panel = viewer.window.add_plugin_dock_widget(
            "pycroscopy-curiosity", "Curiosity explorer"
        )
        c = panel.controls
        c.patch.value, c.init.value, c.batch.value = 16, 40, 4
        c.budget.value, c.seed.value = 100, 0
        panel.extra_options = dict(LIGHT)
        panel.start()
        wait(
            lambda: panel.snapshot is not None and panel.snapshot.n_measured >= PAUSE_AT
        )
        panel.pause()  # after this step: the next candidates stay on show
        wait(lambda: panel.worker is None)
        explorer = panel.live.explorer
        # the spectrum panel: the measured point the surrogate misses most
        grid_index, _ = explorer.measured_points()
        errors = np.asarray(viewer.layers["measured points"].features["measured_error"])
        panel.select_grid_point(*grid_index[int(np.nanargmax(errors))])
        viewer.layers.selection.active = viewer.layers["measured points"]
        for title in ("Data", "Microscope"):  # fold away to show the spectrum
            panel.sections[title].collapse(animate=False)
        viewer.reset_view()
        for _ in range(20):
            QApplication.instance().processEvents()
            time.sleep(0.05)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        viewer.screenshot(str(out), canvas_only=False)
        log.info(
            "%s (%d measurements) written to %s",
            explorer.label,
            explorer.n_measured,
            out,
        )
        viewer.close()


if __name__ == "__main__":
    main()
