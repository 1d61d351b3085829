"""The aecroscopy backend: BEPS at chosen points through aecroscopy's AEBE class.

aecroscopy drives the band-excitation (BE) LabVIEW software on the
microscope's Windows PC. This module talks to an ``AEBE`` object (or any
object with the same methods, such as
:class:`~pycroscopy_curiosity.microscope.aecroscopy_double.AEBEDouble`):

* chosen grid points are converted to aecroscopy's scan frame, ``-1`` to
  ``1`` across the scan (:class:`ScanFrame`), and measured with
  ``do_beps_specific``;
* the returned BEPS quick fit (amplitude, resonance, Q and phase at every
  step of the DC waveform) becomes one spectrum per point
  (:func:`beps_spectra`), over the DC bias;
* the structure image comes from ``raster_scan``.

aecroscopy is imported only when the adapter has to build its own ``AEBE``.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import numbers
import re
import sys
import time

import numpy as np

from pycroscopy_curiosity.errors import DataError, ParameterError
from pycroscopy_curiosity.microscope.base import (
    Measurement,
    Microscope,
    MicroscopeError,
    check_points,
)
from pycroscopy_curiosity.microscope.scan_frame import ORIENTATIONS, ScanFrame

log = logging.getLogger(__name__)

__all__ = [
    "ORIENTATIONS",
    "AecroscopyImportError",
    "AecroscopyMicroscope",
    "QUANTITIES",
    "ScanFrame",
    "beps_spectra",
    "load_aebe_class",
]

# Parameter names accepted by aecroscopy 0.0.2; it silently ignores others.
BEPS_PARAMETERS = tuple(
    """
    amplitude_V_00 offset_V_01 read_voltage_V_02 step_per_cycle_03
    num_cycles_04 cycle_fraction_05 cycle_phase_shift_06 measure_loops_07
    transition_time_s_08 delay_after_step_s_09 set_pulse_amplitude_V_10
    set_pulse_duration_s_11 FORC_num_cycles_12 FORC_A1_V_13 FORC_A2_V_14
    FORC_num_repeats_15 FORC_B1_V_16 FORC_B2_V_17
    """.split()
)
BE_PARAMETERS = tuple(
    """
    center_frequency_Hz_00 band_width_Hz_01 amplitude_V_02 phase_variation_03
    repeats_04 req_pulse_duration_s_05 auto_smooth_ring_06 edge_smoothing_Hz_07
    window_adjustment_08
    """.split()
)
IO_PARAMETERS = tuple(
    """
    AFM_platform_00 DAQ_card_01 IO_rate_02 analog_input_range_03
    analog_output_range_04 analog_output_routing_05 analog_output_amplifier_06
    channel_01_type_07 channel_02_type_08 channel_03_type_09 IO_trigger_ring_10
    """.split()
)
#: raster_scan keys the user may set; the window and pixels come from options.
RASTER_PARAMETERS = ("tip_voltage",)

#: Spectrum quantities: description and units (None: the amplitude's units).
QUANTITIES = {
    "piezoresponse": ("piezoresponse (amplitude x cos phase)", None),
    "quadrature": ("quadrature (amplitude x sin phase)", None),
    "amplitude": ("BE amplitude", None),
    "phase": ("BE phase", "rad"),
    "resonance": ("resonance frequency", "Hz"),
    "q_factor": ("quality factor", ""),
}
FIELDS = ("off", "on")
#: Planes of the BE quick fit, in aecroscopy's order.
QUICK_FIT = ("amplitude", "resonance", "q_factor", "phase")
IMAGE_CHANNELS = (*QUICK_FIT, "piezoresponse", "channel1", "channel2", "channel3")

INSTALL_HINT = (
    "aecroscopy runs on the microscope's Windows PC beside the BE LabVIEW "
    "software: install it there with `pip install aecroscopy pywin32`. Version "
    "0.0.2 declares none of its dependencies; importing it also needs sidpy, "
    "pyNSID, h5py, matplotlib, ipython, progressbar2, SciFiReaders, tqdm, "
    "bluesky, ophyd, ophyd-async, tiled and nanosurf. Elsewhere, pass an "
    "already built AEBE-like object (aebe=...), or serve the microscope PC "
    "and connect with --microscope remote://HOST:PORT"
)


class AecroscopyImportError(MicroscopeError, ImportError):
    """aecroscopy (or one of the modules it imports) is not installed."""


def load_aebe_class():
    """aecroscopy's ``AEBE`` class, imported now.

    Raises
    ------
    AecroscopyImportError
        Naming the missing module and how to install aecroscopy.
    """
    try:
        module = importlib.import_module("aecroscopy.acquisition.AEBE")
    except ImportError as exc:
        missing = exc.name or "aecroscopy"
        raise AecroscopyImportError(
            f"aecroscopy: cannot import aecroscopy.acquisition.AEBE (module "
            f"'{missing}' is missing: {exc}). {INSTALL_HINT}"
        ) from exc
    return module.AEBE


def beps_spectra(
    vdc,
    quick_fit,
    quantity: str = "piezoresponse",
    field: str = "off",
    phase_offset: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Spectra over the DC bias from a BEPS quick fit.

    Parameters
    ----------
    vdc : array_like
        ``(V,)`` DC bias of every step of the waveform, in volts.
    quick_fit : array_like
        ``n x 4 x S`` quick fit: amplitude, resonance frequency (Hz), quality
        factor and phase (rad) at each of the ``S`` readings of ``n`` points.
        ``S = 2 V``: on-field readings at even steps, off-field at odd
        steps (each after the DC step of the same pair). ``S = V``: one
        reading per step (the software measured a single field, and
        ``field`` cannot choose).
    quantity : str
        One of :data:`QUANTITIES`: ``piezoresponse`` (amplitude x cos phase,
        the usual loop signal), ``quadrature`` (amplitude x sin phase),
        ``amplitude``, ``phase``, ``resonance``, ``q_factor``.
    field : {'off', 'on'}
        Which readings of each pair to keep.
    phase_offset : float
        Radians added to the phase before use (to keep the two polarisation
        states away from the +-pi wrap); the phase quantity is wrapped to
        ``(-pi, pi]``.

    Returns
    -------
    spectra : numpy.ndarray
        ``n x V`` float64.
    axis : numpy.ndarray
        ``(V,)`` float64 DC bias.

    Raises
    ------
    DataError
        When the arrays do not have the shapes above.
    """
    quantity, field = (
        _choice("quantity", quantity, QUANTITIES),
        _choice("field", field, FIELDS),
    )
    axis = np.asarray(vdc, dtype=np.float64).reshape(-1)
    fit = np.asarray(quick_fit, dtype=np.float64)
    if fit.ndim != 3 or fit.shape[1] < 4 or axis.size == 0:
        raise DataError(
            f"expected a quick fit of shape n x 4 x steps and a DC waveform; got "
            f"{fit.shape} and {axis.shape}"
        )
    steps = fit.shape[2]
    if steps == 2 * axis.size:
        fit = fit[:, :, (1 if field == "off" else 0) :: 2]
    elif steps != axis.size:
        raise DataError(
            f"the quick fit has {steps} readings per point but the DC waveform "
            f"{axis.size} steps; expected {axis.size} or {2 * axis.size}"
        )
    amplitude, phase = fit[:, 0], fit[:, 3] + phase_offset
    values = {
        "piezoresponse": lambda: amplitude * np.cos(phase),
        "quadrature": lambda: amplitude * np.sin(phase),
        "amplitude": lambda: amplitude,
        "phase": lambda: np.angle(np.exp(1j * phase)),
        "resonance": lambda: fit[:, 1],
        "q_factor": lambda: fit[:, 2],
    }[quantity]()
    return np.ascontiguousarray(values, dtype=np.float64), axis


def _choice(option: str, value, allowed) -> str:
    if value not in allowed:
        raise ParameterError(
            f"aecroscopy {option} must be one of {', '.join(allowed)}; got {value!r}"
        )
    return value


def _checked_parms(option: str, parms: dict | None, names) -> dict:
    """A copy of a parameter dict whose keys aecroscopy knows, values numbers."""
    parms = dict(parms or {})
    unknown = sorted(set(parms) - set(names))
    if unknown:
        raise ParameterError(
            f"aecroscopy {option}: unknown keys {unknown} (aecroscopy ignores "
            f"unknown keys silently); allowed: {', '.join(names)}"
        )
    for key, value in parms.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not np.isfinite(value)
        ):
            raise ParameterError(
                f"aecroscopy {option}[{key!r}] must be a finite number; got {value!r}"
            )
    return parms


def _describe(points: np.ndarray) -> str:
    """'point (row r, col c)' or 'points (...), (...)' for messages."""
    shown = ", ".join(f"(row {r}, col {c})" for r, c in points[:5])
    more = f" and {len(points) - 5} more" if len(points) > 5 else ""
    return f"point{'s' if len(points) > 1 else ''} {shown}{more}"


def _safe_tag(tag: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", str(tag))[:40]


class AecroscopyMicroscope(Microscope):
    """BEPS at chosen points with aecroscopy's ``AEBE`` class.

    Parameters
    ----------
    aebe : object, optional
        An already constructed ``aecroscopy.acquisition.AEBE.AEBE`` (set up
        and initialised by the caller), or an object with the same methods
        such as :class:`~.aecroscopy_double.AEBEDouble`; ``'double'`` builds
        that double (a dry run, from the command line too). When omitted, an
        AEBE is built from ``aebe_options`` and ``init_BEPyAE`` is called:
        this starts the BE software and works only on its Windows PC.
    grid_shape : (int, int), optional
        ``(ny, nx)`` of the spectral grid; needed for ``positions='grid'``.
    positions : {'grid', 'physical'}
        Place points from their grid indices (``grid_shape``), or from
        their physical ``(y, x)`` coordinates (``scan_size`` and ``origin``).
    scan_size, origin, orientation, window
        How the grid sits in the scan; see :class:`ScanFrame`.
        ``orientation`` names any of ``flip_rows``, ``flip_cols`` and
        ``transpose`` (a string separated by commas or ``+``, or a list).
    beps_parms : dict, optional
        ``beps_parms_dict`` of ``do_beps_specific`` (keys in
        ``BEPS_PARAMETERS``); omitted keys keep the values in the software.
    file_prefix : str
        Start of the HDF5 file names aecroscopy writes (a path may lead it);
        every call gets its own name.
    quantity, field, phase_offset
        Which spectra the model sees; see :func:`beps_spectra`.
    units : str
        Units of the quick-fit amplitude (aecroscopy does not say).
    points_per_call : int
        Points sent to one ``do_beps_specific`` call; docs/aecroscopy.md says
        why the default is 1.
    image_pixels, image_channel, raster_parms
        The raster scan of :meth:`acquire_image`: pixels per line (and
        lines), which image to return (one of ``IMAGE_CHANNELS``) and other
        ``raster_parms_dict`` keys (``tip_voltage``).
    be_parms, io_parms : dict, optional
        Sent once through ``define_be_parms`` and ``define_io_cluster``.
    aebe_options : dict, optional
        Keyword arguments of ``AEBE(...)`` (``exe_path``, ``backend``, ...),
        or of ``AEBEDouble(...)`` with ``aebe='double'``.
    offline_development : bool
        Passed to ``init_BEPyAE`` when the adapter builds the AEBE.
    """

    name = "aecroscopy"

    def __init__(
        self,
        aebe=None,
        *,
        grid_shape: tuple[int, int] | None = None,
        positions: str = "grid",
        scan_size: tuple[float, float] | None = None,
        origin: tuple[float, float] = (0.0, 0.0),
        orientation: str | tuple[str, ...] | list[str] = "",
        window: tuple[float, float, float, float] = (-1.0, -1.0, 1.0, 1.0),
        beps_parms: dict | None = None,
        file_prefix: str = "curiosity",
        quantity: str = "piezoresponse",
        field: str = "off",
        phase_offset: float = 0.0,
        units: str = "a.u.",
        points_per_call: int = 1,
        image_pixels: int = 256,
        image_channel: str = "amplitude",
        raster_parms: dict | None = None,
        be_parms: dict | None = None,
        io_parms: dict | None = None,
        aebe_options: dict | None = None,
        offline_development: bool = False,
    ) -> None:
        self.frame = ScanFrame(
            grid_shape=grid_shape,
            scan_size=scan_size,
            origin=origin,
            window=window,
            **ScanFrame.parse_orientation(orientation),
        )
        self.positions = _choice("positions", positions, ("grid", "physical"))
        needed = "grid_shape" if positions == "grid" else "scan_size"
        if getattr(self.frame, needed) is None:
            raise ParameterError(f"aecroscopy positions={positions!r} needs {needed}")
        self.quantity = _choice("quantity", quantity, QUANTITIES)
        self.field = _choice("field", field, FIELDS)
        self.image_channel = _choice("image_channel", image_channel, IMAGE_CHANNELS)
        for option, value in (
            ("points_per_call", points_per_call),
            ("image_pixels", image_pixels),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(
                    f"aecroscopy {option} must be a positive integer; got {value!r}"
                )
        if not isinstance(file_prefix, str) or not file_prefix.strip():
            raise ParameterError("aecroscopy file_prefix must be a non-empty string")
        self.beps_parms = _checked_parms("beps_parms", beps_parms, BEPS_PARAMETERS)
        self.raster_parms = _checked_parms(
            "raster_parms", raster_parms, RASTER_PARAMETERS
        )
        be_parms = _checked_parms("be_parms", be_parms, BE_PARAMETERS)
        io_parms = _checked_parms("io_parms", io_parms, IO_PARAMETERS)
        self.phase_offset = float(phase_offset)
        self.units = str(units)
        self.points_per_call = points_per_call
        self.image_pixels = image_pixels
        self.file_prefix = file_prefix
        self.file_names: list[str] = []
        self.measured = 0
        self._stamp = time.strftime("%Y%m%d-%H%M%S")
        self._axis: np.ndarray | None = None
        self._closed = False
        if aebe is None:
            aebe = self._connect(dict(aebe_options or {}), offline_development)
        elif isinstance(aebe, str):
            if aebe != "double":
                raise ParameterError(
                    f"aecroscopy aebe must be an AEBE-like object or 'double'; "
                    f"got {aebe!r}"
                )
            from pycroscopy_curiosity.microscope.aecroscopy_double import AEBEDouble

            try:
                aebe = AEBEDouble(**dict(aebe_options or {}))
            except TypeError as exc:
                raise ParameterError(f"aecroscopy double options: {exc}") from exc
        elif aebe_options:
            raise ParameterError("aecroscopy: give aebe or aebe_options, not both")
        self.aebe = aebe
        if io_parms:
            self._call(
                "define_io_cluster",
                "set-up",
                IO_cluster_parms_dict=io_parms,
                do_set_IO=True,
                feedbackon=False,
            )
        if be_parms:
            self._call(
                "define_be_parms",
                "set-up",
                be_parms_dict=be_parms,
                do_create_be_waveform=True,
                feedbackon=False,
            )

    @classmethod
    def for_data(cls, data, aebe=None, **options) -> AecroscopyMicroscope:
        """An adapter whose grid is that of an
        :class:`~pycroscopy_curiosity.data.exploration.ExplorationData`."""
        options.setdefault("grid_shape", tuple(int(n) for n in data.grid_shape))
        return cls(aebe, **options)

    def _connect(self, options: dict, offline_development: bool):
        aebe_class = load_aebe_class()
        if sys.platform != "win32":
            raise MicroscopeError(
                f"aecroscopy: AEBE starts the BE LabVIEW software, which runs only "
                f"on Windows (this is {sys.platform}). {INSTALL_HINT}"
            )
        try:
            importlib.import_module("win32com.client")
        except ImportError as exc:
            # Without it AEBE() would wait for the software for ever.
            raise AecroscopyImportError(
                f"aecroscopy: AEBE needs pywin32 (win32com): {exc}. {INSTALL_HINT}"
            ) from exc
        log.info("starting the BE software through aecroscopy: %s", options)
        try:
            aebe = aebe_class(**options)
            aebe.init_BEPyAE(offline_development=bool(offline_development))
        except Exception as exc:
            raise MicroscopeError(
                f"aecroscopy: could not start and initialise the BE software: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return aebe

    def _call(self, method: str, what: str, **kwargs):
        """Call an AEBE method; its errors become MicroscopeError naming
        ``what`` (the points, or the step). Its prints go to the debug log:
        standard output is redirected, process-wide, while it runs."""
        if self._closed:
            raise MicroscopeError(f"{self.name}: the backend is closed")
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                return getattr(self.aebe, method)(**kwargs)
        except Exception as exc:
            raise MicroscopeError(
                f"{self.name}: {method} failed for {what}: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            if out.getvalue().strip():
                log.debug("%s printed: %s", method, out.getvalue().strip())

    def _next_file_name(self, tag: str | None = None) -> str:
        name = f"{self.file_prefix}_{self._stamp}_{len(self.file_names):04d}"
        if tag:
            name = f"{name}_{_safe_tag(tag)}"
        self.file_names.append(name)
        return name

    def scan_positions(
        self, grid_index: np.ndarray, coordinates: np.ndarray | None = None
    ) -> np.ndarray:
        """``n x 2`` scan-frame ``(x, y)`` where points would be measured.

        Nothing is measured: use it to check the orientation at the
        instrument, e.g. with ``tip_control``.
        """
        index, coordinates = check_points(self.name, grid_index, coordinates)
        try:
            if self.positions == "grid":
                return self.frame.from_grid(index)
            if coordinates is None:
                raise DataError("positions='physical' needs the points' coordinates")
            return self.frame.from_physical(coordinates)
        except (DataError, ParameterError) as exc:
            raise MicroscopeError(f"{self.name}: {exc}") from exc

    def measure(
        self, grid_index: np.ndarray, coordinates: np.ndarray | None = None
    ) -> Measurement:
        """BEPS at the points, in order; spectra of :attr:`quantity`."""
        return self._measure(grid_index, coordinates, None)

    def measure_as(
        self,
        request_id: str,
        grid_index: np.ndarray,
        coordinates: np.ndarray | None = None,
    ) -> Measurement:
        """:meth:`measure`, with the request id in the files' names."""
        return self._measure(grid_index, coordinates, request_id)

    def _measure(self, grid_index, coordinates, tag) -> Measurement:
        start = time.perf_counter()
        index, _ = check_points(self.name, grid_index, coordinates)
        scan = self.scan_positions(index, coordinates)
        parts = []
        for first in range(0, len(index), self.points_per_call):
            chunk = slice(first, first + self.points_per_call)
            points, xy = index[chunk], scan[chunk]
            file_name = self._next_file_name(tag)
            log.info(
                "BEPS at %s, scan (x, y) %s, file %s",
                _describe(points),
                np.round(xy, 4).tolist(),
                file_name,
            )
            result = self._call(
                "do_beps_specific",
                _describe(points),
                beps_parms_dict=dict(self.beps_parms),
                file_name=file_name,
                coordinates=np.ascontiguousarray(xy.T),
                feedbackon=False,
                progress_on=False,
            )
            parts.append(self._spectra(result, points))
        self.measured += len(index)
        return Measurement(
            spectra=np.concatenate(parts),
            axis=self._axis.copy(),
            axis_name="dc_bias",
            axis_units="V",
            quantity=f"{QUANTITIES[self.quantity][0]}, {self.field}-field",
            units=QUANTITIES[self.quantity][1] or self.units,
            seconds=time.perf_counter() - start,
        )

    def _spectra(self, result, points: np.ndarray) -> np.ndarray:
        """Checked spectra of one ``do_beps_specific`` result."""
        where = _describe(points)
        if not isinstance(result, tuple | list) or len(result) != 4:
            raise MicroscopeError(
                f"{self.name}: do_beps_specific returned {type(result).__name__} "
                f"for {where}; expected (vdc, quick_fit, channels, complex_spectra)"
            )
        try:
            fit = np.asarray(result[1], dtype=np.float64)
            if fit.ndim != 3 or fit.shape[:2] != (len(points), 4):
                raise DataError(
                    f"expected a quick fit of shape {len(points)} x 4 x steps; got "
                    f"{fit.shape}"
                )
            spectra, axis = beps_spectra(
                result[0], fit, self.quantity, self.field, self.phase_offset
            )
        except (DataError, TypeError, ValueError) as exc:
            raise MicroscopeError(
                f"{self.name}: unusable BEPS data for {where}: {exc}"
            ) from exc
        if fit.shape[2] == axis.size and self._axis is None:
            log.warning(
                "aecroscopy returned one reading per DC step: the software "
                "measured a single field, field=%r does not choose",
                self.field,
            )
        bad = ~np.isfinite(spectra).all(axis=1)
        if bad.any() or not np.isfinite(axis).all():
            culprits = points[bad] if bad.any() else points
            raise MicroscopeError(
                f"{self.name}: non-finite BEPS data at {_describe(culprits)}"
            )
        if self._axis is None:
            self._axis = axis
        elif axis.shape != self._axis.shape or not np.allclose(axis, self._axis):
            raise MicroscopeError(
                f"{self.name}: the DC waveform changed at {where} ({axis.size} "
                f"steps, first run {self._axis.size}); keep the BEPS parameters "
                f"fixed during a run"
            )
        return spectra

    def acquire_image(self, channel: str | None = None):
        """The structure image from ``raster_scan``, in the grid's frame.

        Parameters
        ----------
        channel : str, optional
            One of ``IMAGE_CHANNELS``; default :attr:`image_channel`.

        Returns
        -------
        sidpy.Dataset
            ``H x W`` IMAGE, rows along ``y`` and columns along ``x`` as the
            grid is laid out (the orientation undone), dims in metres from
            ``scan_size`` or, without it, from the spans aecroscopy gives.
        """
        channel = _choice(
            "image_channel", channel or self.image_channel, IMAGE_CHANNELS
        )
        parms = dict(self.raster_parms)
        x0, y0, x1, y1 = self.frame.window
        parms.update(
            scan_pixel=self.image_pixels,
            scan_x_start=x0,
            scan_y_start=y0,
            scan_x_stop=x1,
            scan_y_stop=y1,
        )
        file_name = self._next_file_name("image")
        log.info("raster scan %s, file %s", parms, file_name)
        result = self._call(
            "raster_scan",
            "the raster scan",
            file_name=file_name,
            raster_parms_dict=parms,
            pixel_line_ratio=1,
            feedbackon=False,
            progress_on=False,
            ploton=False,
        )
        scan, spans = self._raster_plane(result, channel)
        return self._image_dataset(self.frame.to_data_frame(scan), spans, channel)

    def _raster_plane(self, result, channel: str):
        """The ``lines x pixels`` plane of a raster result, and the spans
        of its dims (or None)."""
        if not isinstance(result, tuple | list) or len(result) != 3:
            raise MicroscopeError(
                f"{self.name}: raster_scan returned {type(result).__name__}; "
                f"expected (images, channels, complex_spectra)"
            )
        source = result[1] if channel.startswith("channel") else result[0]
        stack = np.asarray(source, dtype=np.float64)
        if channel.startswith("channel"):
            ok = stack.ndim == 3 and stack.shape[0] >= 3
            plane = stack[int(channel[-1]) - 1] if ok else None
            lines_dim, pixels_dim = 1, 2
        else:
            ok = stack.ndim == 3 and stack.shape[2] >= 4
            if ok and channel == "piezoresponse":
                phase = stack[:, :, 3] + self.phase_offset
                plane = stack[:, :, 0] * np.cos(phase)
            elif ok:
                plane = stack[:, :, QUICK_FIT.index(channel)]
            lines_dim, pixels_dim = 0, 1
        if not ok:
            raise MicroscopeError(
                f"{self.name}: raster_scan gave {channel} data of shape "
                f"{stack.shape}; expected lines x pixels x 4 images or 3 x lines "
                f"x pixels channels"
            )
        if not np.isfinite(plane).any():
            raise MicroscopeError(f"{self.name}: the raster scan has no finite pixel")
        spans = None
        axes = getattr(source, "_axes", None)
        if isinstance(axes, dict):
            values = [np.asarray(axes[d].values) for d in (lines_dim, pixels_dim)]
            spans = tuple(float(abs(v[-1] - v[0])) for v in values)
        return plane, spans

    def _image_dataset(self, image: np.ndarray, spans, channel: str):
        import sidpy

        from pycroscopy_curiosity._version import __version__

        if self.frame.scan_size is not None:
            height, width = self.frame.scan_size
        elif spans is not None and min(spans) > 0:
            height, width = spans[::-1] if self.frame.transpose else spans
        else:
            raise MicroscopeError(
                f"{self.name}: the raster scan carries no physical size; give scan_size"
            )
        units = {"phase": "rad", "resonance": "Hz", "q_factor": ""}.get(
            channel, self.units
        )
        ds = sidpy.Dataset.from_array(
            image,
            title=f"aecroscopy {channel}",
            quantity=channel,
            units=units,
            modality="BE raster scan",
            source="aecroscopy raster_scan",
        )
        ds.data_type = "IMAGE"
        oy, ox = self.frame.origin
        for i, (name, start, span) in enumerate((("y", oy, height), ("x", ox, width))):
            values = start + np.linspace(0.0, span, image.shape[i])
            ds.set_dimension(i, sidpy.Dimension(values, name, name, "m", "SPATIAL"))
        ds.metadata = {
            "aecroscopy": {
                "file_name": self.file_names[-1],
                "channel": channel,
                "window": list(self.frame.window),
                "orientation": self.frame.orientation,
                "tip_voltage": self.raster_parms.get("tip_voltage"),
            }
        }
        ds.add_provenance(
            "pycroscopy_curiosity",
            "AecroscopyMicroscope.acquire_image",
            version=__version__,
        )
        return ds

    def capabilities(self) -> dict:
        """What the backend measures and how it places points, as plain values."""
        grid = self.frame.grid_shape
        return {
            "name": self.name,
            "image": True,
            "grid": list(grid) if grid is not None else None,
            "positions": self.positions,
            "quantity": self.quantity,
            "field": self.field,
            "orientation": self.frame.orientation,
            "window": list(self.frame.window),
            "points_per_call": self.points_per_call,
            "n_spec": None if self._axis is None else int(self._axis.size),
        }

    def close(self) -> None:
        """Stop using the instrument; aecroscopy's AEBE has nothing to close,
        so the BE software keeps running."""
        if not self._closed:
            log.info("aecroscopy backend closed after %d points", self.measured)
        self._closed = True
