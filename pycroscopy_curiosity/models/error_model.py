"""Error models: predict, for every candidate, how wrong the surrogate is."""

from __future__ import annotations

import copy

import torch
from torch import nn

from pycroscopy_curiosity.models.im2spec import Im2Spec
from pycroscopy_curiosity.models.training import FitHistory, TrainSettings, fit, predict

__all__ = ["EncodedErrorModel"]


class EncodedErrorModel(nn.Module):
    """A frozen copy of an Im2spec encoder and latent layer, plus a new head.

    The head maps the latent embedding to one predicted error per patch. The
    encoder is copied, so training the Im2spec further does not change it,
    and frozen: error-model training touches only the head.

    Parameters
    ----------
    im2spec : Im2Spec
        The surrogate whose encoder is reused.
    hidden : int
        Width of the head's two hidden layers.
    """

    def __init__(self, im2spec: Im2Spec, hidden: int = 32) -> None:
        super().__init__()
        self.encoder = copy.deepcopy(im2spec.encoder)
        self.embed = copy.deepcopy(im2spec.embed)
        for parameter in (*self.encoder.parameters(), *self.embed.parameters()):
            parameter.requires_grad_(False)
        self._check = im2spec._check
        latent = im2spec.latent_dim
        self.head = nn.Sequential(
            nn.Linear(latent, hidden),
            nn.LeakyReLU(0.1),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.1),
            nn.Linear(hidden, 1),
        )
        self.register_buffer("scale", torch.ones(()))
        self.name = f"error_head[{im2spec.name}]"

    def train(self, mode: bool = True) -> EncodedErrorModel:
        """Train mode for the head only; the frozen encoder stays in eval."""
        super().train(mode)
        self.encoder.eval()
        self.embed.eval()
        return self

    def encode(self, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
        """Latent embedding of patches by the frozen encoder, ``N x d``."""
        self.encoder.eval()
        with torch.no_grad():
            parts = [
                self.embed(self.encoder(self._check(x[s : s + batch_size])).flatten(1))
                for s in range(0, len(x), batch_size)
            ]
        return torch.cat(parts)

    def predict_latent(self, latent: torch.Tensor) -> torch.Tensor:
        """Predicted error from latent embeddings, ``(N,)``."""
        return predict(self.head, latent).squeeze(-1) * self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted error of each patch, ``(N,)``."""
        return self.head(self.encode(x)).squeeze(-1) * self.scale

    def fit_latent(
        self,
        latent: torch.Tensor,
        targets: torch.Tensor,
        settings: TrainSettings,
        seed: int = 0,
    ) -> FitHistory:
        """Train the head on latents of measured points and their errors.

        Targets are divided by their mean for training, so the learning rate
        does not depend on the units of the error.
        """
        scale = targets.mean().clamp_min(1e-12)
        self.scale.fill_(float(scale))
        return fit(
            self.head, latent, (targets / scale).unsqueeze(-1), settings, seed=seed
        )
