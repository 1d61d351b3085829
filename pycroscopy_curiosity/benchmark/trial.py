"""One benchmark trial: a strategy picks points, the yardstick scores them."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from pycroscopy_curiosity.benchmark.yardstick import Yardstick, YardstickSettings
from pycroscopy_curiosity.data.exploration import ExplorationData
from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.strategies import build_strategy

log = logging.getLogger(__name__)

__all__ = ["STRATEGY_NAMES", "TrialSpec", "make_strategy", "run_trial"]

#: Strategies a benchmark can compare.
STRATEGY_NAMES = (
    "random",
    "grid",
    "sobol",
    "lhs",
    "dkl",
    "ensemble",
    "autoencoder",
    "autoencoder-mcd",
)
PARTS = ("training", "error_model", "inference", "acquisition")


@dataclass(frozen=True)
class TrialSpec:
    """Everything one trial needs besides the data.

    Attributes
    ----------
    strategy : str
        One of :data:`STRATEGY_NAMES`.
    seed : int
        Seeds the strategy and the yardstick.
    budget, init, batch : int
        Total measurements, initial points and points per iteration.
    eval_every : int
        Score the yardstick after every this many measurements.
    patch : int
        Patch size.
    border : str
        Border policy of the candidates.
    options : dict
        Settings passed to the strategy's options (``beta``, ``sigma``...).
    yardstick : YardstickSettings
        The fixed surrogate of the scores.
    threads : int
        torch threads inside the trial.
    """

    strategy: str
    seed: int
    budget: int
    init: int
    batch: int = 1
    eval_every: int = 10
    patch: int = 16
    border: str = "valid"
    options: dict = field(default_factory=dict)
    yardstick: YardstickSettings = field(default_factory=YardstickSettings)
    threads: int = 1

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGY_NAMES:
            raise ParameterError(
                f"unknown strategy {self.strategy!r}; choose from "
                f"{', '.join(STRATEGY_NAMES)}"
            )
        if not 1 <= self.init <= self.budget:
            raise ParameterError(
                f"init ({self.init}) must lie between 1 and the budget ({self.budget})"
            )
        if self.batch < 1 or self.eval_every < 1:
            raise ParameterError("batch and eval_every must be at least 1")

    def as_dict(self) -> dict:
        """Plain dict for the report."""
        return asdict(self)


def make_strategy(name: str, candidates, data: ExplorationData, spec: TrialSpec):
    """Build the strategy ``name`` on ``candidates`` (``autoencoder-mcd`` is
    the autoencoder workflow with ``sigma = 2`` unless the options say)."""
    options = dict(spec.options)
    if name == "autoencoder-mcd":
        name = "autoencoder"
        options.setdefault("sigma", 2.0)
    return build_strategy(
        name,
        candidates,
        data.n_spec,
        options,
        seed=spec.seed,
        budget=spec.budget,
        bias=data.spectral_axis.values,
    )


def _seconds(strategy, decisions: list[float]) -> dict[str, float]:
    """Median seconds per iteration: the whole decision and its parts."""
    out = {"total": float(np.median(decisions)) if decisions else 0.0}
    times = getattr(strategy, "times", [])[1:]  # the first fit is set-up
    for part in PARTS:
        values = [getattr(t, part) for t in times]
        out[part] = float(np.median(values)) if values else 0.0
    return out


def run_trial(data: ExplorationData, spec: TrialSpec) -> dict:
    """Run one strategy with one seed to the budget, scoring as it goes.

    Returns
    -------
    dict
        ``strategy``, ``seed``, ``curve`` (a list of metric dicts with ``n``),
        ``final`` and ``minimum`` (per metric over the curve),
        ``seconds_per_iteration`` (median decision time from a new spectrum
        to the next points, and its parts), ``order`` (candidate indices in
        measurement order), ``grid_index`` (their grid rows and columns) and
        ``wall_seconds``.
    """
    from pycroscopy_curiosity.models.runtime import set_threads

    start = time.perf_counter()
    set_threads(spec.threads)
    candidates = data.candidates(spec.patch, spec.border)
    if spec.budget > len(candidates):
        raise ParameterError(
            f"budget {spec.budget} exceeds the {len(candidates)} candidates"
        )
    truth = candidates.from_grid(data.spectra)
    yardstick = Yardstick(candidates, truth, data.spectra_norm.invert, spec.yardstick)
    strategy = make_strategy(spec.strategy, candidates, data, spec)
    curve: list[dict] = []
    decisions: list[float] = []
    next_eval = 0
    while strategy.n_measured < spec.budget:
        first = strategy.n_measured == 0
        k = spec.init if first else min(spec.batch, spec.budget - strategy.n_measured)
        tick = time.perf_counter()
        index = strategy.ask(k)
        strategy.tell(index, truth[index])
        if not first:
            decisions.append(time.perf_counter() - tick)
        n = strategy.n_measured
        if n >= next_eval or n == spec.budget:
            curve.append(yardstick.score(np.asarray(strategy.order), seed=spec.seed))
            next_eval = (n // spec.eval_every + 1) * spec.eval_every
    metrics = [k for k in curve[-1] if k != "n"]
    order = np.asarray(strategy.order, dtype=np.int64)
    result = {
        "strategy": spec.strategy,
        "seed": spec.seed,
        "curve": curve,
        "final": {m: curve[-1][m] for m in metrics},
        "minimum": {m: float(min(c[m] for c in curve)) for m in metrics},
        "seconds_per_iteration": _seconds(strategy, decisions),
        "order": order.tolist(),
        "grid_index": candidates.grid_index[order].tolist(),
        "wall_seconds": time.perf_counter() - start,
    }
    log.info(
        "%s seed %d: final summed MSE %.4g in %.0f s",
        spec.strategy,
        spec.seed,
        result["final"]["mse_sum"],
        result["wall_seconds"],
    )
    return result
