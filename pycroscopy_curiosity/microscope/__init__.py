"""Ways of measuring chosen points: one interface, several backends.

A backend measures a list of points and returns their spectra with the
spectral axis. Nothing here knows how points are chosen.
"""

from pycroscopy_curiosity.microscope.base import (
    Measurement,
    Microscope,
    MicroscopeError,
)
from pycroscopy_curiosity.microscope.replay import ReplayMicroscope

__all__ = ["Measurement", "Microscope", "MicroscopeError", "ReplayMicroscope"]
