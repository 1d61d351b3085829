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
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pycroscopy_curiosity._version import __version__
from pycroscopy_curiosity.data.exploration import ExplorationData, load_exploration_data
from pycroscopy_curiosity.data.results import (
    map_dataset,
    measurements_dataset,
    spectra_dataset,
    write_results,
)
from pycroscopy_curiosity.errors import ParameterError

log = logging.getLogger(__name__)

__all__ = ["WORKFLOWS", "CuriosityExplorer", "StepResult", "curve_metrics"]

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
        self._last_eval = -1
        self._iteration = 0
        self._started = time.time()

    def _make_strategy(self, workflow: str, options: dict):
        """The options object and strategy of a workflow."""
        if workflow == "autoencoder":
            from pycroscopy_curiosity.strategies.autoencoder import (
                AutoencoderOptions,
                AutoencoderStrategy,
            )

            settings = AutoencoderOptions(**{"budget": self.budget, **options})
            strategy = AutoencoderStrategy(
                self.candidates, self.data.n_spec, settings, seed=self.seed
            )
            return settings, strategy
        from pycroscopy_curiosity.strategies.ensemble import (
            EnsembleOptions,
            EnsembleStrategy,
        )

        if workflow == "random":
            options.setdefault("selection", "random")
        settings = EnsembleOptions(**options)
        strategy = EnsembleStrategy(
            self.candidates, self.data.n_spec, settings, seed=self.seed
        )
        return settings, strategy

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
        data = load_exploration_data(path, **(data_options or {}))
        return cls(data, **kwargs)

    # -- the loop --------------------------------------------------------------
    @property
    def n_measured(self) -> int:
        """Points measured so far."""
        return self.strategy.n_measured

    @property
    def done(self) -> bool:
        """Whether the budget is spent."""
        return self.n_measured >= self.budget

    def _spectra_for(self, indices: np.ndarray) -> np.ndarray:
        """Normalised spectra at candidates, from the data or the microscope."""
        if self.measure is None:
            return self._truth[indices]
        grid_index = self.candidates.grid_index[indices]
        if hasattr(self.measure, "measure"):  # a Microscope backend
            coordinates = self.data.grid_coordinates(grid_index)
            physical = self.measure.measure(grid_index, coordinates).spectra
        else:
            physical = np.asarray(self.measure(grid_index), dtype=np.float64)
        expected = (len(indices), self.data.n_spec)
        if physical.shape != expected:
            raise ParameterError(
                f"measure() returned spectra of shape {physical.shape}; "
                f"expected {expected}"
            )
        return self.data.spectra_norm.apply(physical)

    def step(self) -> StepResult:
        """Choose, measure and learn from one batch (the initial points first)."""
        if self.done:
            raise ParameterError(f"the budget of {self.budget} measurements is spent")
        start = time.perf_counter()
        first = self.n_measured == 0
        k = self.n_init if first else min(self.batch, self.budget - self.n_measured)
        indices = self.strategy.ask(k)
        spectra = self._spectra_for(indices)
        self.strategy.tell(indices, spectra)
        self.iterations.extend([self._iteration] * len(indices))
        self._iteration += 1
        self.timestamps.extend([time.time() - self._started] * len(indices))
        metrics = self._evaluate()
        return StepResult(
            indices, self.n_measured, time.perf_counter() - start, metrics
        )

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
    ):
        """Step until the budget is spent; returns ``self``.

        Parameters
        ----------
        progress : bool
            Show a tqdm progress bar of measurements.
        callback : callable, optional
            Called with every :class:`StepResult`.
        """
        from tqdm.auto import tqdm

        bar = tqdm(
            total=self.budget, initial=self.n_measured, unit="pt", disable=not progress
        )
        try:
            while not self.done:
                result = self.step()
                bar.update(len(result.indices))
                if result.metrics:
                    bar.set_postfix(mse_mean=f"{result.metrics['mse_mean']:.3g}")
                if callback is not None:
                    callback(result)
        finally:
            bar.close()
        return self

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
        """The results as sidpy Datasets, by name."""
        import sidpy

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
                "chooser": [
                    "model" if it > 0 else "initial" for it in self.iterations[:n]
                ],
                "strategy": [self.workflow] * n,
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
        """Write :meth:`results` with provenance into an NSID-HDF5 file."""
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
        if self.history:
            last = self.history[-1]
            lines.append(
                f"surrogate error over all candidates: per-pixel MSE summed "
                f"{last['mse_sum']:.4g}, mean {last['mse_mean']:.4g}, ten worst "
                f"{last['top10_mse']:.4g}"
            )
        return "\n".join(lines)
