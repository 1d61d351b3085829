"""The widget's session work, without Qt: settings, opening, stepping.

The generators here run in napari thread workers. The explorer is touched
only inside them, under the session lock, and each step yields a
:class:`Snapshot`, copies of everything the interface draws, so the
interface never reads the explorer while a step runs.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from napari_plugin._layers import mean_abs_error
from napari_plugin._registry import LiveSession, register
from napari_plugin._structure import same_file
from pycroscopy_curiosity.errors import CuriosityError, DataError, ParameterError

log = logging.getLogger(__name__)

WORKFLOWS = ("ensemble", "autoencoder", "random")
BACKENDS = ("replay", "remote", "aecroscopy")


class SessionStepError(CuriosityError):
    """A step, a measurement or opening a session failed.

    napari's generator workers swallow ``RuntimeError`` (torch's and the
    microscope's errors derive from it); this type reaches the interface.
    """


@dataclass
class SessionSettings:
    """Everything the widget's controls say about a session.

    ``structure`` is ``('dataset', (file, hdf5_path))``, ``('layer',
    StructureImage)``, ``('reduce', 'mean')`` or ``('index', None)`` (then
    ``image_index`` is the spectral index used as the image).
    """

    file: str
    spectral: str | None
    structure: tuple[str, object]
    image_index: int = 0
    spectral_range: str = ""
    workflow: str = "ensemble"
    direction: str = "im2spec"
    beta: float = 1.0
    lam: float = 0.1
    sigma: float = 0.0
    batch: int = 1
    patch: int = 16
    budget: int = 100
    init: int = 20
    seed: int = 0
    device: str = "cpu"
    backend: str = "replay"
    address: str = ""
    token_file: str = ""
    session_file: str = ""
    backend_options: dict = field(default_factory=dict)
    extra_options: dict = field(default_factory=dict)

    def check(self) -> None:
        """Raise :class:`ParameterError` naming the first unusable setting."""
        if not self.file:
            raise ParameterError("choose an NSID-HDF5 file with the spectra first")
        if not Path(self.file).is_file():
            raise ParameterError(f"data file {self.file!r} does not exist")
        if self.workflow not in WORKFLOWS:
            raise ParameterError(f"workflow must be one of {WORKFLOWS}")
        if self.backend not in BACKENDS:
            raise ParameterError(f"microscope must be one of {BACKENDS}")
        if self.backend == "remote" and not self.address.startswith("remote://"):
            raise ParameterError(
                f"the remote microscope needs an address remote://HOST:PORT, got "
                f"{self.address!r}"
            )
        if self.init > self.budget:
            raise ParameterError(
                f"initial points ({self.init}) exceed the budget ({self.budget})"
            )

    def data_options(self) -> dict:
        """Options of ``load_exploration_data`` (except the file)."""
        options: dict = {}
        if self.spectral:
            options["dataset"] = self.spectral
        if self.spectral_range.strip():
            options["spectral_range"] = self.spectral_range.strip()
        kind, value = self.structure
        if kind == "dataset":
            file, path = value
            options["image_dataset"] = path
            if Path(file).resolve() != Path(self.file).resolve():
                options["image_file"] = str(Path(file).resolve())
        elif kind == "reduce":
            options["image_reduce"] = value
        elif kind == "index":
            options["image_index"] = int(self.image_index)
        return options

    def workflow_options(self) -> dict:
        """Keyword options of the workflow (plus ``extra_options``)."""
        options: dict = {"device": self.device, "lam": float(self.lam)}
        if self.workflow == "autoencoder":
            options.update(direction=self.direction, sigma=float(self.sigma))
        else:
            options["beta"] = float(self.beta)
        options.update(self.extra_options)
        return options

    @property
    def microscope_spec(self) -> str:
        """The backend's description, as ``open_microscope`` reads it."""
        if self.backend == "replay":
            return f"replay:{Path(self.file).resolve()}"
        if self.backend == "remote":
            return self.address.strip()
        return "aecroscopy"


def spectral_datasets(path: str) -> list[str]:
    """HDF5 paths of the 3-D datasets of a file, SPECTRAL_IMAGE first.

    Raises
    ------
    DataError
        When the file holds no 3-D dataset.
    """
    from pycroscopy_curiosity.data.nsid import list_datasets

    infos = [i for i in list_datasets(path) if len(i.shape) == 3]
    infos.sort(key=lambda i: i.data_type != "SPECTRAL_IMAGE")
    if not infos:
        raise DataError(f"{path!r} holds no spectral image (no 3-D dataset)")
    return [i.path for i in infos]


def load_data(settings: SessionSettings):
    """The :class:`ExplorationData` and the ``load`` record of a session."""
    from pycroscopy_curiosity.data.exploration import (
        ExplorationData,
        load_exploration_data,
    )
    from pycroscopy_curiosity.data.nsid import read_dataset

    options = settings.data_options()
    kind, value = settings.structure
    if kind != "layer":
        data = load_exploration_data(settings.file, **options)
        return data, {"path": str(Path(settings.file).resolve()), **options}
    path = options.pop("dataset", None) or spectral_datasets(settings.file)[0]
    spectral = read_dataset(settings.file, path)
    data = ExplorationData.from_sidpy(
        spectral,
        value,
        label=f"{path!r} in {settings.file!r}",
        source_file=settings.file,
        source_path=path,
        **options,
    )
    return data, None


def _backend_kwargs(settings: SessionSettings, grid_shape) -> dict:
    """Keyword arguments of ``open_microscope`` beyond the description."""
    if settings.backend == "remote":
        return {"token_file": settings.token_file.strip() or None}
    if settings.backend == "aecroscopy":
        return {"grid_shape": tuple(grid_shape), **settings.backend_options}
    return {}


def open_backend(settings: SessionSettings, data):
    """The microscope backend the settings ask for, checked against the data.

    Raises
    ------
    ParameterError
        When the backend cannot be built here; the message says why.
    """
    try:
        from pycroscopy_curiosity.microscope import open_microscope
    except ImportError:  # an older package without the factory
        open_microscope = None
    if open_microscope is None:
        if settings.backend != "replay":
            raise ParameterError(
                f"the {settings.backend} microscope needs "
                "pycroscopy_curiosity.microscope.open_microscope, which this "
                "installation lacks; use replay or update pycroscopy-curiosity"
            )
        from pycroscopy_curiosity.microscope import ReplayMicroscope

        return ReplayMicroscope(data)
    if settings.backend == "replay":
        backend = open_microscope("replay", data=data)
    else:
        backend = open_microscope(
            settings.microscope_spec,
            data=data,
            **_backend_kwargs(settings, data.grid_shape),
        )
    try:
        from pycroscopy_curiosity.microscope import check_compatible
    except ImportError:
        return backend
    check_compatible(backend, data)
    return backend


# -- what the interface draws ---------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """A copy of the session's state after a step.

    Attributes
    ----------
    n_measured, budget : int
        Progress.
    done : bool
        Whether the budget is spent.
    maps : dict of str to numpy.ndarray
        ``ny x nx`` maps (``predicted_error``, ``acquisition``...).
    predicted : numpy.ndarray or None
        ``ny x nx x L`` predicted spectra in physical units.
    measured_index : numpy.ndarray
        ``n x 2`` grid ``(row, col)`` of the measured points, in order.
    measured_spectra : numpy.ndarray
        ``n x L`` measured spectra in physical units.
    measured_error : numpy.ndarray
        ``(n,)`` mean absolute error of the prediction at each measured point.
    choosers : tuple of str
        Who chose each measured point.
    candidates : numpy.ndarray
        ``k x 2`` grid ``(row, col)`` the model would measure next.
    metrics : dict or None
        The learning-curve entry of the step, when one was recorded.
    seconds : float
        Wall time of the step.
    note : str
        What happened, for the status line.
    """

    n_measured: int
    budget: int
    done: bool
    maps: dict
    predicted: np.ndarray | None
    measured_index: np.ndarray
    measured_spectra: np.ndarray
    measured_error: np.ndarray
    choosers: tuple
    candidates: np.ndarray
    metrics: dict | None = None
    seconds: float = 0.0
    note: str = ""


def status_line(s: Snapshot) -> str:
    """One line on a snapshot for the panel's status."""
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


@dataclass(frozen=True)
class Opened:
    """A session was opened (new or resumed); drawn before any step."""

    live: LiveSession
    backend: object
    snapshot: Snapshot


@dataclass(frozen=True)
class Rejected:
    """Operator points the explorer refused, with its reason."""

    message: str


def _choosers(explorer, n: int) -> list[str]:
    choosers = list(getattr(explorer, "choosers", []))[:n]
    if len(choosers) == n:
        return choosers
    iterations = list(getattr(explorer, "iterations", []))[:n]
    return ["initial" if it == 0 else "model" for it in iterations]


def take_snapshot(explorer, result=None, note: str = "") -> Snapshot:
    """Copy what the interface draws; call it under the session lock."""
    data = explorer.data
    n = explorer.n_measured
    maps: dict = explorer.maps() if n else {}
    normalized = maps.pop("predicted_spectra", None)
    predicted = None if normalized is None else data.physical_spectra(normalized)
    if n:
        gi, spectra = explorer.measured_points()
        spectra = data.physical_spectra(spectra)
    else:
        gi = np.zeros((0, 2), np.int64)
        spectra = np.zeros((0, data.n_spec))
    at = None if predicted is None else predicted[gi[:, 0], gi[:, 1]]
    candidates = np.zeros((0, 2), np.int64)
    if not explorer.done and hasattr(explorer, "propose"):
        proposal = explorer.propose()
        candidates = explorer.candidates.grid_index[proposal]
    return Snapshot(
        n_measured=n,
        budget=explorer.budget,
        done=explorer.done,
        maps={k: np.array(v, copy=True) for k, v in maps.items()},
        predicted=None if predicted is None else np.asarray(predicted, np.float32),
        measured_index=np.array(gi, dtype=np.int64, copy=True),
        measured_spectra=np.array(spectra, dtype=np.float64, copy=True),
        measured_error=mean_abs_error(at, spectra),
        choosers=tuple(_choosers(explorer, n)),
        candidates=np.array(candidates, dtype=np.int64, copy=True),
        metrics=None if result is None else result.metrics,
        seconds=0.0 if result is None else float(result.seconds),
        note=note,
    )


def _guarded(call, what: str):
    """Run ``call`` turning RuntimeErrors into :class:`SessionStepError`."""
    try:
        return call()
    except RuntimeError as exc:
        raise SessionStepError(f"{what} failed: {exc}") from exc


def open_session(settings: SessionSettings) -> Opened:
    """Load the data, open the backend and build the explorer."""
    from pycroscopy_curiosity.explorer import CuriosityExplorer

    settings.check()
    data, load = load_data(settings)
    backend = _guarded(lambda: open_backend(settings, data), "opening the microscope")
    kwargs = {
        "workflow": settings.workflow,
        "patch": int(settings.patch),
        "init": int(settings.init),
        "budget": int(settings.budget),
        "batch": int(settings.batch),
        "seed": int(settings.seed),
        "measure": backend,
        **settings.workflow_options(),
    }
    if settings.session_file.strip():
        kwargs.update(
            session=settings.session_file.strip(),
            load=load,
            microscope=settings.microscope_spec,
        )
    explorer = CuriosityExplorer(data, **kwargs)
    live = register(explorer)
    snapshot = _guarded(lambda: take_snapshot(explorer, note="opened"), "proposing")
    log.info("session opened: %s, budget %d", explorer.label, explorer.budget)
    return Opened(live, backend, snapshot)


def resume_session(path: str, settings: SessionSettings) -> Opened:
    """Continue a session file with the backend of the settings."""
    from pycroscopy_curiosity.explorer import CuriosityExplorer

    if not hasattr(CuriosityExplorer, "resume"):
        raise ParameterError(
            "this installation of pycroscopy-curiosity cannot resume sessions"
        )
    backend = None
    if settings.backend != "replay":
        from pycroscopy_curiosity.data.journal import Journal
        from pycroscopy_curiosity.microscope import open_microscope

        grid_shape = Journal.read(path).config.get("grid_shape")
        kwargs = _backend_kwargs(settings, grid_shape or ())
        backend = _guarded(
            lambda: open_microscope(settings.microscope_spec, **kwargs),
            "opening the microscope",
        )
    explorer = _guarded(
        lambda: CuriosityExplorer.resume(path, measure=backend), "resuming"
    )
    live = register(explorer)
    snapshot = _guarded(lambda: take_snapshot(explorer, note="resumed"), "proposing")
    return Opened(live, backend, snapshot)


def _operator_points(live: LiveSession) -> list[np.ndarray]:
    batches = []
    while True:
        try:
            batches.append(live.operator.get_nowait())
        except queue.Empty:
            return batches


def _act(live: LiveSession, action, what: str, note: str) -> Snapshot:
    """Run ``action()`` on the explorer and snapshot, under the lock."""
    explorer = live.explorer
    with live.lock:
        try:
            result = action()
            return take_snapshot(explorer, result, note=note)
        except RuntimeError as exc:
            raise SessionStepError(f"{what} failed: {exc}") from exc


def _measure_operator(live: LiveSession) -> Iterator[Snapshot | Rejected]:
    """Measure every queued batch of operator points."""
    explorer = live.explorer
    for grid_index in _operator_points(live):
        note = f"{len(grid_index)} operator point(s) measured"
        try:
            yield _act(
                live,
                lambda gi=grid_index: explorer.measure_points(gi, chooser="operator"),
                "measuring the operator's points",
                note,
            )
        except ParameterError as exc:
            yield Rejected(str(exc))


def run_steps(
    live: LiveSession, steps: int | None = None
) -> Iterator[Snapshot | Rejected]:
    """Step until the budget is spent (or ``steps`` steps), yielding after
    each; operator points queued meanwhile are measured between steps."""
    explorer = live.explorer
    taken = 0
    while True:
        yield from _measure_operator(live)
        if explorer.done or (steps is not None and taken >= steps):
            return
        yield _act(live, explorer.step, "the step", "step")
        taken += 1


def open_and_run(
    settings: SessionSettings, steps: int | None = None, resume: str | None = None
) -> Iterator[Opened | Snapshot | Rejected]:
    """Open (or resume) a session, then :func:`run_steps`."""
    opened = resume_session(resume, settings) if resume else open_session(settings)
    yield opened
    if steps != 0:
        yield from run_steps(opened.live, steps)


def measure_queued(live: LiveSession) -> Iterator[Snapshot | Rejected]:
    """Only the queued operator points (when no run is going)."""
    yield from _measure_operator(live)


def finish(live: LiveSession, backend, save_to: str = "") -> str:
    """Close the session file (results written) and the backend; returns a
    line for the status."""
    explorer = live.explorer
    with live.lock:
        if getattr(explorer, "journal", None) is not None:
            explorer.close()
            where = f"; session file {explorer.journal.path} closed"
        elif save_to:
            save_results(explorer, save_to)
            where = f"; results saved to {save_to}"
        else:
            where = ""
    if backend is not None and hasattr(backend, "close"):
        backend.close()
    return f"stopped after {explorer.n_measured} measurements{where}"


def save_results(explorer, path: str) -> None:
    """``explorer.save(path)``, adding a results group instead of replacing
    the file when ``path`` is the explorer's own session file (whose journal
    must survive)."""
    journal = getattr(explorer, "journal", None)
    if journal is not None and same_file(journal.path, path):
        explorer.save(path, mode="a")
    else:
        explorer.save(path)


def save(live: LiveSession, path: str) -> str:
    """Write the results to ``path``; returns a line for the status."""
    with live.lock:
        save_results(live.explorer, path)
    return f"results saved to {path}"
