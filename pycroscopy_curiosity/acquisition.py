"""Acquisition: from per-candidate predictions to the points to measure next.

Pure functions over numpy arrays with one value per candidate; no network is
needed to test them.
"""

from __future__ import annotations

import numpy as np

from pycroscopy_curiosity.errors import ParameterError

__all__ = [
    "curiosity_cost",
    "curiosity_desirability",
    "minmax",
    "select_batch",
]


def minmax(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1] over all entries; a constant array becomes zeros."""
    values = np.asarray(values, dtype=np.float64)
    low, high = np.nanmin(values), np.nanmax(values)
    if not np.isfinite(low) or high - low <= 0:
        return np.zeros_like(values)
    return (values - low) / (high - low)


def _check_beta_lam(beta: float, lam: float) -> None:
    if not 0 <= beta <= 1:
        raise ParameterError(f"beta must lie in [0, 1], got {beta}")
    if not lam > 0:
        raise ParameterError(f"lambda must be positive, got {lam}")


def curiosity_desirability(
    predicted_error: np.ndarray, beta: float = 1.0, lam: float = 0.1
) -> np.ndarray:
    """``exp(-(L - beta)**2 / lam)`` with ``L`` the min-max scaled error.

    Parameters
    ----------
    predicted_error : numpy.ndarray
        ``(n,)`` predicted surrogate error of every candidate.
    beta : float
        Target of the normalised error: 1 seeks the highest predicted error
        (curiosity), 0 the lowest (exploitation), values between balance them.
    lam : float
        Width of the preference: small values are sharp, large ones smooth.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` in (0, 1]; bright (1) means measure next.
    """
    _check_beta_lam(beta, lam)
    scaled = minmax(predicted_error)
    return np.exp(-((scaled - beta) ** 2) / lam)


def curiosity_cost(
    predicted_error: np.ndarray, beta: float = 1.0, lam: float = 0.1
) -> np.ndarray:
    """The cost ``1 - desirability``; the next point has the lowest cost."""
    return 1.0 - curiosity_desirability(predicted_error, beta, lam)


def select_batch(
    scores: np.ndarray,
    k: int,
    *,
    exclude: np.ndarray | None = None,
    positions: np.ndarray | None = None,
    min_spacing: float = 0.0,
) -> np.ndarray:
    """The ``k`` best-scoring candidates, without repeats and with spacing.

    Candidates are taken greedily by descending score (ties by lower index);
    each must lie at least ``min_spacing`` (Euclidean, in the units of
    ``positions``) from those already in the batch.

    Parameters
    ----------
    scores : numpy.ndarray
        ``(n,)``; higher is better. NaN never wins.
    k : int
        Batch size.
    exclude : numpy.ndarray, optional
        ``(n,)`` bool, ``True`` for candidates that may not be chosen (the
        measured ones).
    positions : numpy.ndarray, optional
        ``n x 2`` coordinates, needed when ``min_spacing > 0``.
    min_spacing : float
        Minimum distance between points of one batch.

    Returns
    -------
    numpy.ndarray
        Up to ``k`` distinct candidate indices, best first; fewer when not
        enough candidates are allowed.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if k < 1:
        raise ParameterError(f"batch size must be at least 1, got {k}")
    if min_spacing < 0:
        raise ParameterError(f"min_spacing must be >= 0, got {min_spacing}")
    allowed = np.isfinite(scores)
    if exclude is not None:
        allowed &= ~np.asarray(exclude, dtype=bool)
    # stable sort on -score keeps the lower index first among ties
    order = np.argsort(-np.where(allowed, scores, -np.inf), kind="stable")
    order = order[: int(allowed.sum())]
    if min_spacing <= 0 or k == 1:
        return order[:k].astype(np.int64)
    if positions is None:
        raise ParameterError("min_spacing needs the candidates' positions")
    positions = np.asarray(positions, dtype=np.float64)
    chosen: list[int] = []
    for index in order:
        if chosen:
            gaps = np.linalg.norm(positions[chosen] - positions[index], axis=1)
            if gaps.min() < min_spacing:
                continue
        chosen.append(int(index))
        if len(chosen) == k:
            break
    return np.asarray(chosen, dtype=np.int64)
