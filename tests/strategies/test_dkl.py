import numpy as np
import pytest
import torch

from pycroscopy_curiosity.data.exploration import ExplorationData
from pycroscopy_curiosity.data.synthetic import make_synthetic_sample
from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.strategies.dkl import DKLOptions, DKLStrategy, loop_area

FAST = dict(training_cycles=15, hidden=16)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny GPs run fastest, and steadiest on a shared machine, on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def small():
    sample = make_synthetic_sample(
        grid_shape=(12, 12), image_shape=(48, 48), n_bias=16, seed=4
    )
    data = ExplorationData.from_sidpy(sample.spectra, sample.image)
    cands = data.candidates(8)
    return cands, cands.from_grid(data.spectra), data.spectral_axis.values


def _run(small, seed=0, steps=2, **opts):
    cands, truth, bias = small
    s = DKLStrategy(
        cands, truth.shape[1], DKLOptions(**{**FAST, **opts}), seed=seed, bias=bias
    )
    picks = []
    for k in [8] + [2] * steps:
        idx = s.ask(k)
        picks.append(idx)
        s.tell(idx, truth[idx])
    return s, np.concatenate(picks)


def test_maps_and_upper_confidence_bound(small):
    cands, truth, _ = small
    s, picks = _run(small, kappa=1.5)
    maps = s.maps()
    for key in ("predicted_scalar", "scalar_std", "acquisition"):
        assert maps[key].shape == (len(cands),)
        assert maps[key].dtype == np.float32
        assert np.isfinite(maps[key]).all()
    assert (maps["scalar_std"] >= 0).all()
    np.testing.assert_allclose(
        maps["acquisition"],
        maps["predicted_scalar"] + 1.5 * maps["scalar_std"],
        rtol=1e-5,
        atol=1e-6,
    )
    assert len(set(picks.tolist())) == len(picks) == 12
    nxt = s.ask(3)
    open_ = np.flatnonzero(~s.measured)
    assert nxt[0] == open_[np.argmax(maps["acquisition"][open_])]
    ranked = open_[np.argsort(-maps["acquisition"][open_], kind="stable")]
    np.testing.assert_array_equal(nxt, ranked[:3])


def test_initial_design_is_random_and_times_are_recorded(small):
    cands, truth, bias = small
    s = DKLStrategy(cands, truth.shape[1], DKLOptions(**FAST), seed=1, bias=bias)
    assert set(s.maps()) == {"measured"}
    first = s.ask(6)
    assert len(set(first.tolist())) == 6
    s.tell(first, truth[first])
    idx = s.ask(2)
    s.tell(idx, truth[idx])
    assert len(s.times) == 2
    for t in s.times:
        assert t.training > 0 and t.inference > 0 and t.acquisition >= 0
        assert t.error_model == 0 and t.total() > 0
    measured = np.asarray(s.order)
    np.testing.assert_allclose(s.scalars[measured], loop_area(truth[measured], bias))
    assert np.isnan(s.scalars[~s.measured]).all()


def test_loop_area_of_a_square_loop():
    # up the lower branch at -3, down the upper branch at +3, bias -0.5 .. 0.5
    up = np.linspace(-0.5, 0.5, 9)
    bias = np.concatenate([up, up[::-1]])
    loop = np.concatenate([np.full(9, -3.0), np.full(9, 3.0)])
    np.testing.assert_allclose(loop_area(loop[None], bias), [1.0 * 6.0])
    np.testing.assert_allclose(loop_area(np.stack([loop, -loop]), bias), [6.0, 6.0])
    # without a bias axis the index is the axis: area under 0, 1, 2 is 2
    np.testing.assert_allclose(loop_area(np.array([[0.0, 1.0, 2.0]])), [2.0])


def test_custom_scalarizer_is_used(small):
    cands, truth, _ = small

    def first_point(spectra):
        return spectra[:, 0]

    s, _ = _run(small, steps=1, scalarizer=first_point)
    measured = np.asarray(s.order)
    np.testing.assert_allclose(s.scalars[measured], truth[measured, 0], rtol=1e-6)
    assert s.options.as_dict()["scalarizer"].endswith("first_point")
    assert DKLOptions().as_dict()["scalarizer"] == "loop_area"


def test_bad_scalarizer_output_is_reported(small):
    cands, truth, _ = small
    s = DKLStrategy(
        cands, truth.shape[1], DKLOptions(**FAST, scalarizer=lambda sp: sp[:, :2])
    )
    idx = s.ask(4)
    with pytest.raises(ParameterError, match="scalarizer .* returned shape"):
        s.tell(idx, truth[idx])


def test_same_seed_same_points(small):
    a, pa = _run(small, seed=7)
    b, pb = _run(small, seed=7)
    _, pc = _run(small, seed=8)
    np.testing.assert_array_equal(pa, pb)
    np.testing.assert_array_equal(a.maps()["acquisition"], b.maps()["acquisition"])
    assert not np.array_equal(pa, pc)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("kappa", -1.0),
        ("training_cycles", 0),
        ("training_cycles", 2.5),
        ("lr", 0.0),
        ("embedding_dim", 0),
        ("hidden", True),
        ("device", "tpu"),
        ("scalarizer", "area"),
    ],
)
def test_bad_options_name_the_option(option, value):
    with pytest.raises(ParameterError, match=f"^{option} must"):
        DKLOptions(**{option: value})


def test_bias_must_match_the_spectra(small):
    cands, truth, _ = small
    with pytest.raises(ParameterError, match="^bias must hold 16"):
        DKLStrategy(cands, truth.shape[1], bias=np.arange(5.0))
