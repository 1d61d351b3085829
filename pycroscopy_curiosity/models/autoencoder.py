"""Patch autoencoder and the small dropout MLP of the autoencoder workflow."""

from __future__ import annotations

import warnings

import torch
from torch import nn

from pycroscopy_curiosity.errors import ParameterError

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from atomai.nets import ConvBlock

__all__ = ["DropoutMLP", "PatchAutoencoder", "mc_dropout"]


class PatchAutoencoder(nn.Module):
    """Image patch -> latent -> image patch, from atomai convolution blocks.

    Parameters
    ----------
    patch : int
        Patch size ``P``.
    latent_dim : int
        Size of the latent code (3 by default).
    channels : int
        Channels of the convolution blocks.
    """

    def __init__(self, patch: int, latent_dim: int = 3, channels: int = 8) -> None:
        super().__init__()
        if patch < 1 or latent_dim < 1 or channels < 1:
            raise ParameterError(
                f"patch, latent_dim and channels must be >= 1, got {patch}, "
                f"{latent_dim}, {channels}"
            )
        self.patch, self.latent_dim, self.channels = patch, latent_dim, channels
        self.name = "autoencoder"
        flat = channels * patch * patch
        self.encoder = ConvBlock(2, 2, 1, channels, lrelu_a=0.1)
        self.to_latent = nn.Linear(flat, latent_dim)
        self.from_latent = nn.Sequential(nn.Linear(latent_dim, flat), nn.LeakyReLU(0.1))
        self.decoder = nn.Sequential(
            ConvBlock(2, 2, channels, channels, lrelu_a=0.1),
            nn.Conv2d(channels, 1, kernel_size=1),
        )

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3:
            x = x.unsqueeze(1)
        if x.ndim != 4 or x.shape[1:] != (1, self.patch, self.patch):
            raise ParameterError(
                f"the autoencoder expects patches N x 1 x {self.patch} x {self.patch}; "
                f"got {tuple(x.shape)}"
            )
        return x

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent code, ``N x latent_dim``."""
        return self.to_latent(self.encoder(self._check(x)).flatten(1))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstructed patches, ``N x 1 x P x P``."""
        h = self.from_latent(z).view(-1, self.channels, self.patch, self.patch)
        return self.decoder(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruction of the patches, ``N x 1 x P x P``."""
        return self.decode(self.encode(x))


class DropoutMLP(nn.Module):
    """A small regressor with dropout after every hidden layer.

    Parameters
    ----------
    in_dim : int
        Input size (the autoencoder latent).
    hidden : int
        Width of the two hidden layers.
    dropout : float
        Dropout probability; 0 makes the network deterministic.
    out_dim : int
        Output size.
    """

    def __init__(
        self, in_dim: int, hidden: int = 64, dropout: float = 0.2, out_dim: int = 1
    ) -> None:
        super().__init__()
        if not 0 <= dropout < 1:
            raise ParameterError(f"dropout must lie in [0, 1), got {dropout}")
        self.name = "error_predictor"
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.LeakyReLU(0.1),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.1),
            nn.Dropout(dropout),
            nn.Linear(hidden, out_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``N x out_dim``."""
        return self.net(x)


def mc_dropout(
    model: DropoutMLP, x: torch.Tensor, passes: int = 100, max_rows: int = 1 << 22
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and spread of ``passes`` stochastic forward passes with dropout on.

    Each pass is one thinned network: a dropout mask per pass and hidden unit,
    shared by all inputs, as in Monte Carlo dropout. All passes run at once
    as batched matrix products over a ``passes x N x hidden`` tensor (in
    chunks of inputs), not as ``passes`` Python-level calls over all inputs,
    and the layers before the first dropout run once.

    Parameters
    ----------
    model : DropoutMLP
        A sequential network of linear layers, activations and dropout.
    x : torch.Tensor
        ``N x d`` inputs.
    passes : int
        Number of stochastic passes ``T``.
    max_rows : int
        Largest ``passes x inputs`` evaluated at once (bounds memory).

    Returns
    -------
    mean, std : torch.Tensor
        ``(N,)`` each (the first output of the model).
    """
    if passes < 1:
        raise ParameterError(f"passes must be at least 1, got {passes}")
    chunk = max(1, max_rows // passes)
    means, stds = [], []
    with torch.no_grad():
        for start in range(0, len(x), chunk):
            h = x[start : start + chunk]
            for layer in model.net:
                if isinstance(layer, nn.Dropout):
                    if layer.p > 0:
                        keep = torch.full(
                            (passes, 1, h.shape[-1]), 1.0 - layer.p, device=h.device
                        )
                        h = h * (torch.bernoulli(keep) / (1.0 - layer.p))
                else:
                    h = layer(h)
            out = h[..., 0].expand(passes, -1)
            means.append(out.mean(0))
            stds.append(out.std(0, unbiased=False))
    return torch.cat(means), torch.cat(stds)
