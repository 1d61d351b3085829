import json
import subprocess
import sys

import h5py
import numpy as np
import pytest

from pycroscopy_curiosity.cli import build_parser, main


def test_synth_then_inspect(tmp_path, capsys):
    out = tmp_path / "sample.h5"
    assert (
        main(
            [
                "synth",
                "--out",
                str(out),
                "--size",
                "12x16",
                "--image-size",
                "48x64",
                "--seed",
                "5",
            ]
        )
        == 0
    )
    assert "wrote" in capsys.readouterr().out
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 NSID dataset(s)" in text
    assert "IMAGE" in text and "SPECTRAL_IMAGE" in text
    assert "bias (SPECTRAL" in text and "[V]" in text
    with h5py.File(out, "r") as f:
        image_path = [p for p in _mains(f) if p.endswith("structure")][0]
    assert (
        main(["inspect", str(out), "--image-dataset", image_path, "--patch", "8"]) == 0
    )
    text = capsys.readouterr().out
    assert "structure image: 48 x 64" in text and "spectra: 12 x 16 grid" in text
    assert "candidates:" in text


def _mains(f):
    found = []
    f.visititems(
        lambda n, o: (
            found.append("/" + n)
            if isinstance(o, h5py.Dataset) and "data_type" in o.attrs
            else None
        )
    )
    return found


def test_inspect_with_spectral_options(tmp_path, capsys):
    out = tmp_path / "s.h5"
    main(["synth", "--out", str(out), "--size", "20", "--image-size", "40"])
    capsys.readouterr()
    assert (
        main(
            [
                "inspect",
                str(out),
                "--image-index",
                "5",
                "--spectral-range",
                "32:64",
                "--patch",
                "9",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "32 points along bias" in text
    assert "candidates: 144 (12 x 12) with 9 x 9 patches, border valid" in text


@pytest.mark.realdata
def test_inspect_real_pfm_scan(pto_images, capsys):
    assert main(["inspect", str(pto_images)]) == 0
    text = capsys.readouterr().out
    for quantity, units in [
        ("HeightRetrace", "m"),
        ("AmplitudeRetrace", "m"),
        ("DeflectionRetrace", "m"),
        ("PhaseRetrace", "deg"),
    ]:
        assert f"{quantity} [{units}]" in text


@pytest.mark.realdata
def test_inspect_real_loops_as_published(pto_loops, capsys):
    assert (
        main(
            [
                "inspect",
                str(pto_loops),
                "--image-index",
                "25",
                "--spectral-range",
                "49:99",
                "--patch",
                "9",
            ]
        )
        == 0
    )
    assert "candidates: 1681 (41 x 41) with 9 x 9 patches" in capsys.readouterr().out


def test_errors_are_reported_without_traceback(tmp_path, capsys):
    fake = tmp_path / "fake.h5"
    fake.write_text("not hdf5")
    assert main(["inspect", str(fake)]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "is not an HDF5 file" in err and "Traceback" not in err
    assert main(["inspect", str(tmp_path / "missing.h5")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_bad_size_is_an_argument_error(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["synth", "--out", "x.h5", "--size", "big"])
    assert "expected N or NYxNX" in capsys.readouterr().err


def test_console_script_help_is_fast_and_light():
    code = "import sys, pycroscopy_curiosity.cli; print('torch' in sys.modules, 'sidpy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "False"]


def test_synth_is_deterministic(tmp_path):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    for p in (a, b):
        main(
            [
                "synth",
                "--out",
                str(p),
                "--size",
                "8",
                "--image-size",
                "16",
                "--seed",
                "2",
            ]
        )
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        for path in _mains(fa):
            np.testing.assert_array_equal(fa[path][()], fb[path][()])


def _small_sample(path):
    """Write a 12 x 12 synthetic sample with a 48 x 48 image and 16-point loops."""
    args = ["synth", "--out", str(path), "--size", "12", "--image-size", "48"]
    assert main(args + ["--n-bias", "16"]) == 0


LIGHT = [
    "--channels",
    "4",
    "--ensemble-epochs",
    "3",
    "--update-epochs",
    "1",
    "--no-progress",
]


def test_run_writes_results_and_figure(tmp_path, capsys):
    sample = tmp_path / "s.h5"
    _small_sample(sample)
    with h5py.File(sample, "r") as f:
        image = [p for p in _mains(f) if p.endswith("structure")][0]
    out, fig = tmp_path / "r.h5", tmp_path / "r.png"
    args = [
        "run",
        str(sample),
        "--image-dataset",
        image,
        "--patch",
        "8",
        "--init",
        "10",
        "--budget",
        "14",
        "--batch",
        "2",
        "--seed",
        "1",
        "--out",
        str(out),
        "--figure",
        str(fig),
    ]
    assert main(args + LIGHT) == 0
    text = capsys.readouterr().out
    assert "ensemble: 14 of" in text and "per-pixel MSE summed" in text
    from pycroscopy_curiosity.data.results import read_results

    res = read_results(out)
    assert res["measured"].shape == (14, 16) and res.parameters["seed"] == 1
    assert fig.stat().st_size > 10_000


def test_demo_runs_both_workflows(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--budget", "44", "--init", "40", "--batch", "4"]
    assert main(args + LIGHT) == 0
    text = capsys.readouterr().out
    assert "ensemble: 44 of 784" in text and "random: 44 of 784" in text
    for name in ("synthetic_sample.h5", "ensemble.h5", "random.h5", "demo.png"):
        assert (out / name).exists()


def test_run_option_errors(tmp_path, capsys):
    sample = tmp_path / "s.h5"
    _small_sample(sample)
    capsys.readouterr()
    bad = [
        "run",
        str(sample),
        "--image-index",
        "0",
        "--patch",
        "4",
        "--beta",
        "2",
        "--out",
        str(tmp_path / "x.h5"),
    ]
    assert main(bad + LIGHT) == 2
    assert "beta must lie in [0, 1], got 2.0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "f.h5", "--out", "x.h5", "--init", "1.5"])
    assert "a fraction must lie in (0, 1)" in capsys.readouterr().err


def test_run_autoencoder_workflow_both_directions(tmp_path, capsys):
    sample = tmp_path / "s.h5"
    _small_sample(sample)
    capsys.readouterr()
    from pycroscopy_curiosity.data.results import read_results

    for direction in ("im2spec", "spec2im"):
        out = tmp_path / f"{direction}.h5"
        args = [
            "run",
            str(sample),
            "--image-index",
            "3",
            "--patch",
            "6",
            "--init",
            "8",
            "--budget",
            "12",
            "--workflow",
            "autoencoder",
            "--direction",
            direction,
            "--sigma",
            "2",
            "--mc-passes",
            "10",
            "--plateau",
            "--out",
            str(out),
            "--no-progress",
        ]
        assert main(args) == 0
        assert "autoencoder: 12 of" in capsys.readouterr().out
        res = read_results(out)
        options = res.parameters["options"]
        assert options["direction"] == direction and options["lam"] == 2.0
        assert options["sigma"] == 2.0 and options["plateau"]
        assert res["error_spread"].shape == (12, 12)


def test_demo_autoencoder_workflow(tmp_path, capsys):
    out = tmp_path / "demo"
    args = [
        "demo",
        "--out",
        str(out),
        "--workflow",
        "autoencoder",
        "--budget",
        "44",
        "--init",
        "40",
        "--batch",
        "4",
        "--mc-passes",
        "10",
        "--no-progress",
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "autoencoder: 44 of 784" in text
    assert "autoencoder (random points): 44 of 784" in text
    for name in ("autoencoder.h5", "random.h5", "demo.png"):
        assert (out / name).exists()


def test_benchmark_command_writes_report_and_figure(tmp_path, capsys):
    sample = tmp_path / "s.h5"
    _small_sample(sample)
    capsys.readouterr()
    report, figure = tmp_path / "b.json", tmp_path / "b.png"
    args = [
        "benchmark",
        str(sample),
        "--image-index",
        "3",
        "--patch",
        "8",
        "--strategies",
        "random,grid,sobol",
        "--trials",
        "2",
        "--budget",
        "12",
        "--init",
        "6",
        "--eval-every",
        "3",
        "--yardstick-epochs",
        "2",
        "--workers",
        "1",
        "--json",
        str(report),
        "--plot",
        str(figure),
        "--no-progress",
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "sobol" in text and "p vs random" in text
    data = json.loads(report.read_text())
    assert set(data["strategies"]) == {"random", "grid", "sobol"}
    assert [t["seed"] for t in data["strategies"]["grid"]["trials"]] == [0, 1]
    assert [c["n"] for c in data["strategies"]["grid"]["trials"][0]["curve"]] == [
        6,
        9,
        12,
    ]
    assert set(data["comparisons"]) == {"grid", "sobol"}
    assert figure.stat().st_size > 10_000
    assert main(args[:-1] + ["--strategies", "random,magic"]) == 2
    assert "unknown strategies ['magic']" in capsys.readouterr().err


def test_run_with_session_replay_backend_and_resume(tmp_path, capsys):
    from pycroscopy_curiosity.data.journal import Journal
    from pycroscopy_curiosity.data.results import read_results

    sample = tmp_path / "s.h5"
    _small_sample(sample)
    session = tmp_path / "session.h5"
    base = ["run", str(sample), "--image-index", "3", "--patch", "8"]
    base += ["--init", "8", "--batch", "2", "--seed", "2"]
    args = base + ["--budget", "12", "--microscope", "replay", "--delay", "0.01"]
    args += ["--session", str(session), "--pipeline"]
    assert main(args + LIGHT) == 0
    text = capsys.readouterr().out
    assert f"session: {session}" in text and "microscope idle" in text
    record = Journal.read(session)
    assert record.n == 12 and record.config["microscope"] == "replay"
    assert read_results(session)["measured"].shape == (12, 16)
    # a session is never overwritten by accident
    assert main(args + LIGHT) == 2
    assert "exists; resume it" in capsys.readouterr().err
    # resume with a larger budget
    assert main(["run", "--resume", str(session), "--budget", "16"] + LIGHT) == 0
    assert f"resumed {session}: 12 of 16 measured" in capsys.readouterr().out
    record = Journal.read(session)
    assert record.n == 16 and len(set(record.candidate.tolist())) == 16
    # option clashes and missing pieces
    clash = ["run", "--resume", str(session), "--session", str(tmp_path / "b.h5")]
    assert main(clash) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["run", "--no-progress"]) == 2
    assert "give FILE" in capsys.readouterr().err
    assert main(["run", str(sample), "--image-index", "3"]) == 2
    assert "--out RESULTS.h5 or --session" in capsys.readouterr().err
    assert main(base + ["--microscope", "telescope", "--out", "x.h5"]) == 2
    assert "unknown microscope 'telescope'" in capsys.readouterr().err


def test_serve_needs_a_file_and_a_readable_token(tmp_path, capsys):
    assert main(["serve", "--backend", "replay"]) == 2
    assert "needs FILE" in capsys.readouterr().err
    sample = tmp_path / "s.h5"
    _small_sample(sample)
    capsys.readouterr()
    empty = tmp_path / "token"
    empty.write_text("  \n")
    assert main(["serve", str(sample), "--token-file", str(empty)]) == 2
    assert "is empty" in capsys.readouterr().err
    missing = tmp_path / "nope"
    assert main(["serve", str(sample), "--token-file", str(missing)]) == 2
    assert "cannot read the token file" in capsys.readouterr().err
