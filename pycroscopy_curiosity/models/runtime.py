"""Device, threads and seeding for torch, without global side effects."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import numpy as np
import torch

from pycroscopy_curiosity.errors import ParameterError

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``'auto'``, ``'cpu'``, ``'cuda'`` or ``'cuda:N'`` into a device.

    ``'auto'`` takes the GPU when one is there. Asking for ``'cuda'`` on a
    machine without a usable GPU is an error rather than a silent fall-back.
    """
    if isinstance(device, torch.device):
        return device
    name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ParameterError(
                f"device {device!r} was asked for but torch sees no CUDA GPU "
                "on this machine; use device='cpu' or 'auto'"
            )
        return torch.device(name)
    raise ParameterError(f"device must be auto, cpu or cuda[:N]; got {device!r}")


def set_threads(threads: int | None) -> None:
    """Set torch's intra-op threads (``None`` leaves torch's default)."""
    if threads is None:
        return
    if int(threads) < 1:
        raise ParameterError(f"threads must be at least 1, got {threads}")
    torch.set_num_threads(int(threads))
    log.debug("torch threads set to %d", threads)


@contextlib.contextmanager
def seeded(seed: int, device: torch.device | None = None) -> Iterator[None]:
    """Run a block with torch seeded, restoring the caller's RNG state after.

    Weight initialisation and dropout draw from torch's global generator;
    forking it keeps runs reproducible without touching the caller's
    randomness.
    """
    devices = [device] if device is not None and device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed) % (2**63))
        yield


def child_seed(rng: np.random.Generator) -> int:
    """Draw a seed for a sub-task from a numpy generator."""
    return int(rng.integers(0, 2**31 - 1))


def as_tensor(values: np.ndarray, device: torch.device) -> torch.Tensor:
    """float32 tensor on ``device`` from a numpy array."""
    return torch.as_tensor(np.ascontiguousarray(values), dtype=torch.float32).to(device)
