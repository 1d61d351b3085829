"""Keeping the learner's imports safe inside a running napari.

torch (through atomai and torchvision) imports triton when it is installed.
triton carries its own LLVM; loading it into a process whose OpenGL driver
already loaded Mesa's libLLVM (llvmpipe, radeonsi and other Mesa drivers,
and every virtual X server) crashes the process with a segmentation fault.
napari draws with OpenGL before any session starts, so the first session
would bring napari down. In exactly that situation triton is marked as
unavailable, which torch handles (triton only serves ``torch.compile``,
which this package does not use).
"""

from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)


def _llvm_loaded() -> bool:
    """Whether a shared LLVM library is mapped into this process (Linux)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            return "libLLVM" in maps.read()
    except OSError:
        return False


def guard_triton() -> bool:
    """Mark triton unavailable when loading it now would crash; returns
    whether it did."""
    if "triton" in sys.modules or not _llvm_loaded():
        return False
    sys.modules["triton"] = None  # import triton now raises ImportError
    log.warning(
        "triton is not loaded in this napari session: the OpenGL driver's LLVM "
        "is loaded and triton's would crash the process (torch.compile is "
        "unavailable here; the learners do not use it)"
    )
    return True
