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
from napari.layers import Layer
from napari.qt.threading import thread_worker
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from napari_plugin._compat import guard_triton
from napari_plugin._controls import Controls, path_text, set_path
from napari_plugin._layers import (
    CHOOSER_SYMBOLS,
    MAP_STYLES,
    OPERATOR_LAYER,
    Placement,
    candidates_layer,
    finite_limits,
    map_layer,
    measured_layer,
    point_features,
)
from napari_plugin._registry import SESSION_KEY
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
)
from napari_plugin._spectrum import SpectrumPanel, axis_label
from napari_plugin._structure import layer_structure, same_file, structure_choices

log = logging.getLogger(__name__)

#: States in which a worker is going.
BUSY = ("opening", "running", "pausing", "stopping", "busy")


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
        self.placement: Placement | None = None
        self.structure_layer = None
        self.layers: dict[str, Layer] = {}
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
        for title, box in self.controls.groups:
            group = QGroupBox(title)
            QVBoxLayout(group).addWidget(box.native)
            column.addWidget(group)
        group = QGroupBox("Spectrum")
        QVBoxLayout(group).addWidget(self.spectrum)
        column.addWidget(group)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.setMinimumWidth(360)

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

    # -- data sources ---------------------------------------------------------------
    def _layers_changed(self, event=None) -> None:
        if not path_text(self.controls.file):
            for layer in self.viewer.layers:
                source = layer.metadata.get("source_file")
                if source and Path(source).is_file() and not _ours(layer):
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
        worker = thread_worker(function, start_thread=False)(*args)
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
        worker = thread_worker(finish, start_thread=False)(live, backend)
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
    def _opened(self, opened: Opened) -> None:
        self._remove_session_layers()
        self.live, self.backend = opened.live, opened.backend
        explorer = opened.live.explorer
        self.structure_layer = self._find_structure(explorer)
        world = None
        if self.structure_layer is not None:
            world = self.structure_layer.metadata.get("world_units")
        self.placement = Placement.of(explorer.data, world)
        if self.structure_layer is None:
            self.structure_layer = self._add_structure(explorer)
        self.controls.progress.max = max(explorer.budget, 1)
        self.draw(opened.snapshot)

    def _find_structure(self, explorer):
        """The viewer's layer showing the explorer's structure image."""
        source = explorer.data.source
        for layer in self.viewer.layers:
            meta = layer.metadata
            if _ours(layer) or layer.ndim != 2 or "dataset" not in meta:
                continue
            file = source.image_file or source.file
            if (
                source.image_dataset
                and meta.get("dataset") == source.image_dataset
                and same_file(meta.get("source_file"), file)
            ):
                return layer
        kind, value = self.controls.structure.value or ("", None)
        if kind == "layer" and value in self.viewer.layers:
            return self.viewer.layers[value]
        return None

    def _add_structure(self, explorer):
        data, p = explorer.data, self.placement
        kwargs = {
            "name": "structure",
            "scale": p.image_scale,
            "translate": p.image_translate,
            "colormap": "gray",
            "metadata": {
                SESSION_KEY: self.live.key,
                "world_units": p.world_units,
                "quantity": data.image_quantity,
                "units": data.image_units,
                "source": data.source.image_source,
            },
        }
        if p.napari_units:
            kwargs["units"] = p.napari_units
        layer = self.viewer.add_image(data.image, **kwargs)
        self.viewer.layers.move(self.viewer.layers.index(layer), 0)
        return layer

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
        worker = thread_worker(save, start_thread=False)(self.live, str(path))
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
        settings = self.settings()
        self._launch(open_and_run, settings, 0, str(path), state="opening")

    # -- drawing --------------------------------------------------------------------
    def _remove_session_layers(self) -> None:
        for layer in list(self.layers.values()):
            if layer in self.viewer.layers:
                self.viewer.layers.remove(layer)
        self.layers.clear()
        self.spectrum.clear()

    def _tag(self, kwargs: dict) -> dict:
        kwargs["metadata"] = {
            **kwargs.get("metadata", {}),
            SESSION_KEY: self.live.key,
            "world_units": self.placement.world_units,
        }
        return kwargs

    def _layer(self, key: str, layer_data) -> tuple[Layer, bool]:
        """The session's layer ``key`` and whether it was just created from
        ``layer_data`` (otherwise the caller updates it)."""
        data, kwargs, kind = layer_data
        layer = self.layers.get(key)
        if layer is not None and layer in self.viewer.layers:
            return layer, False
        layer = Layer.create(data, self._tag(kwargs), kind)
        self.viewer.add_layer(layer)
        self.layers[key] = layer
        if kind == "image":  # maps go under every points layer
            points = [
                i
                for i, other in enumerate(self.viewer.layers)
                if other.__class__.__name__ == "Points"
            ]
            if points:
                self.viewer.layers.move(self.viewer.layers.index(layer), min(points))
        return layer, True

    def draw(self, snapshot: Snapshot) -> None:
        """Turn a snapshot into layers, progress and status."""
        self.snapshot = snapshot
        p = self.placement
        for key, values in snapshot.maps.items():
            if key not in MAP_STYLES:
                continue
            layer, created = self._layer(key, map_layer(values, p, key=key))
            if not created:
                layer.data = values
                layer.contrast_limits = finite_limits(values)
        self._draw_measured(snapshot)
        coords = p.grid_to_world(snapshot.candidates)
        layer, created = self._layer(
            "candidates",
            candidates_layer(coords, size=p.point_size, units=p.napari_units),
        )
        if not created:
            layer.data = coords
        self.controls.progress.max = max(snapshot.budget, 1)
        self.controls.progress.value = snapshot.n_measured
        self._say(self._status(snapshot))
        if self.spectrum.grid_index is not None:
            self.select_grid_point(*self.spectrum.grid_index)

    def _draw_measured(self, snapshot: Snapshot) -> None:
        p = self.placement
        coords = p.grid_to_world(snapshot.measured_index)
        choosers = list(snapshot.choosers)
        layer_data = measured_layer(
            coords,
            choosers=choosers,
            errors=snapshot.measured_error,
            size=p.point_size,
            units=p.napari_units,
        )
        layer, created = self._layer("measured", layer_data)
        if created:
            return
        n = len(coords)
        layer.data = coords
        layer.features = point_features(n, choosers, snapshot.measured_error)
        if n:
            layer.symbol = [CHOOSER_SYMBOLS.get(c, "disc") for c in choosers]
            layer.face_contrast_limits = (0.0, float(max(n - 1, 1)))
            layer.face_color = "order"
        layer.refresh()

    def _status(self, s: Snapshot) -> str:
        parts = [f"{s.n_measured} of {s.budget} measured"]
        if s.seconds:
            parts.append(f"last step {s.seconds:.1f} s")
        if s.metrics and "mse_mean" in s.metrics:
            parts.append(f"surrogate MSE {s.metrics['mse_mean']:.3g}")
        if s.note and s.note not in ("step", "opened"):
            parts.append(s.note)
        if s.done:
            parts.append("budget spent")
        return " · ".join(parts)

    # -- the spectrum panel ---------------------------------------------------------
    def _on_click(self, viewer, event) -> None:
        if event.type != "mouse_press" or self.placement is None:
            return
        found = self.placement.world_to_grid(event.position)
        if found is not None:
            self.select_grid_point(*found)

    def select_grid_point(self, row: int, col: int) -> None:
        """Show the measured and predicted spectra of grid point (row, col)."""
        s, live = self.snapshot, self.live
        if s is None or live is None:
            self.spectrum.clear("no session yet")
            return
        data = live.explorer.data
        hits = np.flatnonzero(
            (s.measured_index[:, 0] == row) & (s.measured_index[:, 1] == col)
        )
        measured = s.measured_spectra[hits[0]] if hits.size else None
        predicted = None
        if s.predicted is not None:
            values = s.predicted[row, col]
            predicted = values if np.isfinite(values).all() else None
        title = f"grid ({row}, {col})"
        if hits.size:
            k = int(hits[0])
            title += f" · measured #{k} ({s.choosers[k]})"
        axis = data.spectral_axis
        self.spectrum.show_spectra(
            (row, col),
            axis.values,
            measured=measured,
            predicted=predicted,
            xlabel=axis_label(axis.name, axis.quantity, axis.units),
            ylabel=axis_label(
                "", data.spectra_quantity or "response", data.spectra_units
            ),
            title=title,
        )

    # -- the operator ---------------------------------------------------------------
    def operator_layer(self):
        """The layer of points the operator wants measured (created on
        first use)."""
        layer = self.layers.get("operator")
        if layer is not None and layer in self.viewer.layers:
            return layer
        p = self.placement
        kwargs = {
            "name": OPERATOR_LAYER,
            "ndim": 2,
            "size": p.point_size if p else 1.0,
            "face_color": "magenta",
            "border_color": "white",
            "symbol": "cross",
            "metadata": {"points": "operator"},
        }
        if p is not None and p.napari_units:
            kwargs["units"] = p.napari_units
        if self.live is not None:
            self._tag(kwargs)
        layer = self.viewer.add_points(np.zeros((0, 2)), **kwargs)
        self.layers["operator"] = layer
        return layer

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


def _ours(layer) -> bool:
    """Whether a layer was drawn by a session (maps, points, structure)."""
    meta = layer.metadata
    return SESSION_KEY in meta or "map" in meta or "points" in meta
