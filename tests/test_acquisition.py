import numpy as np
import pytest

from pycroscopy_curiosity.acquisition import (
    curiosity_cost,
    curiosity_desirability,
    minmax,
    select_batch,
)
from pycroscopy_curiosity.errors import ParameterError

ERRORS = np.array([0.2, 0.9, 0.5, 0.1, 0.55, 0.3])


def test_minmax():
    np.testing.assert_allclose(minmax(ERRORS)[[3, 1]], [0.0, 1.0])
    np.testing.assert_array_equal(minmax(np.full(4, 2.0)), np.zeros(4))


def test_beta_one_is_curiosity_beta_zero_exploitation():
    curious = select_batch(curiosity_desirability(ERRORS, beta=1.0), 6)
    np.testing.assert_array_equal(curious, [1, 4, 2, 5, 0, 3])  # highest error first
    exploit = select_batch(curiosity_desirability(ERRORS, beta=0.0), 6)
    np.testing.assert_array_equal(exploit, [3, 0, 5, 2, 4, 1])  # lowest first


def test_beta_half_prefers_the_middle():
    # L = (e - 0.1) / 0.8 -> index 2 (0.5) and 4 (0.5625) sit near 0.5
    order = select_batch(curiosity_desirability(ERRORS, beta=0.5, lam=0.1), 6)
    np.testing.assert_array_equal(order[:2], [2, 4])
    assert set(order[-2:]) == {1, 3}  # the extremes last


def test_cost_is_one_minus_desirability_and_lowest_cost_wins():
    cost = curiosity_cost(ERRORS, beta=1.0, lam=0.1)
    np.testing.assert_allclose(cost, 1 - curiosity_desirability(ERRORS, 1.0, 0.1))
    assert np.argmin(cost) == 1
    d = curiosity_desirability(ERRORS, beta=1.0, lam=0.1)
    np.testing.assert_allclose(d[1], 1.0)
    np.testing.assert_allclose(d[3], np.exp(-1 / 0.1))


def test_lambda_sets_smoothness():
    sharp = curiosity_desirability(ERRORS, 1.0, 0.01)
    smooth = curiosity_desirability(ERRORS, 1.0, 10.0)
    assert sharp.std() > smooth.std() and smooth.min() > 0.9


def test_batches_skip_measured_and_never_repeat():
    scores = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    chosen = select_batch(
        scores, 3, exclude=np.array([True, False, True, False, False])
    )
    np.testing.assert_array_equal(chosen, [1, 3, 4])
    assert len(select_batch(scores, 10)) == 5
    nan = select_batch(np.array([np.nan, 1.0, 2.0]), 3)
    np.testing.assert_array_equal(nan, [2, 1])


def test_min_spacing_is_honoured():
    yy, xx = np.mgrid[0:10, 0:10]
    positions = np.stack([yy.ravel(), xx.ravel()], 1)
    scores = -np.hypot(yy.ravel() - 5, xx.ravel() - 5)  # peak at the centre
    chosen = select_batch(scores, 5, positions=positions, min_spacing=3.0)
    assert len(chosen) == 5 and chosen[0] == 55
    gaps = np.linalg.norm(positions[chosen][:, None] - positions[chosen][None], axis=-1)
    assert gaps[np.triu_indices(5, 1)].min() >= 3.0
    plain = select_batch(scores, 5)
    assert (
        np.linalg.norm(positions[plain][:, None] - positions[plain][None], axis=-1)[
            np.triu_indices(5, 1)
        ].min()
        < 3.0
    )


def test_bad_settings():
    with pytest.raises(ParameterError, match="beta must lie in"):
        curiosity_desirability(ERRORS, beta=1.5)
    with pytest.raises(ParameterError, match="lambda must be positive"):
        curiosity_desirability(ERRORS, lam=0)
    with pytest.raises(ParameterError, match="needs the candidates' positions"):
        select_batch(ERRORS, 2, min_spacing=2)
    with pytest.raises(ParameterError, match="batch size must be at least 1"):
        select_batch(ERRORS, 0)
