"""The curiosity explorer panel: choose data and settings, run, watch, steer.

The panel only translates: controls become :class:`SessionSettings`, the
session runs in napari thread workers (:mod:`napari_plugin._session`), and
every :class:`Snapshot` they yield becomes layers. Nothing here trains or
measures on the interface's thread.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from napari.qt.threading import thread_worker
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from superqt import QCollapsible

from napari_plugin._compat import guard_triton
from napari_plugin._controls import Controls, path_text, set_path
from napari_plugin._drawing import SessionLayers, ours
from napari_plugin._layers import (
    Placement,
)
from napari_plugin._session import (
    Opened,
    Rejected,
    SessionSettings,
    Snapshot,
    finish,
    measure_queued,
    open_and_run,
    run_steps,
    save,
    spectral_datasets,
    status_line,
)
from napari_plugin._spectrum import SpectrumPanel, spectra_at
from napari_plugin._structure import layer_structure, structure_choices
from pycroscopy_curiosity.errors import ParameterError

log = logging.getLogger(__name__)

#: States in which a worker is going.
BUSY = ("opening", "running", "pausing", "stopping", "busy")

#: Sections of the panel, top to bottom; the settings fold away.
ORDER = ("Data", "Workflow", "Microscope", "Run", "Spectrum", "Operator", "Session")
COLLAPSIBLE = ("Data", "Workflow", "Microscope")


class CuriosityWidget(QWidget):
    """The curiosity explorer dock widget.

    Parameters
    ----------
    napari_viewer : napari.Viewer
        The viewer whose layers the panel reads and draws.

    Attributes
    ----------
    controls : Controls
        The inputs (file, datasets, workflow settings, microscope, buttons).
    spectrum : SpectrumPanel
        The spectrum of the selected grid point.
    state : str
        ``'idle'``, ``'opening'``, ``'running'``, ``'pausing'``, ``'paused'``,
        ``'stopping'``, ``'busy'`` or ``'stopped'``.
    live : LiveSession or None
        The session (explorer and lock).
    snapshot : Snapshot or None
        What was drawn last.
    placement : Placement or None
        Where the grid and the structure image lie in world space.
    extra_options : dict
        Further workflow options for scripts (e.g. ``ensemble_epochs``).
    """

    def __init__(self, napari_viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.controls = Controls()
        self.spectrum = SpectrumPanel()
        self.state = "idle"
        self.live = None
        self.backend = None
        self.worker = None
        self.snapshot: Snapshot | None = None
        self.drawn: SessionLayers | None = None
        self.extra_options: dict = {}
        self._stop_requested = False
        self._layout()
        self._connect()
        self._layers_changed()
        self._update_buttons()

    # -- building -------------------------------------------------------------------
    def _layout(self) -> None:
        inner = QWidget()
        column = QVBoxLayout(inner)
        sections = dict(self.controls.groups)
        sections["Spectrum"] = self.spectrum
        self.sections: dict[str, QWidget] = {}
        for title in ORDER:
            content = sections[title]
            content = getattr(content, "native", content)
            if title in COLLAPSIBLE:
                section = QCollapsible(title)
                section.addWidget(content)
                section.expand(animate=False)
            else:
                section = QGroupBox(title)
                QVBoxLayout(section).addWidget(content)
            self.sections[title] = section
            column.addWidget(section)
        column.addStretch(1)
        for combo in (self.controls.spectral, self.controls.structure):
            combo.native.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.native.setMinimumContentsLength(16)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.setMinimumWidth(380)

    def _connect(self) -> None:
        c = self.controls
        c.file.changed.connect(self.refresh_sources)
        c.structure.changed.connect(self._structure_changed)
        c.start_button.clicked.connect(self.start)
        c.pause_button.clicked.connect(self.pause)
        c.step_button.clicked.connect(self.step)
        c.stop_button.clicked.connect(self.stop)
        c.add_button.clicked.connect(self.add_operator_points)
        c.accept_button.clicked.connect(self.accept_candidates)
        c.send_button.clicked.connect(self.send_operator_points)
        c.save_button.clicked.connect(lambda: self.save())
        c.resume_button.clicked.connect(lambda: self.resume())
        self.viewer.layers.events.inserted.connect(self._layers_changed)
        self.viewer.layers.events.removed.connect(self._layers_changed)
        self.viewer.mouse_drag_callbacks.append(self._on_click)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Closing the panel stops a running session after its step."""
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Quit the worker (after the step under way) and let go of the
        viewer's events."""
        if self.worker is not None:
            self._stop_requested = True
            self.worker.quit()
        if self._on_click in self.viewer.mouse_drag_callbacks:
            self.viewer.mouse_drag_callbacks.remove(self._on_click)
        self.viewer.layers.events.inserted.disconnect(self._layers_changed)
        self.viewer.layers.events.removed.disconnect(self._layers_changed)

    # -- data sources ---------------------------------------------------------------
    def _layers_changed(self, event=None) -> None:
        if not path_text(self.controls.file):
            for layer in self.viewer.layers:
                source = layer.metadata.get("source_file")
                if source and Path(source).is_file() and not ours(layer):
                    set_path(self.controls.file, source)  # refreshes
                    return
        self.refresh_sources()

    def refresh_sources(self, *_) -> None:
        """List the spectral datasets of the file and the structure choices
        (image datasets of the file, image layers, images from the spectra)."""
        c = self.controls
        file = path_text(c.file)
        spectral: list[str] = []
        if file:
            try:
                spectral = spectral_datasets(file)
            except (OSError, ValueError) as exc:
                self._say(str(exc))
        previous = c.structure.value if c.structure.choices else None
        c.spectral.choices = spectral
        choices = structure_choices(file, self.viewer.layers)
        c.structure.choices = choices
        values = [value for _, value in choices]
        if previous in values:
            c.structure.value = previous
        self._structure_changed(c.structure.value)

    def _structure_changed(self, value=None) -> None:
        self.controls.image_index.visible = bool(value) and value[0] == "index"

    def settings(self) -> SessionSettings:
        """The session the controls describe."""
        c = self.controls
        structure = c.structure.value or ("reduce", "mean")
        if structure[0] == "layer":
            structure = ("layer", layer_structure(self.viewer.layers[structure[1]]))
        return SessionSettings(
            file=path_text(c.file),
            spectral=c.spectral.value or None,
            structure=structure,
            image_index=int(c.image_index.value),
            spectral_range=str(c.spectral_range.value or ""),
            workflow=c.workflow.value,
            direction=c.direction.value,
            beta=float(c.beta.value),
            lam=float(c.lam.value),
            sigma=float(c.sigma.value),
            batch=int(c.batch.value),
            patch=int(c.patch.value),
            budget=int(c.budget.value),
            init=int(c.init.value),
            seed=int(c.seed.value),
            device=c.device.value,
            backend=c.backend.value,
            address=str(c.address.value or ""),
            token_file=path_text(c.token_file),
            session_file=path_text(c.session_file),
            backend_options=c.backend_option_values(),
            extra_options=dict(self.extra_options),
        )

    # -- run control ----------------------------------------------------------------
    def start(self) -> None:
        """Open a session and run it to its budget, or continue after Pause."""
        self._run(None)

    def step(self) -> None:
        """Run one step (opening the session first when there is none)."""
        self._run(1)

    def _run(self, steps: int | None) -> None:
        if self.state in BUSY:
            return
        if self.live is None or self.state == "stopped":
            try:
                settings = self.settings()
                settings.check()
            except (ValueError, KeyError) as exc:
                self._fail(exc)
                return
            self._launch(open_and_run, settings, steps, state="opening")
        elif self.snapshot is not None and self.snapshot.done:
            self._say("the budget is spent; Stop closes the session")
        else:
            self._launch(run_steps, self.live, steps, state="running")

    def pause(self) -> None:
        """Pause after the step under way (Start or Step continue)."""
        if self.worker is not None and self.state in ("running", "opening"):
            self.worker.quit()
            self._set_state("pausing")

    def stop(self) -> None:
        """Stop after the step under way and close the session: the session
        file gets its results and stays consistent."""
        if self.worker is not None and self.state in BUSY:
            self._stop_requested = True
            self.worker.quit()
            self._set_state("stopping")
        elif self.live is not None and self.state != "stopped":
            self._finish()

    def _launch(self, function, *args, state: str) -> None:
        guard_triton()
        worker = thread_worker(function, start_thread=False, ignore_errors=True)(*args)
        worker.yielded.connect(self._on_item)
        worker.errored.connect(self._fail)
        worker.finished.connect(self._on_finished)
        self.worker = worker
        self._set_state(state)
        worker.start()

    def _on_item(self, item) -> None:
        if isinstance(item, Opened):
            self._opened(item)
        elif isinstance(item, Snapshot):
            self._set_state("running" if self.state == "opening" else self.state)
            self.draw(item)
        elif isinstance(item, Rejected):
            show_warning(f"operator points not measured: {item.message}")
            self._say(item.message)

    def _on_finished(self) -> None:
        self.worker = None
        if self._stop_requested or (self.snapshot is not None and self.snapshot.done):
            self._stop_requested = False
            if self.live is not None:
                self._finish()
                return
        self._set_state("paused" if self.live is not None else "idle")

    def _fail(self, exc: BaseException) -> None:
        log.error("curiosity session: %s", exc)
        show_error(f"{type(exc).__name__}: {exc}")
        self._say(f"error: {exc}")
        if self.worker is None:
            self._set_state("paused" if self.live is not None else "idle")

    def _finish(self) -> None:
        live, backend = self.live, self.backend
        worker = thread_worker(finish, start_thread=False, ignore_errors=True)(
            live, backend
        )
        worker.returned.connect(self._say)
        worker.errored.connect(self._fail)
        worker.finished.connect(self._finished)
        self.worker = worker
        self._set_state("stopping")
        worker.start()

    def _finished(self) -> None:
        self.worker = None
        self._set_state("stopped")

    def _set_state(self, state: str) -> None:
        self.state = state
        self._update_buttons()

    def _update_buttons(self) -> None:
        c = self.controls
        busy = self.state in BUSY
        c.start_button.text = "Resume" if self.state == "paused" else "Start"
        c.start_button.enabled = not busy
        c.step_button.enabled = not busy
        c.pause_button.enabled = self.state in ("running", "opening")
        c.stop_button.enabled = self.live is not None and self.state != "stopped"
        live = self.live is not None and self.state != "stopped"
        c.send_button.enabled = live
        c.accept_button.enabled = live
        c.resume_button.enabled = not busy

    def _say(self, text: str) -> None:
        self.controls.status.value = str(text)

    # -- sessions: open, save, resume -----------------------------------------------
    @property
    def placement(self) -> Placement | None:
        """Where the grid and the structure image lie in world space."""
        return None if self.drawn is None else self.drawn.placement

    @property
    def structure_layer(self):
        """The session's structure image layer."""
        return None if self.drawn is None else self.drawn.structure

    def _opened(self, opened: Opened) -> None:
        if self.drawn is not None:
            self.drawn.remove()
        self.spectrum.clear()
        self.live, self.backend = opened.live, opened.backend
        kind, value = self.controls.structure.value or ("", None)
        self.drawn = SessionLayers(
            self.viewer,
            opened.live.key,
            opened.live.explorer.data,
            chosen_layer=value if kind == "layer" else None,
        )
        self.draw(opened.snapshot)

    def save(self, path: str | None = None) -> None:
        """Write the session's results to an NSID-HDF5 file (asks where when
        ``path`` is not given)."""
        if self.live is None:
            self._say("nothing to save: no session yet")
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Save results", "curiosity_results.h5", "NSID-HDF5 (*.h5)"
            )
            if not path:
                return
        worker = thread_worker(save, start_thread=False, ignore_errors=True)(
            self.live, str(path)
        )
        worker.returned.connect(self._say)
        worker.errored.connect(self._fail)
        self._save_worker = worker
        worker.start()

    def resume(self, path: str | None = None) -> None:
        """Continue a session file with the chosen microscope (press Start)."""
        if self.state in BUSY:
            return
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Resume session", "", "session files (*.h5)"
            )
            if not path:
                return
        try:
            settings = self.settings()
        except (ValueError, KeyError) as exc:
            self._fail(exc)
            return
        self._launch(open_and_run, settings, 0, str(path), state="opening")

    # -- drawing --------------------------------------------------------------------
    def draw(self, snapshot: Snapshot) -> None:
        """Turn a snapshot into layers, progress and status."""
        self.snapshot = snapshot
        self.drawn.draw(snapshot)
        self.controls.progress.max = max(snapshot.budget, 1)
        self.controls.progress.value = snapshot.n_measured
        self._say(status_line(snapshot))
        if self.spectrum.grid_index is not None:
            self.select_grid_point(*self.spectrum.grid_index)

    # -- the spectrum panel ---------------------------------------------------------
    def _on_click(self, viewer, event) -> None:
        if event.type != "mouse_press" or self.placement is None:
            return
        found = self.placement.world_to_grid(event.position)
        if found is not None:
            self.select_grid_point(*found)

    def select_grid_point(self, row: int, col: int) -> None:
        """Show the measured and predicted spectra of grid point (row, col)."""
        if self.snapshot is None or self.live is None:
            self.spectrum.clear("no session yet")
            return
        self.spectrum.show_spectra(
            **spectra_at(self.snapshot, self.live.explorer.data, row, col)
        )

    # -- the operator ---------------------------------------------------------------
    def operator_layer(self):
        """The layer of points the operator wants measured."""
        if self.drawn is None:
            raise ParameterError("start a session before adding operator points")
        return self.drawn.operator_layer()

    def add_operator_points(self) -> None:
        """Select the operator layer in add mode: clicks add points."""
        layer = self.operator_layer()
        self.viewer.layers.selection.active = layer
        layer.mode = "add"

    def accept_candidates(self) -> None:
        """Copy the model's next candidates into the operator layer."""
        if self.snapshot is None or not len(self.snapshot.candidates):
            self._say("no candidates to accept")
            return
        coords = self.placement.grid_to_world(self.snapshot.candidates)
        layer = self.operator_layer()
        layer.add(coords)

    def send_operator_points(self) -> None:
        """Measure the operator points: between steps when a run is going,
        at once otherwise; they are stored as chosen by the operator."""
        if self.live is None or self.state == "stopped":
            self._say("start a session before sending points")
            return
        layer = self.operator_layer()
        grid_index = self.placement.points_to_grid(np.asarray(layer.data))
        off = (grid_index < 0).any(axis=1)
        if off.any():
            show_warning(f"{int(off.sum())} operator point(s) off the grid ignored")
        grid_index = grid_index[~off]
        if not len(grid_index):
            self._say("no operator points on the grid to send")
            return
        _, first = np.unique(grid_index, axis=0, return_index=True)
        grid_index = grid_index[np.sort(first)]
        self.live.operator.put(grid_index)
        layer.data = np.zeros((0, 2))
        if self.state in ("running", "opening"):
            show_info(f"{len(grid_index)} operator point(s) queued for the next step")
            return
        self._launch(measure_queued, self.live, state="busy")
