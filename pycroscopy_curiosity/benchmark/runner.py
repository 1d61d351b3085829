"""Run benchmark trials as tasks on dask.distributed."""

from __future__ import annotations

import logging
import os
import traceback

from pycroscopy_curiosity._version import __version__
from pycroscopy_curiosity.benchmark.report import compare, summarise
from pycroscopy_curiosity.benchmark.trial import TrialSpec, run_trial
from pycroscopy_curiosity.data.exploration import ExplorationData
from pycroscopy_curiosity.errors import ParameterError

log = logging.getLogger(__name__)

__all__ = ["run_benchmark"]


def _client(workers: int | None, scheduler: str | None):
    """A client of a running scheduler, or of a new local cluster."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        if workers:
            raise ParameterError("give either workers or a scheduler address")
        log.info("connecting to the dask scheduler at %s", scheduler)
        return Client(scheduler), None
    n = workers or os.cpu_count() or 1
    if n < 1:
        raise ParameterError(f"workers must be at least 1, got {workers}")
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: other clusters may run
        silence_logs=logging.WARNING,
    )
    log.info("started a local dask cluster of %d workers", n)
    return Client(cluster), cluster


def run_benchmark(
    data: ExplorationData,
    strategies: list[str],
    trials: int,
    *,
    budget: int,
    init: int,
    seed: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    **trial_options,
) -> dict:
    """Run ``trials`` trials of every strategy and return the report.

    Trial ``i`` of every strategy uses the seed ``seed + i``, so strategies
    are compared on the same yardstick seeds. Failed trials are kept in the
    report with their seed and error, never dropped.

    Parameters
    ----------
    data : ExplorationData
        The replayed dataset (sent once to every worker).
    strategies : list of str
        Names from :data:`~pycroscopy_curiosity.benchmark.trial.STRATEGY_NAMES`.
    trials : int
        Trials per strategy.
    budget, init : int
        Measurements per trial and initial points.
    seed : int
        Seed of the first trial.
    workers : int, optional
        Processes of a local cluster (one per CPU core by default).
    scheduler : str, optional
        Address of a running dask scheduler, used instead of a local cluster.
    progress : bool
        Show a progress bar of finished trials.
    **trial_options
        Further :class:`~pycroscopy_curiosity.benchmark.trial.TrialSpec`
        fields (``batch``, ``eval_every``, ``patch``, ``border``,
        ``yardstick``, ``threads``); ``strategy_options`` maps a strategy
        name to its settings.

    Returns
    -------
    dict
        ``dataset``, ``settings``, ``strategies`` and ``comparisons`` (see
        :mod:`pycroscopy_curiosity.benchmark.report`).
    """
    from dask.distributed import as_completed
    from tqdm.auto import tqdm

    if trials < 1:
        raise ParameterError(f"trials must be at least 1, got {trials}")
    if not strategies:
        raise ParameterError("name at least one strategy")
    per_strategy = trial_options.pop("strategy_options", {}) or {}
    specs = [
        TrialSpec(
            strategy=name,
            seed=seed + i,
            budget=budget,
            init=init,
            options=per_strategy.get(name, {}),
            **trial_options,
        )
        for name in strategies
        for i in range(trials)
    ]
    results: dict[str, list] = {name: [] for name in strategies}
    failed: dict[str, list] = {name: [] for name in strategies}
    client, cluster = _client(workers, scheduler)
    try:
        shared = client.scatter(data, broadcast=True)
        futures = {
            client.submit(run_trial, shared, spec, pure=False): spec for spec in specs
        }
        bar = tqdm(total=len(specs), unit="trial", disable=not progress)
        for future in as_completed(futures):
            spec = futures[future]
            try:
                results[spec.strategy].append(future.result())
            except Exception as exc:  # a trial's failure is data, not a crash
                log.warning("%s seed %d failed: %s", spec.strategy, spec.seed, exc)
                failed[spec.strategy].append(
                    {
                        "seed": spec.seed,
                        "error": f"{type(exc).__name__}: {exc}",
                        "traceback": "".join(
                            traceback.format_exception(type(exc), exc, None)
                        ),
                    }
                )
            bar.update(1)
        bar.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    report_strategies = {}
    for name in strategies:
        ordered = sorted(results[name], key=lambda t: t["seed"])
        report_strategies[name] = {
            "trials": ordered,
            "failed": sorted(failed[name], key=lambda f: f["seed"]),
            "summary": summarise(ordered),
        }
    first = specs[0]
    return {
        "dataset": {
            **data.source.as_dict(),
            "candidates": len(data.candidates(first.patch, first.border)),
        },
        "settings": {
            "strategies": list(strategies),
            "trials": trials,
            "budget": budget,
            "init": init,
            "seed": seed,
            "batch": first.batch,
            "eval_every": first.eval_every,
            "patch": first.patch,
            "border": first.border,
            "threads_per_trial": first.threads,
            "strategy_options": per_strategy,
            "yardstick": first.yardstick.as_dict(),
            "scheduler": scheduler
            or f"local cluster, {workers or os.cpu_count()} workers",
            "package_version": __version__,
        },
        "strategies": report_strategies,
        "comparisons": compare(report_strategies, budget),
    }
