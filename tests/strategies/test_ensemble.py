import numpy as np
import pytest

from pycroscopy_curiosity.data.exploration import ExplorationData
from pycroscopy_curiosity.data.synthetic import make_synthetic_sample
from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.strategies.ensemble import EnsembleOptions, EnsembleStrategy

FAST = dict(
    channels=4,
    hidden=16,
    ensemble_epochs=6,
    update_epochs=2,
    error_epochs=10,
    best_window=3,
)


@pytest.fixture(scope="module")
def small():
    sample = make_synthetic_sample(
        grid_shape=(12, 12), image_shape=(48, 48), n_bias=16, seed=4
    )
    data = ExplorationData.from_sidpy(sample.spectra, sample.image)
    cands = data.candidates(8)
    return cands, cands.from_grid(data.spectra)


def _run(small, seed, steps=3, **opts):
    cands, truth = small
    s = EnsembleStrategy(
        cands, truth.shape[1], EnsembleOptions(**{**FAST, **opts}), seed=seed
    )
    picks = []
    for k in [10] + [2] * steps:
        idx = s.ask(k)
        picks.append(idx)
        s.tell(idx, truth[idx])
    return s, np.concatenate(picks)


def test_maps_and_contract(small):
    cands, truth = small
    s, picks = _run(small, seed=0)
    maps = s.maps()
    assert maps["predicted_error"].shape == (len(cands),)
    assert maps["acquisition"].shape == (len(cands),)
    assert maps["predicted_spectra"].shape == truth.shape
    assert len(set(picks.tolist())) == len(picks) == 16
    assert 0 < maps["acquisition"].max() <= 1
    nxt = s.ask(3)
    assert not s.measured[nxt].any()
    # curiosity: the next point is the unmeasured one of highest desirability
    open_ = np.flatnonzero(~s.measured)
    assert nxt[0] == open_[np.argmax(maps["acquisition"][open_])]


def test_best_model_has_lowest_mean_validation_loss(small):
    s, _ = _run(small, seed=1, steps=0)
    assert set(s.state.val_loss) == set(s.options.architectures)
    assert s.state.best == min(s.state.val_loss, key=s.state.val_loss.get)


def test_same_seed_same_points(small):
    a, pa = _run(small, seed=7)
    b, pb = _run(small, seed=7)
    c, pc = _run(small, seed=8)
    np.testing.assert_array_equal(pa, pb)
    np.testing.assert_array_equal(
        a.maps()["predicted_error"], b.maps()["predicted_error"]
    )
    assert not np.array_equal(pa, pc)


def test_ensemble_trigger_fraction(small):
    never, _ = _run(small, seed=2, steps=4, ensemble_fraction=0.0)
    assert [t.ensemble for t in never.times] == [True, False, False, False, False]
    always, _ = _run(small, seed=2, steps=2, ensemble_fraction=1.0)
    assert all(t.ensemble for t in always.times)
    for t in never.times:
        assert t.training > 0 and t.inference > 0 and t.error_model > 0


def test_random_selection_trains_the_same_surrogate(small):
    s, _ = _run(small, seed=3, steps=1, selection="random")
    assert "predicted_error" in s.maps()


def test_min_spacing_in_batches(small):
    cands, truth = small
    s = EnsembleStrategy(
        cands, truth.shape[1], EnsembleOptions(**FAST, min_spacing=12.0), seed=0
    )
    idx = s.ask(10)
    s.tell(idx, truth[idx])
    batch = s.ask(4)
    px = cands.pixels[batch].astype(float)
    gaps = np.linalg.norm(px[:, None] - px[None], axis=-1)[
        np.triu_indices(len(batch), 1)
    ]
    assert gaps.min() >= 12.0


def test_options_are_checked():
    with pytest.raises(ParameterError, match="unknown architecture"):
        EnsembleOptions(architectures=("resnet50",))
    with pytest.raises(ParameterError, match="ensemble_fraction must lie in"):
        EnsembleOptions(ensemble_fraction=2)
    with pytest.raises(ParameterError, match="selection must be one of"):
        EnsembleOptions(selection="greedy")
