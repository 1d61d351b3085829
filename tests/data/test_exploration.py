import numpy as np
import pytest

from pycroscopy_curiosity.data.exploration import (
    ExplorationData,
    Normalization,
    StructureImage,
    load_exploration_data,
    load_structure_image,
    parse_range,
)
from pycroscopy_curiosity.data.nsid import list_datasets, write_nsid_file
from pycroscopy_curiosity.errors import DataError, ParameterError
from tests.conftest import make_image, make_spectral


def test_axis_order_is_found_from_names(rng):
    values = rng.normal(size=(6, 9, 5))
    xy = ExplorationData.from_sidpy(make_spectral(values, order="xy"), image_index=0)
    yx = ExplorationData.from_sidpy(make_spectral(values, order="yx"), image_index=0)
    assert xy.grid_shape == yx.grid_shape == (6, 9)
    np.testing.assert_array_equal(xy.spectra, yx.spectra)
    np.testing.assert_allclose(
        xy.physical_spectra(xy.spectra), values, rtol=1e-5, atol=1e-5
    )


def test_image_from_spectral_index_and_range(rng):
    values = rng.normal(size=(7, 8, 20))
    data = ExplorationData.from_sidpy(
        make_spectral(values),
        image_index=3,
        spectral_range="10:15",
        image_normalization="none",
    )
    np.testing.assert_allclose(data.image, values[:, :, 3], rtol=1e-6)
    assert data.n_spec == 5 and data.source.spectral_range == (10, 15)
    np.testing.assert_allclose(data.spectral_axis.values, np.linspace(-1, 1, 20)[10:15])
    np.testing.assert_array_equal(data.grid_to_pixel[2, 5], [2, 5])
    assert "spectral index 3" in data.source.image_source


def test_image_from_reduction(rng):
    values = rng.normal(size=(5, 5, 12))
    data = ExplorationData.from_sidpy(
        make_spectral(values),
        image_reduce="mean",
        image_range="2:6",
        image_normalization="none",
    )
    np.testing.assert_allclose(
        data.image, values[:, :, 2:6].mean(2), rtol=1e-5, atol=1e-6
    )
    assert "mean over spectral indices 2:6" in data.source.image_source


def test_separate_image_is_mapped_through_physical_axes(rng):
    # 10 x 12 grid every 400 nm; image of 40 x 48 pixels every 100 nm, in um
    grid_x, grid_y = np.arange(12) * 400e-9, np.arange(10) * 400e-9
    spectral = make_spectral(rng.normal(size=(10, 12, 6)), x=grid_x, y=grid_y)
    image = make_image(
        rng.normal(size=(40, 48)),
        x=np.arange(48) * 0.1,
        y=np.arange(40) * 0.1,
        units="um",
    )
    data = ExplorationData.from_sidpy(spectral, image)
    assert data.image_shape == (40, 48) and data.grid_shape == (10, 12)
    np.testing.assert_array_equal(data.grid_to_pixel[3, 7], [12, 28])
    cands = data.candidates(8, "valid")
    assert len(cands) == len(data.candidates(8)) > 0
    assert np.all(cands.pixels - 4 >= 0) and np.all(cands.pixels + 4 <= [40, 48])


def test_mismatched_physical_units(rng):
    spectral = make_spectral(rng.normal(size=(4, 4, 3)), units="m")
    image = make_image(rng.normal(size=(8, 8)), units="deg")
    with pytest.raises(
        DataError,
        match=r"x axis of the spectra is in 'm' but that of the image is in 'deg'",
    ):
        ExplorationData.from_sidpy(spectral, image)


def test_grid_outside_image(rng):
    spectral = make_spectral(rng.normal(size=(4, 4, 3)), x=np.arange(4) * 10.0)
    image = make_image(rng.normal(size=(8, 8)))
    with pytest.raises(
        DataError, match=r"grid's x axis spans 0 to 30 m, outside the structure image's"
    ):
        ExplorationData.from_sidpy(spectral, image)


def test_nan_spectra_raise_or_mask(rng):
    values = rng.normal(size=(6, 6, 4))
    values[2, 3, 1] = np.nan
    values[4, 4, :] = np.inf
    with pytest.raises(
        DataError, match=r"holds NaN or inf at 2 position\(s\), first at \(2, 3\)"
    ):
        ExplorationData.from_sidpy(
            make_spectral(values), image_reduce="mean", image_range="0:1"
        )
    data = ExplorationData.from_sidpy(
        make_spectral(values), image_index=0, nonfinite="mask"
    )
    assert not data.valid[2, 3] and not data.valid[4, 4] and data.valid.sum() == 34
    assert np.isfinite(data.spectra).all() and np.isfinite(data.image).all()
    flat = set(data.candidates(1).flat_index.tolist())
    assert 2 * 6 + 3 not in flat and 4 * 6 + 4 not in flat and len(flat) == 34


def test_nan_image_pixels_mask_candidates(rng):
    spectral = make_spectral(rng.normal(size=(6, 6, 4)))
    img = rng.normal(size=(6, 6))
    img[0, 0] = np.nan
    with pytest.raises(DataError, match=r"image .* holds NaN or inf at 1 position"):
        ExplorationData.from_sidpy(spectral, make_image(img))
    data = ExplorationData.from_sidpy(spectral, make_image(img), nonfinite="mask")
    cands = data.candidates(3, "reflect")
    touched = {(0, 0), (0, 1), (1, 0), (1, 1)}
    assert (
        touched.isdisjoint(map(tuple, cands.grid_index.tolist())) and len(cands) == 32
    )


def test_one_d_data_and_bad_options(rng):
    import sidpy

    one_d = sidpy.Dataset.from_array(np.zeros(10, np.float32), title="line")
    with pytest.raises(
        DataError,
        match=r"is 1-D \(shape \(10,\)\); a spectral image needs two spatial and one spectral",
    ):
        ExplorationData.from_sidpy(one_d, image_index=0)
    spectral = make_spectral(rng.normal(size=(4, 4, 3)))
    with pytest.raises(ParameterError, match="no structure image"):
        ExplorationData.from_sidpy(spectral)
    with pytest.raises(ParameterError, match="choose one structure image source"):
        ExplorationData.from_sidpy(spectral, image_index=0, image_reduce="mean")
    with pytest.raises(
        DataError, match="image index 3 lies outside the spectral axis of length 3"
    ):
        ExplorationData.from_sidpy(spectral, image_index=3)
    with pytest.raises(ParameterError, match="look like 'A:B'"):
        parse_range("4-9")
    with pytest.raises(DataError, match="selects no point"):
        ExplorationData.from_sidpy(spectral, image_index=0, spectral_range="2:2")


def test_patch_larger_than_image(rng):
    data = ExplorationData.from_sidpy(
        make_spectral(rng.normal(size=(6, 7, 3))), image_index=0
    )
    with pytest.raises(
        DataError,
        match=r"patch size 8 is larger than the structure image \(6 x 7 pixels\)",
    ):
        data.candidates(8)


def test_normalization_round_trip(rng):
    values = rng.normal(3, 2, size=100)
    for method in ("standard", "minmax", "none"):
        norm = Normalization.fit(values, method)
        np.testing.assert_allclose(norm.invert(norm.apply(values)), values, atol=1e-5)
    assert Normalization.fit(values, "minmax").apply(values).min() == 0
    with pytest.raises(ParameterError, match="normalisation must be one of"):
        Normalization.fit(values, "log")


def test_ambiguous_and_missing_spectral_choice(tmp_path, rng):
    two = tmp_path / "two.h5"
    paths = write_nsid_file(
        two,
        {
            "a": make_spectral(rng.normal(size=(4, 4, 3)), title="a"),
            "b": make_spectral(rng.normal(size=(4, 4, 3)), title="b"),
        },
    )
    with pytest.raises(
        DataError,
        match=r"holds 2 SPECTRAL_IMAGE datasets .*choose one with dataset= / --dataset",
    ):
        load_exploration_data(two, image_index=0)
    data = load_exploration_data(two, dataset=paths["b"], image_index=0)
    assert data.source.spectral_dataset == paths["b"] and data.source.file == str(two)
    images = tmp_path / "img.h5"
    write_nsid_file(images, {"height": make_image(rng.normal(size=(8, 8)))})
    with pytest.raises(DataError, match="holds no SPECTRAL_IMAGE dataset"):
        load_exploration_data(images, image_index=0)


def test_file_with_separate_image_dataset(tmp_path, rng):
    path = tmp_path / "both.h5"
    paths = write_nsid_file(
        path,
        {
            "loops": make_spectral(
                rng.normal(size=(5, 5, 4)), x=np.arange(5) * 2.0, y=np.arange(5) * 2.0
            ),
            "height": make_image(rng.normal(size=(10, 10))),
        },
    )
    data = load_exploration_data(path, image_dataset=paths["height"])
    assert data.image_shape == (10, 10) and data.image_quantity == "Amplitude"
    np.testing.assert_array_equal(data.grid_to_pixel[2, 3], [4, 6])
    assert data.source.image_dataset == paths["height"]


@pytest.mark.realdata
def test_real_pto_loops_as_published(pto_loops):
    data = load_exploration_data(pto_loops, image_index=25, spectral_range="49:99")
    assert data.image_shape == (49, 49) and data.spectra.shape == (49, 49, 50)
    assert data.spectral_axis.values[0] == 49 and data.spectral_axis.values[-1] == 98
    cands = data.candidates(9, "valid")
    assert len(cands) == 41 * 41 and cands.block_shape == (41, 41)
    assert cands.patches().shape == (1681, 9, 9)
    raw = (
        np.load(pto_loops.parent / "norm_polarization.npy")
        if (pto_loops.parent / "norm_polarization.npy").exists()
        else None
    )
    if raw is not None:
        # the file stores axis 0 as x: the data object holds the transpose
        np.testing.assert_allclose(
            data.physical_spectra(data.spectra),
            raw[:, :, 49:99].transpose(1, 0, 2),
            atol=1e-5,
        )


@pytest.mark.realdata
def test_real_pfm_channel_as_structure_image(pto_images, rng):
    infos = list_datasets(pto_images)
    amplitude = load_structure_image(pto_images, infos[1].path)
    assert (
        amplitude.values.shape == (256, 256)
        and amplitude.quantity == "AmplitudeRetrace"
    )
    coords = (np.arange(16) + 0.5) * (1e-6 / 16)
    spectral = make_spectral(rng.normal(size=(16, 16, 8)), x=coords, y=coords)
    data = ExplorationData.from_sidpy(spectral, amplitude)
    assert data.image_shape == (256, 256)
    np.testing.assert_array_equal(data.grid_to_pixel[0, 0], [8, 8])
    assert len(data.candidates(16)) == 256
    phase = load_structure_image(pto_images, infos[3].path)
    with pytest.raises(DataError, match="'m' but that of the image is in 'deg'"):
        ExplorationData.from_sidpy(spectral, phase)
    assert isinstance(phase, StructureImage)
