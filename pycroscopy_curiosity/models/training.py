"""Lean training loops with stochastic weight averaging and a validation split.

No printing, plotting or files: losses are returned, progress is logged at
debug level.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import SWALR, AveragedModel

from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.models.runtime import seeded

log = logging.getLogger(__name__)

__all__ = ["FitHistory", "TrainSettings", "fit", "predict", "split_validation"]


@dataclass(frozen=True)
class TrainSettings:
    """How to train a network.

    Attributes
    ----------
    epochs : int
        Passes over the training set.
    lr : float
        Adam learning rate.
    batch_size : int
        Mini-batch size.
    swa_start : float
        Fraction of the epochs after which weights are averaged
        (stochastic weight averaging); 1 or more switches it off.
    swa_lr : float
        Learning rate during averaging.
    weight_decay : float
        Adam weight decay.
    """

    epochs: int = 100
    lr: float = 1e-3
    batch_size: int = 32
    swa_start: float = 0.75
    swa_lr: float = 5e-4
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ParameterError(f"epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ParameterError(
                f"batch_size must be at least 1, got {self.batch_size}"
            )
        if not self.lr > 0:
            raise ParameterError(f"lr must be positive, got {self.lr}")


@dataclass
class FitHistory:
    """Per-epoch mean training and validation losses."""

    train: list[float] = field(default_factory=list)
    val: list[float] = field(default_factory=list)

    def mean_val(self, last: int = 50) -> float:
        """Mean validation loss over the last ``last`` epochs."""
        values = self.val[-last:] if self.val else self.train[-last:]
        return float(np.mean(values)) if values else float("inf")


def split_validation(
    n: int, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded train / validation split.

    At least one point stays in each part when ``n >= 2`` and ``fraction > 0``;
    with fewer points everything is used for training and validation is empty.
    """
    if not 0 <= fraction < 1:
        raise ParameterError(f"validation fraction must be in [0, 1), got {fraction}")
    order = rng.permutation(n)
    n_val = int(round(fraction * n))
    if fraction > 0 and n >= 2:
        n_val = min(max(n_val, 1), n - 1)
    else:
        n_val = 0
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def _has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def _refresh_batch_norm(model: nn.Module, x: torch.Tensor, batch_size: int) -> None:
    """Recompute BatchNorm running statistics for averaged weights."""
    moments = {}
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            moments[module] = module.momentum
            module.momentum = None  # cumulative average over the pass
    model.train()
    with torch.no_grad():
        for start in range(0, len(x), batch_size):
            model(x[start : start + batch_size])
    for module, momentum in moments.items():
        module.momentum = momentum


def fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    settings: TrainSettings,
    *,
    val: tuple[torch.Tensor, torch.Tensor] | None = None,
    seed: int = 0,
    loss: str = "mse",
) -> FitHistory:
    """Train ``model`` in place to map ``x`` to ``y``.

    Parameters
    ----------
    model : torch.nn.Module
        Trained from its current weights (a warm start when it was trained
        before).
    x, y : torch.Tensor
        Inputs and targets, on the model's device.
    settings : TrainSettings
        Epochs, learning rate, batch size and averaging.
    val : tuple of torch.Tensor, optional
        Validation inputs and targets, evaluated after every epoch.
    seed : int
        Seeds shuffling and dropout; the caller's RNG state is untouched.
    loss : {'mse', 'l1'}
        Loss function.

    Returns
    -------
    FitHistory
        Mean training loss and validation loss of every epoch.
    """
    if len(x) == 0:
        raise ParameterError("cannot train on an empty set of points")
    criterion = nn.MSELoss() if loss == "mse" else nn.L1Loss()
    history = FitHistory()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(
        params, lr=settings.lr, weight_decay=settings.weight_decay
    )
    swa_epoch = int(np.ceil(settings.swa_start * settings.epochs))
    use_swa = swa_epoch < settings.epochs
    averaged = AveragedModel(model) if use_swa else None
    scheduler = (
        SWALR(optimizer, swa_lr=settings.swa_lr, anneal_epochs=1) if use_swa else None
    )
    n = len(x)
    with seeded(seed, x.device):
        generator = torch.Generator().manual_seed(int(seed))
        for epoch in range(settings.epochs):
            model.train()
            order = torch.randperm(n, generator=generator).to(x.device)
            total = 0.0
            for start in range(0, n, settings.batch_size):
                index = order[start : start + settings.batch_size]
                if len(index) < 2 and n >= 2 and _has_batch_norm(model):
                    continue  # BatchNorm cannot train on a single sample
                optimizer.zero_grad(set_to_none=True)
                batch_loss = criterion(model(x[index]), y[index])
                batch_loss.backward()
                optimizer.step()
                total += float(batch_loss.detach()) * len(index)
            history.train.append(total / n)
            if use_swa and epoch >= swa_epoch:
                averaged.update_parameters(model)
                scheduler.step()
            if val is not None and len(val[0]):
                model.eval()
                with torch.no_grad():
                    history.val.append(float(criterion(model(val[0]), val[1])))
    if use_swa and averaged.n_averaged > 0:
        model.load_state_dict(averaged.module.state_dict())
        if _has_batch_norm(model):
            _refresh_batch_norm(model, x, settings.batch_size)
    model.eval()
    log.debug(
        "trained %s for %d epochs: train %.4g, val %s",
        getattr(model, "name", type(model).__name__),
        settings.epochs,
        history.train[-1],
        f"{history.val[-1]:.4g}" if history.val else "-",
    )
    return history


def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Evaluate ``model`` in eval mode in batches, without gradients."""
    model.eval()
    with torch.no_grad():
        parts = [model(x[s : s + batch_size]) for s in range(0, len(x), batch_size)]
    return torch.cat(parts) if parts else x.new_zeros((0,))
