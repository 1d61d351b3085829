import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pycroscopy_curiosity.data.patches import CandidateGrid, extract_patches, patch_fits
from pycroscopy_curiosity.errors import DataError, ParameterError


def naive_patch(image, r, c, p, border):
    """Reference: plain slicing, reflecting indices by hand for 'reflect'."""
    half = p // 2
    rows = np.arange(r - half, r - half + p)
    cols = np.arange(c - half, c - half + p)
    if border == "reflect":

        def refl(i, n):
            i = np.abs(i)
            return np.where(i >= n, 2 * (n - 1) - i, i)

        rows, cols = refl(rows, image.shape[0]), refl(cols, image.shape[1])
    return image[np.ix_(rows, cols)]


@pytest.mark.parametrize("p", [1, 2, 5, 8, 9, 16])
@pytest.mark.parametrize("border", ["valid", "reflect"])
def test_patches_equal_naive_slicing(p, border, rng):
    image = rng.normal(size=(37, 45)).astype(np.float32)
    if border == "valid":
        half = p // 2
        rows = rng.integers(half, 37 - (p - half) + 1, size=50)
        cols = rng.integers(half, 45 - (p - half) + 1, size=50)
    else:
        rows, cols = rng.integers(0, 37, size=50), rng.integers(0, 45, size=50)
    pixels = np.stack([rows, cols], 1)
    patches = extract_patches(image, pixels, p, border)
    assert patches.shape == (50, p, p) and patches.dtype == np.float32
    for k, (r, c) in enumerate(pixels):
        np.testing.assert_array_equal(patches[k], naive_patch(image, r, c, p, border))


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(4, 30),
    w=st.integers(4, 30),
    p=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_reflect_patches_match_reference_everywhere(h, w, p, seed):
    r = np.random.default_rng(seed)
    image = r.normal(size=(h, w)).astype(np.float32)
    pixels = np.stack([r.integers(0, h, 20), r.integers(0, w, 20)], 1)
    patches = extract_patches(image, pixels, p, "reflect")
    for k, (i, j) in enumerate(pixels):
        np.testing.assert_array_equal(
            patches[k], naive_patch(image, i, j, p, "reflect")
        )


def test_patch_centre_convention():
    image = np.arange(100, dtype=np.float32).reshape(10, 10)
    odd = extract_patches(image, [[5, 5]], 3)[0]
    assert odd[1, 1] == image[5, 5] and odd[0, 0] == image[4, 4]
    even = extract_patches(image, [[5, 5]], 4)[0]
    assert even[0, 0] == image[3, 3] and even[-1, -1] == image[6, 6]


def test_valid_counts_as_published():
    fits = patch_fits(
        np.stack(np.meshgrid(np.arange(49), np.arange(49), indexing="ij"), -1).reshape(
            -1, 2
        ),
        (49, 49),
        9,
    )
    assert fits.sum() == 41 * 41


def test_patch_larger_than_image():
    with pytest.raises(
        DataError, match=r"patch size 12 is larger than the structure image \(10 x 11"
    ):
        extract_patches(np.zeros((10, 11)), [[5, 5]], 12)


def test_valid_patch_crossing_border_and_bad_arguments():
    with pytest.raises(DataError, match=r"around pixel \(0, 5\) crosses the border"):
        extract_patches(np.zeros((10, 10)), [[0, 5]], 3, "valid")
    with pytest.raises(DataError, match=r"pixel \(10, 0\) lies outside"):
        extract_patches(np.zeros((10, 10)), [[10, 0]], 3, "reflect")
    with pytest.raises(ParameterError, match="border must be one of valid, reflect"):
        extract_patches(np.zeros((10, 10)), [[5, 5]], 3, "wrap")
    with pytest.raises(ParameterError, match="at least 1"):
        extract_patches(np.zeros((10, 10)), [[5, 5]], 0)


def _grid(image, patch=5, step=4):
    rows = np.arange(2, image.shape[0] - 2, step)
    cols = np.arange(2, image.shape[1] - 2, step)
    gi = np.stack(
        np.meshgrid(np.arange(len(rows)), np.arange(len(cols)), indexing="ij"), -1
    ).reshape(-1, 2)
    px = np.stack(np.meshgrid(rows, cols, indexing="ij"), -1).reshape(-1, 2)
    return CandidateGrid(image, patch, "valid", (len(rows), len(cols)), gi, px)


def test_candidate_batches_and_dask_match_full_extraction(rng):
    image = rng.normal(size=(64, 80)).astype(np.float32)
    grid = _grid(image)
    full = grid.patches()
    batches = list(grid.iter_batches(batch_size=7))
    assert all(len(b) <= 7 for _, b in batches)
    np.testing.assert_array_equal(np.concatenate([b for _, b in batches]), full)
    lazy = grid.to_dask(chunk=11)
    assert lazy.shape == full.shape and lazy.chunks[0][0] == 11
    np.testing.assert_array_equal(lazy.compute(), full)


def test_to_grid_and_back(rng):
    image = rng.normal(size=(40, 40)).astype(np.float32)
    grid = _grid(image)
    values = rng.normal(size=len(grid))
    on_grid = grid.to_grid(values)
    assert on_grid.shape == grid.grid_shape
    np.testing.assert_array_equal(grid.from_grid(on_grid), values)
    with pytest.raises(DataError, match="one value per candidate"):
        grid.to_grid(values[:-1])


def test_large_image_batches_without_materialising_all():
    image = np.zeros((2048, 2048), np.float32)
    rows = np.linspace(8, 2039, 256).astype(int)
    gi = np.stack(
        np.meshgrid(np.arange(256), np.arange(256), indexing="ij"), -1
    ).reshape(-1, 2)
    px = np.stack(np.meshgrid(rows, rows, indexing="ij"), -1).reshape(-1, 2)
    grid = CandidateGrid(image, 16, "valid", (256, 256), gi, px)
    assert len(grid) == 65536
    part, first = next(grid.iter_batches(batch_size=1024))
    assert first.shape == (1024, 16, 16) and part == slice(0, 1024)
    lazy = grid.to_dask(chunk=4096)
    assert lazy.numblocks[0] == 16
    assert lazy[-5:].compute().shape == (5, 16, 16)
