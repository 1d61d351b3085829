"""The package's exceptions.

Every error a user can cause by bad input derives from :class:`CuriosityError`
and from the matching built-in type, so ``except ValueError`` keeps working in
code that does not know this package.
"""


class CuriosityError(Exception):
    """Base class of every error raised by pycroscopy-curiosity."""


class DataError(CuriosityError, ValueError):
    """Data that cannot be used: wrong shape, units, non-finite values..."""


class DataFileError(CuriosityError, OSError):
    """A file that is missing, unreadable or not an NSID-HDF5 file."""


class DataFileNotFoundError(DataFileError, FileNotFoundError):
    """A data file that does not exist."""


class ParameterError(CuriosityError, ValueError):
    """An option or argument outside its allowed range or set."""
