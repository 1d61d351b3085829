"""The Python entry point: sidpy Datasets in, sidpy Datasets out.

:class:`CuriosityExplorer` is written the way pycroscopy pipelines are (like
sidpy's ``SidFitter``): construct it from a spectral image and, optionally, a
structure image, run or step it, and get the results as sidpy Datasets with
dims, units and provenance. The command line and napari are thin layers over
it.

Without a ``measure`` function the explorer replays the spectral dataset it
was given: a chosen point's spectrum is read from the data, as if the
microscope had just measured it. Then every spectrum is known, and the
learning curve (error of the surrogate over all candidates) is recorded.

With ``session=PATH`` every measured point is appended to a session file and
flushed before the next decision (see :mod:`pycroscopy_curiosity.data.journal`);
:meth:`CuriosityExplorer.resume` continues a session after a crash with no
point lost and none measured twice.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from pycroscopy_curiosity._version import __version__
from pycroscopy_curiosity.data.exploration import ExplorationData, load_exploration_data
from pycroscopy_curiosity.data.journal import CHOOSERS, Journal
from pycroscopy_curiosity.data.results import (
    map_dataset,
    measurements_dataset,
    spectra_dataset,
    write_results,
)
from pycroscopy_curiosity.errors import DataError, ParameterError
from pycroscopy_curiosity.strategies import build_strategy

log = logging.getLogger(__name__)

__all__ = [
    "WORKFLOWS",
    "CuriosityExplorer",
    "StepResult",
    "curve_metrics",
    "idle_fraction",
]

#: Workflows the explorer runs. ``random`` trains the same surrogate as
#: ``ensemble`` but picks the points at random: the baseline.
WORKFLOWS = ("ensemble", "random", "autoencoder")

#: Maps a strategy may expose, besides the predicted error.
MAP_NAMES = ("error_spread", "exploration_reward", "acquisition", "predicted_spectra")

#: Learning-curve metrics, in physical units of the spectra (squared for MSE).
CURVE_METRICS = ("mse_sum", "mse_mean", "l1_mean", "unmeasured_mse_mean", "top10_mse")


def curve_metrics(
    predicted: np.ndarray, truth: np.ndarray, measured: np.ndarray
) -> dict[str, float]:
    """Errors of predicted spectra against the truth over all candidates.

    Parameters
    ----------
    predicted, truth : numpy.ndarray
        ``n x L`` spectra in physical units.
    measured : numpy.ndarray
        ``(n,)`` bool mask of measured candidates.

    Returns
    -------
    dict
        ``mse_sum`` (per-pixel MSE summed over candidates), ``mse_mean``,
        ``l1_sum``, ``l1_mean``, the same four over the candidates not yet
        measured (``unmeasured_mse_sum``, ``unmeasured_mse_mean``,
        ``unmeasured_l1_sum``, ``unmeasured_l1_mean``; 0 when every candidate
        is measured) and ``top10_mse`` (the mean of the ten worst pixels).
    """
    per_pixel = ((predicted - truth) ** 2).mean(axis=1)
    l1 = np.abs(predicted - truth).mean(axis=1)
    open_ = ~np.asarray(measured, dtype=bool)
    worst = np.sort(per_pixel)[-10:]
    out = {
        "mse_sum": float(per_pixel.sum()),
        "mse_mean": float(per_pixel.mean()),
        "l1_sum": float(l1.sum()),
        "l1_mean": float(l1.mean()),
        "top10_mse": float(worst.mean()),
    }
    for name, values in (("mse", per_pixel), ("l1", l1)):
        rest = values[open_]
        out[f"unmeasured_{name}_sum"] = float(rest.sum())
        out[f"unmeasured_{name}_mean"] = float(rest.mean()) if rest.size else 0.0
    return out


def idle_fraction(calls: list[tuple[float, float]]) -> float:
    """Waiting share of the span of ``(start, end)`` calls (NaN under two)."""
    if len(calls) < 2:
        return float("nan")
    calls = sorted(calls)
    busy = sum(end - start for start, end in calls)
    span = calls[-1][1] - calls[0][0]
    return max(0.0, 1.0 - busy / span) if span > 0 else 0.0


@dataclass(frozen=True)
class StepResult:
    """What one step did."""

    indices: np.ndarray
    n_measured: int
    seconds: float
    metrics: dict[str, float] | None


def _count(value: float | int, n: int, what: str) -> int:
    """A count given directly or as a fraction of ``n``."""
    if isinstance(value, float) and 0 < value < 1:
        return max(1, int(round(value * n)))
    if int(value) != value or value < 1:
        raise ParameterError(
            f"{what} must be a positive count or a fraction in (0, 1), got {value}"
        )
    return int(value)


class CuriosityExplorer:
    """Curiosity-driven exploration of a spectral image.

    Parameters
    ----------
    spectral : sidpy.Dataset or ExplorationData
        The spectral image (or an already built data object).
    image : sidpy.Dataset, optional
        A separate structure image.
    workflow : {'ensemble', 'random', 'autoencoder'}
        How points are chosen: the Im2spec ensemble with curiosity, the same
        models with random points, or the autoencoder-latent workflow.
    patch : int
        Patch size ``P`` (16 as published).
    border : {'valid', 'reflect'}
        Border policy of the candidates.
    init : int or float
        Initial random points: a count, or a fraction of the candidates (0.2
        as published).
    budget : int, optional
        Total measurements including the initial ones; by default the initial
        points plus 300 iterations of ``batch`` points, capped at the number
        of candidates.
    batch : int
        Points per iteration.
    seed : int
        Seeds everything; the same seed gives the same points on the CPU.
    measure : Microscope or callable, optional
        A :class:`~pycroscopy_curiosity.microscope.Microscope` backend, or
        ``measure(grid_index) -> spectra`` (``k x 2`` grid positions in,
        ``k x L`` spectra in physical units out). When omitted the spectral
        dataset is replayed.
    eval_every : int
        Record the learning curve after every this many measurements (replay
        only).
    threads : int, optional
        torch threads (torch's default when omitted).
    data_options : dict, optional
        For sidpy input: ``image_index``, ``image_reduce``, ``spectral_range``
        and the other options of
        :meth:`~pycroscopy_curiosity.data.exploration.ExplorationData.from_sidpy`.
    session : str or path-like, optional
        A new session file: every measured point is appended and flushed
        there before the next decision, and :meth:`close` adds the results.
    overwrite : bool
        Replace an existing file at ``session`` (otherwise an error).
    load : dict, optional
        How the data were read (``path`` and the options of
        :func:`~pycroscopy_curiosity.data.exploration.load_exploration_data`),
        stored in the session so that :meth:`resume` can read them again;
        :meth:`from_file` sets it.
    microscope : str, optional
        How the backend was opened (``'replay:FILE'``, ``'remote://HOST:PORT'``,
        ``'aecroscopy'``), stored in the session for the record.
    **options
        Workflow settings, e.g. ``beta``, ``lam``, ``device``,
        ``min_spacing``, ``ensemble_fraction`` (see
        :class:`~pycroscopy_curiosity.strategies.ensemble.EnsembleOptions`),
        or for the autoencoder workflow ``direction``, ``sigma``, ``lam``,
        ``random_step`` (see
        :class:`~pycroscopy_curiosity.strategies.autoencoder.AutoencoderOptions`;
        its ``budget`` is the explorer's).

    Examples
    --------
    >>> explorer = CuriosityExplorer(  # doctest: +SKIP
    ...     loops, data_options={"image_index": 25, "spectral_range": "49:99"},
    ...     patch=9, init=30, budget=200, beta=1.0,
    ... )
    >>> explorer.run()  # doctest: +SKIP
    >>> results = explorer.results()  # dict of sidpy Datasets  # doctest: +SKIP
    """

    def __init__(
        self,
        spectral,
        image=None,
        *,
        workflow: str = "ensemble",
        patch: int = 16,
        border: str = "valid",
        init: int | float = 0.2,
        budget: int | None = None,
        batch: int = 1,
        seed: int = 0,
        measure=None,
        eval_every: int = 10,
        threads: int | None = None,
        data_options: dict | None = None,
        session=None,
        overwrite: bool = False,
        load: dict | None = None,
        microscope: str | None = None,
        **options,
    ) -> None:
        from pycroscopy_curiosity.models.runtime import set_threads

        if workflow not in WORKFLOWS:
            raise ParameterError(
                f"workflow must be one of {', '.join(WORKFLOWS)}, got {workflow!r}"
            )
        if isinstance(spectral, ExplorationData):
            self.data = spectral
        else:
            self.data = ExplorationData.from_sidpy(
                spectral, image, **(data_options or {})
            )
        self.candidates = self.data.candidates(patch, border)
        n = len(self.candidates)
        self.workflow = workflow
        self.batch = _count(batch, n, "batch")
        self.n_init = min(_count(init, n, "init"), n)
        self.budget = (
            min(n, self.n_init + 300 * self.batch) if budget is None else int(budget)
        )
        if not self.n_init <= self.budget <= n:
            raise ParameterError(
                f"budget {self.budget} must lie between the {self.n_init} initial "
                f"points and the {n} candidates"
            )
        if eval_every < 1:
            raise ParameterError(f"eval_every must be at least 1, got {eval_every}")
        self.seed = int(seed)
        self.eval_every = int(eval_every)
        self.measure = measure
        set_threads(threads)
        self.options, self.strategy = self._make_strategy(workflow, options)
        self._truth = (
            self.candidates.from_grid(self.data.spectra) if measure is None else None
        )
        self.history: list[dict[str, float]] = []
        self.iterations: list[int] = []
        self.timestamps: list[float] = []
        #: Who chose each measured point: ``'initial'``, ``'model'`` or
        #: ``'operator'``, in measurement order.
        self.choosers: list[str] = []
        #: ``(start, end)`` perf-counter seconds of every microscope call.
        self.instrument_log: list[tuple[float, float]] = []
        self.load = dict(load) if load else None
        self.microscope = microscope
        self.journal: Journal | None = None
        self._last_eval = -1
        self._iteration = 0
        self._initial_done = False
        self._proposal: np.ndarray | None = None
        self._run_id = uuid.uuid4().hex[:12]
        self._requests = 0
        self._lookup = np.full(self.data.grid_shape, -1, dtype=np.int64)
        gi = self.candidates.grid_index
        self._lookup[gi[:, 0], gi[:, 1]] = np.arange(n)
        self._started = time.time()
        if session is not None:
            self.journal = Journal.create(
                session,
                n_spec=self.data.n_spec,
                config=self.session_config(),
                overwrite=overwrite,
            )

    def _make_strategy(self, workflow: str, options: dict):
        """The options object and strategy of a workflow ("random": the
        ensemble's surrogate with random points)."""
        if workflow == "random":
            workflow = "ensemble"
            options.setdefault("selection", "random")
        strategy = build_strategy(
            workflow,
            self.candidates,
            self.data.n_spec,
            options,
            seed=self.seed,
            budget=self.budget,
        )
        return strategy.options, strategy

    @property
    def label(self) -> str:
        """The workflow's name, marked when it measures random points."""
        if self.workflow != "random" and self.options.selection == "random":
            return f"{self.workflow} (random points)"
        return self.workflow

    @property
    def direction(self) -> str:
        """``'im2spec'`` or, for the inverse surrogate, ``'spec2im'``."""
        return getattr(self.options, "direction", "im2spec")

    @classmethod
    def from_file(cls, path, *, data_options: dict | None = None, **kwargs):
        """Build from an NSID-HDF5 file (``data_options`` as for
        :func:`~pycroscopy_curiosity.data.exploration.load_exploration_data`)."""
        from pathlib import Path

        data = load_exploration_data(path, **(data_options or {}))
        load = {"path": str(Path(path).resolve()), **(data_options or {})}
        return cls(data, load=load, **kwargs)

    def session_config(self) -> dict:
        """What a session file stores to rebuild this explorer."""
        options = self.options.as_dict()
        if self.workflow == "autoencoder":
            options.pop("budget", None)
        return {
            "workflow": self.workflow,
            "patch": self.candidates.patch,
            "border": self.candidates.border,
            "init": self.n_init,
            "budget": self.budget,
            "batch": self.batch,
            "seed": self.seed,
            "eval_every": self.eval_every,
            "options": options,
            "load": self.load,
            "microscope": self.microscope,
            "n_candidates": len(self.candidates),
            "n_spec": self.data.n_spec,
            "grid_shape": list(self.data.grid_shape),
            "package_version": __version__,
        }

    @classmethod
    def resume(
        cls,
        path,
        *,
        measure=None,
        spectral=None,
        image=None,
        data_options: dict | None = None,
        threads: int | None = None,
        microscope: str | None = None,
        **changes,
    ):
        """Continue a session from its file, after a crash or a stop.

        The explorer is rebuilt with the stored settings, its models are
        trained on every stored measurement, and points that were sent to the
        microscope but never came back are measured first, under their
        original request ids. Nothing stored is measured again.

        Parameters
        ----------
        path : str or path-like
            The session file; new points are appended to it.
        measure : Microscope or callable, optional
            The backend to continue with (the data are replayed without one).
        spectral, image, data_options
            The data, when the session was started from in-memory sidpy
            Datasets; by default the file recorded in the session is read
            again with the recorded options.
        changes
            Settings to change on resume, e.g. ``budget`` or ``device``.

        Raises
        ------
        DataFileError
            When ``path`` is not a readable session file.
        DataError
            When the data do not match the stored measurements.
        """
        record = Journal.read(path)
        config = dict(record.config)
        if spectral is None:
            load = config.get("load")
            if not load:
                raise ParameterError(
                    f"session {str(path)!r} was started from in-memory data; "
                    "pass the same data as spectral= (and image=)"
                )
            load = dict(load)
            data = load_exploration_data(load.pop("path"), **load)
        elif isinstance(spectral, ExplorationData):
            data = spectral
        else:
            data = ExplorationData.from_sidpy(spectral, image, **(data_options or {}))
        options = dict(config["options"])
        for key in list(changes):
            if key in options:
                options[key] = changes.pop(key)
        settings = {
            key: config[key]
            for key in ("workflow", "patch", "border", "init", "budget", "batch")
        }
        settings.update(seed=config["seed"], eval_every=config["eval_every"])
        settings.update(changes)
        explorer = cls(
            data,
            measure=measure,
            threads=threads,
            load=config.get("load"),
            microscope=microscope or config.get("microscope"),
            **settings,
            **options,
        )
        if len(explorer.candidates) != config["n_candidates"] or (
            data.n_spec != config["n_spec"]
        ):
            raise DataError(
                f"session {str(path)!r} was recorded on {config['n_candidates']} "
                f"candidates with spectra of length {config['n_spec']}; these data "
                f"give {len(explorer.candidates)} and {data.n_spec}"
            )
        explorer.journal = Journal(path, record.strategies)
        explorer._restore(record)
        return explorer

    def _restore(self, record) -> None:
        """Tell the strategy every stored point, then measure lost requests."""
        if record.n:
            gi = self.candidates.grid_index[record.candidate]
            if not np.array_equal(gi, record.grid_index):
                raise DataError(
                    f"session {self.journal.path!r}: stored grid positions do not "
                    "match the candidates of these data"
                )
            physical = record.spectra
            if self._truth is not None:
                normalized = self._truth[record.candidate]
            else:
                normalized = self.data.spectra_norm.apply(physical)
            self.strategy.tell(record.candidate, normalized)
            self.iterations = [int(i) for i in record.iteration]
            self.choosers = list(record.chooser)
            self.timestamps = [float(t - record.time[0]) for t in record.time]
            self._iteration = int(record.iteration.max()) + 1
            self._initial_done = True
            self._evaluate()
        log.info("resumed session %s: %d points stored", self.journal.path, record.n)
        lost = record.pending()
        by_request: dict[str, list[int]] = {}
        for candidate, request in lost.items():
            by_request.setdefault(request, []).append(candidate)
        for request, candidates in by_request.items():
            room = self.budget - self.n_measured
            if room <= 0:
                break
            indices = np.asarray(candidates[:room], dtype=np.int64)
            log.info(
                "asking again for %d point(s) of request %s", len(indices), request
            )
            self._measure_and_tell(indices, "model", request=request)

    # -- the loop --------------------------------------------------------------
    @property
    def n_measured(self) -> int:
        """Points measured so far."""
        return self.strategy.n_measured

    @property
    def done(self) -> bool:
        """Whether the budget is spent."""
        return self.n_measured >= self.budget

    def _new_request(self) -> str:
        self._requests += 1
        return f"{self._run_id}-{self._requests:06d}"

    def _measure(self, indices: np.ndarray, request: str) -> np.ndarray:
        """Physical spectra at candidates, from the data or the microscope.

        Runs in a worker thread when pipelining: it touches no shared state
        except :attr:`instrument_log`.
        """
        start = time.perf_counter()
        try:
            if self.measure is None:
                return self.data.physical_spectra(self._truth[indices])
            grid_index = self.candidates.grid_index[indices]
            if hasattr(self.measure, "measure"):  # a Microscope backend
                coordinates = self.data.grid_coordinates(grid_index)
                physical = self.measure.measure_as(
                    request, grid_index, coordinates
                ).spectra
            else:
                physical = np.asarray(self.measure(grid_index), dtype=np.float64)
        finally:
            self.instrument_log.append((start, time.perf_counter()))
        expected = (len(indices), self.data.n_spec)
        if physical.shape != expected:
            raise ParameterError(
                f"measure() returned spectra of shape {physical.shape}; "
                f"expected {expected}"
            )
        return physical

    def _send(self, indices: np.ndarray, request: str | None = None) -> str:
        """Note the request in the journal before the points go out."""
        request = request or self._new_request()
        if self.journal is not None:
            self.journal.add_requests(indices, request)
        return request

    def _record(
        self, indices: np.ndarray, physical: np.ndarray, chooser: str, request: str
    ) -> None:
        """Store measured points (journal first, flushed) and note who chose
        them; the strategy is told separately."""
        if self.journal is not None:
            grid_index = self.candidates.grid_index[indices]
            self.journal.append(
                candidate=indices,
                grid_index=grid_index,
                coordinates=self.data.grid_coordinates(grid_index),
                spectra=physical,
                iteration=self._iteration,
                chooser=chooser,
                strategy=self.label,
                request=request,
            )
        self.iterations.extend([self._iteration] * len(indices))
        self.choosers.extend([chooser] * len(indices))
        self.timestamps.extend([time.time() - self._started] * len(indices))
        self._iteration += 1

    def _tell(self, indices: np.ndarray, physical: np.ndarray) -> None:
        if self.measure is None:
            normalized = self._truth[indices]
        else:
            normalized = self.data.spectra_norm.apply(physical)
        self._proposal = None
        self.strategy.tell(indices, normalized)

    def _measure_and_tell(
        self, indices: np.ndarray, chooser: str, request: str | None = None
    ) -> StepResult:
        start = time.perf_counter()
        request = self._send(indices, request)
        physical = self._measure(indices, request)
        self._record(indices, physical, chooser, request)
        return self._learn(indices, physical, start)

    def _learn(self, indices: np.ndarray, physical: np.ndarray, start: float):
        """Tell the strategy, record the learning curve; the step's result."""
        self._tell(indices, physical)
        metrics = self._evaluate()
        return StepResult(
            indices, self.n_measured, time.perf_counter() - start, metrics
        )

    def _next_size(self, pending: int = 0) -> int:
        """Points in the next model batch (the initial batch first)."""
        room = self.budget - self.n_measured - pending
        size = self.batch if self._initial_done else self.n_init
        return max(0, min(size, room))

    def propose(self, k: int | None = None) -> np.ndarray:
        """The candidates the model would measure next, without measuring.

        The next :meth:`step` measures exactly these (unless a measurement
        comes in between); ``candidates.grid_index`` gives their grid
        positions. ``k`` defaults to the size of the next batch.
        """
        if self.done:
            raise ParameterError(f"the budget of {self.budget} measurements is spent")
        k = self._next_size() if k is None else int(k)
        if self._proposal is None or len(self._proposal) != k:
            self._proposal = self.strategy.ask(k)
        return self._proposal.copy()

    def step(self) -> StepResult:
        """Choose, measure and learn from one batch (the initial points first)."""
        if self.done:
            raise ParameterError(f"the budget of {self.budget} measurements is spent")
        chooser = "model" if self._initial_done else "initial"
        indices = self.propose()
        self._initial_done = True
        return self._measure_and_tell(indices, chooser)

    def measure_points(self, grid_index, chooser: str = "operator") -> StepResult:
        """Measure points chosen outside the model, e.g. by the operator.

        Parameters
        ----------
        grid_index : array-like
            ``m x 2`` ``(row, col)`` positions on the spectral grid; each must
            be a candidate that is not measured yet. They count towards the
            budget.
        chooser : {'operator', 'model', 'initial'}
            Stored with the points (``'operator'`` by default).

        Raises
        ------
        ParameterError
            Naming the first point that is off the grid, not a candidate,
            already measured or given twice.
        """
        if chooser not in CHOOSERS:
            raise ParameterError(f"chooser must be one of {CHOOSERS}, got {chooser!r}")
        gi = np.asarray(grid_index)
        if gi.size == 0 or gi.ndim > 2 or gi.shape[-1] != 2:
            raise ParameterError(
                f"grid_index must be an m x 2 array of (row, col); got shape {gi.shape}"
            )
        gi = gi.reshape(-1, 2)
        if not np.all(np.mod(gi, 1) == 0):
            raise ParameterError("grid_index must hold integer (row, col) positions")
        gi = gi.astype(np.int64)
        ny, nx = self.data.grid_shape
        seen: set[int] = set()
        indices = np.empty(len(gi), dtype=np.int64)
        for i, (row, col) in enumerate(gi):
            where = f"point (row {row}, col {col})"
            if not (0 <= row < ny and 0 <= col < nx):
                raise ParameterError(f"{where} is outside the {ny} x {nx} grid")
            c = int(self._lookup[row, col])
            if c < 0:
                raise ParameterError(
                    f"{where} is not a candidate (its {self.candidates.patch} px "
                    "patch leaves the image, or its data are masked)"
                )
            if self.strategy.measured[c] or c in seen:
                raise ParameterError(f"{where} is already measured or given twice")
            seen.add(c)
            indices[i] = c
        return self._measure_and_tell(indices, chooser)

    def _evaluate(self) -> dict[str, float] | None:
        if self._truth is None:
            return None
        due = self.n_measured // self.eval_every
        if due == self._last_eval and not self.done:
            return None
        self._last_eval = due
        if self.direction == "spec2im":
            # patches predicted from every candidate's (replayed) spectrum
            metrics = curve_metrics(
                self.strategy.predict_patches(self._truth).reshape(
                    len(self._truth), -1
                ),
                self.candidates.patches().reshape(len(self._truth), -1),
                self.strategy.measured,
            )
        else:
            norm = self.data.spectra_norm
            metrics = curve_metrics(
                norm.invert(self.strategy.maps()["predicted_spectra"]),
                norm.invert(self._truth),
                self.strategy.measured,
            )
        metrics["n"] = self.n_measured
        self.history.append(metrics)
        return metrics

    def run(
        self,
        progress: bool = False,
        callback: Callable[[StepResult], None] | None = None,
        pipeline: bool = False,
    ):
        """Step until the budget is spent; returns ``self``.

        Parameters
        ----------
        progress : bool
            Show a tqdm progress bar of measurements.
        callback : callable, optional
            Called with every :class:`StepResult`.
        pipeline : bool
            Decide the next batch while the microscope measures the current
            one. The instrument then waits only for decisions that take longer
            than a measurement, at the price of deciding without the batch
            being measured (its points are excluded from the decision). Every
            point is still stored before the decision that follows its
            arrival.
        """
        from tqdm.auto import tqdm

        bar = tqdm(
            total=self.budget, initial=self.n_measured, unit="pt", disable=not progress
        )

        def report(result: StepResult) -> None:
            bar.update(len(result.indices))
            if result.metrics:
                bar.set_postfix(mse_mean=f"{result.metrics['mse_mean']:.3g}")
            if callback is not None:
                callback(result)

        try:
            if pipeline:
                self._run_pipelined(report)
            else:
                while not self.done:
                    report(self.step())
        finally:
            bar.close()
        return self

    def _run_pipelined(self, report: Callable[[StepResult], None]) -> None:
        """The loop of :meth:`run` with measuring and deciding overlapped."""
        if self.done:
            return
        chooser = "model" if self._initial_done else "initial"
        batch = self.propose()
        self._initial_done = True
        told: tuple | None = None
        with ThreadPoolExecutor(1, thread_name_prefix="microscope") as pool:
            while batch is not None:
                start = time.perf_counter()
                request = self._send(batch)
                future = pool.submit(self._measure, batch, request)
                if told is not None:  # learn from the previous batch meanwhile
                    report(self._learn(*told, start))
                size = self._next_size(pending=len(batch))
                following = self.strategy.ask(size, exclude=batch) if size > 0 else None
                physical = future.result()
                self._record(batch, physical, chooser, request)
                told, batch, chooser = (batch, physical), following, "model"
        report(self._learn(*told, time.perf_counter()))

    def idle_fraction(self) -> float:
        """Share of the time between the first and the last microscope call
        that the microscope spent waiting for decisions (NaN before two
        calls)."""
        return idle_fraction(self.instrument_log)

    def close(self) -> None:
        """Finish the session: its results go into the session file as NSID
        datasets (a new ``Results_NNN`` group; older ones are removed).
        Without a session nothing happens; closing twice is harmless."""
        if self.journal is None or self.n_measured == 0:
            return
        self._save_into_session()
        log.info("session %s closed with %d points", self.journal.path, self.n_measured)

    def _save_into_session(self) -> dict[str, str]:
        """Add the results to the session file; older results groups go."""
        import h5py

        from pycroscopy_curiosity.data.results import RESULTS_GROUP

        written = write_results(
            self.journal.path,
            self.results(),
            parameters=self.parameters(),
            data=self.data,
            mode="a",
        )
        keep = next(iter(written.values())).strip("/").split("/")[0]
        with h5py.File(self.journal.path, "a") as handle:
            for name in list(handle):
                if name.startswith(RESULTS_GROUP + "_") and name != keep:
                    del handle[name]
        return written

    # -- results -------------------------------------------------------------
    def parameters(self) -> dict:
        """Every setting of the run, for provenance."""
        return {
            "workflow": self.workflow,
            "patch": self.candidates.patch,
            "border": self.candidates.border,
            "n_candidates": len(self.candidates),
            "init": self.n_init,
            "budget": self.budget,
            "batch": self.batch,
            "seed": self.seed,
            "eval_every": self.eval_every,
            "replay": self.measure is None,
            "microscope": self.microscope or "",
            "options": self.options.as_dict(),
            "package_version": __version__,
        }

    def maps(self) -> dict[str, np.ndarray]:
        """Current maps on the spectral grid (NaN off the candidates).

        For the ensemble workflows ``predicted_error`` is the L1 error in the
        physical units of the spectra and ``acquisition`` the desirability in
        [0, 1]; for the autoencoder workflow ``predicted_error`` is the
        predicted MSE relative to the mean over measured points, with
        ``error_spread`` (its MC-dropout spread), ``exploration_reward`` and
        the ``acquisition`` score. ``measured_order`` is the measurement index
        (NaN where not measured); ``predicted_spectra`` is ``ny x nx x L`` in
        normalised units.
        """
        raw = self.strategy.maps()
        c = self.candidates
        order = np.full(len(c), np.nan, dtype=np.float32)
        order[self.strategy.order] = np.arange(self.n_measured, dtype=np.float32)
        out = {"measured_order": c.to_grid(order)}
        for name in ("predicted_error", *MAP_NAMES):
            if name not in raw:
                continue
            values = raw[name]
            if name == "predicted_error" and self.workflow != "autoencoder":
                values = self.data.spectra_norm.invert_difference(values)
            out[name] = c.to_grid(np.asarray(values, dtype=np.float32))
        return out

    def measured_points(self) -> tuple[np.ndarray, np.ndarray]:
        """``(grid_index, spectra)`` in measurement order (normalised spectra)."""
        order = np.asarray(self.strategy.order, dtype=np.int64)
        return self.candidates.grid_index[order], self.strategy.spectra[order]

    def results(self) -> dict:
        """The results as sidpy Datasets, by name.

        Raises
        ------
        ParameterError
            Before the first measurement: there are no results yet.
        """
        import sidpy

        if self.n_measured == 0:
            raise ParameterError("no results yet: nothing has been measured")

        maps = self.maps()
        data = self.data
        units = data.spectra_units or "a.u."
        out = {}
        relative = self.workflow == "autoencoder"
        meaning = {
            "predicted_error": (
                "predicted relative MSE of the surrogate"
                if relative
                else "predicted L1 error of the surrogate",
                "a.u." if relative else units,
            ),
            "error_spread": ("MC-dropout spread of the predicted error", "a.u."),
            "exploration_reward": ("latent exploration reward", "a.u."),
            "acquisition": (
                "acquisition score" if relative else "acquisition desirability",
                "a.u.",
            ),
            "measured_order": ("measurement order", "index"),
        }
        for name, (quantity, unit) in meaning.items():
            if name in maps:
                out[name] = map_dataset(
                    data, maps[name], name=name, quantity=quantity, units=unit
                )
        if "predicted_spectra" in maps:
            out["predicted_spectra"] = spectra_dataset(data, maps["predicted_spectra"])
        grid_index, spectra = self.measured_points()
        n = len(grid_index)
        out["measured"] = measurements_dataset(
            data,
            grid_index,
            spectra,
            extra={
                "iteration": self.iterations[:n],
                "chooser": self.choosers[:n],
                "strategy": [self.label] * n,
                "time_s": self.timestamps[:n],
            },
        )
        if self.history:
            values = np.array(
                [[h[m] for m in CURVE_METRICS] for h in self.history], np.float32
            )
            inverse = self.direction == "spec2im"
            curve = sidpy.Dataset.from_array(
                values,
                title="learning_curve",
                # Spec2im is scored on patches of the normalised image
                quantity="Spec2im patch error" if inverse else "surrogate error",
                units="a.u." if inverse else f"({units})^2",
            )
            curve.data_type = "LINE_PLOT_FAMILY"
            curve.set_dimension(
                0,
                sidpy.Dimension(
                    np.array([h["n"] for h in self.history], float),
                    "n_measured",
                    "measurements",
                    "count",
                    "TEMPORAL",
                ),
            )
            curve.set_dimension(
                1,
                sidpy.Dimension(
                    np.arange(len(CURVE_METRICS)),
                    "metric",
                    "metric",
                    "index",
                    "CHANNEL",
                ),
            )
            curve.metadata = {"metrics": list(CURVE_METRICS)}
            out["learning_curve"] = curve
        return out

    def save(self, path, mode: str = "w") -> dict[str, str]:
        """Write :meth:`results` with provenance into an NSID-HDF5 file.

        Saving into the session file itself never replaces its journal: the
        results are added (see :meth:`close`) whatever ``mode`` says.
        """
        from pathlib import Path

        if (
            self.journal is not None
            and Path(path).resolve() == Path(self.journal.path).resolve()
        ):
            return self._save_into_session()
        return write_results(
            path,
            self.results(),
            parameters=self.parameters(),
            data=self.data,
            mode=mode,
        )

    def summary(self) -> str:
        """A closing summary of the run."""
        lines = [
            f"{self.label}: {self.n_measured} of {len(self.candidates)} candidates "
            f"measured ({self.n_init} initial, batches of {self.batch})"
        ]
        times = getattr(self.strategy, "times", [])
        updates = [t.total() for t in times[1:] if not t.ensemble]
        if updates:
            kind = " (best-model update)" if self.workflow != "autoencoder" else ""
            lines.append(
                f"median seconds per iteration{kind}: {np.median(updates):.3f}"
            )
        if self.measure is not None and len(self.instrument_log) > 1:
            lines.append(
                f"microscope idle while the model decided: "
                f"{100 * self.idle_fraction():.0f} % of the time"
            )
        if self.history:
            last = self.history[-1]
            lines.append(
                f"surrogate error over all candidates: per-pixel MSE summed "
                f"{last['mse_sum']:.4g}, mean {last['mse_mean']:.4g}, ten worst "
                f"{last['top10_mse']:.4g}"
            )
        return "\n".join(lines)
