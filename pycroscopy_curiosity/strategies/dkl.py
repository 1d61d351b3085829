"""Deep kernel learning with an upper-confidence-bound acquisition.

The standard Bayesian baseline of automated scanning-probe experiments: each
measured spectrum is reduced to one number (by default the hysteresis loop
area), and a Gaussian process whose kernel acts on a learned low-dimensional
embedding of the structure-image patch predicts that number, with an
uncertainty, at every candidate. The next points are the unmeasured
candidates of highest ``mean + kappa * std``.

The model is built directly with gpytorch rather than through
``atomai.models.dklGPR``, which prints during training, sets global seeds and
precision, and rebuilds its network on every fit; here the feature extractor
and the kernel are kept and trained further (warm-started) on every
:meth:`~DKLStrategy.tell`.
"""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from pycroscopy_curiosity.data.patches import CandidateGrid
from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.models.runtime import child_seed, resolve_device, seeded
from pycroscopy_curiosity.strategies.base import IterationTimes, Strategy

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    import gpytorch
    from gpytorch.utils.warnings import GPInputWarning, NumericalWarning

log = logging.getLogger(__name__)

__all__ = ["DKLOptions", "DKLStrategy", "loop_area"]

Scalarizer = Callable[[np.ndarray], np.ndarray]

# candidates per inference batch (the predictive covariance of a batch is
# never formed in full, but the cross-covariance with the training set is)
_INFERENCE_BATCH = 2048
_DTYPE = torch.float64


def loop_area(spectra: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """Area enclosed by each hysteresis loop (trapezoid rule along the path).

    Parameters
    ----------
    spectra : numpy.ndarray
        ``n x L`` responses in acquisition order.
    bias : numpy.ndarray, optional
        ``(L,)`` spectral-axis values in acquisition order (a triangle for a
        full loop). ``None`` integrates over the index ``0 .. L - 1``.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` float64, ``abs(trapezoid(spectrum, bias))``: the enclosed area
        for a closed loop, the absolute area under the curve for one branch.
    """
    spectra = np.atleast_2d(np.asarray(spectra, dtype=np.float64))
    if bias is None:
        return np.abs(np.trapezoid(spectra, axis=1))
    return np.abs(np.trapezoid(spectra, np.asarray(bias, dtype=np.float64), axis=1))


def _is_real(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not (
        isinstance(value, bool)
    )


def _is_integer(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _device_name_ok(device: str) -> bool:
    name = str(device).strip().lower()
    return name in ("auto", "cpu") or name.startswith("cuda")


@dataclass(frozen=True)
class DKLOptions:
    """Settings of the deep-kernel-learning baseline.

    Attributes
    ----------
    kappa : float
        Exploration weight of the acquisition ``mean + kappa * std``.
    training_cycles : int
        Adam steps on the exact marginal log likelihood per :meth:`tell`
        (continuing from the previous weights).
    lr : float
        Adam learning rate.
    embedding_dim : int
        Dimension of the learned embedding the kernel acts on.
    hidden : int
        Width of the two hidden layers of the feature extractor.
    device : str
        ``'cpu'``, ``'cuda'``, ``'cuda:N'`` or ``'auto'``.
    scalarizer : callable, optional
        ``f(spectra)`` mapping ``n x L`` spectra to ``(n,)`` values to
        maximise; ``None`` uses the hysteresis loop area (:func:`loop_area`).
    """

    kappa: float = 2.0
    training_cycles: int = 100
    lr: float = 0.01
    embedding_dim: int = 2
    hidden: int = 64
    device: str = "cpu"
    scalarizer: Scalarizer | None = None

    def __post_init__(self) -> None:
        if not _is_real(self.kappa) or not np.isfinite(self.kappa) or self.kappa < 0:
            raise ParameterError(
                f"kappa must be a non-negative number, got {self.kappa!r}"
            )
        for name in ("training_cycles", "embedding_dim", "hidden"):
            value = getattr(self, name)
            if not _is_integer(value) or value < 1:
                raise ParameterError(f"{name} must be an integer >= 1, got {value!r}")
        if not _is_real(self.lr) or not np.isfinite(self.lr) or self.lr <= 0:
            raise ParameterError(f"lr must be a positive number, got {self.lr!r}")
        if not isinstance(self.device, str) or not _device_name_ok(self.device):
            raise ParameterError(
                f"device must be auto, cpu or cuda[:N]; got {self.device!r}"
            )
        if self.scalarizer is not None and not callable(self.scalarizer):
            raise ParameterError(
                f"scalarizer must be callable or None, got {self.scalarizer!r}"
            )

    def as_dict(self) -> dict:
        """Plain dict for provenance; the scalarizer is given by name."""
        out = asdict(self)
        out["scalarizer"] = _scalarizer_name(self.scalarizer)
        return out


def _scalarizer_name(scalarizer: Scalarizer | None) -> str:
    if scalarizer is None:
        return "loop_area"
    module = getattr(scalarizer, "__module__", None)
    name = getattr(scalarizer, "__qualname__", None) or type(scalarizer).__name__
    return f"{module}.{name}" if module else name


class _BoundedScale(nn.Module):
    """Scale embeddings to about [-1, 1] by the range seen in training.

    Unlike ``gpytorch.utils.grid.ScaleToBounds`` it neither clamps
    candidates outside that range (they keep their larger uncertainty) nor
    divides by zero when all training embeddings coincide.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("low", torch.tensor(-1.0))
        self.register_buffer("high", torch.tensor(1.0))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.low = z.detach().min()
            self.high = z.detach().max()
        span = torch.clamp(self.high - self.low, min=1e-6)
        return (z - self.low) * (1.9 / span) - 0.95


class _DeepKernelGP(gpytorch.models.ExactGP):
    """Exact GP with a scaled RBF kernel on an MLP embedding of the inputs."""

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        likelihood: gpytorch.likelihoods.GaussianLikelihood,
        hidden: int,
        embedding_dim: int,
    ) -> None:
        super().__init__(x, y, likelihood)
        self.extractor = nn.Sequential(
            nn.Linear(x.shape[1], hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, embedding_dim),
        )
        self.scale = _BoundedScale()
        self.mean_module = gpytorch.means.ConstantMean()
        self.covar_module = gpytorch.kernels.ScaleKernel(
            gpytorch.kernels.RBFKernel(ard_num_dims=embedding_dim)
        )

    def forward(self, x: torch.Tensor) -> gpytorch.distributions.MultivariateNormal:
        z = self.scale(self.extractor(x))
        return gpytorch.distributions.MultivariateNormal(
            self.mean_module(z), self.covar_module(z)
        )


@contextlib.contextmanager
def _gpytorch_numerics() -> Iterator[None]:
    """Log gpytorch's jitter notices instead of warning about them.

    Adding jitter to a nearly singular kernel matrix is routine in exact GP
    training; other warnings pass through unchanged.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NumericalWarning)
        warnings.simplefilter("ignore", GPInputWarning)
        yield
    for item in caught:
        if issubclass(item.category, NumericalWarning):
            log.debug("gpytorch: %s", item.message)
        else:
            warnings.warn_explicit(
                item.message, item.category, item.filename, item.lineno
            )


class DKLStrategy(Strategy):
    """Deep kernel learning on image patches with an upper confidence bound.

    Parameters
    ----------
    candidates : CandidateGrid
        The candidates; the inputs are their flattened ``P x P`` patches
        (``n x P*P``), standardised by the mean and spread of the image.
    n_spec : int
        Spectrum length ``L``.
    options : DKLOptions, optional
        Settings; defaults when omitted.
    seed : int
        Seeds the initial random points and the network weights.
    bias : numpy.ndarray, optional
        ``(L,)`` spectral-axis values in acquisition order, for the default
        loop-area scalarizer; ``None`` integrates over the index.

    Attributes
    ----------
    scalars : numpy.ndarray
        ``(n,)`` float64 scalar of each measured spectrum (NaN elsewhere).
    times : list of IterationTimes
        Seconds spent per :meth:`tell` (``error_model`` stays 0).

    Notes
    -----
    Before the first :meth:`tell`, :meth:`ask` returns random unmeasured
    candidates (the initial design). Afterwards it returns the ``k``
    unmeasured candidates of highest ``mean + kappa * std``, with ``std`` the
    posterior standard deviation of the latent function (observation noise
    excluded). Targets are standardised before every fit; maps are in the
    scalar's own units. The scalar is maximised: give a scalarizer returning
    the negative to seek low values.
    """

    name = "dkl"

    def __init__(
        self,
        candidates: CandidateGrid,
        n_spec: int,
        options: DKLOptions | None = None,
        seed: int = 0,
        bias: np.ndarray | None = None,
    ) -> None:
        super().__init__(len(candidates), n_spec, seed)
        self.candidates = candidates
        self.options = options or DKLOptions()
        self.device = resolve_device(self.options.device)
        if bias is not None:
            bias = np.asarray(bias, dtype=np.float64).reshape(-1)
            if bias.shape != (self.n_spec,) or not np.isfinite(bias).all():
                raise ParameterError(
                    f"bias must hold {self.n_spec} finite spectral-axis values, "
                    f"got shape {bias.shape}"
                )
        self.bias = bias
        image = np.asarray(candidates.image, dtype=np.float64)
        spread = float(np.nanstd(image))
        self._input_shift = float(np.nanmean(image))
        self._input_scale = spread if spread > 0 else 1.0
        self.scalars = np.full(self.n_candidates, np.nan)
        self.times: list[IterationTimes] = []
        self._pending_acquisition = 0.0
        self._model: _DeepKernelGP | None = None
        self._mean: np.ndarray | None = None
        self._std: np.ndarray | None = None
        self._ucb: np.ndarray | None = None

    # -- data ----------------------------------------------------------------
    def _inputs(self, index: np.ndarray | slice) -> torch.Tensor:
        patches = self.candidates.patches(index)
        flat = (patches.reshape(len(patches), -1) - self._input_shift) / (
            self._input_scale
        )
        return torch.as_tensor(flat, dtype=_DTYPE, device=self.device)

    def scalarize(self, spectra: np.ndarray) -> np.ndarray:
        """The scalar of each spectrum, ``n x L`` to ``(n,)`` float64.

        Raises
        ------
        ParameterError
            When a custom scalarizer returns the wrong shape or non-finite
            values.
        """
        spectra = np.asarray(spectra, dtype=np.float64).reshape(-1, self.n_spec)
        func = self.options.scalarizer
        if func is None:
            return loop_area(spectra, self.bias)
        values = np.asarray(func(spectra), dtype=np.float64)
        if values.shape != (len(spectra),):
            raise ParameterError(
                f"scalarizer {_scalarizer_name(func)} returned shape {values.shape} "
                f"for {len(spectra)} spectra; expected ({len(spectra)},)"
            )
        if not np.isfinite(values).all():
            raise ParameterError(
                f"scalarizer {_scalarizer_name(func)} returned non-finite values"
            )
        return values

    # -- training --------------------------------------------------------------
    def _train(self) -> None:
        index = np.asarray(self.order)
        x = self._inputs(index)
        y = self.scalars[index]
        spread = float(y.std())
        self._y_shift = float(y.mean())
        self._y_scale = spread if spread > 0 else 1.0
        target = torch.as_tensor(
            (y - self._y_shift) / self._y_scale, dtype=_DTYPE, device=self.device
        )
        o = self.options
        if self._model is None:
            with seeded(child_seed(self.rng), self.device):
                likelihood = gpytorch.likelihoods.GaussianLikelihood()
                self._model = _DeepKernelGP(
                    x, target, likelihood, o.hidden, o.embedding_dim
                )
            self._model = self._model.to(device=self.device, dtype=_DTYPE)
        else:
            self._model.set_train_data(x, target, strict=False)
        model = self._model
        model.train()
        optimizer = torch.optim.Adam(model.parameters(), lr=o.lr)
        mll = gpytorch.mlls.ExactMarginalLogLikelihood(model.likelihood, model)
        with _gpytorch_numerics():
            for _ in range(o.training_cycles):
                optimizer.zero_grad()
                loss = -mll(model(x), target)
                loss.backward()
                optimizer.step()
        log.debug(
            "DKL trained on %d points: negative marginal log likelihood %.4g",
            len(index),
            float(loss.detach()),
        )

    def _infer(self) -> None:
        model = self._model
        model.eval()
        mean, var = [], []
        n = self.n_candidates
        with torch.no_grad(), _gpytorch_numerics():
            for start in range(0, n, _INFERENCE_BATCH):
                part = slice(start, min(start + _INFERENCE_BATCH, n))
                posterior = model(self._inputs(part))
                mean.append(posterior.mean)
                var.append(posterior.variance)
        mean = torch.cat(mean).cpu().numpy()
        std = np.sqrt(np.clip(torch.cat(var).cpu().numpy(), 0.0, None))
        self._mean = mean * self._y_scale + self._y_shift
        self._std = std * self._y_scale

    def _update(self, indices: np.ndarray) -> None:
        self.scalars[indices] = self.scalarize(self.spectra[indices])
        times = IterationTimes(acquisition=self._pending_acquisition)
        self._pending_acquisition = 0.0
        start = time.perf_counter()
        self._train()
        times.training = time.perf_counter() - start
        start = time.perf_counter()
        self._infer()
        times.inference = time.perf_counter() - start
        start = time.perf_counter()
        self._ucb = self._mean + self.options.kappa * self._std
        times.acquisition += time.perf_counter() - start
        self.times.append(times)

    # -- choosing --------------------------------------------------------------
    def _propose(self, k: int) -> np.ndarray:
        start = time.perf_counter()
        if self._ucb is None:
            chosen = self.random_unmeasured(k)
        else:
            open_ = np.flatnonzero(~self.unavailable)
            best = np.argsort(-self._ucb[open_], kind="stable")[:k]
            chosen = open_[best]
        self._pending_acquisition += time.perf_counter() - start
        return chosen

    def maps(self) -> dict[str, np.ndarray]:
        """Measured mask, and once trained ``predicted_scalar`` (GP mean),
        ``scalar_std`` and ``acquisition`` (the UCB), each ``(n,)`` float32."""
        out = super().maps()
        if self._ucb is not None:
            out["predicted_scalar"] = self._mean.astype(np.float32)
            out["scalar_std"] = self._std.astype(np.float32)
            out["acquisition"] = self._ucb.astype(np.float32)
        return out
