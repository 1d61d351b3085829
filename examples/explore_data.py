"""Open an NSID file, choose the structure image and spectra, cut patches.

Uses the real SS-PFM measurement in ../shared/data when it is there, and the
built-in synthetic sample otherwise::

    python examples/explore_data.py
"""

from pathlib import Path
from tempfile import TemporaryDirectory

from pycroscopy_curiosity.data.exploration import load_exploration_data
from pycroscopy_curiosity.data.nsid import list_datasets
from pycroscopy_curiosity.data.synthetic import write_synthetic_sample

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "pto_sspfm_49x49.h5"


def main() -> None:
    with TemporaryDirectory() as tmp:
        if REAL.exists():
            path = REAL
            options = {"image_index": 25, "spectral_range": "49:99"}
            patch = 9
        else:
            path = Path(tmp) / "synthetic.h5"
            paths = write_synthetic_sample(path, seed=0)
            options = {"image_dataset": paths["structure"]}
            patch = 16
        for info in list_datasets(path):
            print(info.describe())
        data = load_exploration_data(path, **options)
        print(data.summary())
        candidates = data.candidates(patch, border="valid")
        print(f"{len(candidates)} candidates, block {candidates.block_shape}")
        for part, batch in candidates.iter_batches(batch_size=512):
            print(f"  patches {part.start}:{part.stop} -> {batch.shape}")


if __name__ == "__main__":
    main()
