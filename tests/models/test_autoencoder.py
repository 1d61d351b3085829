import numpy as np
import pytest
import torch

from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.models.autoencoder import (
    DropoutMLP,
    PatchAutoencoder,
    mc_dropout,
)
from pycroscopy_curiosity.models.runtime import seeded
from pycroscopy_curiosity.models.spec2im import Spec2Im
from pycroscopy_curiosity.models.training import TrainSettings, fit


@pytest.mark.parametrize("patch", [8, 9])
def test_autoencoder_shapes_and_latent(patch):
    ae = PatchAutoencoder(patch, latent_dim=3, channels=4).eval()
    x = torch.randn(5, 1, patch, patch)
    assert ae.encode(x).shape == (5, 3)
    assert ae(x).shape == (5, 1, patch, patch)
    assert ae(x[:, 0]).shape == (5, 1, patch, patch)  # N x P x P accepted
    torch.testing.assert_close(ae.decode(ae.encode(x)), ae(x))
    with pytest.raises(ParameterError, match=f"N x 1 x {patch} x {patch}"):
        ae(torch.zeros(2, 1, patch + 1, patch + 1))


def test_autoencoder_learns_to_reconstruct():
    rng = np.random.default_rng(0)
    # patches that vary along two directions only: a 3-D latent suffices
    a, b = rng.normal(size=(2, 200, 1, 1, 1))
    yy, xx = np.mgrid[0:8, 0:8] / 8.0
    x = torch.tensor(a * xx + b * yy, dtype=torch.float32)
    with seeded(0):
        ae = PatchAutoencoder(8, latent_dim=3, channels=4)
    with torch.no_grad():
        before = float(((ae(x) - x) ** 2).mean())
    fit(ae, x, x, TrainSettings(epochs=60, lr=3e-3, batch_size=32, swa_start=1.0))
    with torch.no_grad():
        after = float(((ae(x) - x) ** 2).mean())
    assert after < 0.2 * before


def test_spec2im_shapes_and_errors():
    net = Spec2Im(n_spec=20, patch=9, latent_dim=2, channels=4).eval()
    spectra = torch.randn(6, 20)
    assert net.encode(spectra).shape == (6, 2)
    assert net(spectra).shape == (6, 1, 9, 9)
    with pytest.raises(ParameterError, match="expects spectra N x 20"):
        net(torch.randn(6, 21))


def test_mc_dropout_matches_separate_passes():
    with seeded(1):
        mlp = DropoutMLP(3, hidden=16, dropout=0.3).eval()
    x = torch.randn(40, 3)
    passes = 400
    with seeded(2):
        mean, std = mc_dropout(mlp, x, passes=passes, max_rows=passes * 7)  # in chunks
    assert mean.shape == std.shape == (40,)
    assert (std > 0).all()
    assert not mlp.training  # the model's mode is left alone
    # the same statistics from one Python-level pass at a time
    mlp.train()
    with seeded(3), torch.no_grad():
        loop = torch.stack([mlp(x)[:, 0] for _ in range(passes)])
    mlp.eval()
    # means agree within a few standard errors; spreads within 20 %
    tolerance = 5 * loop.std(0) / passes**0.5
    assert ((mean - loop.mean(0)).abs() <= tolerance).all()
    ratio = std / loop.std(0)
    assert float(ratio.min()) > 0.8 and float(ratio.max()) < 1.2


def test_mc_dropout_spread_is_zero_without_dropout():
    mlp = DropoutMLP(3, hidden=16, dropout=0.0)
    x = torch.randn(30, 3)
    mean, std = mc_dropout(mlp, x, passes=50)
    torch.testing.assert_close(std, torch.zeros(30))
    torch.testing.assert_close(mean, mlp.eval()(x)[:, 0].detach())


def test_bad_settings():
    with pytest.raises(ParameterError, match="dropout must lie in"):
        DropoutMLP(3, dropout=1.0)
    with pytest.raises(ParameterError, match="passes must be at least 1"):
        mc_dropout(DropoutMLP(3), torch.zeros(2, 3), passes=0)
    with pytest.raises(ParameterError, match="must be >= 1"):
        PatchAutoencoder(0)
