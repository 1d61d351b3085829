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
    "draw_from_best",
    "exploration_reward",
    "minmax",
    "scale_by_mean",
    "scheduled_acquisition",
    "schedule_weights",
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


def exploration_reward(latent: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """``E_j = 1 / sum_i 1 / ||l_i - l_j||`` over measured points ``i``.

    A candidate far (in latent space) from every measured point scores high;
    measured points, and candidates whose latent equals a measured one,
    score 0. Computed for all candidates at once with ``torch.cdist``.

    Parameters
    ----------
    latent : numpy.ndarray
        ``n x d`` latent encodings of all candidates.
    measured : numpy.ndarray
        ``(n,)`` bool mask, or integer indices, of the measured candidates.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` float64; all zeros when nothing is measured yet.
    """
    import torch

    latent = np.asarray(latent, dtype=np.float64)
    index = np.asarray(measured)
    if index.dtype == bool:
        index = np.flatnonzero(index)
    reward = np.zeros(len(latent))
    if index.size == 0:
        return reward
    t = torch.as_tensor(latent)
    distance = torch.cdist(t, t[torch.as_tensor(index)]).numpy()
    with np.errstate(divide="ignore"):
        inverse = (1.0 / distance).sum(axis=1)
    finite = np.isfinite(inverse) & (inverse > 0)
    reward[finite] = 1.0 / inverse[finite]
    reward[index] = 0.0
    return reward


def schedule_weights(n: int, budget: int, lam: float = 2.0) -> tuple[float, float]:
    """Weights ``(1 - exp(-lam n / N), exp(-lam n / N))`` of error and reward.

    Early on (few measurements ``n`` of the budget ``N``) exploration
    dominates; the predicted error takes over as ``n`` grows.
    """
    if budget < 1:
        raise ParameterError(f"budget must be at least 1, got {budget}")
    if lam < 0:
        raise ParameterError(f"lambda must be >= 0, got {lam}")
    explore = float(np.exp(-lam * n / budget))
    return 1.0 - explore, explore


def scale_by_mean(values: np.ndarray) -> np.ndarray:
    """Divide by the mean; an array whose mean is not positive becomes zeros."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(np.mean(values))
    return values / mean if mean > 0 else np.zeros_like(values)


def scheduled_acquisition(
    error: np.ndarray,
    reward: np.ndarray,
    spread: np.ndarray | None,
    n: int,
    budget: int,
    lam: float = 2.0,
    sigma: float = 0.0,
) -> np.ndarray:
    """``A = w_C C + w_E E + sigma U``, each term divided by its mean.

    Parameters
    ----------
    error, reward : numpy.ndarray
        ``(n_candidates,)`` predicted error ``C`` and exploration reward ``E``.
    spread : numpy.ndarray or None
        ``(n_candidates,)`` uncertainty ``U`` of the error prediction.
    n, budget : int
        Measured so far and the total budget ``N``.
    lam : float
        Speed at which exploration gives way to the predicted error.
    sigma : float
        Weight of the uncertainty (0 off; 2 for the MC-dropout variant).
    """
    w_error, w_explore = schedule_weights(n, budget, lam)
    score = w_error * scale_by_mean(error) + w_explore * scale_by_mean(reward)
    if sigma and spread is not None:
        score = score + sigma * scale_by_mean(spread)
    return score


def draw_from_best(
    scores: np.ndarray,
    k: int,
    rng: np.random.Generator,
    *,
    exclude: np.ndarray | None = None,
    random_step: float = 0.1,
    best: int = 10,
) -> np.ndarray:
    """Draw ``k`` distinct points: at random with probability ``random_step``,
    otherwise uniformly among the ``best`` highest-scoring open candidates.

    Each point of the batch makes its own draw, seeded by ``rng``.
    """
    if not 0 <= random_step <= 1:
        raise ParameterError(f"random_step must lie in [0, 1], got {random_step}")
    if best < 1:
        raise ParameterError(f"best must be at least 1, got {best}")
    scores = np.asarray(scores, dtype=np.float64)
    taken = np.zeros(len(scores), bool) if exclude is None else np.array(exclude, bool)
    chosen: list[int] = []
    for _ in range(k):
        open_ = np.flatnonzero(~taken)
        if open_.size == 0:
            break
        if rng.random() < random_step:
            pick = int(rng.choice(open_))
        else:
            ranked = select_batch(scores, best, exclude=taken)
            pool = ranked if ranked.size else open_
            pick = int(rng.choice(pool))
        chosen.append(pick)
        taken[pick] = True
    return np.asarray(chosen, dtype=np.int64)
