"""The built-in synthetic sample as napari sample data.

The sample is written to an NSID-HDF5 file in a fresh temporary folder and
read back through the plugin's reader, so its layers carry the file and
dataset paths the curiosity widget needs to start a session on it.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from napari_plugin._layers import LayerData
from napari_plugin._reader import read_nsid

log = logging.getLogger(__name__)

#: Size of the sample: quick to write, read and explore on a laptop CPU.
SAMPLE_GRID = (24, 24)
SAMPLE_IMAGE = (96, 96)
SAMPLE_BIAS = 32


def sample_path(folder: str | Path | None = None, seed: int = 0) -> Path:
    """Write the synthetic sample and return the file's path.

    Parameters
    ----------
    folder : str or path-like, optional
        Where to write ``synthetic_sample.h5``; a new temporary folder by
        default.
    seed : int
        Seed of the sample.
    """
    from pycroscopy_curiosity.data.synthetic import write_synthetic_sample

    folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="curiosity-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "synthetic_sample.h5"
    write_synthetic_sample(
        path,
        grid_shape=SAMPLE_GRID,
        image_shape=SAMPLE_IMAGE,
        n_bias=SAMPLE_BIAS,
        seed=seed,
    )
    log.info("synthetic sample written to %s", path)
    return path


def synthetic_sample() -> list[LayerData]:
    """Layers of the synthetic ferroelectric sample: the structure image and
    the hysteresis loops (browse the bias steps with the slider)."""
    return read_nsid(str(sample_path()))
