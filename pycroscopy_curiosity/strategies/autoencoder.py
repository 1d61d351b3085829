"""Workflow B: autoencoder latent, MC-dropout error model, latent exploration.

Before any spectrum is measured an autoencoder learns the patches of the whole
scan; its latent code is what the error predictor sees, and k-means in that
space chooses the initial points. After each measurement the surrogate
(Im2spec, or Spec2im for the inverse direction) is updated for a few epochs,
warm-started; its per-point error, divided by the mean over measured points,
trains a small dropout MLP on the autoencoder latent; T batched MC-dropout
passes give the predicted error ``C`` and its spread ``U`` everywhere; the
exploration reward ``E`` favours patches far, in the surrogate's latent
space, from everything measured; and

``A = (1 - exp(-lam n / N)) C + exp(-lam n / N) E + sigma U``

(each term divided by its mean) ranks the candidates. The next point is drawn
uniformly from the ``best`` top candidates, or, with probability
``random_step``, from all open ones.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from pycroscopy_curiosity.acquisition import (
    draw_from_best,
    exploration_reward,
    scale_by_mean,
    scheduled_acquisition,
)
from pycroscopy_curiosity.data.patches import CandidateGrid
from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.models.autoencoder import (
    DropoutMLP,
    PatchAutoencoder,
    mc_dropout,
)
from pycroscopy_curiosity.models.im2spec import build_im2spec, predict_candidates
from pycroscopy_curiosity.models.runtime import (
    as_tensor,
    child_seed,
    resolve_device,
    seeded,
)
from pycroscopy_curiosity.models.spec2im import Spec2Im
from pycroscopy_curiosity.models.training import TrainSettings, fit, predict
from pycroscopy_curiosity.strategies.base import IterationTimes, Strategy

log = logging.getLogger(__name__)

__all__ = ["AutoencoderOptions", "AutoencoderStrategy"]

DIRECTIONS = ("im2spec", "spec2im")
INITS = ("kmeans", "random")
SELECTIONS = ("curiosity", "random")


@dataclass(frozen=True)
class AutoencoderOptions:
    """Settings of workflow B.

    Attributes
    ----------
    direction : {'im2spec', 'spec2im'}
        Surrogate direction: patch to spectrum, or spectrum to patch.
    budget : int
        ``N`` of the schedule (the explorer sets it to its budget).
    lam, sigma : float
        Schedule speed and weight of the MC-dropout spread.
    random_step : float
        Probability that a point is drawn from all open candidates.
    best : int
        Otherwise it is drawn from this many top candidates.
    init_design : {'kmeans', 'random'}
        Initial design.
    ae_latent, ae_channels, ae_epochs, ae_batch : int
        Autoencoder latent size, width, epochs and batch size.
    latent_dim, channels : int
        Surrogate latent size (2) and width.
    surrogate_dropout : float
        Dropout in the Spec2im encoder (Im2spec uses its published 0.5).
    init_epochs, update_epochs : int
        Surrogate epochs on the initial points and per update.
    error_hidden, error_epochs : int
        Error-predictor width and epochs per update.
    error_dropout, error_lr : float
        Its dropout and (large) learning rate.
    mc_passes : int
        MC-dropout passes ``T``.
    plateau : bool
        Down-weight candidates near measured points whose error stays high
        although their neighbourhood was sampled repeatedly.
    plateau_visits, plateau_ratio, plateau_weight : float
        A measured point is on a plateau when at least ``plateau_visits``
        other measured points lie within its latent neighbourhood, its error
        target is above the mean, and it has not fallen below
        ``plateau_ratio`` times its first value; candidates in such
        neighbourhoods have their acquisition multiplied by
        ``plateau_weight``.
    selection : {'curiosity', 'random'}
        ``'random'`` trains the same models but measures random points (the
        baseline with an identical surrogate).
    device : str
        ``'cpu'``, ``'cuda'`` or ``'auto'``.
    inference_batch : int
        Candidates per inference batch.
    """

    direction: str = "im2spec"
    budget: int = 200
    lam: float = 2.0
    sigma: float = 0.0
    random_step: float = 0.1
    best: int = 10
    init_design: str = "kmeans"
    ae_latent: int = 3
    ae_channels: int = 8
    ae_epochs: int = 30
    ae_batch: int = 128
    latent_dim: int = 2
    channels: int = 8
    surrogate_dropout: float = 0.2
    init_epochs: int = 100
    update_epochs: int = 5
    lr: float = 1e-3
    batch_size: int = 32
    error_hidden: int = 32
    error_dropout: float = 0.2
    error_epochs: int = 10
    error_lr: float = 1e-2
    mc_passes: int = 100
    plateau: bool = False
    plateau_visits: int = 3
    plateau_ratio: float = 0.9
    plateau_weight: float = 0.2
    selection: str = "curiosity"
    device: str = "cpu"
    inference_batch: int = 4096

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ParameterError(
                f"direction must be im2spec or spec2im, got {self.direction!r}"
            )
        if self.init_design not in INITS:
            raise ParameterError(
                f"init_design must be kmeans or random, got {self.init_design!r}"
            )
        if self.selection not in SELECTIONS:
            raise ParameterError(
                f"selection must be curiosity or random, got {self.selection!r}"
            )
        if self.budget < 1:
            raise ParameterError(f"budget must be at least 1, got {self.budget}")
        if self.lam < 0:
            raise ParameterError(f"lam must be >= 0, got {self.lam}")
        if not 0 <= self.random_step <= 1:
            raise ParameterError(
                f"random_step must lie in [0, 1], got {self.random_step}"
            )
        if self.best < 1:
            raise ParameterError(f"best must be at least 1, got {self.best}")
        if self.sigma < 0:
            raise ParameterError(f"sigma must be >= 0, got {self.sigma}")
        if self.mc_passes < 1:
            raise ParameterError(f"mc_passes must be at least 1, got {self.mc_passes}")

    def as_dict(self) -> dict:
        """Plain dict for provenance."""
        return asdict(self)


class AutoencoderStrategy(Strategy):
    """Curiosity on the autoencoder latent with MC dropout (workflow B).

    Parameters
    ----------
    candidates : CandidateGrid
        Candidates and their patches.
    n_spec : int
        Spectrum length.
    options : AutoencoderOptions, optional
        Settings.
    seed : int
        Seeds everything.
    """

    name = "autoencoder"

    def __init__(
        self,
        candidates: CandidateGrid,
        n_spec: int,
        options: AutoencoderOptions | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(len(candidates), n_spec, seed)
        self.candidates = candidates
        self.options = options or AutoencoderOptions()
        self.device = resolve_device(self.options.device)
        self.times: list[IterationTimes] = []
        self._pending = 0.0
        self.surrogate = None
        self.error_model = None
        self.first_error = np.full(self.n_candidates, np.nan)
        self.current_error = np.full(self.n_candidates, np.nan)
        self.maps_ = {}
        start = time.perf_counter()
        self.ae_latent = self._train_autoencoder()
        self.autoencoder_seconds = time.perf_counter() - start

    # -- autoencoder -----------------------------------------------------------
    def _patch_tensor(self, index=None) -> torch.Tensor:
        return as_tensor(self.candidates.patches(index), self.device)

    def _train_autoencoder(self) -> np.ndarray:
        o = self.options
        seed = child_seed(self.rng)
        with seeded(seed, self.device):
            self.autoencoder = PatchAutoencoder(
                self.candidates.patch, o.ae_latent, o.ae_channels
            ).to(self.device)
        x = self._patch_tensor()
        settings = TrainSettings(
            epochs=o.ae_epochs, lr=1e-3, batch_size=o.ae_batch, swa_start=1.0
        )
        fit(self.autoencoder, x, x.unsqueeze(1), settings, seed=seed)
        latent = torch.cat(
            [
                predict_latent(self.autoencoder, x[s : s + o.inference_batch])
                for s in range(0, len(x), o.inference_batch)
            ]
        )
        log.info("autoencoder trained on %d patches", len(x))
        return latent.cpu().numpy()

    # -- initial design ----------------------------------------------------------
    def initial_points(self, k: int) -> np.ndarray:
        """k-means in the autoencoder latent: one candidate per cluster.

        The open candidates are clustered into ``k`` groups; from each group
        the member nearest its centroid is taken, so the points are distinct
        and every cluster is represented once. ``cluster_labels`` keeps the
        cluster of every open candidate (``-1`` for measured ones).
        """
        from sklearn.cluster import KMeans

        open_ = np.flatnonzero(~self.unavailable)
        k = min(k, len(open_))
        latent = self.ae_latent[open_]
        km = KMeans(n_clusters=k, n_init=4, random_state=child_seed(self.rng))
        labels = km.fit_predict(latent)
        chosen = np.empty(k, dtype=np.int64)
        for c in range(k):
            members = np.flatnonzero(labels == c)
            gaps = np.linalg.norm(latent[members] - km.cluster_centers_[c], axis=1)
            chosen[c] = open_[members[np.argmin(gaps)]]
        self.cluster_labels = np.full(self.n_candidates, -1, dtype=np.int64)
        self.cluster_labels[open_] = labels
        return chosen

    def _propose(self, k: int) -> np.ndarray:
        start = time.perf_counter()
        if self.options.selection == "random":
            chosen = self.random_unmeasured(k)
        elif self.surrogate is None:
            if self.options.init_design == "kmeans":
                chosen = self.initial_points(k)
            else:
                chosen = self.random_unmeasured(k)
        else:
            chosen = draw_from_best(
                self.maps_["acquisition"],
                k,
                self.rng,
                exclude=self.unavailable,
                random_step=self.options.random_step,
                best=self.options.best,
            )
        self._pending += time.perf_counter() - start
        return chosen

    # -- learning ------------------------------------------------------------
    def _new_surrogate(self, seed: int):
        o = self.options
        with seeded(seed, self.device):
            if o.direction == "im2spec":
                model = build_im2spec(
                    "im2spec",
                    self.candidates.patch,
                    self.n_spec,
                    latent_dim=o.latent_dim,
                    channels=o.channels,
                    hidden=64,
                )
            else:
                model = Spec2Im(
                    self.n_spec,
                    self.candidates.patch,
                    o.latent_dim,
                    o.channels,
                    o.surrogate_dropout,
                )
        return model.to(self.device)

    def _train_surrogate(self, index: np.ndarray) -> np.ndarray:
        """Update the surrogate; return each measured point's MSE."""
        o = self.options
        patches = self._patch_tensor(index)
        spectra = as_tensor(self.spectra[index], self.device)
        x, y = (
            (patches, spectra)
            if o.direction == "im2spec"
            else (spectra, patches.unsqueeze(1))
        )
        seed = child_seed(self.rng)
        first = self.surrogate is None
        if first:
            self.surrogate = self._new_surrogate(seed)
        epochs = o.init_epochs if first else o.update_epochs
        settings = TrainSettings(
            epochs=epochs, lr=o.lr, batch_size=o.batch_size, swa_start=1.0
        )
        fit(self.surrogate, x, y, settings, seed=seed)
        out = predict(self.surrogate, x)
        return ((out - y) ** 2).flatten(1).mean(1).cpu().numpy()

    def _fit_error_model(self, index: np.ndarray, mse: np.ndarray) -> None:
        o = self.options
        targets = mse / max(float(mse.mean()), 1e-12)
        self.current_error[index] = targets
        new = np.isnan(self.first_error[index])
        self.first_error[index[new]] = targets[new]
        seed = child_seed(self.rng)
        if self.error_model is None:
            with seeded(seed, self.device):
                self.error_model = DropoutMLP(
                    o.ae_latent, o.error_hidden, o.error_dropout
                ).to(self.device)
        latent = as_tensor(self.ae_latent, self.device)
        settings = TrainSettings(
            epochs=o.error_epochs, lr=o.error_lr, batch_size=1024, swa_start=1.0
        )
        fit(
            self.error_model,
            latent[index],
            as_tensor(targets, self.device).unsqueeze(1),
            settings,
            seed=seed,
        )
        with seeded(seed + 1, self.device):
            mean, spread = mc_dropout(self.error_model, latent, o.mc_passes)
        self.maps_["predicted_error"] = mean.cpu().numpy()
        self.maps_["error_spread"] = spread.cpu().numpy()

    def _surrogate_maps(self) -> None:
        """Predicted spectra and latents of every candidate (Im2spec only)."""
        latent, spectra = predict_candidates(
            self.surrogate, self.candidates, self.device, self.options.inference_batch
        )
        self.surrogate_latent = latent.cpu().numpy()
        self.maps_["predicted_spectra"] = spectra.cpu().numpy()

    def plateau_mask(self) -> np.ndarray:
        """``(n,)`` bool: candidates near a measured point on a learning plateau."""
        o = self.options
        index = np.asarray(self.order)
        if len(index) <= o.plateau_visits:
            return np.zeros(self.n_candidates, bool)
        latent = self.ae_latent
        radius = self._neighbourhood_radius()
        near = np.linalg.norm(latent[index][:, None] - latent[index][None], axis=-1)
        visits = (near < radius).sum(axis=1) - 1
        error = self.current_error[index]
        stuck = (
            (visits >= o.plateau_visits)
            & (error > 1.0)
            & (error >= o.plateau_ratio * self.first_error[index])
        )
        if not stuck.any():
            return np.zeros(self.n_candidates, bool)
        t = torch.as_tensor(latent)
        distance = torch.cdist(t, t[torch.as_tensor(index[stuck])]).numpy()
        return (distance < radius).any(axis=1)

    def _neighbourhood_radius(self) -> float:
        if not hasattr(self, "_radius"):
            sample = self.ae_latent[: min(len(self.ae_latent), 2048)]
            t = torch.as_tensor(sample)
            d = torch.cdist(t, t)
            d.fill_diagonal_(float("inf"))
            # a few nearest neighbours' worth of latent distance
            self._radius = float(3 * d.min(dim=1).values.median())
        return self._radius

    def _update(self, indices: np.ndarray) -> None:
        o = self.options
        times = IterationTimes(acquisition=self._pending)
        self._pending = 0.0
        index = np.asarray(self.order)
        start = time.perf_counter()
        mse = self._train_surrogate(index)
        times.training = time.perf_counter() - start
        start = time.perf_counter()
        self._fit_error_model(index, mse)
        times.error_model = time.perf_counter() - start
        start = time.perf_counter()
        if o.direction == "im2spec":
            self._surrogate_maps()
            reward = exploration_reward(self.surrogate_latent, self.measured)
            spread = self.maps_["error_spread"]
        else:
            reward, spread = np.zeros(self.n_candidates), None
        self.maps_["exploration_reward"] = reward
        times.inference = time.perf_counter() - start
        start = time.perf_counter()
        if o.direction == "im2spec":
            score = scheduled_acquisition(
                self.maps_["predicted_error"],
                reward,
                spread,
                self.n_measured,
                o.budget,
                o.lam,
                o.sigma,
            )
        else:
            # no exploration reward nor surrogate uncertainty without spectra
            score = scale_by_mean(self.maps_["predicted_error"])
        if o.plateau:
            score = np.where(self.plateau_mask(), score * o.plateau_weight, score)
        self.maps_["acquisition"] = score
        times.acquisition += time.perf_counter() - start
        self.times.append(times)

    def predict_patches(self, spectra: np.ndarray) -> np.ndarray:
        """Spec2im predictions ``n x P x P`` for normalised spectra ``n x L``."""
        if self.options.direction != "spec2im" or self.surrogate is None:
            raise ParameterError("predict_patches needs a trained Spec2im surrogate")
        out = predict(self.surrogate, as_tensor(spectra, self.device))
        return out[:, 0].cpu().numpy()

    def maps(self) -> dict[str, np.ndarray]:
        """Measured mask and, once trained, ``predicted_error`` (mean ``C``),
        ``error_spread`` (``U``), ``exploration_reward`` (``E``),
        ``acquisition`` and, for Im2spec, ``predicted_spectra``."""
        out = super().maps()
        out.update({k: np.asarray(v, dtype=np.float32) for k, v in self.maps_.items()})
        return out


def predict_latent(autoencoder: PatchAutoencoder, x: torch.Tensor) -> torch.Tensor:
    """Autoencoder latent of patches, without gradients."""
    autoencoder.eval()
    with torch.no_grad():
        return autoencoder.encode(x)
