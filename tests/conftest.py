"""Shared fixtures: real measurements (when present) and small sidpy data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PTO_LOOPS = SHARED_DATA / "pto_sspfm_49x49.h5"
PTO_IMAGES = SHARED_DATA / "PTO_Funakubo0001.h5"
PTO_NPY = SHARED_DATA / "norm_polarization.npy"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real measurement {path.name} not found in {SHARED_DATA}")
    return path


@pytest.fixture
def pto_loops() -> Path:
    """The 49 x 49 x 99 PbTiO3 switching-spectroscopy file."""
    return _need(PTO_LOOPS)


@pytest.fixture
def pto_images() -> Path:
    """The 256 x 256 four-channel PbTiO3 PFM scan."""
    return _need(PTO_IMAGES)


def make_spectral(
    values: np.ndarray,
    *,
    x=None,
    y=None,
    units: str = "m",
    order: str = "xy",
    title: str = "loops",
):
    """A sidpy SPECTRAL_IMAGE from a numpy ``ny x nx x L`` array.

    ``order='xy'`` stores axis 0 as x (as the field's files do); ``'yx'``
    stores rows first.
    """
    import sidpy

    ny, nx, n = values.shape
    x = np.arange(nx) * 1.0 if x is None else np.asarray(x, float)
    y = np.arange(ny) * 1.0 if y is None else np.asarray(y, float)
    arr = values.transpose(1, 0, 2) if order == "xy" else values
    ds = sidpy.Dataset.from_array(arr.astype(np.float32), title=title)
    ds.data_type = "SPECTRAL_IMAGE"
    ds.quantity, ds.units = "Piezoresponse", "a.u."
    dx = sidpy.Dimension(x, "x", "x", units, "SPATIAL")
    dy = sidpy.Dimension(y, "y", "y", units, "SPATIAL")
    first, second = (dx, dy) if order == "xy" else (dy, dx)
    ds.set_dimension(0, first)
    ds.set_dimension(1, second)
    ds.set_dimension(
        2, sidpy.Dimension(np.linspace(-1, 1, n), "bias", "DC bias", "V", "SPECTRAL")
    )
    return ds


def make_image(values: np.ndarray, *, x=None, y=None, units: str = "m", title="image"):
    """A sidpy IMAGE (axis 0 = x) from a numpy ``H x W`` array."""
    import sidpy

    h, w = values.shape
    x = np.arange(w) * 1.0 if x is None else np.asarray(x, float)
    y = np.arange(h) * 1.0 if y is None else np.asarray(y, float)
    ds = sidpy.Dataset.from_array(values.T.astype(np.float32), title=title)
    ds.data_type = "IMAGE"
    ds.quantity, ds.units = "Amplitude", "V"
    ds.set_dimension(0, sidpy.Dimension(x, "x", "x", units, "SPATIAL"))
    ds.set_dimension(1, sidpy.Dimension(y, "y", "y", units, "SPATIAL"))
    return ds


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
