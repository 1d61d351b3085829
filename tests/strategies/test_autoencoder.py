import numpy as np
import pytest

from pycroscopy_curiosity.acquisition import exploration_reward, schedule_weights
from pycroscopy_curiosity.data.exploration import ExplorationData
from pycroscopy_curiosity.data.synthetic import make_synthetic_sample
from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.strategies.autoencoder import (
    AutoencoderOptions,
    AutoencoderStrategy,
)

FAST = dict(
    ae_epochs=5,
    ae_channels=4,
    channels=4,
    init_epochs=10,
    update_epochs=2,
    error_epochs=5,
    mc_passes=20,
    budget=30,
)


@pytest.fixture(scope="module")
def small():
    sample = make_synthetic_sample(
        grid_shape=(12, 12), image_shape=(48, 48), n_bias=16, seed=4
    )
    data = ExplorationData.from_sidpy(sample.spectra, sample.image)
    cands = data.candidates(8)
    return cands, cands.from_grid(data.spectra)


def _strategy(small, seed=0, **opts):
    cands, truth = small
    return AutoencoderStrategy(
        cands, truth.shape[1], AutoencoderOptions(**{**FAST, **opts}), seed=seed
    )


def _run(small, seed=0, steps=3, init=8, **opts):
    s = _strategy(small, seed, **opts)
    truth = small[1]
    picks = []
    for k in [init] + [1] * steps:
        idx = s.ask(k)
        picks.append(idx)
        s.tell(idx, truth[idx])
    return s, np.concatenate(picks)


def test_kmeans_initial_points_one_per_cluster(small):
    s = _strategy(small)
    first = s.initial_points(8)
    assert len(first) == len(set(first.tolist())) == 8
    labels = s.cluster_labels[first]
    assert sorted(labels.tolist()) == list(range(8))  # one per cluster
    # each is the member of its cluster nearest the cluster's mean latent
    for index, label in zip(first, labels, strict=True):
        members = np.flatnonzero(s.cluster_labels == label)
        centre = s.ae_latent[members].mean(axis=0)
        gaps = np.linalg.norm(s.ae_latent[members] - centre, axis=1)
        assert index == members[np.argmin(gaps)]
    # the first ask is that design, seeded
    np.testing.assert_array_equal(_strategy(small).ask(8), first)


def test_maps_shapes_and_contract(small):
    cands, truth = small
    s, picks = _run(small, seed=1, sigma=2.0)
    maps = s.maps()
    n = len(cands)
    for name in (
        "predicted_error",
        "error_spread",
        "exploration_reward",
        "acquisition",
    ):
        assert maps[name].shape == (n,), name
    assert maps["predicted_spectra"].shape == truth.shape
    assert len(set(picks.tolist())) == len(picks) == 11
    assert (maps["exploration_reward"][s.measured] == 0).all()
    assert (maps["error_spread"] > 0).any()
    # the reward is computed on the Im2spec latent of the patches
    np.testing.assert_allclose(
        maps["exploration_reward"],
        exploration_reward(s.surrogate_latent, s.measured),
        rtol=1e-5,
    )
    assert s.surrogate_latent.shape == (n, 2)  # latent dimension 2 by default
    assert s.ae_latent.shape == (n, 3)
    nxt = s.ask(3)
    assert not s.measured[nxt].any() and len(set(nxt.tolist())) == 3


def test_acquisition_is_the_scheduled_sum(small):
    s, _ = _run(small, seed=2, sigma=2.0, lam=2.0)
    maps = s.maps()
    w_c, w_e = schedule_weights(s.n_measured, 30, 2.0)
    expected = (
        w_c * maps["predicted_error"] / maps["predicted_error"].mean()
        + w_e * maps["exploration_reward"] / maps["exploration_reward"].mean()
        + 2.0 * maps["error_spread"] / maps["error_spread"].mean()
    )
    np.testing.assert_allclose(maps["acquisition"], expected, rtol=1e-4)


def test_error_targets_are_relative_mse(small):
    s, _ = _run(small, seed=3)
    index = np.asarray(s.order)
    np.testing.assert_allclose(s.current_error[index].mean(), 1.0, rtol=1e-5)
    assert np.isnan(s.current_error[~s.measured]).all()


def test_without_random_steps_points_come_from_the_best(small):
    s, _ = _run(small, seed=4, random_step=0.0, best=3)
    score = s.maps()["acquisition"].copy()
    score[s.measured] = -np.inf
    top = set(np.argsort(-score)[:3].tolist())
    for _ in range(3):
        assert int(s.ask(1)[0]) in top


def test_same_seed_same_points(small):
    _, a = _run(small, seed=5)
    _, b = _run(small, seed=5)
    _, c = _run(small, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_random_selection_baseline(small):
    s, picks = _run(small, seed=7, selection="random")
    assert "acquisition" in s.maps()  # same models, random points
    assert len(set(picks.tolist())) == len(picks)


def test_spec2im_direction(small):
    cands, truth = small
    s, picks = _run(small, seed=8, direction="spec2im")
    maps = s.maps()
    assert "predicted_spectra" not in maps
    assert (maps["exploration_reward"] == 0).all()
    # acquisition is the predicted error alone, divided by its mean
    np.testing.assert_allclose(
        maps["acquisition"],
        maps["predicted_error"] / maps["predicted_error"].mean(),
        rtol=1e-5,
    )
    patches = s.predict_patches(truth[:5])
    assert patches.shape == (5, cands.patch, cands.patch)
    assert len(set(picks.tolist())) == len(picks)


def test_plateau_mask_marks_neighbours_of_stuck_points(small):
    s = _strategy(small, seed=9, plateau=True, plateau_visits=3)
    n = s.n_candidates
    latent = np.zeros((n, 3))
    latent[:, 0] = np.arange(n) * 10.0  # candidates far apart on a line
    latent[1:4, 0] = [0.1, 0.2, 0.3]  # except three next to candidate 0
    s.ae_latent, s._radius = latent, 1.0
    s.order = [0, 1, 2, 3, 50]
    s.measured[s.order] = True
    s.first_error[s.order] = [2.0, 0.5, 0.5, 0.5, 1.5]
    s.current_error[s.order] = [2.0, 0.5, 0.5, 0.5, 1.5]
    mask = s.plateau_mask()
    # 0 has three sampled neighbours and its error stayed high: a plateau
    np.testing.assert_array_equal(np.flatnonzero(mask), [0, 1, 2, 3])
    # once its error has fallen it is no longer stuck
    s.current_error[0] = 1.2
    assert not s.plateau_mask().any()
    # a high error without sampled neighbours (50) is not a plateau either
    s.current_error[0] = 2.0
    s.current_error[1:4] = 0.5
    s.order = [0, 1, 50]
    assert not s.plateau_mask().any()


def test_options_are_checked():
    with pytest.raises(ParameterError, match="direction must be im2spec or spec2im"):
        AutoencoderOptions(direction="both")
    with pytest.raises(ParameterError, match="init_design must be kmeans or random"):
        AutoencoderOptions(init_design="grid")
    with pytest.raises(ParameterError, match="sigma must be >= 0"):
        AutoencoderOptions(sigma=-1)
    with pytest.raises(ParameterError, match="selection must be curiosity or random"):
        AutoencoderOptions(selection="greedy")
    with pytest.raises(ParameterError, match="random_step must lie in"):
        AutoencoderOptions(random_step=1.5)
