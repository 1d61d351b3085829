import numpy as np
import pytest

from pycroscopy_curiosity.data.results import read_results
from pycroscopy_curiosity.data.synthetic import make_synthetic_sample
from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.explorer import CuriosityExplorer, curve_metrics

FAST = dict(
    channels=4,
    hidden=16,
    ensemble_epochs=6,
    update_epochs=2,
    error_epochs=10,
    best_window=3,
)


@pytest.fixture(scope="module")
def sample():
    return make_synthetic_sample(
        grid_shape=(12, 14), image_shape=(48, 56), n_bias=16, seed=2
    )


def _explorer(sample, **kw):
    args = dict(patch=8, init=10, budget=20, batch=2, seed=0, eval_every=5, **FAST)
    args.update(kw)
    return CuriosityExplorer(sample.spectra, sample.image, **args)


def test_end_to_end_results_file(tmp_path, sample):
    explorer = _explorer(sample).run()
    assert explorer.n_measured == 20 and explorer.done
    assert [h["n"] for h in explorer.history] == [
        10,
        16,
        20,
    ]  # each multiple of 5 crossed
    grid_index, spectra = explorer.measured_points()
    assert len({tuple(g) for g in grid_index.tolist()}) == 20
    path = tmp_path / "run.h5"
    explorer.save(path)
    back = read_results(path)
    assert set(back.names()) == {
        "predicted_error",
        "acquisition",
        "measured_order",
        "predicted_spectra",
        "measured",
        "learning_curve",
    }
    assert back["predicted_error"].shape == (14, 12)  # NSID order: x, y
    assert back["predicted_spectra"].shape == (14, 12, 16)
    assert back["measured"].shape == (20, 16)
    order = np.asarray(back["measured_order"]).T
    assert np.nansum(order >= 0) == 20 and np.nanmax(order) == 19
    # measured spectra are stored in physical units and equal the source
    source = np.asarray(sample.spectra).transpose(1, 0, 2)
    np.testing.assert_allclose(
        np.asarray(back["measured"]),
        source[grid_index[:, 0], grid_index[:, 1]],
        atol=1e-5,
    )
    points = back["measured"].metadata["points"]
    assert (
        points["chooser"][:10] == ["initial"] * 10 and points["chooser"][10] == "model"
    )
    assert back.parameters["workflow"] == "ensemble" and back.parameters["budget"] == 20
    curve = np.asarray(back["learning_curve"])
    assert curve.shape == (3, 5)
    np.testing.assert_allclose(curve[-1, 0], explorer.history[-1]["mse_sum"], rtol=1e-5)


def test_same_seed_same_points(sample):
    a = _explorer(sample, seed=5).run()
    b = _explorer(sample, seed=5).run()
    np.testing.assert_array_equal(a.strategy.order, b.strategy.order)
    assert a.history == b.history


def test_measure_callable_replaces_replay(sample):
    source = np.asarray(sample.spectra).transpose(1, 0, 2)
    calls = []

    def measure(grid_index):
        calls.append(len(grid_index))
        return source[grid_index[:, 0], grid_index[:, 1]] + 0.0

    explorer = _explorer(sample, measure=measure, budget=14).run()
    assert calls == [10, 2, 2] and explorer.history == []

    explorer = _explorer(sample, measure=lambda g: np.zeros((len(g), 3)))
    with pytest.raises(
        ParameterError,
        match=r"measure\(\) returned spectra of shape \(10, 3\); expected \(10, 16\)",
    ):
        explorer.step()


def test_random_workflow_and_bad_settings(sample):
    explorer = _explorer(sample, workflow="random").run()
    assert explorer.options.selection == "random" and explorer.history
    with pytest.raises(ParameterError, match="workflow must be one of"):
        _explorer(sample, workflow="greedy")
    with pytest.raises(
        ParameterError, match="budget 5 must lie between the 10 initial points"
    ):
        _explorer(sample, budget=5)
    with pytest.raises(
        ParameterError, match="init must be a positive count or a fraction"
    ):
        _explorer(sample, init=-3)
    done = _explorer(sample, budget=10)
    done.step()
    with pytest.raises(ParameterError, match="budget of 10 measurements is spent"):
        done.step()


def test_fractional_init_and_default_budget(sample):
    explorer = _explorer(sample, init=0.2, budget=None, batch=1)
    n = len(explorer.candidates)
    assert explorer.n_init == round(0.2 * n) and explorer.budget == n


def test_curve_metrics_by_hand():
    truth = np.zeros((12, 2))
    pred = np.zeros((12, 2))
    pred[:, 0] = np.arange(12)
    measured = np.zeros(12, bool)
    measured[:6] = True
    m = curve_metrics(pred, truth, measured)
    per_pixel = np.arange(12) ** 2 / 2
    assert m["mse_sum"] == pytest.approx(per_pixel.sum())
    assert m["mse_mean"] == pytest.approx(per_pixel.mean())
    assert m["unmeasured_mse_mean"] == pytest.approx(per_pixel[6:].mean())
    assert m["top10_mse"] == pytest.approx(np.sort(per_pixel)[-10:].mean())
    assert m["l1_mean"] == pytest.approx((np.arange(12) / 2).mean())


AE_FAST = dict(
    ae_epochs=4,
    ae_channels=4,
    channels=4,
    init_epochs=8,
    update_epochs=2,
    error_epochs=4,
    mc_passes=10,
)


def _ae_explorer(sample, **kw):
    args = dict(
        workflow="autoencoder",
        patch=8,
        init=8,
        budget=14,
        batch=2,
        seed=0,
        eval_every=5,
        **AE_FAST,
    )
    args.update(kw)
    return CuriosityExplorer(sample.spectra, sample.image, **args)


def test_autoencoder_workflow_results_file(tmp_path, sample):
    explorer = _ae_explorer(sample, sigma=2.0).run()
    assert explorer.n_measured == 14
    assert explorer.options.budget == 14  # the schedule knows the budget
    path = tmp_path / "ae.h5"
    explorer.save(path)
    back = read_results(path)
    for name in (
        "predicted_error",
        "error_spread",
        "exploration_reward",
        "acquisition",
        "measured_order",
    ):
        assert back[name].shape == (14, 12), name
    assert back["predicted_error"].quantity == "predicted relative MSE of the surrogate"
    assert back["predicted_spectra"].shape == (14, 12, 16)
    assert back.parameters["workflow"] == "autoencoder"
    assert back.parameters["options"]["sigma"] == 2.0
    reward = np.asarray(back["exploration_reward"]).T
    order = np.asarray(back["measured_order"]).T
    assert (reward[np.isfinite(order)] == 0).all()
    assert "autoencoder: 14 of" in explorer.summary()
    # in-process replay has no instrument to be idle
    assert "idle" not in explorer.summary()


def test_autoencoder_spec2im_end_to_end(tmp_path, sample):
    a = _ae_explorer(sample, direction="spec2im", seed=3).run()
    b = _ae_explorer(sample, direction="spec2im", seed=3).run()
    np.testing.assert_array_equal(a.strategy.order, b.strategy.order)
    assert [h["n"] for h in a.history] == [8, 10, 14]
    assert all(np.isfinite(h["mse_sum"]) for h in a.history)
    a.save(tmp_path / "s2i.h5")
    back = read_results(tmp_path / "s2i.h5")
    assert "predicted_spectra" not in back.names()
    assert back["learning_curve"].quantity == "Spec2im patch error"
    assert back.parameters["options"]["direction"] == "spec2im"


def test_autoencoder_random_baseline_label(sample):
    e = _ae_explorer(sample, selection="random", init_design="random", budget=10)
    assert e.label == "autoencoder (random points)"
