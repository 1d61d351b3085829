"""Im2spec networks: image patch -> latent -> spectrum.

Every architecture is an encoder made of atomai.nets blocks (which keep the
spatial size), a linear latent embedding, and a fully connected decoder to the
spectrum length.

========== ==============================================================
name       encoder
========== ==============================================================
im2spec    ConvBlock: 3 layers, leaky ReLU slope 0.1, dropout 0.5
im2spec_2  ConvBlock: 3 layers, leaky ReLU 0.2, dropout 0.1
im2spec_3  ConvBlock (3 layers, 0.2, 0.1), then a DilatedBlock of 4 layers
im2spec_4  ResModule of depth 3, then a ConvBlock (3 layers, 0.2, dropout 0.2)
im2spec_5  ResModule of depth 3, then a DilatedBlock of 4 layers
========== ==============================================================
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from torch import nn

from pycroscopy_curiosity.errors import ParameterError

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    from atomai.nets import ConvBlock, DilatedBlock, ResModule

__all__ = ["ARCHITECTURES", "Im2Spec", "build_im2spec", "predict_candidates"]

_DILATIONS = [1, 2, 3, 4]


def _conv(channels: int, inputs: int, slope: float, dropout: float) -> nn.Module:
    return ConvBlock(2, 3, inputs, channels, lrelu_a=slope, dropout_=dropout)


def _dilated(channels: int, slope: float = 0.2) -> nn.Module:
    return DilatedBlock(2, channels, channels, _DILATIONS, _DILATIONS, lrelu_a=slope)


def _res(channels: int, inputs: int = 1) -> nn.Module:
    return ResModule(2, 3, inputs, channels, batch_norm=True, lrelu_a=0.2)


def _enc_1(c: int) -> nn.Module:
    return _conv(c, 1, 0.1, 0.5)


def _enc_2(c: int) -> nn.Module:
    return _conv(c, 1, 0.2, 0.1)


def _enc_3(c: int) -> nn.Module:
    return nn.Sequential(_conv(c, 1, 0.2, 0.1), _dilated(c))


def _enc_4(c: int) -> nn.Module:
    return nn.Sequential(_res(c), _conv(c, c, 0.2, 0.2))


def _enc_5(c: int) -> nn.Module:
    return nn.Sequential(_res(c), _dilated(c))


#: Encoder factories by architecture name; each takes the channel width.
ARCHITECTURES: dict[str, Callable[[int], nn.Module]] = {
    "im2spec": _enc_1,
    "im2spec_2": _enc_2,
    "im2spec_3": _enc_3,
    "im2spec_4": _enc_4,
    "im2spec_5": _enc_5,
}


class Im2Spec(nn.Module):
    """Encoder, latent embedding and decoder from a patch to a spectrum.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps ``N x 1 x P x P`` to ``N x C x P x P``.
    channels : int
        ``C``, the encoder's output channels.
    patch : int
        ``P``.
    n_spec : int
        Spectrum length ``L``.
    latent_dim : int
        Size of the latent embedding.
    hidden : int
        Width of the decoder's two hidden layers.
    name : str
        Architecture name, for logs and results.
    """

    def __init__(
        self,
        encoder: nn.Module,
        channels: int,
        patch: int,
        n_spec: int,
        latent_dim: int = 3,
        hidden: int = 128,
        name: str = "im2spec",
    ) -> None:
        super().__init__()
        self.name = name
        self.patch = patch
        self.n_spec = n_spec
        self.latent_dim = latent_dim
        self.encoder = encoder
        self.embed = nn.Linear(channels * patch * patch, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.LeakyReLU(0.1),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.1),
            nn.Linear(hidden, n_spec),
        )

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 3:
            x = x.unsqueeze(1)
        if x.ndim != 4 or x.shape[1:] != (1, self.patch, self.patch):
            raise ParameterError(
                f"{self.name} expects patches of shape N x 1 x {self.patch} x "
                f"{self.patch} (or N x {self.patch} x {self.patch}); got "
                f"{tuple(x.shape)}"
            )
        return x

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent embedding, ``N x latent_dim``."""
        features = self.encoder(self._check(x))
        return self.embed(features.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted spectra, ``N x L``."""
        return self.decoder(self.encode(x))


def build_im2spec(
    name: str,
    patch: int,
    n_spec: int,
    *,
    latent_dim: int = 3,
    channels: int = 16,
    hidden: int = 128,
) -> Im2Spec:
    """Build one of the :data:`ARCHITECTURES` for ``P x P`` patches.

    Examples
    --------
    >>> net = build_im2spec("im2spec_3", patch=9, n_spec=50)
    >>> net(torch.zeros(4, 1, 9, 9)).shape
    torch.Size([4, 50])
    """
    if name not in ARCHITECTURES:
        raise ParameterError(
            f"unknown Im2spec architecture {name!r}; choose from "
            f"{', '.join(ARCHITECTURES)}"
        )
    for label, value in (
        ("patch", patch),
        ("n_spec", n_spec),
        ("latent_dim", latent_dim),
        ("channels", channels),
        ("hidden", hidden),
    ):
        if int(value) < 1:
            raise ParameterError(f"{label} must be at least 1, got {value}")
    encoder = ARCHITECTURES[name](channels)
    return Im2Spec(encoder, channels, patch, n_spec, latent_dim, hidden, name)


def predict_candidates(
    model: Im2Spec, candidates, device: torch.device, batch_size: int = 4096
) -> tuple[torch.Tensor, torch.Tensor]:
    """Latents and predicted spectra of every candidate, batch by batch.

    Parameters
    ----------
    model : Im2Spec
        The surrogate (put in eval mode here).
    candidates : CandidateGrid
        Its patches are cut ``batch_size`` at a time, never all at once.
    device : torch.device
        Where the model runs.
    batch_size : int
        Candidates per batch.

    Returns
    -------
    latent, spectra : torch.Tensor
        ``n x latent_dim`` and ``n x L``, on ``device``.
    """
    model.eval()
    latent, spectra = [], []
    with torch.no_grad():
        for _, batch in candidates.iter_batches(batch_size):
            patches = torch.as_tensor(batch, dtype=torch.float32).to(device)
            z = model.encode(patches)
            latent.append(z)
            spectra.append(model.decoder(z))
    return torch.cat(latent), torch.cat(spectra)
