"""Spec2im: the inverse surrogate, spectrum -> latent -> image patch."""

from __future__ import annotations

import warnings

import torch
from torch import nn

from pycroscopy_curiosity.errors import ParameterError

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from atomai.nets import ConvBlock

__all__ = ["Spec2Im"]


class Spec2Im(nn.Module):
    """A 1-D convolution block over the spectrum, a latent layer, and a 2-D
    convolution decoder to the patch (atomai blocks).

    Parameters
    ----------
    n_spec : int
        Spectrum length ``L``.
    patch : int
        Patch size ``P``.
    latent_dim : int
        Latent size (2 by default).
    channels : int
        Channels of both convolution blocks.
    dropout : float
        Dropout in the spectral encoder.
    """

    def __init__(
        self,
        n_spec: int,
        patch: int,
        latent_dim: int = 2,
        channels: int = 8,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if min(n_spec, patch, latent_dim, channels) < 1:
            raise ParameterError("n_spec, patch, latent_dim and channels must be >= 1")
        self.name = "spec2im"
        self.n_spec, self.patch, self.channels = n_spec, patch, channels
        self.latent_dim = latent_dim
        self.encoder = ConvBlock(1, 2, 1, channels, lrelu_a=0.1, dropout_=dropout)
        self.embed = nn.Linear(channels * n_spec, latent_dim)
        self.expand = nn.Sequential(
            nn.Linear(latent_dim, channels * patch * patch), nn.LeakyReLU(0.1)
        )
        self.decoder = nn.Sequential(
            ConvBlock(2, 2, channels, channels, lrelu_a=0.1),
            nn.Conv2d(channels, 1, kernel_size=1),
        )

    def encode(self, spectra: torch.Tensor) -> torch.Tensor:
        """Latent code of ``N x L`` spectra, ``N x latent_dim``."""
        if spectra.ndim != 2 or spectra.shape[1] != self.n_spec:
            raise ParameterError(
                f"Spec2im expects spectra N x {self.n_spec}; got {tuple(spectra.shape)}"
            )
        return self.embed(self.encoder(spectra.unsqueeze(1)).flatten(1))

    def forward(self, spectra: torch.Tensor) -> torch.Tensor:
        """Predicted patches, ``N x 1 x P x P``."""
        h = self.expand(self.encode(spectra))
        return self.decoder(h.view(-1, self.channels, self.patch, self.patch))
