"""Tests of the synthetic ferroelectric sample."""

from __future__ import annotations

import numpy as np
import pytest

from pycroscopy_curiosity.data.synthetic import (
    SyntheticSample,
    make_synthetic_sample,
    write_synthetic_sample,
)
from pycroscopy_curiosity.errors import ParameterError

GRID = (12, 20)
IMAGE = (48, 80)
EXTENT = (1.5e-6, 3e-6)

GRID_KEYS = (
    "coercive",
    "imprint",
    "saturation",
    "pinning",
    "tilt",
    "polarisation",
    "wall_density",
    "defect_density",
    "hidden",
)
IMAGE_KEYS = ("domains", "walls", "defects")


@pytest.fixture(scope="module")
def small() -> SyntheticSample:
    return make_synthetic_sample(
        grid_shape=GRID, image_shape=IMAGE, n_bias=40, extent=EXTENT, seed=11
    )


@pytest.fixture(scope="module")
def default() -> SyntheticSample:
    return make_synthetic_sample(seed=0)


def _dim(ds, axis):
    return ds._axes[axis]


def _short(value) -> str:
    return str(value).split(".")[-1].upper()


# ---------------------------------------------------------------- layout


def test_image_layout_is_transposed_numpy_order(small):
    img = small.image
    assert img.shape == (IMAGE[1], IMAGE[0])
    assert _short(img.data_type) == "IMAGE"
    assert img.title == "structure"
    assert img.quantity == "PFM phase"
    assert img.units == "a.u."
    assert img.dtype == np.float32
    names = [_dim(img, a).name for a in range(2)]
    assert names == ["x", "y"]
    for axis in range(2):
        dim = _dim(img, axis)
        assert _short(dim.dimension_type) == "SPATIAL"
        assert dim.units == "m"
    x = np.asarray(_dim(img, 0).values)
    y = np.asarray(_dim(img, 1).values)
    np.testing.assert_allclose(x, (np.arange(IMAGE[1]) + 0.5) * EXTENT[1] / IMAGE[1])
    np.testing.assert_allclose(y, (np.arange(IMAGE[0]) + 0.5) * EXTENT[0] / IMAGE[0])
    # the image is the transpose of a numpy-ordered field that shows domains
    arr = np.asarray(img).T
    assert arr.shape == IMAGE
    corr = np.corrcoef(arr.ravel(), small.truth["domains"].ravel())[0, 1]
    assert corr > 0.9


def test_spectra_layout_is_transposed_numpy_order(small):
    sp = small.spectra
    assert sp.shape == (GRID[1], GRID[0], 40)
    assert _short(sp.data_type) == "SPECTRAL_IMAGE"
    assert sp.title == "loops"
    assert sp.quantity == "Piezoresponse"
    assert sp.units == "a.u."
    assert sp.dtype == np.float32
    names = [_dim(sp, a).name for a in range(3)]
    assert names == ["x", "y", "bias"]
    assert [_short(_dim(sp, a).dimension_type) for a in range(3)] == [
        "SPATIAL",
        "SPATIAL",
        "SPECTRAL",
    ]
    assert [_dim(sp, a).units for a in range(3)] == ["m", "m", "V"]
    assert _dim(sp, 2).quantity == "DC bias"
    x = np.asarray(_dim(sp, 0).values)
    y = np.asarray(_dim(sp, 1).values)
    # grid point centres over the same physical extent as the image
    np.testing.assert_allclose(x, (np.arange(GRID[1]) + 0.5) * EXTENT[1] / GRID[1])
    np.testing.assert_allclose(y, (np.arange(GRID[0]) + 0.5) * EXTENT[0] / GRID[0])
    img_x = np.asarray(_dim(small.image, 0).values)
    assert x.min() > img_x.min() and x.max() < img_x.max()


def test_truth_shapes(small):
    for key in IMAGE_KEYS:
        assert small.truth[key].shape == IMAGE, key
    for key in GRID_KEYS:
        assert small.truth[key].shape == GRID, key
    assert np.all(np.abs(small.truth["domains"]) <= 1)
    for key in ("walls", "defects"):
        assert small.truth[key].min() >= 0 and small.truth[key].max() <= 1, key
    np.testing.assert_allclose(small.truth["walls"], 1 - small.truth["domains"] ** 2)


def test_spectra_match_truth_parameters():
    """Noise-free loops, transposed back, carry the truth's parameters."""
    sample = make_synthetic_sample(
        grid_shape=GRID, image_shape=IMAGE, n_bias=64, noise=0.0, seed=5
    )
    loops = np.asarray(sample.spectra).transpose(1, 0, 2)
    bias = np.asarray(sample.spectra.bias)
    t = sample.truth
    # at the turning points the loop is saturated: R(+-10) = +-(Ps' + 10 tilt)
    i_max, i_min = int(np.argmax(bias)), int(np.argmin(bias))
    up = loops[..., i_max]
    down = loops[..., i_min]
    slope = (up + down) / 2  # zero for a symmetric saturated loop
    np.testing.assert_allclose(slope, 0, atol=0.05)
    expected_span = t["saturation"] * 2 + 20 * t["tilt"]
    np.testing.assert_allclose(up - down, expected_span, rtol=0.05)
    # the first point starts from the local domain state
    first = loops[..., 0]
    state = t["polarisation"]
    clear = np.abs(state) > 0.2
    assert clear.sum() > 20
    assert np.all(np.sign(first[clear]) == np.sign(state[clear]))
    # the down-sweep follows the documented loop model exactly
    seg = slice(i_max + 1, i_min + 1)  # the +10 V point ends the up-sweep
    v = bias[seg]
    vc, imp = t["coercive"][..., None], t["imprint"][..., None]
    ps, q = t["saturation"][..., None], t["pinning"][..., None]
    branch = np.tanh(v - (-vc + imp))
    model = ps * ((1 - q) * branch + q * np.tanh(v)) + t["tilt"][..., None] * v
    np.testing.assert_allclose(loops[..., seg], model, rtol=1e-6, atol=1e-6)
    # and so does the first up-sweep, from the domain state f = (1 + p) / 2
    seg = slice(0, i_max + 1)
    v = bias[seg]
    f = (1 + state[..., None]) / 2
    branch = f + (1 - f) * np.tanh(v - (vc + imp))
    model = ps * ((1 - q) * branch + q * np.tanh(v)) + t["tilt"][..., None] * v
    np.testing.assert_allclose(loops[..., seg], model, rtol=1e-6, atol=1e-6)
    # the last segment (-10 V back to 0) is on the rising branch
    seg = slice(i_min + 1, None)
    v = bias[seg]
    branch = np.tanh(v - (vc + imp))
    model = ps * ((1 - q) * branch + q * np.tanh(v)) + t["tilt"][..., None] * v
    np.testing.assert_allclose(loops[..., seg], model, rtol=1e-6, atol=1e-6)


def test_metadata(small):
    for ds in (small.image, small.spectra):
        meta = ds.metadata["synthetic"]
        assert meta["generator"] == "pycroscopy_curiosity.data.synthetic"
        assert meta["seed"] == 11
        assert (meta["grid_shape_y"], meta["grid_shape_x"]) == GRID
        assert (meta["image_shape_y"], meta["image_shape_x"]) == IMAGE
        assert meta["n_bias"] == 40
        assert (meta["extent_y"], meta["extent_x"]) == EXTENT
        assert meta["noise"] == 0.03
        assert meta["n_defects"] == 6
        for key, value in meta.items():
            assert isinstance(value, str | int | float), key
            assert not isinstance(value, bool), key
    # the two datasets do not share one metadata dict
    assert small.image.metadata["synthetic"] is not small.spectra.metadata["synthetic"]


# ---------------------------------------------------------------- bias axis


@pytest.mark.parametrize("n_bias", [8, 9, 40, 64, 101])
def test_bias_is_a_triangle(n_bias):
    sample = make_synthetic_sample(
        grid_shape=(4, 4), image_shape=(16, 16), n_bias=n_bias, seed=1
    )
    bias = np.asarray(sample.spectra.bias)
    assert bias.shape == (n_bias,)
    assert bias[0] == 0.0
    assert bias[-1] == pytest.approx(0.0, abs=1e-12)
    assert bias.max() == pytest.approx(10.0)
    assert bias.min() == pytest.approx(-10.0)
    steps = np.diff(bias)
    assert np.any(steps > 0) and np.any(steps < 0)
    assert np.all(steps != 0)
    # 0 -> +10 first, then down to -10, then back up: two changes of direction
    changes = np.count_nonzero(np.diff(np.sign(steps)))
    assert changes == 2
    assert int(np.argmax(bias)) < int(np.argmin(bias))


# ---------------------------------------------------------------- determinism


def test_same_seed_same_sample():
    a = make_synthetic_sample(grid_shape=(8, 10), image_shape=(32, 40), seed=4)
    b = make_synthetic_sample(grid_shape=(8, 10), image_shape=(32, 40), seed=4)
    np.testing.assert_array_equal(np.asarray(a.image), np.asarray(b.image))
    np.testing.assert_array_equal(np.asarray(a.spectra), np.asarray(b.spectra))
    assert a.truth.keys() == b.truth.keys()
    for key in a.truth:
        np.testing.assert_array_equal(a.truth[key], b.truth[key])


def test_different_seed_different_sample():
    a = make_synthetic_sample(grid_shape=(8, 10), image_shape=(32, 40), seed=4)
    b = make_synthetic_sample(grid_shape=(8, 10), image_shape=(32, 40), seed=5)
    assert not np.array_equal(np.asarray(a.image), np.asarray(b.image))
    assert not np.array_equal(np.asarray(a.spectra), np.asarray(b.spectra))
    assert not np.array_equal(a.truth["domains"], b.truth["domains"])


def test_seed_none_is_recorded_and_reproducible():
    a = make_synthetic_sample(grid_shape=(4, 4), image_shape=(16, 16), seed=None)
    seed = a.spectra.metadata["synthetic"]["seed"]
    assert isinstance(seed, int) and seed >= 0
    b = make_synthetic_sample(grid_shape=(4, 4), image_shape=(16, 16), seed=seed)
    np.testing.assert_array_equal(np.asarray(a.spectra), np.asarray(b.spectra))


def test_noise_scales_loop_noise_only():
    kwargs = dict(grid_shape=(8, 8), image_shape=(32, 32), seed=2)
    clean = make_synthetic_sample(noise=0.0, **kwargs)
    noisy = make_synthetic_sample(noise=0.1, **kwargs)
    np.testing.assert_array_equal(np.asarray(clean.image), np.asarray(noisy.image))
    diff = np.asarray(noisy.spectra, float) - np.asarray(clean.spectra, float)
    assert diff.std() == pytest.approx(0.1, rel=0.1)
    assert abs(diff.mean()) < 0.02


# ---------------------------------------------------------------- values


def test_values_finite_float32(default):
    for ds in (default.image, default.spectra):
        arr = np.asarray(ds)
        assert arr.dtype == np.float32
        assert np.all(np.isfinite(arr))
    assert default.image.shape == (128, 128)
    assert default.spectra.shape == (32, 32, 64)
    for key, value in default.truth.items():
        assert np.all(np.isfinite(value)), key


def test_parameter_ranges(default):
    t = default.truth
    assert np.all(t["coercive"] > 0)
    assert np.all(t["coercive"] < 10)
    assert np.all(np.abs(t["imprint"]) <= 1.5)
    assert np.all((t["saturation"] > 0) & (t["saturation"] <= 1))
    assert np.all((t["pinning"] >= 0) & (t["pinning"] <= 0.9))
    assert np.all(t["tilt"] >= 0.02)


def test_image_shows_domains_walls_and_defects(default):
    img = np.asarray(default.image).T
    t = default.truth
    interior = (t["walls"] < 0.05) & (t["defects"] < 0.05)
    walls = (t["walls"] > 0.9) & (t["defects"] < 0.05)
    defects = t["defects"] > 0.8
    assert interior.any() and walls.any() and defects.any()
    # domain interiors are bright or dark, walls are in between, defects faint
    assert np.abs(img[interior]).mean() > 0.85
    assert np.abs(img[walls]).mean() < 0.4
    assert np.abs(img[defects]).mean() < 0.5
    # both polarisations are present in comparable amounts
    up = (t["domains"] > 0.5).mean()
    down = (t["domains"] < -0.5).mean()
    assert 0.2 < up < 0.6 and 0.2 < down < 0.6


# ---------------------------------------------------------------- learnability


def test_walls_lower_the_coercive_field(default):
    t = default.truth
    wd = t["wall_density"]
    high = wd > np.quantile(wd, 0.75)
    low = wd < np.quantile(wd, 0.25)
    assert t["coercive"][high].mean() < t["coercive"][low].mean() - 0.3
    assert t["saturation"][high].mean() < t["saturation"][low].mean() - 0.05


def test_defects_raise_pinning(default):
    t = default.truth
    dd = t["defect_density"]
    rich = dd > 0.3
    clean = dd < 0.02
    assert rich.sum() >= 3 and clean.sum() > 100
    assert t["pinning"][rich].mean() > t["pinning"][clean].mean() + 0.3


def test_pinned_loops_have_less_remanence():
    """Defect-rich loops are pinched: smaller response near zero bias."""
    sample = make_synthetic_sample(seed=0, noise=0.0)
    loops = np.asarray(sample.spectra).transpose(1, 0, 2)
    bias = np.asarray(sample.spectra.bias)
    t = sample.truth
    # on the down-sweep, the response just below 0 V (before switching)
    falling = np.flatnonzero(np.diff(bias, prepend=np.inf) < 0)
    near_zero = falling[np.argmin(np.abs(bias[falling] + 0.3))]
    rem = loops[..., near_zero]
    pinned = t["pinning"] > 0.5
    free = t["pinning"] < 0.05
    assert pinned.sum() >= 3
    assert rem[pinned].mean() < rem[free].mean() - 0.3


def _falling_switch(loops: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Bias at which the down-sweep response crosses its mid value."""
    i_max, i_min = int(np.argmax(bias)), int(np.argmin(bias))
    seg = loops[..., i_max : i_min + 1]
    v = bias[i_max : i_min + 1]
    mid = (seg[..., :1] + seg[..., -1:]) / 2
    below = seg < mid
    first = np.argmax(below, axis=-1)
    return v[first]


def _rising_switch(loops: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Bias at which the first up-sweep response crosses its mid value."""
    i_max = int(np.argmax(bias))
    seg = loops[..., : i_max + 1]
    v = bias[: i_max + 1]
    mid = (seg[..., :1] + seg[..., -1:]) / 2
    first = np.argmax(seg > mid, axis=-1)
    return v[first]


def test_polarisation_sets_the_imprint_sign():
    sample = make_synthetic_sample(seed=0)
    loops = np.asarray(sample.spectra, float).transpose(1, 0, 2)
    bias = np.asarray(sample.spectra.bias)
    t = sample.truth
    ok = t["pinning"] < 0.2
    up = (t["polarisation"] > 0.8) & ok
    down = (t["polarisation"] < -0.8) & ok
    assert up.sum() > 20 and down.sum() > 20
    assert np.all(t["imprint"][up] > 0) and np.all(t["imprint"][down] < 0)
    v_fall = _falling_switch(loops, bias)
    # imprint shifts the loop: c+ switches down at a less negative bias
    assert v_fall[up].mean() > v_fall[down].mean() + 1.5
    # c- points switch on the first up-sweep; their loop centre is negative
    v_rise = _rising_switch(loops, bias)
    centre = (v_rise[down] + v_fall[down]) / 2
    assert centre.mean() < -0.75
    # c+ points start up and do not switch on the first up-sweep
    first_up = loops[..., : int(np.argmax(bias)) + 1]
    assert np.all(first_up[up].min(axis=-1) > 0.5)
    assert np.all(loops[down, 0] < -0.5)


def test_hidden_field_is_small_but_present(default):
    t = default.truth
    h = t["hidden"]
    assert h.std() == pytest.approx(1.0, rel=1e-6)
    base = 4.0 * (1 - 0.45 * t["wall_density"]) * (1 + 0.5 * t["defect_density"])
    ratio = t["coercive"] / base
    assert np.abs(ratio - 1).max() < 0.4
    assert np.corrcoef(ratio.ravel(), h.ravel())[0, 1] > 0.99


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"grid_shape": (0, 4)}, r"grid_shape .*\(0, 4\)"),
        ({"grid_shape": (4,)}, r"grid_shape .*\(4,\)"),
        ({"grid_shape": (4.0, 4)}, r"grid_shape .*4\.0"),
        ({"image_shape": (16, -2)}, r"image_shape .*-2"),
        ({"image_shape": "abc"}, r"image_shape .*'abc'"),
        ({"grid_shape": (40, 8), "image_shape": (32, 32)}, r"grid_shape .*\(40, 8\)"),
        ({"n_bias": 7}, r"n_bias .*7"),
        ({"n_bias": 16.0}, r"n_bias .*16\.0"),
        ({"noise": -0.1}, r"noise .*-0\.1"),
        ({"noise": float("nan")}, r"noise .*nan"),
        ({"extent": (1e-6, 0.0)}, r"extent .*0\.0"),
        ({"extent": (1e-6,)}, r"extent .*1e-06"),
        ({"n_defects": -1}, r"n_defects .*-1"),
        ({"seed": -3}, r"seed .*-3"),
        ({"seed": 1.5}, r"seed .*1\.5"),
    ],
)
def test_parameter_validation(kwargs, pattern):
    with pytest.raises(ParameterError, match=pattern):
        make_synthetic_sample(**kwargs)


def test_parameter_error_is_a_value_error():
    with pytest.raises(ValueError, match="n_bias"):
        make_synthetic_sample(n_bias=3)


def test_zero_defects_and_full_resolution_grid():
    sample = make_synthetic_sample(
        grid_shape=(16, 16), image_shape=(16, 16), n_defects=0, seed=8
    )
    assert np.all(sample.truth["defects"] == 0)
    assert np.all(sample.truth["pinning"] == 0)
    assert sample.spectra.shape == (16, 16, 64)


# ---------------------------------------------------------------- NSID-HDF5


def test_round_trip_through_nsid(tmp_path):
    from pycroscopy_curiosity.data.nsid import list_datasets, read_dataset

    path = tmp_path / "s.h5"
    paths = write_synthetic_sample(
        path, seed=3, grid_shape=(10, 14), image_shape=(40, 56)
    )
    assert set(paths) == {"structure", "loops"}
    expected = make_synthetic_sample(seed=3, grid_shape=(10, 14), image_shape=(40, 56))

    infos = {info.path: info for info in list_datasets(path)}
    assert set(infos) == set(paths.values())
    img_info = infos[paths["structure"]]
    sp_info = infos[paths["loops"]]
    assert img_info.data_type == "IMAGE"
    assert img_info.shape == (56, 40)
    assert sp_info.data_type == "SPECTRAL_IMAGE"
    assert sp_info.shape == (14, 10, 64)
    assert [d.name for d in sp_info.dimensions] == ["x", "y", "bias"]
    assert [d.dimension_type for d in sp_info.dimensions] == [
        "SPATIAL",
        "SPATIAL",
        "SPECTRAL",
    ]
    assert [d.units for d in sp_info.dimensions] == ["m", "m", "V"]
    assert [d.size for d in sp_info.dimensions] == [14, 10, 64]
    assert sp_info.dimensions[2].quantity == "DC bias"

    for key, original in (("structure", expected.image), ("loops", expected.spectra)):
        back = read_dataset(path, paths[key])
        assert back.title == key
        assert back.dtype == np.float32
        np.testing.assert_array_equal(np.asarray(back), np.asarray(original))
        assert _short(back.data_type) == _short(original.data_type)
        assert back.quantity == original.quantity
        assert back.units == original.units
        for axis in range(original.ndim):
            a, b = _dim(original, axis), _dim(back, axis)
            assert b.name == a.name
            assert b.units == a.units
            assert b.quantity == a.quantity
            assert _short(b.dimension_type) == _short(a.dimension_type)
            np.testing.assert_allclose(np.asarray(b.values), np.asarray(a.values))
        meta = back.metadata["synthetic"]
        assert int(meta["seed"]) == 3
        assert int(meta["grid_shape_x"]) == 14
        assert meta["generator"] == "pycroscopy_curiosity.data.synthetic"


def test_write_given_sample(tmp_path, small):
    from pycroscopy_curiosity.data.nsid import read_dataset

    paths = write_synthetic_sample(tmp_path / "given.h5", small)
    back = read_dataset(tmp_path / "given.h5", paths["loops"])
    np.testing.assert_array_equal(np.asarray(back), np.asarray(small.spectra))
    assert int(back.metadata["synthetic"]["seed"]) == 11


def test_write_rejects_sample_and_kwargs(tmp_path, small):
    with pytest.raises(ParameterError, match="not both"):
        write_synthetic_sample(tmp_path / "x.h5", small, seed=2)
    assert not (tmp_path / "x.h5").exists()


def test_write_validates_kwargs(tmp_path):
    with pytest.raises(ParameterError, match=r"n_bias .*5"):
        write_synthetic_sample(tmp_path / "y.h5", n_bias=5)
    assert not (tmp_path / "y.h5").exists()
