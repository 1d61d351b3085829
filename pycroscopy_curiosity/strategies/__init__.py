"""Ways of choosing the next points, all behind :class:`Strategy`."""

from pycroscopy_curiosity.strategies.base import Strategy
from pycroscopy_curiosity.strategies.random import RandomStrategy

__all__ = ["RandomStrategy", "Strategy"]
