import itertools
import logging
import sys
import types

import numpy as np
import pytest

from pycroscopy_curiosity.errors import DataError, ParameterError
from pycroscopy_curiosity.microscope.aecroscopy import (
    ORIENTATIONS,
    AecroscopyImportError,
    AecroscopyMicroscope,
    ScanFrame,
    beps_spectra,
    load_aebe_class,
)
from pycroscopy_curiosity.microscope.aecroscopy_double import AEBEDouble, test_pattern
from pycroscopy_curiosity.microscope.base import Microscope, MicroscopeError

ALL_ORIENTATIONS = [
    dict(zip(ORIENTATIONS, flags, strict=True))
    for flags in itertools.product([False, True], repeat=3)
]


def orientation_id(flags):
    return "+".join(n for n in ORIENTATIONS if flags[n]) or "none"


# --- scan frame -------------------------------------------------------------


def test_grid_corners_and_centre_map_onto_the_scan():
    frame = ScanFrame(grid_shape=(5, 9))
    scan = frame.from_grid([[0, 0], [4, 8], [0, 8], [4, 0], [2, 4]])
    np.testing.assert_allclose(
        scan, [[-1, -1], [1, 1], [1, -1], [-1, 1], [0, 0]], atol=1e-15
    )
    # Evenly between the edges, as raster_scan lays out its lines.
    np.testing.assert_allclose(frame.from_grid([[1, 3]]), [[-1 + 6 / 8, -0.5]])


# (x, y) of grid (0, 0), (0, last col) and (last row, 0) for each orientation.
CORNERS = {
    "none": [[-1, -1], [1, -1], [-1, 1]],
    "flip_rows": [[-1, 1], [1, 1], [-1, -1]],
    "flip_cols": [[1, -1], [-1, -1], [1, 1]],
    "flip_rows+flip_cols": [[1, 1], [-1, 1], [1, -1]],
    "transpose": [[-1, -1], [-1, 1], [1, -1]],
    "flip_rows+transpose": [[1, -1], [1, 1], [-1, -1]],
    "flip_cols+transpose": [[-1, 1], [-1, -1], [1, 1]],
    "flip_rows+flip_cols+transpose": [[1, 1], [1, -1], [-1, 1]],
}


@pytest.mark.parametrize("name", sorted(CORNERS))
def test_orientation_options_move_the_corners(name):
    frame = ScanFrame(grid_shape=(4, 6), **ScanFrame.parse_orientation(name))
    assert frame.orientation == name
    np.testing.assert_allclose(
        frame.from_grid([[0, 0], [0, 5], [3, 0]]), CORNERS[name], atol=1e-15
    )


def test_orientation_names_parse_from_strings_and_lists():
    assert ScanFrame.parse_orientation("flip_rows, transpose") == {
        "flip_rows": True,
        "flip_cols": False,
        "transpose": True,
    }
    assert ScanFrame.parse_orientation(["flip_cols"])["flip_cols"]
    assert not any(ScanFrame.parse_orientation("none").values())
    assert not any(ScanFrame.parse_orientation("").values())
    with pytest.raises(ParameterError, match=r"unknown \['rotate'\]"):
        ScanFrame.parse_orientation("flip_rows+rotate")


@pytest.mark.parametrize("flags", ALL_ORIENTATIONS, ids=orientation_id)
def test_grid_and_physical_round_trips(flags):
    frame = ScanFrame(
        grid_shape=(7, 11),
        scan_size=(3e-6, 5e-6),
        origin=(1e-6, -2e-6),
        window=(-0.5, -1.0, 0.75, 0.25),
        **flags,
    )
    index = np.array(list(itertools.product(range(7), range(11))))
    scan = frame.from_grid(index)
    assert scan[:, 0].min() == pytest.approx(-0.5)
    assert scan[:, 0].max() == pytest.approx(0.75)
    assert scan[:, 1].min() == pytest.approx(-1.0)
    assert scan[:, 1].max() == pytest.approx(0.25)
    np.testing.assert_allclose(frame.to_grid(scan), index, atol=1e-9)
    physical = frame.to_physical(scan)
    np.testing.assert_allclose(
        physical[:, 0], 1e-6 + index[:, 0] * 3e-6 / 6, rtol=0, atol=1e-18
    )
    np.testing.assert_allclose(
        physical[:, 1], -2e-6 + index[:, 1] * 5e-6 / 10, rtol=0, atol=1e-18
    )
    np.testing.assert_allclose(frame.from_physical(physical), scan, atol=1e-12)


def test_physical_corners_and_centre():
    frame = ScanFrame(scan_size=(4e-6, 8e-6), origin=(1e-6, 2e-6))
    scan = frame.from_physical([[1e-6, 2e-6], [5e-6, 10e-6], [3e-6, 6e-6]])
    np.testing.assert_allclose(scan, [[-1, -1], [1, 1], [0, 0]], atol=1e-12)
    # One pair alone is one point.
    np.testing.assert_allclose(frame.from_physical([5e-6, 2e-6]), [[-1, 1]])


def test_single_row_grid_sits_in_the_middle_of_the_window():
    frame = ScanFrame(grid_shape=(1, 3), window=(-1, -0.5, 1, 0.5))
    np.testing.assert_allclose(frame.from_grid([[0, 0], [0, 2]]), [[-1, 0], [1, 0]])
    np.testing.assert_allclose(frame.to_grid([[1, 0.3]]), [[0, 2]])


@pytest.mark.parametrize("flags", ALL_ORIENTATIONS, ids=orientation_id)
def test_raster_image_is_laid_out_as_the_grid(flags):
    lines, pixels = 3, 5
    scan_image = 10 * np.arange(lines)[:, None] + np.arange(pixels)[None, :]
    shape = (pixels, lines) if flags["transpose"] else (lines, pixels)
    frame = ScanFrame(grid_shape=shape, **flags)
    image = frame.to_data_frame(scan_image)
    assert image.shape == shape
    for r, c in itertools.product(range(shape[0]), range(shape[1])):
        x, y = frame.from_grid([[r, c]])[0]
        line, pixel = (
            round((y + 1) / 2 * (lines - 1)),
            round((x + 1) / 2 * (pixels - 1)),
        )
        assert image[r, c] == scan_image[line, pixel]


@pytest.mark.parametrize(
    "points, error",
    [
        ([[5, 0]], r"grid point \(row 5, col 0\) is outside the 5 x 9 grid"),
        ([[0, -1]], r"grid point \(row 0, col -1\) is outside"),
        ([[0.5, 1]], "grid indices must be integers"),
        ([1, 2, 3], r"grid indices must be a non-empty n x 2 array; got \(3,\)"),
        ([[np.nan, 1]], "grid indices must be finite"),
    ],
)
def test_bad_grid_points_are_refused(points, error):
    with pytest.raises(DataError, match=error):
        ScanFrame(grid_shape=(5, 9)).from_grid(points)


def test_bad_positions_and_options_are_refused():
    frame = ScanFrame(grid_shape=(5, 5), scan_size=(1.0, 1.0))
    with pytest.raises(DataError, match=r"position \(y 1.5, x 0\) lies outside"):
        frame.from_physical([[0.0, 0.0], [1.5, 0.0]])
    with pytest.raises(DataError, match=r"\(x 1.2, y 0\) lies outside the window"):
        frame.to_grid([[1.2, 0.0]])
    with pytest.raises(ParameterError, match="needs grid_shape"):
        ScanFrame().from_grid([[0, 0]])
    with pytest.raises(ParameterError, match="needs scan_size"):
        ScanFrame().to_physical([[0, 0]])
    for window in [(-1, -1, 1.5, 1), (0.5, -1, 0.5, 1), (1, -1, -1, 1), (0, 0, 1)]:
        with pytest.raises(ParameterError, match="window must be"):
            ScanFrame(window=window)
    with pytest.raises(ParameterError, match="scan_size must be two positive"):
        ScanFrame(scan_size=(0.0, 1.0))
    with pytest.raises(ParameterError, match="grid_shape must be two positive"):
        ScanFrame(grid_shape=(0, 4))
    with pytest.raises(ParameterError, match="origin must be two numbers"):
        ScanFrame(origin=(1.0,))


# --- quick fit to spectra ----------------------------------------------------


def quick_fit_by_hand():
    """2 points, 3 DC steps, on- and off-field readings interleaved."""
    vdc = np.array([0.0, 4.0, -4.0])
    amp = np.array([[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1]], dtype=float)
    phase = np.array([[0, np.pi, 0, np.pi, np.pi / 2, 0], [np.pi] * 6])
    res = np.full((2, 6), 3.5e5) + np.arange(6)
    q = np.full((2, 6), 90.0) + np.arange(6)
    return vdc, np.stack([amp, res, q, phase], axis=1)


def test_piezoresponse_is_off_field_amplitude_times_cos_phase():
    vdc, fit = quick_fit_by_hand()
    spectra, axis = beps_spectra(vdc, fit)
    np.testing.assert_array_equal(axis, vdc)
    np.testing.assert_allclose(spectra, [[-2, -4, 6], [-5, -3, -1]], atol=1e-12)
    on, _ = beps_spectra(vdc, fit, field="on")
    np.testing.assert_allclose(on, [[1, 3, 0], [-6, -4, -2]], atol=1e-12)


@pytest.mark.parametrize(
    "quantity, expected",
    [
        ("amplitude", [[2, 4, 6], [5, 3, 1]]),
        ("phase", [[np.pi, np.pi, 0], [np.pi] * 3]),
        ("quadrature", [[0, 0, 0], [0, 0, 0]]),
        ("resonance", [[3.5e5 + 1, 3.5e5 + 3, 3.5e5 + 5]] * 2),
        ("q_factor", [[91, 93, 95]] * 2),
    ],
)
def test_other_quantities(quantity, expected):
    vdc, fit = quick_fit_by_hand()
    spectra, _ = beps_spectra(vdc, fit, quantity=quantity)
    assert spectra.dtype == np.float64 and spectra.shape == (2, 3)
    np.testing.assert_allclose(spectra, expected, atol=1e-9)


def test_phase_offset_shifts_and_wraps_the_phase():
    vdc, fit = quick_fit_by_hand()
    phase, _ = beps_spectra(vdc, fit, quantity="phase", phase_offset=np.pi / 2)
    np.testing.assert_allclose(phase[0], [-np.pi / 2, -np.pi / 2, np.pi / 2])
    response, _ = beps_spectra(vdc, fit, phase_offset=np.pi / 2)
    np.testing.assert_allclose(response[0], [0, 0, 0], atol=1e-12)
    quad, _ = beps_spectra(vdc, fit, quantity="quadrature", phase_offset=np.pi / 2)
    np.testing.assert_allclose(quad[0], [-2, -4, 6], atol=1e-12)


def test_one_reading_per_step_is_taken_as_it_is():
    vdc, fit = quick_fit_by_hand()
    single = fit[:, :, :3]
    spectra, axis = beps_spectra(vdc, single, quantity="amplitude", field="on")
    np.testing.assert_array_equal(spectra, [[1, 2, 3], [6, 5, 4]])


def test_quick_fit_shapes_and_choices_are_checked():
    vdc, fit = quick_fit_by_hand()
    with pytest.raises(DataError, match="5 readings per point but the DC waveform 3"):
        beps_spectra(vdc, fit[:, :, :5])
    with pytest.raises(DataError, match=r"n x 4 x steps.*got \(2, 3, 6\)"):
        beps_spectra(vdc, fit[:, :3])
    with pytest.raises(ParameterError, match="quantity must be one of"):
        beps_spectra(vdc, fit, quantity="polarization")
    with pytest.raises(ParameterError, match=r"field must be one of off, on; got 'in'"):
        beps_spectra(vdc, fit, field="in")


# --- the adapter against the double --------------------------------------------


BEPS = {"amplitude_V_00": 6, "step_per_cycle_03": 12, "num_cycles_04": 1}


def expected_off_field(double, x, y):
    """What the adapter should give at scan (x, y), straight from the double."""
    fit, _, _ = double._point(x, y)
    return fit[0, 1::2] * np.cos(fit[3, 1::2])


def test_call_sequence_parameters_coordinates_and_file_names():
    double = AEBEDouble()
    scope = AecroscopyMicroscope(
        double,
        grid_shape=(5, 9),
        beps_parms=BEPS,
        be_parms={"center_frequency_Hz_00": 350, "band_width_Hz_01": 100},
        io_parms={"channel_01_type_07": 1},
        file_prefix="run/beps",
        points_per_call=2,
        image_pixels=16,
        raster_parms={"tip_voltage": 0.5},
    )
    assert isinstance(scope, Microscope) and scope.name == "aecroscopy"
    points = np.array([[0, 0], [4, 8], [2, 4]])
    m = scope.measure(points)
    scope.measure_as("req 7/a", np.array([[1, 1]]))
    scope.acquire_image()
    names = [name for name, _ in double.calls]
    assert names == [
        "define_io_cluster",
        "define_be_parms",
        "do_beps_specific",
        "do_beps_specific",
        "do_beps_specific",
        "raster_scan",
    ]
    io, be = double.calls[0][1], double.calls[1][1]
    assert io["IO_cluster_parms_dict"] == {"channel_01_type_07": 1}
    assert io["do_set_IO"] is True and io["feedbackon"] is False
    assert be["be_parms_dict"] == {
        "center_frequency_Hz_00": 350,
        "band_width_Hz_01": 100,
    }
    beps_calls = [kwargs for name, kwargs in double.calls if name == "do_beps_specific"]
    for kwargs in beps_calls:
        assert kwargs["beps_parms_dict"] == BEPS
        assert kwargs["feedbackon"] is False and kwargs["progress_on"] is False
        assert kwargs["coordinates"].shape[0] == 2  # (xs, ys)
        assert np.abs(kwargs["coordinates"]).max() <= 1
    np.testing.assert_allclose(beps_calls[0]["coordinates"], [[-1, 1], [-1, 1]])
    np.testing.assert_allclose(beps_calls[1]["coordinates"], [[0], [0]])
    np.testing.assert_allclose(beps_calls[2]["coordinates"], [[-0.75], [-0.5]])
    files = [kwargs["file_name"] for kwargs in beps_calls]
    image_file = double.calls[-1][1]["file_name"]
    assert len(set(files + [image_file])) == 4
    assert all(f.startswith("run/beps_") for f in files + [image_file])
    assert files[2].endswith("_req-7-a") and image_file.endswith("_image")
    assert scope.file_names == files + [image_file]
    raster = double.calls[-1][1]
    assert raster["raster_parms_dict"] == {
        "tip_voltage": 0.5,
        "scan_pixel": 16,
        "scan_x_start": -1.0,
        "scan_y_start": -1.0,
        "scan_x_stop": 1.0,
        "scan_y_stop": 1.0,
    }
    assert raster["ploton"] is False and raster["progress_on"] is False
    # The spectra are the double's off-field loops at those scan positions.
    assert m.spectra.shape == (3, 12) and m.spectra.dtype == np.float64
    for row, (x, y) in zip(m.spectra, [(-1, -1), (1, 1), (0, 0)], strict=True):
        np.testing.assert_allclose(row, expected_off_field(double, x, y))
    np.testing.assert_allclose(m.axis, double.dc_waveform())
    assert m.axis.max() == 6 and m.axis.min() == -6
    assert (m.axis_name, m.axis_units, m.units) == ("dc_bias", "V", "a.u.")
    assert m.quantity == "piezoresponse (amplitude x cos phase), off-field"
    assert m.seconds > 0 and scope.measured == 4
    caps = scope.capabilities()
    assert caps["grid"] == [5, 9] and caps["n_spec"] == 12 and caps["image"]


def test_on_field_amplitude_and_phase_spectra():
    double = AEBEDouble()
    on = AecroscopyMicroscope(double, grid_shape=(3, 3), field="on")
    fit, _, _ = double._point(1.0, -1.0)
    np.testing.assert_allclose(
        on.measure([[0, 2]]).spectra[0], fit[0, 0::2] * np.cos(fit[3, 0::2])
    )
    phase = AecroscopyMicroscope(double, grid_shape=(3, 3), quantity="phase")
    m = phase.measure([[0, 2]])
    assert m.units == "rad" and m.quantity == "BE phase, off-field"
    np.testing.assert_allclose(m.spectra[0], fit[3, 1::2])


def test_physical_positions_use_scan_size_and_origin():
    double = AEBEDouble()
    scope = AecroscopyMicroscope(
        double,
        positions="physical",
        scan_size=(2e-6, 4e-6),
        origin=(1e-6, 0.0),
        orientation="flip_rows",
    )
    scope.measure([[0, 0], [0, 0]], coordinates=[[1e-6, 0.0], [2e-6, 3e-6]])
    np.testing.assert_allclose(
        double.calls[-1][1]["coordinates"], [[0.5], [0.0]], atol=1e-12
    )
    np.testing.assert_allclose(double.calls[-2][1]["coordinates"], [[-1], [1]])
    with pytest.raises(MicroscopeError, match="needs the points' coordinates"):
        scope.measure([[0, 0]])


def test_single_field_data_is_used_with_a_warning(caplog):
    double = AEBEDouble(both_fields=False, steps_per_cycle=8)
    scope = AecroscopyMicroscope(double, grid_shape=(2, 2), quantity="amplitude")
    with caplog.at_level(logging.WARNING, "pycroscopy_curiosity.microscope.aecroscopy"):
        m = scope.measure([[1, 1]])
        scope.measure([[0, 1]])
    assert m.spectra.shape == (1, 8)
    np.testing.assert_allclose(m.spectra[0], double._point(1.0, 1.0)[0][0])
    warnings = [r for r in caplog.records if "single field" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.parametrize("flags", ALL_ORIENTATIONS, ids=orientation_id)
def test_image_pixels_show_what_measure_would_reach(flags):
    double = AEBEDouble()
    scope = AecroscopyMicroscope(
        double,
        grid_shape=(12, 12),
        image_pixels=12,
        orientation=[n for n in flags if flags[n]],
    )
    image = scope.acquire_image()
    values = np.asarray(image)
    rng = np.random.default_rng(0)
    points = rng.integers(0, 12, size=(10, 2))
    x, y = scope.scan_positions(points).T
    np.testing.assert_allclose(values[points[:, 0], points[:, 1]], test_pattern(x, y))


def test_image_dataset_has_physical_dims():
    double = AEBEDouble(scan_size=10e-6)
    scope = AecroscopyMicroscope(
        double,
        grid_shape=(8, 8),
        image_pixels=8,
        window=(-1.0, -0.5, 1.0, 0.5),
        image_channel="phase",
    )
    image = scope.acquire_image()
    assert image.shape == (8, 8) and image.data_type.name == "IMAGE"
    assert image.units == "rad" and image.quantity == "phase"
    y, x = image._axes[0], image._axes[1]
    assert (y.name, x.name, y.units, x.units) == ("y", "x", "m", "m")
    assert y.dimension_type.name == "SPATIAL"
    # No scan_size: the spans aecroscopy gives (5 um of lines, 10 um along them).
    assert y.values[-1] == pytest.approx(5e-6) and x.values[-1] == pytest.approx(10e-6)
    turned = AecroscopyMicroscope(
        double, grid_shape=(8, 8), image_pixels=8, window=(-1.0, -0.5, 1.0, 0.5),
        orientation="transpose",
    )  # fmt: skip
    t = turned.acquire_image()
    assert t._axes[0].values[-1] == pytest.approx(10e-6)
    assert t._axes[1].values[-1] == pytest.approx(5e-6)
    sized = AecroscopyMicroscope(
        double, grid_shape=(8, 8), image_pixels=8, scan_size=(3e-6, 4e-6),
        origin=(1e-6, 2e-6), image_channel="amplitude",
    )  # fmt: skip
    s = sized.acquire_image(channel="channel1")
    np.testing.assert_allclose(s._axes[0].values, 1e-6 + np.linspace(0, 3e-6, 8))
    np.testing.assert_allclose(s._axes[1].values, 2e-6 + np.linspace(0, 4e-6, 8))
    assert s.metadata["aecroscopy"]["channel"] == "channel1"
    np.testing.assert_allclose(np.asarray(s), np.asarray(sized.acquire_image()))


# --- errors ------------------------------------------------------------------


class Faulty(AEBEDouble):
    """The double with one fault in do_beps_specific."""

    def __init__(self, fault, **kwargs):
        super().__init__(**kwargs)
        self.fault = fault

    def do_beps_specific(self, **kwargs):
        result = super().do_beps_specific(**kwargs)
        return self.fault(self, result)


def raise_com_error(double, result):
    raise RuntimeError("LabVIEW: control not found")


def nan_at_second_point(double, result):
    fit = np.asarray(result[1]).copy()
    fit[1, 0, 3] = np.nan
    return (result[0], fit, result[2], result[3])


@pytest.mark.parametrize(
    "fault, error",
    [
        (
            raise_com_error,
            r"aecroscopy: do_beps_specific failed for points \(row 1, col 2\), "
            r"\(row 3, col 3\): RuntimeError: LabVIEW: control not found",
        ),
        (
            lambda d, r: r[:3],
            r"do_beps_specific returned tuple for points .*expected \(vdc, quick_fit",
        ),
        (
            lambda d, r: (r[0], np.asarray(r[1])[:, :3], r[2], r[3]),
            r"unusable BEPS data for points \(row 1, col 2\), \(row 3, col 3\): "
            r"expected a quick fit of shape 2 x 4 x steps; got \(2, 3, 32\)",
        ),
        (
            lambda d, r: (r[0][:10], r[1], r[2], r[3]),
            "32 readings per point but the DC waveform 10 steps",
        ),
        (
            nan_at_second_point,
            r"aecroscopy: non-finite BEPS data at point \(row 3, col 3\)$",
        ),
        (lambda d, r: (r[0], "junk", r[2], r[3]), "unusable BEPS data"),
    ],
)
def test_instrument_faults_become_microscope_errors_naming_the_points(fault, error):
    scope = AecroscopyMicroscope(Faulty(fault), grid_shape=(5, 5), points_per_call=2)
    with pytest.raises(MicroscopeError, match=error) as info:
        scope.measure([[1, 2], [3, 3]])
    if fault is raise_com_error:
        assert isinstance(info.value.__cause__, RuntimeError)
    assert scope.measured == 0


def test_a_changed_dc_waveform_is_an_error():
    double = AEBEDouble()
    scope = AecroscopyMicroscope(double, grid_shape=(3, 3))
    scope.measure([[0, 0]])
    double.beps_parms["amplitude_V_00"] = 4.0
    with pytest.raises(MicroscopeError, match=r"DC waveform changed at point \(row 1"):
        scope.measure([[1, 1]])


def test_points_off_the_grid_are_refused_before_the_instrument_moves():
    double = AEBEDouble()
    scope = AecroscopyMicroscope(double, grid_shape=(5, 5))
    with pytest.raises(
        MicroscopeError,
        match=r"aecroscopy: grid point \(row 9, col 0\) is outside the 5 x 5 grid",
    ):
        scope.measure([[1, 1], [9, 0]])
    with pytest.raises(MicroscopeError, match="n x 2 array of grid"):
        scope.measure([1, 2, 3])
    assert double.calls == []


def test_set_up_raster_and_closed_errors():
    class BadBE(AEBEDouble):
        def define_be_parms(self, **kwargs):
            raise OSError("DAQ card busy")

    with pytest.raises(
        MicroscopeError, match="define_be_parms failed for set-up: OSError: DAQ card"
    ):
        AecroscopyMicroscope(BadBE(), grid_shape=(2, 2), be_parms={"repeats_04": 2})

    class BadRaster(AEBEDouble):
        def raster_scan(self, **kwargs):
            return (np.zeros((4, 4)), np.zeros((3, 4, 4)), None)

    scope = AecroscopyMicroscope(BadRaster(), grid_shape=(2, 2))
    with pytest.raises(MicroscopeError, match=r"amplitude data of shape \(4, 4\)"):
        scope.acquire_image()
    with scope:
        pass
    with pytest.raises(MicroscopeError, match="aecroscopy: the backend is closed"):
        scope.measure([[0, 0]])


@pytest.mark.parametrize(
    "options, error",
    [
        (
            {"beps_parms": {"amplitude_V": 8}},
            r"beps_parms: unknown keys \['amplitude_V'\]",
        ),
        (
            {"beps_parms": {"amplitude_V_00": "8"}},
            r"beps_parms\['amplitude_V_00'\] must",
        ),
        ({"be_parms": {"amplitude_V_02": np.nan}}, "must be a finite number"),
        ({"io_parms": {"DAQ": 1}}, r"io_parms: unknown keys \['DAQ'\]"),
        ({"raster_parms": {"scan_pixel": 64}}, "raster_parms: unknown keys"),
        ({"quantity": "loops"}, "quantity must be one of piezoresponse"),
        ({"field": "both"}, "field must be one of off, on"),
        ({"image_channel": "height"}, "image_channel must be one of"),
        ({"points_per_call": 0}, "points_per_call must be a positive integer"),
        ({"image_pixels": 2.5}, "image_pixels must be a positive integer"),
        ({"file_prefix": " "}, "file_prefix must be a non-empty string"),
        ({"positions": "physical"}, "positions='physical' needs scan_size"),
        ({"grid_shape": None}, "positions='grid' needs grid_shape"),
        ({"orientation": "rotate90"}, "orientation: unknown"),
        ({"aebe_options": {"exe_path": "x"}}, "give aebe or aebe_options, not both"),
    ],
)
def test_bad_options_are_refused(options, error):
    options = {"grid_shape": (4, 4), **options}
    with pytest.raises(ParameterError, match=error):
        AecroscopyMicroscope(AEBEDouble(), **options)


def test_the_double_by_name_for_dry_runs():
    scope = AecroscopyMicroscope(
        "double", grid_shape=(3, 3), aebe_options={"steps_per_cycle": 8}
    )
    assert isinstance(scope.aebe, AEBEDouble)
    assert scope.measure([[1, 1]]).spectra.shape == (1, 8)
    with pytest.raises(ParameterError, match="AEBE-like object or 'double'"):
        AecroscopyMicroscope("labview", grid_shape=(3, 3))
    with pytest.raises(ParameterError, match="double options: .*'exe_path'"):
        AecroscopyMicroscope(
            "double", grid_shape=(3, 3), aebe_options={"exe_path": "C:/x"}
        )


# --- building AEBE: lazy import ----------------------------------------------


def test_missing_aecroscopy_names_the_package_and_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "aecroscopy", None)
    with pytest.raises(AecroscopyImportError) as info:
        load_aebe_class()
    message = str(info.value)
    assert message.startswith("aecroscopy: cannot import aecroscopy.acquisition.AEBE")
    assert "module 'aecroscopy" in message and "is missing" in message
    assert "pip install aecroscopy pywin32" in message
    assert "aebe=" in message and "remote://HOST:PORT" in message
    assert isinstance(info.value, ImportError) and isinstance(
        info.value, MicroscopeError
    )
    with pytest.raises(AecroscopyImportError, match="pip install aecroscopy"):
        AecroscopyMicroscope(grid_shape=(4, 4))


def test_a_missing_dependency_of_aecroscopy_is_named(monkeypatch, tmp_path):
    package = tmp_path / "aecroscopy"
    package.mkdir()
    (package / "__init__.py").write_text("import scifireaders_not_here_xyz\n")
    for name in [m for m in sys.modules if m.startswith("aecroscopy")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        AecroscopyImportError, match="module 'scifireaders_not_here_xyz' is missing"
    ):
        load_aebe_class()
    for name in [m for m in sys.modules if m.startswith("aecroscopy")]:
        monkeypatch.delitem(sys.modules, name)


def fake_aecroscopy(monkeypatch):
    """sys.modules entries that make aecroscopy.acquisition.AEBE.AEBE a double."""
    built = []

    class AEBE(AEBEDouble):
        def __init__(self, **options):
            super().__init__()
            built.append(options)

    modules = {
        "aecroscopy": types.ModuleType("aecroscopy"),
        "aecroscopy.acquisition": types.ModuleType("aecroscopy.acquisition"),
        "aecroscopy.acquisition.AEBE": types.ModuleType("aecroscopy.acquisition.AEBE"),
    }
    modules["aecroscopy.acquisition.AEBE"].AEBE = AEBE
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return built


def test_building_aebe_starts_and_initialises_the_software(monkeypatch):
    built = fake_aecroscopy(monkeypatch)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "win32com", types.ModuleType("win32com"))
    monkeypatch.setitem(sys.modules, "win32com.client", types.ModuleType("client"))
    scope = AecroscopyMicroscope(
        grid_shape=(3, 3),
        aebe_options={"exe_path": r"C:\BEPyAE\BEPyAE.exe", "backend": "cypher"},
        be_parms={"repeats_04": 2},
    )
    assert built == [{"exe_path": r"C:\BEPyAE\BEPyAE.exe", "backend": "cypher"}]
    assert [name for name, _ in scope.aebe.calls] == ["init_BEPyAE", "define_be_parms"]
    assert scope.aebe.calls[0][1]["offline_development"] is False
    assert scope.measure([[1, 1]]).spectra.shape == (1, 16)


def test_building_aebe_needs_windows_and_pywin32(monkeypatch):
    fake_aecroscopy(monkeypatch)
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(
        MicroscopeError, match="runs only on Windows \\(this is linux\\)"
    ):
        AecroscopyMicroscope(grid_shape=(3, 3))
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setitem(sys.modules, "win32com", None)
    with pytest.raises(AecroscopyImportError, match="AEBE needs pywin32"):
        AecroscopyMicroscope(grid_shape=(3, 3))


# --- the explorer drives it ---------------------------------------------------


def test_explorer_runs_on_the_double():
    from pycroscopy_curiosity.data.exploration import ExplorationData
    from pycroscopy_curiosity.data.synthetic import make_synthetic_sample
    from pycroscopy_curiosity.explorer import CuriosityExplorer

    sample = make_synthetic_sample(
        grid_shape=(10, 12), image_shape=(40, 48), n_bias=16, seed=3
    )
    data = ExplorationData.from_sidpy(sample.spectra, sample.image)
    double = AEBEDouble(steps_per_cycle=16)
    with AecroscopyMicroscope.for_data(data, aebe=double) as scope:
        explorer = CuriosityExplorer(
            data, measure=scope, patch=8, init=4, budget=6, batch=2, seed=0,
            channels=4, hidden=16, ensemble_epochs=2, update_epochs=1,
            error_epochs=2, best_window=2,
        ).run()  # fmt: skip
    assert len(explorer.strategy.order) == 6
    assert scope.measured == 6 and scope.frame.grid_shape == (10, 12)
    sent = [k["coordinates"] for n, k in double.calls if n == "do_beps_specific"]
    assert len(sent) == 6 and all(np.abs(c).max() <= 1 for c in sent)
