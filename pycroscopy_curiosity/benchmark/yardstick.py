"""The common yardstick: one fixed Im2spec trained on a strategy's points."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from pycroscopy_curiosity.data.patches import CandidateGrid
from pycroscopy_curiosity.errors import ParameterError

__all__ = ["Yardstick", "YardstickSettings"]


@dataclass(frozen=True)
class YardstickSettings:
    """The fixed surrogate every strategy is scored with.

    Attributes
    ----------
    architecture : str
        One of the Im2spec architectures.
    channels, latent_dim, hidden : int
        Network size.
    epochs, batch_size : int
        Training from scratch at every checkpoint.
    lr, swa_start : float
        Adam learning rate and the start of weight averaging.
    device : str
        ``'cpu'``, ``'cuda'`` or ``'auto'``.
    """

    architecture: str = "im2spec_2"
    channels: int = 16
    latent_dim: int = 3
    hidden: int = 128
    epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-3
    swa_start: float = 0.75
    device: str = "cpu"

    def as_dict(self) -> dict:
        """Plain dict for the report."""
        return asdict(self)


class Yardstick:
    """Train the fixed Im2spec on measured candidates and score it everywhere.

    Parameters
    ----------
    candidates : CandidateGrid
        Candidates and their patches.
    truth : numpy.ndarray
        ``n x L`` normalised spectra of every candidate.
    invert : callable
        Maps normalised spectra back to physical units.
    settings : YardstickSettings, optional
        The fixed architecture and schedule.
    """

    def __init__(
        self,
        candidates: CandidateGrid,
        truth: np.ndarray,
        invert,
        settings: YardstickSettings | None = None,
    ) -> None:
        if len(truth) != len(candidates):
            raise ParameterError(
                f"truth has {len(truth)} spectra for {len(candidates)} candidates"
            )
        self.candidates = candidates
        self.truth = np.asarray(truth, dtype=np.float32)
        self.invert = invert
        self.settings = settings or YardstickSettings()
        self._physical_truth = invert(self.truth)

    def score(self, measured: np.ndarray, seed: int = 0) -> dict[str, float]:
        """Metrics of an Im2spec trained from scratch on ``measured``.

        Parameters
        ----------
        measured : numpy.ndarray
            Candidate indices measured so far.
        seed : int
            Seeds the weights and the training order.

        Returns
        -------
        dict
            :func:`~pycroscopy_curiosity.explorer.curve_metrics` in physical
            units, plus ``n``.
        """
        import torch

        from pycroscopy_curiosity.explorer import curve_metrics
        from pycroscopy_curiosity.models.im2spec import build_im2spec
        from pycroscopy_curiosity.models.runtime import (
            as_tensor,
            resolve_device,
            seeded,
        )
        from pycroscopy_curiosity.models.training import TrainSettings, fit

        s = self.settings
        index = np.asarray(measured, dtype=np.int64)
        if index.size == 0:
            raise ParameterError("the yardstick needs at least one measured point")
        device = resolve_device(s.device)
        with seeded(seed, device):
            model = build_im2spec(
                s.architecture,
                self.candidates.patch,
                self.truth.shape[1],
                latent_dim=s.latent_dim,
                channels=s.channels,
                hidden=s.hidden,
            ).to(device)
        train = TrainSettings(
            epochs=s.epochs,
            lr=s.lr,
            batch_size=s.batch_size,
            swa_start=s.swa_start,
            swa_lr=s.lr / 2,
        )
        x = as_tensor(self.candidates.patches(index), device)
        fit(model, x, as_tensor(self.truth[index], device), train, seed=seed)
        parts = []
        model.eval()
        with torch.no_grad():
            for _, batch in self.candidates.iter_batches(4096):
                parts.append(model(as_tensor(batch, device)).cpu().numpy())
        predicted = self.invert(np.concatenate(parts))
        mask = np.zeros(len(self.candidates), dtype=bool)
        mask[index] = True
        metrics = curve_metrics(predicted, self._physical_truth, mask)
        metrics["n"] = int(index.size)
        return metrics
