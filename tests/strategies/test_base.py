import numpy as np
import pytest

from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.strategies import RandomStrategy, Strategy
from pycroscopy_curiosity.strategies.base import StrategyError


def test_random_never_repeats_and_covers_everything():
    s = RandomStrategy(50, 4, seed=3)
    seen = []
    while s.n_unmeasured:
        idx = s.ask(7)
        assert len(set(idx)) == len(idx) and not s.measured[idx].any()
        s.tell(idx, np.zeros((len(idx), 4)))
        seen.extend(idx.tolist())
    assert sorted(seen) == list(range(50)) and s.order == seen
    with pytest.raises(ParameterError, match="all 50 candidates are measured"):
        s.ask(1)


def test_random_is_seeded():
    a, b, c = (
        RandomStrategy(100, 2, seed=1),
        RandomStrategy(100, 2, seed=1),
        RandomStrategy(100, 2, seed=2),
    )
    np.testing.assert_array_equal(a.ask(10), b.ask(10))
    assert not np.array_equal(a.ask(10), c.ask(10))


class Broken(Strategy):
    def __init__(self, proposal):
        super().__init__(10, 3)
        self.proposal = proposal

    def _propose(self, k):
        return self.proposal


@pytest.mark.parametrize(
    ("proposal", "message"),
    [
        ([3, 3], "twice in one batch"),
        ([12], "off the candidate grid"),
        ([-1], "off the candidate grid"),
        ([0], "already measured"),
    ],
)
def test_contract_violations_are_caught(proposal, message):
    s = Broken(proposal)
    s.tell([0], np.zeros((1, 3)))
    with pytest.raises(StrategyError, match=message):
        s.ask(2)


def test_tell_validation():
    s = RandomStrategy(10, 3)
    with pytest.raises(ParameterError, match="length 2; this strategy expects 3"):
        s.tell([1], np.zeros((1, 2)))
    with pytest.raises(ParameterError, match="told index outside 0..9"):
        s.tell([10], np.zeros((1, 3)))
    s.tell([1], np.ones((1, 3)))
    with pytest.raises(ParameterError, match="already measured"):
        s.tell([1], np.ones((1, 3)))
    with pytest.raises(ParameterError, match="non-finite"):
        s.tell([2], np.full((1, 3), np.nan))
    np.testing.assert_array_equal(s.maps()["measured"], np.eye(10)[1])
    with pytest.raises(ParameterError, match="at least one point"):
        s.ask(0)


def test_excluded_points_are_never_proposed():
    s = RandomStrategy(12, 2, seed=0)
    s.tell([0, 1], np.zeros((2, 2)))
    in_flight = [2, 3, 4, 5]
    for _ in range(20):
        batch = s.ask(6, exclude=in_flight)
        assert len(batch) == 6
        assert not set(batch.tolist()) & {0, 1, *in_flight}
    # the exclusion lasts one ask only
    assert set(s.ask(10).tolist()) == set(range(2, 12))
    with pytest.raises(ParameterError, match="measured or excluded"):
        s.ask(1, exclude=list(range(2, 12)))
    with pytest.raises(StrategyError, match="excluded point"):
        Broken([4]).ask(1, exclude=[4])
