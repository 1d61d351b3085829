import numpy as np
import pytest

from pycroscopy_curiosity.data.exploration import ExplorationData
from pycroscopy_curiosity.data.patches import CandidateGrid
from pycroscopy_curiosity.data.synthetic import make_synthetic_sample
from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.strategies.baselines import (
    GridStrategy,
    QuasiRandomStrategy,
    interleaved_order,
)


def _block(rows, cols, drop=None, origin=(0, 0)):
    """Candidates on a ``rows x cols`` block of the grid, 3 pixels apart."""
    r, c = np.mgrid[0:rows, 0:cols]
    grid_index = np.stack([r.ravel(), c.ravel()], axis=1) + np.asarray(origin)
    if drop is not None:
        grid_index = grid_index[~drop(grid_index)]
    pixels = 2 + 3 * grid_index
    shape = tuple(int(v) for v in grid_index.max(0) + 1)
    return CandidateGrid(
        image=np.zeros(tuple(pixels.max(0) + 3), np.float32),
        patch=3,
        border="valid",
        grid_shape=shape,
        grid_index=grid_index,
        pixels=pixels,
    )


def _covering_radius(cands, chosen):
    """Largest distance, in pixels, from a candidate to its nearest chosen one."""
    px = cands.pixels.astype(float)
    gaps = np.linalg.norm(px[:, None] - px[np.asarray(chosen)][None], axis=-1)
    return gaps.min(axis=1).max()


def _run(strategy, batch):
    picks = []
    while strategy.n_unmeasured:
        idx = strategy.ask(batch)
        picks.append(idx)
        strategy.tell(idx, np.zeros((len(idx), strategy.n_spec)))
    return np.concatenate(picks)


def _quadrants(cands, chosen):
    rel = cands.grid_index[chosen] - cands.grid_index.min(0)
    half = (cands.grid_index.max(0) - cands.grid_index.min(0) + 1) / 2
    return {tuple(q) for q in (rel >= half).astype(int).tolist()}


@pytest.fixture(scope="module")
def small():
    sample = make_synthetic_sample(
        grid_shape=(12, 12), image_shape=(48, 48), n_bias=16, seed=4
    )
    data = ExplorationData.from_sidpy(sample.spectra, sample.image)
    return data.candidates(8), data.n_spec


# -- grid ------------------------------------------------------------------------
def test_grid_prefixes_cover_the_block():
    cands = _block(12, 12)
    s = GridStrategy(cands, 4, seed=0)
    first = s.ask(9)
    assert first[0] == np.flatnonzero((cands.grid_index == (5, 5)).all(1))[0]
    assert _quadrants(cands, first[:5]) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    # the first nine form a 3 x 3 lattice four grid steps apart
    assert sorted(map(tuple, cands.grid_index[first].tolist())) == [
        (r, c) for r in (1, 5, 9) for c in (1, 5, 9)
    ]
    rng = np.random.default_rng(0)
    spacing = 3.0
    radii = []
    for m in (9, 16, 36, 72):
        grid = _covering_radius(cands, s.schedule[:m])
        random = np.median(
            [_covering_radius(cands, rng.permutation(144)[:m]) for _ in range(20)]
        )
        assert grid < random
        assert grid <= spacing * np.sqrt(144 / m)
        radii.append(grid)
    assert radii == sorted(radii, reverse=True) and radii[-1] < radii[0]


@pytest.mark.parametrize(
    ("rows", "cols", "drop"),
    [
        (12, 12, None),
        (5, 13, None),
        (1, 7, None),
        (9, 6, lambda g: (g[:, 0] - 4) ** 2 + (g[:, 1] - 2) ** 2 < 5),
    ],
)
def test_grid_returns_every_candidate_once(rows, cols, drop):
    cands = _block(rows, cols, drop, origin=(2, 3))
    s = GridStrategy(cands, 2, seed=1)
    picks = _run(s, batch=4)
    assert sorted(picks.tolist()) == list(range(len(cands)))
    np.testing.assert_array_equal(picks, s.schedule)


def test_grid_on_real_candidates(small):
    cands, n_spec = small
    picks = _run(GridStrategy(cands, n_spec, seed=3), batch=7)
    assert sorted(picks.tolist()) == list(range(len(cands)))


def test_grid_skips_points_told_out_of_order():
    cands = _block(8, 8)
    s = GridStrategy(cands, 1)
    s.tell(s.schedule[[1, 3]], np.zeros((2, 1)))
    np.testing.assert_array_equal(s.ask(3), s.schedule[[0, 2, 4]])


def test_grid_order_is_seeded_and_translation_free():
    cands = _block(10, 7)
    orders = [interleaved_order(cands.grid_index, seed) for seed in range(4)]
    np.testing.assert_array_equal(orders[0], interleaved_order(cands.grid_index, 0))
    assert any(not np.array_equal(orders[0], o) for o in orders[1:])
    np.testing.assert_array_equal(
        interleaved_order(cands.grid_index + 40, 2), orders[2]
    )
    assert GridStrategy(cands, 1).name == "grid"


# -- quasi-random ------------------------------------------------------------------
@pytest.mark.parametrize("method", ["sobol", "lhs"])
def test_quasi_random_points_are_distinct_and_open(method):
    cands = _block(9, 11, lambda g: (g[:, 0] < 3) & (g[:, 1] < 4))
    s = QuasiRandomStrategy(cands, 3, seed=0, method=method)
    assert s.name == method
    picks = _run(s, batch=6)
    assert sorted(picks.tolist()) == list(range(len(cands)))


@pytest.mark.parametrize("method", ["sobol", "lhs"])
def test_quasi_random_spreads_over_the_region(method):
    cands = _block(12, 12)
    first = QuasiRandomStrategy(cands, 1, seed=5, method=method).ask(16)
    assert _quadrants(cands, first) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    corner = np.argsort(np.linalg.norm(cands.pixels, axis=1))[:16]
    assert _covering_radius(cands, first) < 0.5 * _covering_radius(cands, corner)


def test_sobol_sequence_continues_across_batches():
    cands = _block(16, 16)
    whole = QuasiRandomStrategy(cands, 1, seed=2).ask(8)
    split = QuasiRandomStrategy(cands, 1, seed=2)
    # the second batch continues the sequence rather than restarting it
    parts = np.concatenate([split.ask(3), split.ask(5)])
    np.testing.assert_array_equal(parts, whole)


@pytest.mark.parametrize("method", ["sobol", "lhs"])
def test_quasi_random_is_seeded(method):
    cands = _block(12, 12)

    def picks(seed):
        return _run(QuasiRandomStrategy(cands, 1, seed=seed, method=method), 5)

    np.testing.assert_array_equal(picks(3), picks(3))
    assert not np.array_equal(picks(3), picks(4))


def test_quasi_random_checks_method():
    with pytest.raises(ParameterError, match="method must be one of sobol, lhs"):
        QuasiRandomStrategy(_block(3, 3), 1, method="halton")
