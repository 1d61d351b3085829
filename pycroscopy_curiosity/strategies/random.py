"""Random sampling: the baseline every strategy is judged against."""

from __future__ import annotations

import numpy as np

from pycroscopy_curiosity.strategies.base import Strategy

__all__ = ["RandomStrategy"]


class RandomStrategy(Strategy):
    """Unmeasured candidates drawn uniformly at random, seeded."""

    name = "random"

    def _propose(self, k: int) -> np.ndarray:
        return self.random_unmeasured(k)
