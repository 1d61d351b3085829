"""Workflow A: an Im2spec ensemble, an encoded error model, beta/lambda choice.

On every :meth:`~EnsembleStrategy.tell` the surrogate is updated: at the start
and then on a random fraction of iterations the whole ensemble is trained from
scratch and the best architecture kept (lowest mean validation loss over the
last 50 epochs); on the other iterations only the best model is trained
further, warm-started. Then an error head on the best model's frozen encoder
learns the L1 mismatch at the measured points and predicts it everywhere,
and the acquisition map follows from the predicted error.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from pycroscopy_curiosity.acquisition import curiosity_desirability, select_batch
from pycroscopy_curiosity.data.patches import CandidateGrid
from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.models.error_model import EncodedErrorModel
from pycroscopy_curiosity.models.im2spec import (
    ARCHITECTURES,
    Im2Spec,
    build_im2spec,
    predict_candidates,
)
from pycroscopy_curiosity.models.runtime import (
    as_tensor,
    child_seed,
    resolve_device,
    seeded,
)
from pycroscopy_curiosity.models.training import TrainSettings, fit, split_validation
from pycroscopy_curiosity.strategies.base import IterationTimes, Strategy

log = logging.getLogger(__name__)

__all__ = ["EnsembleOptions", "EnsembleStrategy"]

SELECTIONS = ("curiosity", "random")


@dataclass(frozen=True)
class EnsembleOptions:
    """Settings of workflow A (defaults as published where published).

    Attributes
    ----------
    beta, lam : float
        Acquisition target and width: ``exp(-(L - beta)**2 / lam)``.
    architectures : tuple of str
        Members of the ensemble (see
        :data:`~pycroscopy_curiosity.models.im2spec.ARCHITECTURES`).
    latent_dim, channels, hidden : int
        Latent size, encoder channels and decoder width of every Im2spec.
    ensemble_fraction : float
        Probability that an iteration retrains the whole ensemble.
    ensemble_epochs, update_epochs, error_epochs : int
        Epochs of a full ensemble training, of a warm-started update of the
        best model, and of the error head.
    best_window : int
        Epochs over which the mean validation loss picks the best model.
    val_fraction : float
        Share of the measured points held out for validation.
    batch_size : int
        Mini-batch size.
    lr, error_lr : float
        Learning rates of the Im2spec and of the error head.
    swa_start : float
        Fraction of the epochs after which weights are averaged.
    min_spacing : float
        Minimum distance, in image pixels, between points of one batch.
    selection : {'curiosity', 'random'}
        ``'random'`` trains the same models but picks points at random (the
        baseline with an identical surrogate).
    device : str
        ``'cpu'``, ``'cuda'`` or ``'auto'``.
    inference_batch : int
        Candidates per inference batch.
    """

    beta: float = 1.0
    lam: float = 0.1
    architectures: tuple[str, ...] = tuple(ARCHITECTURES)
    latent_dim: int = 3
    channels: int = 16
    hidden: int = 128
    ensemble_fraction: float = 0.1
    ensemble_epochs: int = 100
    update_epochs: int = 10
    error_epochs: int = 100
    best_window: int = 50
    val_fraction: float = 0.2
    batch_size: int = 32
    lr: float = 1e-3
    error_lr: float = 1e-2
    swa_start: float = 0.75
    min_spacing: float = 0.0
    selection: str = "curiosity"
    device: str = "cpu"
    inference_batch: int = 4096

    def __post_init__(self) -> None:
        if not self.architectures:
            raise ParameterError("the ensemble needs at least one architecture")
        unknown = [a for a in self.architectures if a not in ARCHITECTURES]
        if unknown:
            raise ParameterError(
                f"unknown architecture(s) {unknown}; choose from "
                f"{', '.join(ARCHITECTURES)}"
            )
        if not 0 <= self.ensemble_fraction <= 1:
            raise ParameterError(
                f"ensemble_fraction must lie in [0, 1], got {self.ensemble_fraction}"
            )
        if self.selection not in SELECTIONS:
            raise ParameterError(
                f"selection must be one of {', '.join(SELECTIONS)}, "
                f"got {self.selection!r}"
            )
        if not 0 <= self.beta <= 1:
            raise ParameterError(f"beta must lie in [0, 1], got {self.beta}")
        if not self.lam > 0:
            raise ParameterError(f"lam must be positive, got {self.lam}")

    def as_dict(self) -> dict:
        """Plain dict for provenance."""
        out = asdict(self)
        out["architectures"] = list(self.architectures)
        return out


@dataclass
class _State:
    models: dict[str, Im2Spec] = field(default_factory=dict)
    best: str | None = None
    val_loss: dict[str, float] = field(default_factory=dict)
    latent: np.ndarray | None = None
    predicted_spectra: np.ndarray | None = None
    predicted_error: np.ndarray | None = None
    acquisition: np.ndarray | None = None


class EnsembleStrategy(Strategy):
    """Curiosity with an Im2spec ensemble and an encoded error model.

    Parameters
    ----------
    candidates : CandidateGrid
        The candidates and their patches.
    n_spec : int
        Spectrum length.
    options : EnsembleOptions, optional
        Settings; published defaults when omitted.
    seed : int
        Seeds point choice, splits, ensemble triggers, weights and dropout.
    """

    name = "ensemble"

    def __init__(
        self,
        candidates: CandidateGrid,
        n_spec: int,
        options: EnsembleOptions | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(len(candidates), n_spec, seed)
        self.candidates = candidates
        self.options = options or EnsembleOptions()
        self.device = resolve_device(self.options.device)
        self.state = _State()
        self.times: list[IterationTimes] = []
        self._pending_acquisition = 0.0

    # -- helpers -----------------------------------------------------------
    def _patches(self, index: np.ndarray) -> torch.Tensor:
        return as_tensor(self.candidates.patches(index), self.device)

    def _settings(
        self, epochs: int, lr: float | None = None, batch_size: int | None = None
    ) -> TrainSettings:
        o = self.options
        return TrainSettings(
            epochs=epochs,
            lr=lr or o.lr,
            batch_size=batch_size or o.batch_size,
            swa_start=o.swa_start,
            swa_lr=(lr or o.lr) / 2,
        )

    def _new_model(self, name: str, seed: int) -> Im2Spec:
        o = self.options
        with seeded(seed, self.device):
            model = build_im2spec(
                name,
                self.candidates.patch,
                self.n_spec,
                latent_dim=o.latent_dim,
                channels=o.channels,
                hidden=o.hidden,
            )
        return model.to(self.device)

    def _data(self) -> tuple[torch.Tensor, torch.Tensor, tuple | None, np.ndarray]:
        index = np.asarray(self.order)
        train, val = split_validation(len(index), self.options.val_fraction, self.rng)
        x = self._patches(index)
        y = as_tensor(self.spectra[index], self.device)
        val_pair = (x[val], y[val]) if len(val) else None
        return x[train], y[train], val_pair, index

    # -- training ------------------------------------------------------------
    def _train(self) -> bool:
        """Update the surrogate; return whether the whole ensemble was trained."""
        o = self.options
        full = self.state.best is None or self.rng.random() < o.ensemble_fraction
        x, y, val, _ = self._data()
        if full:
            self.state.models, self.state.val_loss = {}, {}
            for name in o.architectures:
                seed = child_seed(self.rng)
                model = self._new_model(name, seed)
                history = fit(
                    model, x, y, self._settings(o.ensemble_epochs), val=val, seed=seed
                )
                self.state.models[name] = model
                self.state.val_loss[name] = history.mean_val(o.best_window)
            self.state.best = min(self.state.val_loss, key=self.state.val_loss.get)
            log.info(
                "ensemble trained on %d points; best %s (mean validation loss %s)",
                self.n_measured,
                self.state.best,
                ", ".join(f"{k} {v:.4g}" for k, v in self.state.val_loss.items()),
            )
        else:
            model = self.state.models[self.state.best]
            fit(
                model,
                x,
                y,
                self._settings(o.update_epochs),
                val=None,
                seed=child_seed(self.rng),
            )
        return full

    def _infer(self) -> None:
        """Latents and predicted spectra of every candidate, in batches."""
        latent, spectra = predict_candidates(
            self.best_model, self.candidates, self.device, self.options.inference_batch
        )
        self.state.latent = latent.cpu().numpy()
        self.state.predicted_spectra = spectra.cpu().numpy()

    def _fit_error_model(self) -> None:
        index = np.asarray(self.order)
        predicted = self.state.predicted_spectra[index]
        targets = np.abs(predicted - self.spectra[index]).mean(axis=1)
        seed = child_seed(self.rng)
        with seeded(seed, self.device):
            self.error_model = EncodedErrorModel(self.best_model).to(self.device)
        latent = as_tensor(self.state.latent, self.device)
        self.error_model.fit_latent(
            latent[index],
            as_tensor(targets, self.device),
            # the head is tiny: full-batch steps on the latents
            self._settings(self.options.error_epochs, self.options.error_lr, 1024),
            seed=seed,
        )
        self.state.predicted_error = (
            self.error_model.predict_latent(latent).cpu().numpy()
        )
        self.measured_error = targets

    def _update(self, indices: np.ndarray) -> None:
        times = IterationTimes(acquisition=self._pending_acquisition)
        self._pending_acquisition = 0.0
        start = time.perf_counter()
        times.ensemble = self._train()
        times.training = time.perf_counter() - start
        start = time.perf_counter()
        self._infer()
        times.inference = time.perf_counter() - start
        start = time.perf_counter()
        self._fit_error_model()
        times.error_model = time.perf_counter() - start
        start = time.perf_counter()
        self.state.acquisition = curiosity_desirability(
            self.state.predicted_error, self.options.beta, self.options.lam
        )
        times.acquisition += time.perf_counter() - start
        self.times.append(times)

    # -- choosing --------------------------------------------------------------
    def _propose(self, k: int) -> np.ndarray:
        start = time.perf_counter()
        if self.state.acquisition is None or self.options.selection == "random":
            chosen = self.random_unmeasured(k)
        else:
            chosen = select_batch(
                self.state.acquisition,
                k,
                exclude=self.unavailable,
                positions=self.candidates.pixels,
                min_spacing=self.options.min_spacing,
            )
        self._pending_acquisition += time.perf_counter() - start
        return chosen

    @property
    def best_model(self) -> Im2Spec:
        """The current best Im2spec (after the first :meth:`tell`)."""
        if self.state.best is None:
            raise ParameterError("no model yet: tell some measured points first")
        return self.state.models[self.state.best]

    def maps(self) -> dict[str, np.ndarray]:
        """Measured mask, and once trained the predicted error (in normalised
        L1 units), the acquisition desirability and the predicted spectra."""
        out = super().maps()
        if self.state.predicted_error is not None:
            out["predicted_error"] = self.state.predicted_error.astype(np.float32)
            out["acquisition"] = self.state.acquisition.astype(np.float32)
            out["predicted_spectra"] = self.state.predicted_spectra.astype(np.float32)
        return out
