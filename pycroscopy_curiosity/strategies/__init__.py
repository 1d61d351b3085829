"""Ways of choosing the next points, all behind :class:`Strategy`."""

from __future__ import annotations

from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.strategies.base import Strategy
from pycroscopy_curiosity.strategies.random import RandomStrategy

__all__ = ["STRATEGIES", "RandomStrategy", "Strategy", "build_strategy"]

#: Names :func:`build_strategy` knows.
STRATEGIES = ("random", "grid", "sobol", "lhs", "dkl", "ensemble", "autoencoder")


def build_strategy(
    name: str,
    candidates,
    n_spec: int,
    options: dict | None = None,
    *,
    seed: int = 0,
    budget: int | None = None,
    bias=None,
) -> Strategy:
    """The strategy ``name`` on ``candidates``, its options from ``options``.

    Parameters
    ----------
    name : str
        One of :data:`STRATEGIES`.
    candidates : CandidateGrid
        The candidates and their patches.
    n_spec : int
        Spectrum length.
    options : dict, optional
        Keyword arguments of the workflow's options class
        (``EnsembleOptions``, ``AutoencoderOptions``, ``DKLOptions``); the
        baselines take none.
    seed : int
        Seeds the strategy.
    budget : int, optional
        Total measurements: the default ``budget`` of the autoencoder
        workflow's schedule.
    bias : numpy.ndarray, optional
        Spectral axis values (used by ``dkl``).
    """
    options = dict(options or {})
    if name == "random":
        return RandomStrategy(len(candidates), n_spec, seed)
    if name == "grid":
        from pycroscopy_curiosity.strategies.baselines import GridStrategy

        return GridStrategy(candidates, n_spec, seed=seed)
    if name in ("sobol", "lhs"):
        from pycroscopy_curiosity.strategies.baselines import QuasiRandomStrategy

        return QuasiRandomStrategy(candidates, n_spec, seed=seed, method=name)
    if name == "dkl":
        from pycroscopy_curiosity.strategies.dkl import DKLOptions, DKLStrategy

        return DKLStrategy(
            candidates, n_spec, DKLOptions(**options), seed=seed, bias=bias
        )
    if name == "ensemble":
        from pycroscopy_curiosity.strategies.ensemble import (
            EnsembleOptions,
            EnsembleStrategy,
        )

        return EnsembleStrategy(candidates, n_spec, EnsembleOptions(**options), seed)
    if name == "autoencoder":
        from pycroscopy_curiosity.strategies.autoencoder import (
            AutoencoderOptions,
            AutoencoderStrategy,
        )

        if budget is not None:
            options.setdefault("budget", budget)
        return AutoencoderStrategy(
            candidates, n_spec, AutoencoderOptions(**options), seed
        )
    raise ParameterError(
        f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}"
    )
