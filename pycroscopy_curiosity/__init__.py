"""Curiosity-driven active learning of structure-property relations.

pycroscopy-curiosity decides where a scanning-probe microscope should take its
next slow, invasive spectrum, given a cheap structure image of the whole
region. It reads sidpy Datasets and NSID-HDF5 files and writes its results
back as sidpy Datasets.

The package logs through the :mod:`logging` module under the logger name
``pycroscopy_curiosity``; it adds no handler beyond a ``NullHandler``.
"""

import logging

from pycroscopy_curiosity._version import __version__
from pycroscopy_curiosity.errors import (
    CuriosityError,
    DataError,
    DataFileError,
    ParameterError,
)

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "CuriosityError",
    "DataError",
    "DataFileError",
    "ParameterError",
    "__version__",
]
