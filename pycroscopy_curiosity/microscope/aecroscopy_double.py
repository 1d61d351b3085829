"""A stand-in for aecroscopy's AEBE class, for tests and dry runs.

:class:`AEBEDouble` has the methods of ``aecroscopy.acquisition.AEBE.AEBE``
(version 0.0.2) that :class:`~.aecroscopy.AecroscopyMicroscope` calls, with
the same signatures and return shapes, but computes synthetic data from a
pattern over the scan frame instead of driving an instrument. It records
every call, writes no file and needs neither Windows nor aecroscopy::

    from pycroscopy_curiosity.microscope.aecroscopy import AecroscopyMicroscope
    from pycroscopy_curiosity.microscope.aecroscopy_double import AEBEDouble

    scope = AecroscopyMicroscope(AEBEDouble(), grid_shape=(20, 20))
    image = scope.acquire_image()  # the test pattern, as the grid is laid out
    loops = scope.measure([[0, 0], [19, 5]])
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["AEBEDouble", "test_pattern"]


def test_pattern(x, y) -> np.ndarray:
    """Oblique stripes with a bright square where the scan starts.

    Values lie in ``[0, 1]``; the square covers ``x < -0.5`` and
    ``y < -0.5`` (the first pixels of the first lines), so any flip or
    transposition of an image shows.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    stripes = 0.35 + 0.25 * np.sin(3.0 * np.pi * (x + 0.5 * y))
    return np.clip(stripes + 0.4 * ((x < -0.5) & (y < -0.5)), 0.0, 1.0)


test_pattern.__test__ = False  # a pattern, not a pytest test


class AEBEDouble:
    """The AEBE methods the adapter uses, on synthetic data.

    At scan position ``(x, y)`` the pattern value ``p`` sets the coercive
    bias (``(0.3 + 0.4 p)`` times the waveform amplitude) and the response
    (``0.5 + p``) of a smooth hysteresis loop. Off-field readings are the
    loop; on-field readings add ``0.05`` per volt. The amplitude is the
    absolute value, the phase ``0`` or ``pi`` by its sign. Resonance is
    ``350 kHz + 5 kHz p``, the quality factor ``100 + 50 p``.

    Parameters
    ----------
    pattern : callable, optional
        ``pattern(x, y)`` over the scan frame, values in ``[0, 1]``;
        :func:`test_pattern` by default.
    steps_per_cycle, num_cycles : int
        The DC waveform: cycles of a triangle 0, +A, 0, -A, 0.
    amplitude_V : float
        ``A``, the waveform amplitude.
    both_fields : bool
        Two readings per DC step (on-field then off-field, as the BE
        software interleaves them when it measures both) or one.
    noise : float
        Standard deviation of Gaussian noise on the amplitudes.
    seed : int
        Seeds the noise.
    frequencies : int
        Frequency bins of the complex spectra.
    scan_size : float
        Metres across the full scan, for the dims of returned Datasets.

    Attributes
    ----------
    calls : list of (str, dict)
        Every method called, with its arguments, in order.
    beps_parms : dict
        The BEPS parameters in force (aecroscopy's names).
    """

    def __init__(
        self,
        pattern: Callable | None = None,
        *,
        steps_per_cycle: int = 16,
        num_cycles: int = 1,
        amplitude_V: float = 8.0,
        both_fields: bool = True,
        noise: float = 0.0,
        seed: int = 0,
        frequencies: int = 8,
        scan_size: float = 10e-6,
    ) -> None:
        self.pattern = pattern or test_pattern
        self.both_fields = bool(both_fields)
        self.noise = float(noise)
        self.rng = np.random.default_rng(seed)
        self.frequencies = int(frequencies)
        self.scan_size = float(scan_size)
        self.calls: list[tuple[str, dict]] = []
        self.beps_parms = {
            "amplitude_V_00": float(amplitude_V),
            "offset_V_01": 0.0,
            "step_per_cycle_03": int(steps_per_cycle),
            "num_cycles_04": int(num_cycles),
        }
        self.tip = (0.0, 0.0)

    def _record(self, method: str, **kwargs) -> None:
        self.calls.append((method, copy.deepcopy(kwargs)))

    def init_BEPyAE(
        self, offline_development=False, tools_access=(False, False, True, True)
    ):
        """Records the call (the real one connects to the AFM controller)."""
        self._record(
            "init_BEPyAE",
            offline_development=offline_development,
            tools_access=tools_access,
        )

    def define_io_cluster(
        self, IO_cluster_parms_dict=None, do_set_IO=True, feedbackon=True
    ):
        """Records the IO settings; returns them when ``feedbackon``."""
        self._record(
            "define_io_cluster",
            IO_cluster_parms_dict=IO_cluster_parms_dict,
            do_set_IO=do_set_IO,
            feedbackon=feedbackon,
        )
        return dict(IO_cluster_parms_dict or {}) if feedbackon else None

    def define_be_parms(
        self, be_parms_dict=None, do_create_be_waveform=True, feedbackon=True
    ):
        """Records the BE pulse settings."""
        self._record(
            "define_be_parms",
            be_parms_dict=be_parms_dict,
            do_create_be_waveform=do_create_be_waveform,
            feedbackon=feedbackon,
        )

    def tip_control(
        self,
        tip_parms_dict=None,
        do_move_tip=True,
        do_set_setpoint=True,
        feedbackon=True,
    ):
        """Moves the simulated tip to ``next_x_pos_00``, ``next_y_pos_01``."""
        self._record(
            "tip_control",
            tip_parms_dict=tip_parms_dict,
            do_move_tip=do_move_tip,
            do_set_setpoint=do_set_setpoint,
            feedbackon=feedbackon,
        )
        parms = tip_parms_dict or {}
        if do_move_tip:
            self.tip = (
                float(parms.get("next_x_pos_00", self.tip[0])),
                float(parms.get("next_y_pos_01", self.tip[1])),
            )

    def define_BEPS_parameters(
        self,
        beps_parms_dict=None,
        do_create_waveform=False,
        do_upload_waveform=False,
        do_VS_waveform=False,
        feedbackon=True,
    ):
        """Takes BEPS settings; with ``do_VS_waveform`` measures at the tip
        and returns ``(vdc, complex spectrogram, [amp, res, Q, phase],
        [ch1, ch2, ch3])`` as aecroscopy does."""
        self._record(
            "define_BEPS_parameters",
            beps_parms_dict=beps_parms_dict,
            do_create_waveform=do_create_waveform,
            do_upload_waveform=do_upload_waveform,
            do_VS_waveform=do_VS_waveform,
            feedbackon=feedbackon,
        )
        self.beps_parms.update(beps_parms_dict or {})
        if not do_VS_waveform:
            return None
        fit, channels, spectra = self._point(*self.tip)
        return self.dc_waveform(), spectra, list(fit), list(channels)

    def dc_waveform(self) -> np.ndarray:
        """``(V,)`` DC bias of each step: cycles of 0, +A, 0, -A, 0."""
        steps = int(self.beps_parms["step_per_cycle_03"])
        cycles = int(self.beps_parms["num_cycles_04"])
        phase = (np.arange(steps * cycles) / steps) % 1.0
        triangle = np.where(
            phase < 0.25,
            4 * phase,
            np.where(phase < 0.75, 2 - 4 * phase, 4 * phase - 4),
        )
        amplitude = float(self.beps_parms["amplitude_V_00"])
        return float(self.beps_parms.get("offset_V_01", 0.0)) + amplitude * triangle

    def _point(self, x: float, y: float):
        """Quick fit ``4 x S``, channels ``3 x S``, spectra ``S x F`` at a point."""
        p = float(np.asarray(self.pattern(x, y)))
        vdc = self.dc_waveform()
        amplitude = float(self.beps_parms["amplitude_V_00"])
        coercive, width = (0.3 + 0.4 * p) * amplitude, 0.15 * amplitude
        rising = np.gradient(vdc) >= 0 if len(vdc) > 1 else np.ones(1, bool)
        loop = np.where(
            rising, np.tanh((vdc - coercive) / width), np.tanh((vdc + coercive) / width)
        )
        off = (0.5 + p) * loop
        readings = [off]
        if self.both_fields:
            on = off + 0.05 * vdc
            readings = [np.stack([on, off], axis=1).reshape(-1)]
        response = readings[0]
        amp = np.abs(response)
        if self.noise:
            amp = amp + self.rng.normal(0.0, self.noise, amp.shape)
        phase = np.where(response >= 0, 0.0, np.pi)
        n = len(response)
        fit = np.stack(
            [amp, np.full(n, 350e3 + 5e3 * p), np.full(n, 100 + 50 * p), phase]
        )
        channels = np.stack([np.full(n, p), np.zeros(n), np.zeros(n)])
        bins = np.linspace(-1.0, 1.0, self.frequencies)
        lorentz = 1.0 / (1.0 + 1j * 4 * bins)
        spectra = (response[:, None] * lorentz[None, :]).astype(np.complex128)
        return fit, channels, spectra

    def do_beps_specific(
        self,
        beps_parms_dict=None,
        file_name="BEPS_spec",
        coordinates=None,
        feedbackon=False,
        progress_on=True,
    ):
        """BEPS at ``coordinates = (xs, ys)`` in the scan frame.

        Returns
        -------
        vdc : numpy.ndarray
            ``(V,)`` DC waveform.
        quick_fit : sidpy.Dataset
            ``n x 4 x S``: amplitude, resonance, Q, phase per reading
            (``S = 2 V`` with both fields, else ``V``).
        channels : sidpy.Dataset
            ``n x 3 x S`` auxiliary channels.
        complex_spectra : sidpy.Dataset
            ``n x S x F`` complex BE responses.
        """
        self._record(
            "do_beps_specific",
            beps_parms_dict=beps_parms_dict,
            file_name=file_name,
            coordinates=None if coordinates is None else np.array(coordinates),
            feedbackon=feedbackon,
            progress_on=progress_on,
        )
        if coordinates is None:
            raise TypeError("do_beps_specific needs coordinates (xs, ys)")
        xs = np.asarray(coordinates[0], dtype=np.float64).reshape(-1)
        ys = np.asarray(coordinates[1], dtype=np.float64).reshape(-1)
        if len(xs) != len(ys) or np.any(np.abs(np.concatenate([xs, ys])) > 1):
            raise ValueError("coordinates must be (xs, ys) of equal length in [-1, 1]")
        self.beps_parms.update(beps_parms_dict or {})
        points = [self._point(x, y) for x, y in zip(xs, ys, strict=True)]
        self.tip = (float(xs[-1]), float(ys[-1]))
        fit = np.stack([p[0] for p in points])
        channels = np.stack([p[1] for p in points])
        spectra = np.stack([p[2] for p in points])
        vdc = self.dc_waveform()
        return (
            vdc,
            _dataset(fit, "be stack", ("y axis", "x axis", "BE responses")),
            _dataset(channels, "channel stack", ("Channels", "y axis", "x axis")),
            _dataset(spectra, "complex_spectra", ("points", "step", "Frequency")),
        )

    def raster_scan(
        self,
        file_name="BEPFM",
        raster_parms_dict=None,
        pixel_line_ratio=1,
        feedbackon=False,
        progress_on=True,
        ploton=True,
    ):
        """A BE raster scan of the pattern.

        Lines run at ``y`` from ``scan_y_start`` to ``scan_y_stop``, pixels
        along ``x`` from ``scan_x_start`` to ``scan_x_stop``.

        Returns
        -------
        images : sidpy.Dataset
            ``lines x pixels x 4``: amplitude (the pattern), resonance, Q,
            phase (``0``, or ``pi`` where the pattern is above 0.5).
        channels : sidpy.Dataset
            ``3 x lines x pixels``; the first is the pattern too.
        complex_spectra : sidpy.Dataset
            ``lines x pixels x F``.
        """
        self._record(
            "raster_scan",
            file_name=file_name,
            raster_parms_dict=raster_parms_dict,
            pixel_line_ratio=pixel_line_ratio,
            feedbackon=feedbackon,
            progress_on=progress_on,
            ploton=ploton,
        )
        parms = {"tip_voltage": 0.0, "scan_pixel": 64, "scan_x_start": -1.0}
        parms.update(scan_y_start=-1.0, scan_x_stop=1.0, scan_y_stop=1.0)
        parms.update(raster_parms_dict or {})
        pixels = int(parms["scan_pixel"])
        lines = int(pixels * pixel_line_ratio)
        y = np.linspace(parms["scan_y_start"], parms["scan_y_stop"], lines)
        x = np.linspace(parms["scan_x_start"], parms["scan_x_stop"], pixels)
        p = np.asarray(self.pattern(x[None, :], y[:, None]), dtype=np.float64)
        p = np.broadcast_to(p, (lines, pixels))
        phase = np.where(p > 0.5, np.pi, 0.0)
        images = np.stack([p, 350e3 + 5e3 * p, 100 + 50 * p, phase], axis=-1)
        channels = np.stack([p, np.zeros_like(p), np.zeros_like(p)])
        spectra = p[..., None] * np.ones(self.frequencies, dtype=np.complex128)
        spans = [
            self.scan_size * abs(parms[f"scan_{a}_stop"] - parms[f"scan_{a}_start"]) / 2
            for a in ("y", "x")
        ]
        return (
            _dataset(images, "be stack", ("y axis", "x axis", "BE responses"), spans),
            _dataset(
                channels, "channel stack", ("Channels", "y axis", "x axis"), [0, *spans]
            ),
            _dataset(
                spectra, "complex_spectra", ("y axis", "x axis", "Frequency"), spans
            ),
        )


def _dataset(values: np.ndarray, title: str, names, spans=None):
    """A sidpy Dataset with aecroscopy's dim names; spatial dims span
    ``spans`` metres (by position), others count."""
    import sidpy

    ds = sidpy.Dataset.from_array(values, title=title)
    for i, name in enumerate(names):
        n = values.shape[i]
        span = spans[i] if spans is not None and i < len(spans) else 0
        dim_values = np.linspace(0.0, span, n) if span else np.arange(n)
        kind = "spatial" if span else "channel"
        ds.set_dimension(
            i,
            sidpy.Dimension(dim_values, name=name, quantity=name, dimension_type=kind),
        )
    return ds
