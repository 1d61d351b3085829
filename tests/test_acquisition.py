import numpy as np
import pytest

from pycroscopy_curiosity.acquisition import (
    curiosity_cost,
    curiosity_desirability,
    draw_from_best,
    exploration_reward,
    minmax,
    scale_by_mean,
    schedule_weights,
    scheduled_acquisition,
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


def test_exploration_reward_equals_naive_double_loop(rng):
    latent = rng.normal(size=(30, 3))
    measured = np.zeros(30, bool)
    measured[[2, 7, 11, 19]] = True
    naive = np.zeros(30)
    for j in range(30):
        if measured[j]:
            continue
        total = 0.0
        for i in np.flatnonzero(measured):
            total += 1.0 / np.sqrt(((latent[i] - latent[j]) ** 2).sum())
        naive[j] = 1.0 / total
    reward = exploration_reward(latent, measured)
    np.testing.assert_allclose(reward, naive, rtol=1e-10)
    assert (reward[measured] == 0).all() and (reward[~measured] > 0).all()
    # indices work like the mask; nothing measured gives zeros
    np.testing.assert_allclose(exploration_reward(latent, [2, 7, 11, 19]), naive)
    np.testing.assert_array_equal(
        exploration_reward(latent, np.zeros(30, bool)), np.zeros(30)
    )


def test_exploration_reward_is_zero_at_a_measured_latent():
    latent = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 4.0]])
    reward = exploration_reward(latent, np.array([True, False, False]))
    np.testing.assert_allclose(reward, [0.0, 0.0, 5.0])


@pytest.mark.parametrize("n", [0, 20, 100, 200])
def test_schedule_weights_follow_n(n):
    w_error, w_explore = schedule_weights(n, 200, lam=2.0)
    np.testing.assert_allclose(w_explore, np.exp(-2.0 * n / 200))
    np.testing.assert_allclose(w_error + w_explore, 1.0)


def test_schedule_moves_from_exploration_to_error():
    weights = [schedule_weights(n, 100, 2.0) for n in range(0, 101, 10)]
    errors = [w[0] for w in weights]
    assert errors[0] == 0.0 and all(np.diff(errors) > 0)
    with pytest.raises(ParameterError, match="budget must be at least 1"):
        schedule_weights(1, 0)


def test_scheduled_acquisition_divides_each_term_by_its_mean():
    error = np.array([1.0, 2.0, 3.0, 6.0])
    reward = np.array([10.0, 0.0, 20.0, 10.0])
    spread = np.array([0.1, 0.3, 0.2, 0.2])
    w_c, w_e = schedule_weights(30, 100, 2.0)
    expected = w_c * error / 3.0 + w_e * reward / 10.0 + 2.0 * spread / 0.2
    got = scheduled_acquisition(error, reward, spread, 30, 100, lam=2.0, sigma=2.0)
    np.testing.assert_allclose(got, expected)
    # sigma = 0 ignores the spread; scaling a term leaves the score unchanged
    plain = scheduled_acquisition(error, reward, spread, 30, 100, sigma=0.0)
    np.testing.assert_allclose(
        plain, scheduled_acquisition(error * 7, reward, None, 30, 100)
    )
    np.testing.assert_allclose(scale_by_mean(np.zeros(3)), np.zeros(3))


def test_draw_from_best_is_seeded_and_stays_in_the_best():
    scores = np.arange(100.0)
    measured = np.zeros(100, bool)
    measured[95:] = True
    a = draw_from_best(
        scores, 5, np.random.default_rng(0), exclude=measured, random_step=0.0, best=10
    )
    b = draw_from_best(
        scores, 5, np.random.default_rng(0), exclude=measured, random_step=0.0, best=10
    )
    np.testing.assert_array_equal(a, b)
    # each point comes from the ten best still open when it is drawn
    assert len(set(a.tolist())) == 5 and set(a.tolist()) <= set(range(81, 95))
    anywhere = draw_from_best(
        scores, 50, np.random.default_rng(1), exclude=measured, random_step=1.0
    )
    assert not measured[anywhere].any() and anywhere.min() < 85
    with pytest.raises(ParameterError, match="random_step must lie in"):
        draw_from_best(scores, 1, np.random.default_rng(0), random_step=2)
