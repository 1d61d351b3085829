"""Ways of measuring chosen points: one interface, several backends.

A backend measures a list of points and returns their spectra with the
spectral axis. Nothing here knows how points are chosen.

- :class:`ReplayMicroscope`: spectra from a pre-acquired dataset;
- :class:`~pycroscopy_curiosity.microscope.remote.RemoteMicroscope`: a client
  of ``pycroscopy-curiosity serve`` on the microscope's computer;
- :class:`~pycroscopy_curiosity.microscope.aecroscopy.AecroscopyMicroscope`:
  the band-excitation software driven through aecroscopy.

:func:`open_microscope` builds one from a short description, as the command
line and the napari widget do.
"""

from __future__ import annotations

from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.microscope.base import (
    Measurement,
    Microscope,
    MicroscopeError,
)
from pycroscopy_curiosity.microscope.replay import ReplayMicroscope

__all__ = [
    "Measurement",
    "Microscope",
    "MicroscopeError",
    "ReplayMicroscope",
    "check_compatible",
    "open_microscope",
]


def open_microscope(
    spec: str,
    data=None,
    *,
    data_options: dict | None = None,
    token: str | None = None,
    token_file=None,
    delay: float = 0.0,
    noise: float = 0.0,
    seed: int = 0,
    timeout: float = 60.0,
    retries: int = 8,
    **backend_options,
) -> Microscope:
    """A backend from its description.

    Parameters
    ----------
    spec : str
        ``'replay'`` (replay ``data``), ``'replay:FILE'`` (replay FILE, read
        with ``data_options``), ``'remote://HOST:PORT'`` (a server started
        with ``pycroscopy-curiosity serve``) or ``'aecroscopy'``.
    data : ExplorationData, optional
        The data of the run, for ``'replay'``.
    token, token_file
        The remote server's shared token, or a file holding it.
    delay, noise, seed
        Replay: seconds per point, added noise, its seed.
    timeout, retries
        Remote: seconds to wait for a reply, attempts after a lost one.
    **backend_options
        aecroscopy: passed to
        :class:`~pycroscopy_curiosity.microscope.aecroscopy.AecroscopyMicroscope`.

    Raises
    ------
    ParameterError
        For an unknown description or missing data.
    """
    text = str(spec).strip()
    if text == "replay" or text.startswith("replay:"):
        path = text[len("replay:") :] if ":" in text else ""
        if path:
            return ReplayMicroscope.from_file(
                path, data_options, delay=delay, noise=noise, seed=seed
            )
        if data is None:
            raise ParameterError("microscope 'replay' needs the data to replay")
        return ReplayMicroscope(data, delay=delay, noise=noise, seed=seed)
    if text.startswith("remote://"):
        from pycroscopy_curiosity.microscope.remote import RemoteMicroscope, read_token

        if token is None and token_file is not None:
            token = read_token(token_file)
        return RemoteMicroscope(text, token=token, timeout=timeout, retries=retries)
    if text == "aecroscopy":
        from pycroscopy_curiosity.microscope.aecroscopy import AecroscopyMicroscope

        return AecroscopyMicroscope(**backend_options)
    raise ParameterError(
        f"unknown microscope {spec!r}: use replay, replay:FILE, "
        "remote://HOST:PORT or aecroscopy"
    )


def check_compatible(backend: Microscope, data) -> None:
    """Raise when a backend's grid or spectrum length differs from the data's.

    Backends that do not report a grid (an instrument measures anywhere) pass.
    """
    caps = backend.capabilities()
    grid, n_spec = caps.get("grid"), caps.get("n_spec")
    if grid is not None and tuple(grid) != tuple(data.grid_shape):
        raise ParameterError(
            f"microscope {caps.get('name', backend.name)} has a "
            f"{grid[0]} x {grid[1]} grid; the data have "
            f"{data.grid_shape[0]} x {data.grid_shape[1]}"
        )
    if n_spec is not None and int(n_spec) != data.n_spec:
        raise ParameterError(
            f"microscope {caps.get('name', backend.name)} returns spectra of "
            f"length {n_spec}; the data have {data.n_spec}"
        )
