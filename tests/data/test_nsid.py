import h5py
import numpy as np
import pytest

from pycroscopy_curiosity.data.nsid import list_datasets, read_dataset, write_nsid_file
from pycroscopy_curiosity.errors import DataError, DataFileError, DataFileNotFoundError
from tests.conftest import make_image, make_spectral


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.h5"
    with pytest.raises(DataFileNotFoundError, match=r"nope\.h5' does not exist"):
        list_datasets(missing)


def test_text_file_named_h5(tmp_path):
    fake = tmp_path / "notes.h5"
    fake.write_text("these are notes, not HDF5")
    with pytest.raises(DataFileError, match=r"notes\.h5' is not an HDF5 file"):
        list_datasets(fake)


def test_plain_hdf5_is_not_nsid(tmp_path):
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f["data"] = np.zeros((4, 4))
    with pytest.raises(
        DataFileError, match=r"plain\.h5' is an HDF5 file but holds no NSID"
    ):
        list_datasets(plain)


def test_listing_and_reading_round_trip(tmp_path, rng):
    path = tmp_path / "two.h5"
    spectral = make_spectral(rng.normal(size=(5, 6, 7)))
    image = make_image(rng.normal(size=(10, 12)))
    paths = write_nsid_file(path, {"loops": spectral, "height": image})
    infos = {i.path: i for i in list_datasets(path)}
    assert set(infos) == set(paths.values())
    loops = infos[paths["loops"]]
    assert loops.data_type == "SPECTRAL_IMAGE" and loops.shape == (6, 5, 7)
    assert [d.name for d in loops.dimensions] == ["x", "y", "bias"]
    assert [d.dimension_type for d in loops.dimensions] == [
        "SPATIAL",
        "SPATIAL",
        "SPECTRAL",
    ]
    assert [d.units for d in loops.dimensions] == ["m", "m", "V"]
    assert loops.quantity == "Piezoresponse" and loops.title == "loops"
    assert "SPECTRAL_IMAGE  6 x 5 x 7" in loops.describe()
    back = read_dataset(path, paths["height"])
    assert back.dtype == np.float32 and back.title == "image"
    np.testing.assert_array_equal(np.asarray(back), np.asarray(image))


def test_wrong_dataset_path_lists_what_is_there(tmp_path, rng):
    path = tmp_path / "one.h5"
    write_nsid_file(path, {"loops": make_spectral(rng.normal(size=(3, 3, 4)))})
    with pytest.raises(
        DataError,
        match=r"no NSID main dataset at '/nowhere' in .*one\.h5'; the file holds: /Measurement_000/Channel_000/loops/loops",
    ):
        read_dataset(path, "/nowhere")


def test_file_is_opened_read_only(tmp_path, rng):
    path = tmp_path / "ro.h5"
    write_nsid_file(path, {"loops": make_spectral(rng.normal(size=(3, 3, 4)))})
    path.chmod(0o444)
    try:
        assert len(list_datasets(path)) == 1
        read_dataset(path, "Measurement_000/Channel_000/loops/loops")
    finally:
        path.chmod(0o644)


@pytest.mark.realdata
def test_real_pto_loops_listing(pto_loops):
    (info,) = list_datasets(pto_loops)
    assert (
        info.path
        == "/Measurement_000/Channel_000/polarization_loops/polarization_loops"
    )
    assert info.data_type == "SPECTRAL_IMAGE" and info.shape == (49, 49, 99)
    assert [d.name for d in info.dimensions] == ["x", "y", "step"]


@pytest.mark.realdata
def test_real_pfm_scan_lists_four_channels_with_units(pto_images):
    infos = list_datasets(pto_images)
    assert [i.data_type for i in infos] == ["IMAGE"] * 4
    assert [(i.quantity, i.units) for i in infos] == [
        ("HeightRetrace", "m"),
        ("AmplitudeRetrace", "m"),
        ("DeflectionRetrace", "m"),
        ("PhaseRetrace", "deg"),
    ]
    assert all(i.shape == (256, 256) for i in infos)
    ds = read_dataset(pto_images, infos[1].path)
    assert len(ds.original_metadata) > 800 and "ScanSize" in ds.original_metadata
