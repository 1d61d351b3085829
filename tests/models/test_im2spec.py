import numpy as np
import pytest
import torch

from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.models.error_model import EncodedErrorModel
from pycroscopy_curiosity.models.im2spec import ARCHITECTURES, build_im2spec
from pycroscopy_curiosity.models.runtime import resolve_device, seeded
from pycroscopy_curiosity.models.training import TrainSettings, fit, split_validation


@pytest.mark.parametrize("name", list(ARCHITECTURES))
@pytest.mark.parametrize("patch", [9, 16])
def test_architecture_shapes_and_latent(name, patch):
    net = build_im2spec(name, patch, 50, latent_dim=3, channels=4)
    x = torch.randn(6, 1, patch, patch)
    net.eval()
    assert net(x).shape == (6, 50)
    assert net.encode(x).shape == (6, 3)
    assert net(x[:, 0]).shape == (6, 50)  # N x P x P accepted too
    torch.testing.assert_close(net.decoder(net.encode(x)), net(x))


def test_architectures_use_atomai_blocks():
    from atomai.nets import ConvBlock, DilatedBlock, ResModule

    def kinds(name):
        net = build_im2spec(name, 9, 10, channels=4)
        return {type(m) for m in net.encoder.modules()} & {
            ConvBlock,
            DilatedBlock,
            ResModule,
        }

    assert kinds("im2spec") == {ConvBlock}
    assert kinds("im2spec_3") == {ConvBlock, DilatedBlock}
    assert kinds("im2spec_4") == {ResModule, ConvBlock}
    assert kinds("im2spec_5") == {ResModule, DilatedBlock}
    drop = [
        m.p
        for m in build_im2spec("im2spec", 9, 10).modules()
        if isinstance(m, torch.nn.Dropout)
    ]
    assert drop and all(p == 0.5 for p in drop)


def test_bad_architecture_and_input():
    with pytest.raises(ParameterError, match="unknown Im2spec architecture 'vgg'"):
        build_im2spec("vgg", 9, 10)
    net = build_im2spec("im2spec_2", 9, 10, channels=4)
    with pytest.raises(ParameterError, match=r"expects patches of shape N x 1 x 9 x 9"):
        net(torch.zeros(2, 1, 8, 8))


def test_training_reduces_loss_and_is_seeded():
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.normal(size=(64, 1, 9, 9)), dtype=torch.float32)
    y = x.mean(dim=(1, 2, 3)).unsqueeze(1).repeat(1, 5) * torch.linspace(-1, 1, 5)
    settings = TrainSettings(epochs=30, lr=3e-3, batch_size=16)
    runs = []
    for _ in range(2):
        with seeded(3):
            net = build_im2spec("im2spec_2", 9, 5, channels=4)
        history = fit(net, x, y, settings, val=(x[:8], y[:8]), seed=11)
        runs.append((history, net(x).detach()))
    assert runs[0][0].train[-1] < runs[0][0].train[0]
    assert len(runs[0][0].val) == 30
    assert runs[0][0].train == runs[1][0].train
    torch.testing.assert_close(runs[0][1], runs[1][1])


def test_training_leaves_global_rng_alone():
    net = build_im2spec("im2spec", 9, 4, channels=2)
    x, y = torch.randn(8, 1, 9, 9), torch.randn(8, 4)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    fit(net, x, y, TrainSettings(epochs=2), seed=5)
    with seeded(9):
        torch.rand(10)
    torch.testing.assert_close(torch.rand(3), expected)


def test_batchnorm_model_trains_with_swa():
    net = build_im2spec("im2spec_5", 9, 4, channels=4)
    x, y = torch.randn(33, 1, 9, 9), torch.randn(33, 4)
    history = fit(
        net, x, y, TrainSettings(epochs=8, batch_size=16, swa_start=0.5), seed=0
    )
    assert len(history.train) == 8 and not net.training
    assert torch.isfinite(net(x)).all()


def test_validation_split():
    rng = np.random.default_rng(0)
    train, val = split_validation(10, 0.2, rng)
    assert len(val) == 2 and len(train) == 8 and not set(train) & set(val)
    train, val = split_validation(1, 0.2, rng)
    assert len(val) == 0 and len(train) == 1
    train, val = split_validation(3, 0.01, rng)
    assert len(val) == 1


def test_error_model_keeps_encoder_frozen():
    net = build_im2spec("im2spec_4", 9, 6, channels=4)
    fit(
        net,
        torch.randn(20, 1, 9, 9),
        torch.randn(20, 6),
        TrainSettings(epochs=2),
        seed=0,
    )
    model = EncodedErrorModel(net)
    before = {
        k: v.clone()
        for k, v in model.state_dict().items()
        if k.startswith(("encoder", "embed"))
    }
    assert before
    x = torch.randn(20, 1, 9, 9)
    latent = model.encode(x)
    torch.testing.assert_close(latent, net.eval().encode(x))
    targets = torch.rand(20) * 0.3
    history = model.fit_latent(
        latent, targets, TrainSettings(epochs=60, lr=1e-2, batch_size=64), seed=0
    )
    assert history.train[-1] < history.train[0]
    after = model.state_dict()
    for key, value in before.items():
        torch.testing.assert_close(after[key], value)
    assert model(x).shape == (20,)
    assert all(not p.requires_grad for p in model.encoder.parameters())
    # training the surrogate further does not move the error model's copy
    fit(net, x, torch.randn(20, 6), TrainSettings(epochs=2), seed=1)
    for key, value in before.items():
        torch.testing.assert_close(model.state_dict()[key], value)


def test_device_resolution():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == (
        "cuda" if torch.cuda.is_available() else "cpu"
    )
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="torch sees no CUDA GPU"):
            resolve_device("cuda")
    with pytest.raises(ParameterError, match="device must be auto, cpu or cuda"):
        resolve_device("tpu")
