"""build_strategy: one place that turns a name and options into a strategy."""

import pytest

from pycroscopy_curiosity.data.exploration import ExplorationData
from pycroscopy_curiosity.data.synthetic import make_synthetic_sample
from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.strategies import STRATEGIES, build_strategy
from pycroscopy_curiosity.strategies.autoencoder import AutoencoderStrategy
from pycroscopy_curiosity.strategies.baselines import (
    GridStrategy,
    QuasiRandomStrategy,
)
from pycroscopy_curiosity.strategies.ensemble import EnsembleStrategy
from pycroscopy_curiosity.strategies.random import RandomStrategy

LIGHT_AE = dict(ae_epochs=1, ae_channels=2, channels=2)


@pytest.fixture(scope="module")
def candidates():
    sample = make_synthetic_sample(
        grid_shape=(8, 8), image_shape=(32, 32), n_bias=8, seed=1
    )
    return ExplorationData.from_sidpy(sample.spectra, sample.image).candidates(8)


@pytest.mark.parametrize(
    "name, kind",
    [
        ("random", RandomStrategy),
        ("grid", GridStrategy),
        ("sobol", QuasiRandomStrategy),
        ("lhs", QuasiRandomStrategy),
        ("ensemble", EnsembleStrategy),
    ],
)
def test_names_build_their_strategy(candidates, name, kind):
    strategy = build_strategy(name, candidates, 8, seed=3)
    assert type(strategy) is kind
    assert strategy.n_candidates == len(candidates)


def test_options_reach_the_workflow(candidates):
    strategy = build_strategy(
        "ensemble", candidates, 8, {"beta": 0.5, "lam": 0.2}, seed=0
    )
    assert (strategy.options.beta, strategy.options.lam) == (0.5, 0.2)


def test_budget_is_the_autoencoder_default_unless_given(candidates):
    by_budget = build_strategy(
        "autoencoder", candidates, 8, LIGHT_AE, seed=0, budget=50
    )
    assert isinstance(by_budget, AutoencoderStrategy)
    assert by_budget.options.budget == 50
    options = {**LIGHT_AE, "budget": 20}
    given = build_strategy("autoencoder", candidates, 8, options, seed=0, budget=50)
    assert given.options.budget == 20
    assert options == {**LIGHT_AE, "budget": 20}  # the caller's dict is untouched


def test_unknown_name_lists_the_choices(candidates):
    with pytest.raises(ParameterError, match="unknown strategy 'nope'") as info:
        build_strategy("nope", candidates, 8)
    assert all(name in str(info.value) for name in STRATEGIES)
