"""A seeded synthetic ferroelectric sample: PFM structure image and BEPS loops.

The sample is the package's built-in default for demos, examples and tests.
It is deterministic by seed and generates the default size in a few
milliseconds.

The physics, in short:

* **Domains.** Stripe c+/c- domains with curved walls. A phase field
  ``phi = sin(k (x cos t + y sin t) + warp)`` with a random stripe
  orientation ``t``, a stripe period of about one sixth of the image and a
  smooth Gaussian random ``warp`` of about 2 rad is turned into a
  polarisation ``P = tanh(phi / w)``; the wall map is ``1 - P**2``.
* **Defects.** ``n_defects`` Gaussian point defects of a few pixels radius,
  a map ``D`` in 0..1.
* **Structure image.** ``P (1 - 0.7 D)`` plus a weak smooth topography-like
  field plus white noise of standard deviation 0.02.
* **Local properties.** Every spectral grid point sees the smoothed
  (patch-scale) polarisation ``p``, wall density ``wd`` and defect density
  ``dd`` at the image pixel nearest to it, plus a small hidden smooth field
  ``h`` that the image does not show.
* **Loops.** Coercive bias ``Vc = 4 V (1 - 0.45 wd)(1 + 0.5 dd)(1 + 0.08 h)``,
  imprint ``1.5 V p``, saturation ``1 - 0.4 wd - 0.3 dd``, pinning
  ``clip(1.5 dd, 0, 0.9)`` and a linear background ``0.02 + 0.05 wd`` per
  volt shape a tanh hysteresis loop measured on a triangle bias waveform
  ``0 -> +10 V -> -10 V -> 0``. The first up-sweep starts from the local
  domain state, so a c+ domain does not switch on it.

Arrays in :attr:`SyntheticSample.truth` are in numpy (row = y, column = x)
order; the sidpy Datasets follow NSID files of the field and store x on
axis 0 and y on axis 1, so their arrays are the transposes.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from pycroscopy_curiosity.errors import ParameterError

log = logging.getLogger(__name__)

__all__ = [
    "SyntheticSample",
    "make_synthetic_sample",
    "write_synthetic_sample",
]

GENERATOR = "pycroscopy_curiosity.data.synthetic"

#: Amplitude of the triangle bias waveform, in volts.
V_MAX = 10.0
#: Switching width of the tanh loop branches, in volts.
SWITCHING_WIDTH = 1.0
#: Wall width parameter ``w`` of ``P = tanh(phi / w)`` (dimensionless).
WALL_WIDTH = 0.35
#: Stripe period as a fraction of the (geometric mean) image size.
STRIPE_FRACTION = 1.0 / 6.0
#: Amplitude (standard deviation) of the wall-curving warp field, in rad.
WARP_AMPLITUDE = 2.0
#: Standard deviation of the white noise of the structure image.
IMAGE_NOISE = 0.02
#: Standard deviation of the topography-like smooth field of the image.
TOPOGRAPHY_AMPLITUDE = 0.05
#: Relative strength of the hidden field on the coercive bias.
HIDDEN_STRENGTH = 0.08


@dataclass
class SyntheticSample:
    """A synthetic PFM/BEPS sample with its ground truth.

    Attributes
    ----------
    image : sidpy.Dataset
        ``IMAGE`` of shape ``(nx_img, ny_img)`` (x on axis 0), the structure
        image at image resolution, float32.
    spectra : sidpy.Dataset
        ``SPECTRAL_IMAGE`` of shape ``(nx_grid, ny_grid, n_bias)``, the
        hysteresis loops on the coarser spectral grid, float32.
    truth : dict of str to numpy.ndarray
        Ground truth in numpy (row = y, column = x) order. At image
        resolution ``(ny_img, nx_img)``: ``'domains'`` (polarisation, -1..1),
        ``'walls'`` (0..1), ``'defects'`` (0..1). Per grid point
        ``(ny_grid, nx_grid)``: ``'coercive'`` (V), ``'imprint'`` (V),
        ``'saturation'``, ``'pinning'``, ``'tilt'`` (1/V), and the local
        descriptors they derive from, ``'polarisation'``,
        ``'wall_density'``, ``'defect_density'`` and ``'hidden'``.
    """

    image: object
    spectra: object
    truth: dict[str, np.ndarray] = field(default_factory=dict)


# --------------------------------------------------------------------------
# argument checks


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_shape(name: str, value: object) -> tuple[int, int]:
    """A pair of positive integers, or :class:`ParameterError`."""
    try:
        items = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        items = ()
    if len(items) != 2 or not all(_is_int(v) and v > 0 for v in items):
        raise ParameterError(
            f"{name} must be a pair of positive integers (ny, nx), got {value!r}"
        )
    return int(items[0]), int(items[1])


def _check_extent(value: object) -> tuple[float, float]:
    """A pair of positive finite lengths in metres, or :class:`ParameterError`."""
    try:
        items = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        items = ()
    ok = len(items) == 2 and all(
        isinstance(v, numbers.Real)
        and not isinstance(v, bool)
        and math.isfinite(v)
        and v > 0
        for v in items
    )
    if not ok:
        raise ParameterError(
            "extent must be a pair of positive finite lengths in metres "
            f"(height_y, width_x), got {value!r}"
        )
    return float(items[0]), float(items[1])


def _check_seed(seed: object) -> int:
    """A non-negative integer seed; ``None`` draws one and records it."""
    if seed is None:
        drawn = int(np.random.SeedSequence().generate_state(1)[0])
        log.info("no seed given; drew seed %d", drawn)
        return drawn
    if not _is_int(seed) or seed < 0:
        raise ParameterError(
            f"seed must be a non-negative integer or None, got {seed!r}"
        )
    return int(seed)


def _check_arguments(
    grid_shape: Sequence[int],
    image_shape: Sequence[int],
    n_bias: int,
    extent: Sequence[float],
    noise: float,
    n_defects: int,
    seed: int | None,
) -> dict[str, object]:
    grid = _check_shape("grid_shape", grid_shape)
    image = _check_shape("image_shape", image_shape)
    if grid[0] > image[0] or grid[1] > image[1]:
        raise ParameterError(
            f"grid_shape {grid} must not be larger than image_shape {image} "
            "along either axis"
        )
    if not _is_int(n_bias) or n_bias < 8:
        raise ParameterError(f"n_bias must be an integer >= 8, got {n_bias!r}")
    height, width = _check_extent(extent)
    if (
        not isinstance(noise, numbers.Real)
        or isinstance(noise, bool)
        or not math.isfinite(noise)
        or noise < 0
    ):
        raise ParameterError(f"noise must be a finite number >= 0, got {noise!r}")
    if not _is_int(n_defects) or n_defects < 0:
        raise ParameterError(
            f"n_defects must be a non-negative integer, got {n_defects!r}"
        )
    return {
        "grid": grid,
        "image": image,
        "n_bias": int(n_bias),
        "extent": (height, width),
        "noise": float(noise),
        "n_defects": int(n_defects),
        "seed": _check_seed(seed),
    }


# --------------------------------------------------------------------------
# fields


def _smooth_field(
    rng: np.random.Generator, shape: tuple[int, int], sigma: tuple[float, float]
) -> np.ndarray:
    """Zero-mean, unit-variance smoothed Gaussian random field."""
    white = rng.standard_normal(shape)
    smooth = ndimage.gaussian_filter(white, sigma=sigma, mode="reflect")
    smooth -= smooth.mean()
    std = smooth.std()
    return smooth / std if std > 0 else smooth


def _triangle_bias(n_bias: int, v_max: float = V_MAX) -> np.ndarray:
    """Triangle bias waveform ``0 -> +v_max -> -v_max -> 0`` of ``n_bias`` steps.

    Both turning points and both ends are sampled exactly; the three
    segments get intervals in the ratio 1 : 2 : 1 as closely as ``n_bias``
    allows.

    Parameters
    ----------
    n_bias : int
        Number of bias steps, at least 4.
    v_max : float
        Amplitude in volts.

    Returns
    -------
    numpy.ndarray
        The bias values in measurement order (not sorted), float64.
    """
    if not _is_int(n_bias) or n_bias < 4:
        raise ParameterError(f"n_bias must be an integer >= 4, got {n_bias!r}")
    intervals = n_bias - 1
    up = max(1, round(intervals / 4))
    back = max(1, round(intervals / 4))
    down = intervals - up - back
    return np.concatenate(
        [
            np.linspace(0.0, v_max, up + 1),
            np.linspace(v_max, -v_max, down + 1)[1:],
            np.linspace(-v_max, 0.0, back + 1)[1:],
        ]
    )


def _pixel_centres(n: int, length: float) -> np.ndarray:
    return (np.arange(n) + 0.5) * (length / n)


def _structure(
    rng: np.random.Generator,
    image: tuple[int, int],
    extent: tuple[float, float],
    n_defects: int,
) -> dict[str, object]:
    """Domains, walls, defects and the structure image at image resolution."""
    ny, nx = image
    height, width = extent
    dy, dx = height / ny, width / nx
    y = _pixel_centres(ny, height)[:, None]
    x = _pixel_centres(nx, width)[None, :]

    period = STRIPE_FRACTION * math.sqrt(height * width)
    orientation = float(rng.uniform(0.0, math.pi))
    warp_sigma = (period / dy, period / dx)
    warp = WARP_AMPLITUDE * _smooth_field(rng, image, warp_sigma)
    k = 2.0 * math.pi / period
    along = x * math.cos(orientation) + y * math.sin(orientation)
    phi = np.sin(k * along + warp)
    polarisation = np.tanh(phi / WALL_WIDTH)
    walls = 1.0 - polarisation**2

    # point defects: Gaussian blobs of a few pixels radius, combined by max
    rows = rng.uniform(0.0, ny, n_defects)
    cols = rng.uniform(0.0, nx, n_defects)
    radii = rng.uniform(2.0, 4.5, n_defects)
    iy = np.arange(ny)[:, None] + 0.5
    ix = np.arange(nx)[None, :] + 0.5
    defects = np.zeros(image)
    for row, col, radius in zip(rows, cols, radii, strict=True):
        blob = np.exp(-((iy - row) ** 2 + (ix - col) ** 2) / (2.0 * radius**2))
        np.maximum(defects, blob, out=defects)

    topo_sigma = (ny / 6.0, nx / 6.0)
    topography = TOPOGRAPHY_AMPLITUDE * _smooth_field(rng, image, topo_sigma)
    img_noise = IMAGE_NOISE * rng.standard_normal(image)
    structure = polarisation * (1.0 - 0.7 * defects) + topography + img_noise
    return {
        "domains": polarisation,
        "walls": walls,
        "defects": defects,
        "structure": structure,
        "period": period,
        "orientation": orientation,
        "x": x.ravel(),
        "y": y.ravel(),
    }


def _grid_indices(n_grid: int, n_image: int) -> np.ndarray:
    """Index of the image pixel nearest to each grid point centre."""
    idx = np.floor((np.arange(n_grid) + 0.5) * n_image / n_grid).astype(int)
    return np.clip(idx, 0, n_image - 1)


def _local_descriptors(
    rng: np.random.Generator,
    fields: dict[str, object],
    grid: tuple[int, int],
    image: tuple[int, int],
) -> dict[str, np.ndarray]:
    """Patch-scale polarisation, wall and defect density, hidden field."""
    sigma = tuple(max(1.0, 0.5 * image[a] / grid[a]) for a in range(2))
    rows = _grid_indices(grid[0], image[0])
    cols = _grid_indices(grid[1], image[1])
    pick = np.ix_(rows, cols)

    def local(name: str) -> np.ndarray:
        smooth = ndimage.gaussian_filter(fields[name], sigma=sigma, mode="nearest")
        return smooth[pick]

    hidden_sigma = tuple(max(1.0, n / 8.0) for n in grid)
    return {
        "polarisation": np.clip(local("domains"), -1.0, 1.0),
        "wall_density": np.clip(local("walls"), 0.0, 1.0),
        "defect_density": np.clip(local("defects"), 0.0, 1.0),
        "hidden": _smooth_field(rng, grid, hidden_sigma),
        "sigma_y": np.float64(sigma[0]),
        "sigma_x": np.float64(sigma[1]),
    }


def _loop_parameters(local: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    p = local["polarisation"]
    wd = local["wall_density"]
    dd = local["defect_density"]
    h = local["hidden"]
    return {
        "coercive": 4.0 * (1 - 0.45 * wd) * (1 + 0.5 * dd) * (1 + HIDDEN_STRENGTH * h),
        "imprint": 1.5 * p,
        "saturation": 1.0 - 0.4 * wd - 0.3 * dd,
        "pinning": np.clip(1.5 * dd, 0.0, 0.9),
        "tilt": 0.02 + 0.05 * wd,
    }


def _loops(
    bias: np.ndarray, params: dict[str, np.ndarray], p: np.ndarray
) -> np.ndarray:
    """Noise-free loops of shape ``(ny, nx, n_bias)``."""
    s = SWITCHING_WIDTH
    v = bias[None, None, :]
    vc = params["coercive"][..., None]
    imp = params["imprint"][..., None]
    ps = params["saturation"][..., None]
    q = params["pinning"][..., None]
    tilt = params["tilt"][..., None]

    rising = np.tanh((v - (vc + imp)) / s)
    falling = np.tanh((v - (-vc + imp)) / s)
    step = np.diff(bias, prepend=bias[0] - 1.0)
    branch = np.where(step > 0, rising, falling)

    # first up-sweep: a c+ fraction f is already up and does not switch
    first_end = int(np.argmax(bias))
    f = ((1.0 + np.clip(p, -1.0, 1.0)) / 2.0)[..., None]
    first = f + (1.0 - f) * rising[..., : first_end + 1]
    branch[..., : first_end + 1] = first

    pinched = np.tanh(v / s)
    return ps * ((1.0 - q) * branch + q * pinched) + tilt * v


# --------------------------------------------------------------------------
# sidpy


def _spatial(values: np.ndarray, name: str):
    import sidpy

    return sidpy.Dimension(np.asarray(values, float), name, name, "m", "SPATIAL")


def _image_dataset(structure: np.ndarray, fields, metadata: dict):
    import sidpy

    ds = sidpy.Dataset.from_array(structure.T.astype(np.float32), title="structure")
    ds.data_type = "IMAGE"
    ds.quantity = "PFM phase"
    ds.units = "a.u."
    ds.modality = "synthetic PFM"
    ds.source = GENERATOR
    ds.set_dimension(0, _spatial(fields["x"], "x"))
    ds.set_dimension(1, _spatial(fields["y"], "y"))
    ds.metadata = {"synthetic": dict(metadata)}
    return ds


def _spectra_dataset(
    loops: np.ndarray,
    bias: np.ndarray,
    grid: tuple[int, int],
    extent: tuple[float, float],
    metadata: dict,
):
    import sidpy

    ds = sidpy.Dataset.from_array(
        loops.transpose(1, 0, 2).astype(np.float32), title="loops"
    )
    ds.data_type = "SPECTRAL_IMAGE"
    ds.quantity = "Piezoresponse"
    ds.units = "a.u."
    ds.modality = "synthetic BEPS"
    ds.source = GENERATOR
    ds.set_dimension(0, _spatial(_pixel_centres(grid[1], extent[1]), "x"))
    ds.set_dimension(1, _spatial(_pixel_centres(grid[0], extent[0]), "y"))
    ds.set_dimension(
        2, sidpy.Dimension(np.asarray(bias, float), "bias", "DC bias", "V", "SPECTRAL")
    )
    ds.metadata = {"synthetic": dict(metadata)}
    return ds


# --------------------------------------------------------------------------
# public API


def make_synthetic_sample(
    grid_shape: Sequence[int] = (32, 32),
    image_shape: Sequence[int] = (128, 128),
    n_bias: int = 64,
    extent: Sequence[float] = (2e-6, 2e-6),
    noise: float = 0.03,
    n_defects: int = 6,
    seed: int | None = 0,
) -> SyntheticSample:
    """Make a seeded synthetic ferroelectric PFM/BEPS sample.

    Parameters
    ----------
    grid_shape : (int, int)
        Spectral grid ``(ny, nx)``; not larger than ``image_shape``.
    image_shape : (int, int)
        Structure image ``(ny, nx)`` in pixels.
    n_bias : int
        Number of bias steps of the triangle waveform, at least 8.
    extent : (float, float)
        Physical size ``(height_y, width_x)`` in metres, shared by the image
        and the spectral grid.
    noise : float
        Standard deviation of the Gaussian measurement noise of the loops
        (the structure image always has noise of standard deviation 0.02).
    n_defects : int
        Number of point defects (0 or more).
    seed : int or None
        Seed of :func:`numpy.random.default_rng`; the same seed gives the
        same sample. ``None`` draws a seed, which is logged and recorded in
        the metadata.

    Returns
    -------
    SyntheticSample
        The structure image, the loops and the ground truth.

    Raises
    ------
    ParameterError
        When an argument is outside its allowed range; the message names it.

    Examples
    --------
    >>> sample = make_synthetic_sample(seed=1)
    >>> sample.spectra.shape
    (32, 32, 64)
    >>> sorted(sample.truth)[:3]
    ['coercive', 'defect_density', 'defects']
    """
    args = _check_arguments(
        grid_shape, image_shape, n_bias, extent, noise, n_defects, seed
    )
    grid, image = args["grid"], args["image"]
    extent_yx = args["extent"]
    rng = np.random.default_rng(args["seed"])

    fields = _structure(rng, image, extent_yx, args["n_defects"])
    local = _local_descriptors(rng, fields, grid, image)
    params = _loop_parameters(local)
    bias = _triangle_bias(args["n_bias"])
    clean = _loops(bias, params, local["polarisation"])
    loops = clean + args["noise"] * rng.standard_normal(clean.shape)

    metadata = {
        "generator": GENERATOR,
        "seed": args["seed"],
        "grid_shape_y": grid[0],
        "grid_shape_x": grid[1],
        "image_shape_y": image[0],
        "image_shape_x": image[1],
        "n_bias": args["n_bias"],
        "extent_y": extent_yx[0],
        "extent_x": extent_yx[1],
        "noise": args["noise"],
        "n_defects": args["n_defects"],
        "v_max": V_MAX,
        "switching_width": SWITCHING_WIDTH,
        "wall_width": WALL_WIDTH,
        "stripe_period": float(fields["period"]),
        "stripe_orientation": float(fields["orientation"]),
        "image_noise": IMAGE_NOISE,
        "patch_sigma_y": float(local["sigma_y"]),
        "patch_sigma_x": float(local["sigma_x"]),
    }
    truth = {
        "domains": fields["domains"],
        "walls": fields["walls"],
        "defects": fields["defects"],
        **params,
        "polarisation": local["polarisation"],
        "wall_density": local["wall_density"],
        "defect_density": local["defect_density"],
        "hidden": local["hidden"],
    }
    sample = SyntheticSample(
        image=_image_dataset(fields["structure"], fields, metadata),
        spectra=_spectra_dataset(loops, bias, grid, extent_yx, metadata),
        truth=truth,
    )
    log.debug(
        "synthetic sample: seed %d, image %s, grid %s, %d bias steps",
        args["seed"],
        image,
        grid,
        args["n_bias"],
    )
    return sample


def write_synthetic_sample(
    path: str | os.PathLike,
    sample: SyntheticSample | None = None,
    **kwargs: object,
) -> dict[str, str]:
    """Write a synthetic sample to an NSID-HDF5 file.

    Parameters
    ----------
    path : str or path-like
        File to write (replaced if it exists).
    sample : SyntheticSample, optional
        The sample to write; made with ``make_synthetic_sample(**kwargs)``
        when omitted.
    **kwargs
        Arguments of :func:`make_synthetic_sample`; only allowed without
        ``sample``.

    Returns
    -------
    dict of str to str
        HDF5 paths of the main datasets, under the keys ``'structure'`` and
        ``'loops'``.

    Raises
    ------
    ParameterError
        When both ``sample`` and keyword arguments are given, or an argument
        is out of range.
    """
    from pycroscopy_curiosity.data.nsid import write_nsid_file

    if sample is None:
        sample = make_synthetic_sample(**kwargs)  # type: ignore[arg-type]
    elif kwargs:
        raise ParameterError(
            "give either sample or arguments for make_synthetic_sample, not both "
            f"(got sample and {sorted(kwargs)})"
        )
    elif not isinstance(sample, SyntheticSample):
        raise ParameterError(
            f"sample must be a SyntheticSample, got {type(sample).__name__}"
        )
    return write_nsid_file(path, {"structure": sample.image, "loops": sample.spectra})
