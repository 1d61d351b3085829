import json

import numpy as np
import pytest
from scipy.stats import ttest_ind

from pycroscopy_curiosity.benchmark.report import (
    compare,
    efficiency,
    plot_report,
    summarise,
    table,
    write_json,
)
from pycroscopy_curiosity.benchmark.runner import run_benchmark
from pycroscopy_curiosity.benchmark.trial import TrialSpec, run_trial
from pycroscopy_curiosity.benchmark.yardstick import Yardstick, YardstickSettings
from pycroscopy_curiosity.data.exploration import ExplorationData
from pycroscopy_curiosity.data.synthetic import make_synthetic_sample
from pycroscopy_curiosity.errors import ParameterError

TINY = YardstickSettings(channels=4, hidden=16, epochs=4)
AE_FAST = dict(
    ae_epochs=3,
    ae_channels=4,
    channels=4,
    init_epochs=4,
    update_epochs=1,
    error_epochs=2,
    mc_passes=5,
)


@pytest.fixture(scope="module")
def data():
    sample = make_synthetic_sample(
        grid_shape=(12, 12), image_shape=(48, 48), n_bias=16, seed=4
    )
    return ExplorationData.from_sidpy(sample.spectra, sample.image)


def _fake_trial(seed, finals, n=(10, 20, 30)):
    curve = [
        {"n": k, "mse_sum": v * 100, "mse_mean": v, "top10_mse": 2 * v}
        for k, v in zip(n, finals, strict=True)
    ]
    keys = ("mse_sum", "mse_mean", "top10_mse")
    return {
        "seed": seed,
        "curve": curve,
        "final": {k: curve[-1][k] for k in keys},
        "minimum": {k: min(c[k] for c in curve) for k in keys},
        "seconds_per_iteration": {"total": 0.1 * (seed + 1)},
    }


def test_summary_statistics_efficiency_and_welch():
    random = [_fake_trial(s, [1.0, 0.8, 0.6 + 0.01 * s]) for s in range(4)]
    better = [_fake_trial(s, [0.9, 0.55, 0.4 + 0.01 * s]) for s in range(4)]
    report = {
        name: {"trials": t, "failed": [], "summary": summarise(t)}
        for name, t in (("random", random), ("curious", better))
    }
    s = report["random"]["summary"]
    assert s["trials"] == 4
    np.testing.assert_allclose(s["final"]["mse_mean"]["mean"], 0.615)
    np.testing.assert_allclose(s["curve"]["mse_mean"]["mean"], [1.0, 0.8, 0.615])
    np.testing.assert_allclose(s["minimum"]["mse_sum"]["mean"], 61.5)
    np.testing.assert_allclose(s["median_seconds_per_iteration"]["total"], 0.25)
    # curious reaches random's final mean (0.615) at its second checkpoint, 20
    assert efficiency(report["curious"]["summary"], s, budget=30) == pytest.approx(
        20 / 30
    )
    assert efficiency(s, report["curious"]["summary"], budget=30) is None
    c = compare(report, budget=30)
    expected = ttest_ind(
        [t["final"]["mse_sum"] for t in better],
        [t["final"]["mse_sum"] for t in random],
        equal_var=False,
    ).pvalue
    np.testing.assert_allclose(c["curious"]["welch_p_vs_random"], expected)
    assert c["curious"]["efficiency_vs_random"] == pytest.approx(2 / 3)
    assert "random" not in c


def test_trial_scores_the_yardstick_at_checkpoints(data):
    spec = TrialSpec(
        "random",
        seed=3,
        budget=17,
        init=8,
        batch=2,
        eval_every=4,
        patch=8,
        yardstick=TINY,
    )
    result = run_trial(data, spec)
    assert [c["n"] for c in result["curve"]] == [8, 12, 16, 17]
    assert len(result["order"]) == len(set(result["order"])) == 17
    for key in (
        "n",
        "mse_sum",
        "mse_mean",
        "l1_mean",
        "unmeasured_mse_mean",
        "top10_mse",
    ):
        assert key in result["curve"][0]
    assert result["final"]["mse_sum"] == result["curve"][-1]["mse_sum"]
    assert result["minimum"]["mse_sum"] == min(c["mse_sum"] for c in result["curve"])
    assert result["seconds_per_iteration"]["total"] > 0
    again = run_trial(data, spec)
    assert again["order"] == result["order"] and again["curve"] == result["curve"]


def test_yardstick_is_the_same_for_the_same_points(data):
    cands = data.candidates(8)
    truth = cands.from_grid(data.spectra)
    y = Yardstick(cands, truth, data.spectra_norm.invert, TINY)
    a = y.score(np.arange(10), seed=1)
    b = y.score(np.arange(10), seed=1)
    assert a == b and a["n"] == 10
    with pytest.raises(ParameterError, match="at least one measured point"):
        y.score(np.array([], dtype=int))


def test_trial_spec_is_checked():
    with pytest.raises(ParameterError, match="unknown strategy 'greedy'"):
        TrialSpec("greedy", seed=0, budget=10, init=5)
    with pytest.raises(ParameterError, match=r"init \(20\) must lie between"):
        TrialSpec("random", seed=0, budget=10, init=20)


def test_benchmark_on_a_local_dask_cluster(tmp_path, data):
    # autoencoder-mcd is given a bad setting: its trials fail and are reported
    report = run_benchmark(
        data,
        ["random", "autoencoder", "autoencoder-mcd"],
        2,
        budget=12,
        init=8,
        seed=5,
        workers=1,
        progress=False,
        patch=8,
        eval_every=4,
        yardstick=TINY,
        strategy_options={
            "autoencoder": AE_FAST,
            "autoencoder-mcd": {**AE_FAST, "sigma": -1.0},
        },
    )
    assert set(report) == {"dataset", "settings", "strategies", "comparisons"}
    for name in ("random", "autoencoder"):
        entry = report["strategies"][name]
        assert [t["seed"] for t in entry["trials"]] == [5, 6]
        assert entry["failed"] == [] and entry["summary"]["trials"] == 2
    p = report["comparisons"]["autoencoder"]["welch_p_vs_random"]
    assert p is None or 0 <= p <= 1
    failed = report["strategies"]["autoencoder-mcd"]["failed"]
    assert [f["seed"] for f in failed] == [5, 6]
    assert "sigma must be >= 0" in failed[0]["error"]
    assert report["strategies"]["autoencoder-mcd"]["summary"] == {"trials": 0}
    assert "autoencoder-mcd" not in report["comparisons"]
    assert "all trials failed" in table(report)
    path = tmp_path / "report.json"
    write_json(report, path)
    back = json.loads(path.read_text())
    assert back["settings"]["budget"] == 12
    assert back["strategies"]["random"]["trials"][0]["curve"][0]["n"] == 8
    fig = plot_report(report, data, tmp_path / "report.png")
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert len(fig.axes) == 4  # curves, histogram, two exploration paths
