"""The ``pycroscopy-curiosity`` command line.

Heavy libraries (sidpy, pyNSID, torch, atomai) are imported inside the
commands, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pycroscopy_curiosity._version import __version__
from pycroscopy_curiosity.errors import CuriosityError, ParameterError

log = logging.getLogger("pycroscopy_curiosity")


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that reads a data file."""
    group = parser.add_argument_group("data options")
    group.add_argument(
        "--dataset",
        metavar="PATH",
        help="HDF5 path of the spectral dataset (needed when the file holds more "
        "than one SPECTRAL_IMAGE)",
    )
    image = group.add_mutually_exclusive_group()
    image.add_argument(
        "--image-dataset",
        metavar="PATH",
        help="HDF5 path of a separate IMAGE dataset to use as the structure image",
    )
    image.add_argument(
        "--image-index",
        type=int,
        metavar="K",
        help="use spectral index K of the spectral data as the structure image",
    )
    image.add_argument(
        "--image-reduce",
        choices=("mean", "median", "std", "min", "max", "ptp"),
        help="reduce the spectral data over --image-range to a structure image",
    )
    group.add_argument(
        "--image-file",
        metavar="FILE",
        help="file holding --image-dataset, when it is not FILE",
    )
    group.add_argument(
        "--image-range",
        metavar="A:B",
        help="spectral indices reduced by --image-reduce (B excluded; default all)",
    )
    group.add_argument(
        "--spectral-range",
        metavar="A:B",
        help="spectral indices kept in the spectra (B excluded), e.g. 49:99",
    )
    group.add_argument("--patch", type=int, default=16, metavar="P", help="patch size")
    group.add_argument(
        "--border",
        choices=("valid", "reflect"),
        default="valid",
        help="valid: only points whose patch fits in the image; reflect: pad",
    )
    group.add_argument(
        "--nonfinite",
        choices=("raise", "mask"),
        default="raise",
        help="NaN or inf in the data: stop with an error, or leave those points out",
    )


def add_backend_options(parser) -> None:
    """Options of the microscope backends, shared by ``run`` and ``serve``."""
    parser.add_argument(
        "--token-file", metavar="PATH", help="the remote server's shared token"
    )
    parser.add_argument(
        "--delay", type=float, default=0.0, help="replay: seconds per point"
    )
    parser.add_argument(
        "--noise", type=float, default=0.0, help="replay: noise std added"
    )
    parser.add_argument(
        "--backend-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="aecroscopy: an option of the adapter, VALUE as JSON when it parses "
        "(repeatable), e.g. grid_shape=[49,49]",
    )


def data_options_from_args(args: argparse.Namespace) -> dict:
    """The options of ``load_exploration_data`` the data options describe."""
    if args.image_dataset is None and args.image_index is None:
        if args.image_reduce is None:
            args.image_reduce = "mean"
            log.info("no structure image chosen: using the mean of the spectra")
    return {
        "dataset": args.dataset,
        "image_dataset": args.image_dataset,
        "image_file": args.image_file,
        "image_index": args.image_index,
        "image_reduce": args.image_reduce,
        "image_range": args.image_range,
        "spectral_range": args.spectral_range,
        "nonfinite": args.nonfinite,
    }


def data_from_args(args: argparse.Namespace):
    """Build the :class:`ExplorationData` the data options describe."""
    from pycroscopy_curiosity.data.exploration import load_exploration_data

    return load_exploration_data(args.file, **data_options_from_args(args))


def _has_data_choice(args: argparse.Namespace) -> bool:
    return any(
        getattr(args, name) is not None
        for name in (
            "dataset",
            "image_dataset",
            "image_index",
            "image_reduce",
            "spectral_range",
        )
    )


def cmd_inspect(args: argparse.Namespace) -> int:
    """List the datasets of a file; with data options, what they select."""
    from pycroscopy_curiosity.data.nsid import list_datasets

    infos = list_datasets(args.file)
    print(f"{args.file}: {len(infos)} NSID dataset(s)")
    for info in infos:
        print(info.describe())
    if not _has_data_choice(args):
        return 0
    data = data_from_args(args)
    print("\nwith these data options:")
    print(data.summary())
    candidates = data.candidates(args.patch, args.border)
    block = candidates.block_shape
    shape = f" ({block[0]} x {block[1]})" if block else ""
    print(
        f"candidates: {len(candidates)}{shape} with {args.patch} x {args.patch} "
        f"patches, border {args.border}"
    )
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    """Write the synthetic sample."""
    from pycroscopy_curiosity.data.synthetic import write_synthetic_sample

    paths = write_synthetic_sample(
        args.out,
        grid_shape=tuple(args.size),
        image_shape=tuple(args.image_size),
        n_bias=args.n_bias,
        noise=args.noise,
        seed=args.seed,
    )
    print(f"wrote {args.out}")
    for name, path in paths.items():
        print(f"    {name}: {path}")
    return 0


def _count_or_fraction(text: str) -> int | float:
    """``'30'`` (a count) or ``'0.2'`` (a fraction of the candidates)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a count or a fraction, got {text!r}"
        ) from None
    if "." in text or "e" in text.lower():
        if not 0 < value < 1:
            raise argparse.ArgumentTypeError(f"a fraction must lie in (0, 1): {text}")
        return value
    return int(value)


#: Benchmark strategies that train networks (and so take ``--device``).
LEARNING_STRATEGIES = ("dkl", "ensemble", "autoencoder", "autoencoder-mcd")

#: The explorer's workflows (kept here so that ``--help`` imports no torch).
WORKFLOW_CHOICES = ("ensemble", "random", "autoencoder")


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Options of a learning run, shared by ``run`` and ``demo``."""
    group = parser.add_argument_group("run options")
    group.add_argument(
        "--workflow",
        choices=WORKFLOW_CHOICES,
        default="ensemble",
        help="ensemble: Im2spec ensemble with curiosity; random: same models, "
        "random points; autoencoder: autoencoder latent, MC-dropout error "
        "predictor and latent exploration reward",
    )
    group.add_argument(
        "--beta", type=float, default=1.0, help="1 curiosity, 0 exploitation"
    )
    group.add_argument(
        "--lam",
        type=float,
        help="ensemble: acquisition width (default 0.1); autoencoder: speed at "
        "which exploration gives way to the predicted error (default 2)",
    )
    group.add_argument(
        "--budget", type=int, help="total measurements, initial ones included"
    )
    group.add_argument(
        "--init",
        type=_count_or_fraction,
        default=0.2,
        help="initial random points: a count or a fraction (default 0.2)",
    )
    group.add_argument("--batch", type=int, default=1, help="points per iteration")
    group.add_argument(
        "--min-spacing",
        type=float,
        default=0.0,
        help="min. pixels between batch points",
    )
    group.add_argument(
        "--ensemble-fraction",
        type=float,
        default=0.1,
        help="share of iterations that retrain the whole ensemble",
    )
    group.add_argument(
        "--channels", type=int, default=16, help="encoder channels of every Im2spec"
    )
    group.add_argument(
        "--ensemble-epochs",
        type=int,
        default=100,
        help="epochs of a full ensemble training",
    )
    group.add_argument(
        "--update-epochs", type=int, default=10, help="epochs of a best-model update"
    )
    auto = parser.add_argument_group("autoencoder workflow options")
    auto.add_argument(
        "--direction",
        choices=("im2spec", "spec2im"),
        default="im2spec",
        help="surrogate direction: patch to spectrum, or spectrum to patch",
    )
    auto.add_argument(
        "--sigma",
        type=float,
        default=0.0,
        help="weight of the MC-dropout spread (2: the MC-dropout variant)",
    )
    auto.add_argument(
        "--random-step",
        type=float,
        default=0.1,
        help="probability that a point is drawn from all open candidates",
    )
    auto.add_argument(
        "--best",
        type=int,
        default=10,
        help="otherwise it is drawn from this many top candidates",
    )
    auto.add_argument("--mc-passes", type=int, default=100, help="MC-dropout passes")
    auto.add_argument(
        "--init-design",
        choices=("kmeans", "random"),
        default="kmeans",
        help="initial points: k-means in the autoencoder latent, or random",
    )
    auto.add_argument(
        "--plateau",
        action="store_true",
        help="down-weight candidates near points whose error stays high",
    )
    group.add_argument("--seed", type=int, default=0)
    group.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    group.add_argument("--threads", type=int, help="torch threads (default: torch's)")


def _explorer_kwargs(args: argparse.Namespace) -> dict:
    common = {
        "workflow": args.workflow,
        "patch": args.patch,
        "border": args.border,
        "init": args.init,
        "budget": args.budget,
        "batch": args.batch,
        "seed": args.seed,
        "threads": args.threads,
        "device": args.device,
    }
    if args.workflow == "autoencoder":
        return common | {
            "lam": 2.0 if args.lam is None else args.lam,
            "direction": args.direction,
            "sigma": args.sigma,
            "random_step": args.random_step,
            "best": args.best,
            "mc_passes": args.mc_passes,
            "init_design": args.init_design,
            "plateau": args.plateau,
        }
    return common | {
        "beta": args.beta,
        "lam": 0.1 if args.lam is None else args.lam,
        "min_spacing": args.min_spacing,
        "ensemble_fraction": args.ensemble_fraction,
        "channels": args.channels,
        "ensemble_epochs": args.ensemble_epochs,
        "update_epochs": args.update_epochs,
        "best_window": min(50, args.ensemble_epochs),
    }


def _open_backend(args: argparse.Namespace, data, spec: str | None, data_options: dict):
    """The microscope of a run (``None``: replay the data in-process)."""
    from pycroscopy_curiosity.microscope import check_compatible, open_microscope

    if spec is None:
        return None
    options = {}
    if spec == "aecroscopy":
        options = {"grid_shape": data.grid_shape, **_key_values(args.backend_option)}
    backend = open_microscope(
        spec,
        data,
        data_options=data_options,
        token_file=args.token_file,
        delay=args.delay,
        noise=args.noise,
        seed=args.seed if args.seed is not None else 0,
        timeout=args.timeout,
        **options,
    )
    check_compatible(backend, data)
    return backend


def cmd_run(args: argparse.Namespace) -> int:
    """Learn point by point, from a file's spectra or from a microscope."""
    from pathlib import Path

    from pycroscopy_curiosity.explorer import CuriosityExplorer

    if args.resume:
        if args.session:
            raise ParameterError("give --session (a new session) or --resume, not both")
        changes = {"budget": args.budget} if args.budget is not None else {}
        record_explorer = CuriosityExplorer.resume(
            args.resume, threads=args.threads, **changes
        )
        if args.microscope or record_explorer.microscope:
            spec = args.microscope or record_explorer.microscope
            load = dict(record_explorer.load or {})
            load.pop("path", None)
            record_explorer.measure = _open_backend(
                args, record_explorer.data, spec, load
            )
            record_explorer.microscope = spec
        explorer = record_explorer
        print(
            f"resumed {args.resume}: {explorer.n_measured} of {explorer.budget} "
            "measured",
            flush=True,
        )
    else:
        if args.file is None:
            raise ParameterError("give FILE (the data), or --resume SESSION.h5")
        if args.out is None and args.session is None:
            raise ParameterError("give --out RESULTS.h5 or --session SESSION.h5")
        data_options = data_options_from_args(args)
        data = data_from_args(args)
        backend = _open_backend(args, data, args.microscope, data_options)
        explorer = CuriosityExplorer(
            data,
            measure=backend,
            session=args.session,
            overwrite=args.overwrite,
            load={"path": str(Path(args.file).resolve()), **data_options},
            microscope=args.microscope,
            **_explorer_kwargs(args),
        )
        print(
            f"{args.file}: {len(explorer.candidates)} candidates, {explorer.n_init} "
            f"initial points, budget {explorer.budget}",
            flush=True,
        )
    try:
        explorer.run(progress=not args.no_progress, pipeline=args.pipeline)
    finally:
        if explorer.journal is not None:
            explorer.close()
            print(f"session: {explorer.journal.path}")
        if explorer.measure is not None:
            explorer.measure.close()
    print(explorer.summary())
    if args.out:
        paths = explorer.save(args.out)
        print(f"results: {args.out} ({', '.join(paths)})")
    if args.figure:
        from pycroscopy_curiosity.plotting import exploration_figure

        exploration_figure(explorer, path=args.figure)
        print(f"figure: {args.figure}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Curiosity against random sampling on the synthetic sample."""
    from pathlib import Path

    from pycroscopy_curiosity.data.exploration import load_exploration_data
    from pycroscopy_curiosity.data.synthetic import write_synthetic_sample
    from pycroscopy_curiosity.explorer import CuriosityExplorer
    from pycroscopy_curiosity.plotting import exploration_figure

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sample = out / "synthetic_sample.h5"
    paths = write_synthetic_sample(sample, seed=args.seed)
    data = load_exploration_data(sample, image_dataset=paths["structure"])
    print(f"synthetic sample: {sample}")
    print(data.summary())
    runs = {}
    curious = args.workflow if args.workflow != "random" else "ensemble"
    # the baseline trains the same models and measures random points
    if curious == "autoencoder":
        baseline = ("autoencoder", {"selection": "random", "init_design": "random"})
    else:
        baseline = ("random", {})
    for label, (workflow, extra) in (
        (curious, (curious, {})),
        ("random", baseline),
    ):
        args.workflow = workflow
        explorer = CuriosityExplorer(data, **(_explorer_kwargs(args) | extra))
        print(f"\n{explorer.label}: budget {explorer.budget}", flush=True)
        explorer.run(progress=not args.no_progress)
        explorer.save(out / f"{label}.h5")
        print(explorer.summary())
        runs[label] = explorer
    figure = out / "demo.png"
    exploration_figure(runs[curious], runs["random"], path=figure)
    print(
        f"\nresults: {out / (curious + '.h5')}, {out / 'random.h5'}; figure: {figure}"
    )
    return 0


def _key_values(items: list[str]) -> dict:
    """``KEY=VALUE`` strings as a dict; values parsed as JSON when they can be."""
    import json

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ParameterError(f"expected KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve a backend over Pyro5 until interrupted."""
    from pycroscopy_curiosity.microscope import ReplayMicroscope
    from pycroscopy_curiosity.microscope.remote import InstrumentServer, read_token

    token = read_token(args.token_file) if args.token_file else None
    if args.backend == "replay":
        if args.file is None:
            raise ParameterError("serve --backend replay needs FILE")
        backend = ReplayMicroscope(
            data_from_args(args), delay=args.delay, noise=args.noise, seed=args.seed
        )
    else:
        from pycroscopy_curiosity.microscope.aecroscopy import AecroscopyMicroscope

        backend = AecroscopyMicroscope(**_key_values(args.backend_option))
    server = InstrumentServer(
        backend,
        host=args.host,
        port=args.port,
        token=token,
        max_points=args.max_points,
        max_bytes=args.max_bytes,
    )
    if log.level > logging.INFO or log.level == logging.NOTSET:
        log.setLevel(logging.INFO)  # every request is logged
    print(f"serving {backend.name} at {server.address}", flush=True)
    try:
        server.serve()
    except KeyboardInterrupt:
        print("stopped")
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    """Compare strategies over many trials on dask.distributed."""
    from pycroscopy_curiosity.benchmark.report import plot_report, table, write_json
    from pycroscopy_curiosity.benchmark.runner import run_benchmark
    from pycroscopy_curiosity.benchmark.trial import STRATEGY_NAMES
    from pycroscopy_curiosity.benchmark.yardstick import YardstickSettings

    names = [n.strip() for n in args.strategies.split(",") if n.strip()]
    unknown = [n for n in names if n not in STRATEGY_NAMES]
    if unknown or not names:
        raise ParameterError(
            f"unknown strategies {unknown}; choose from {', '.join(STRATEGY_NAMES)}"
        )
    data = data_from_args(args)
    n = len(data.candidates(args.patch, args.border))
    init = args.init if isinstance(args.init, int) else max(1, round(args.init * n))
    print(
        f"{args.file}: {n} candidates; {args.trials} trials of "
        f"{', '.join(names)}; budget {args.budget}, {init} initial points",
        flush=True,
    )
    report = run_benchmark(
        data,
        names,
        args.trials,
        budget=args.budget,
        init=init,
        seed=args.seed,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.no_progress,
        batch=args.batch,
        eval_every=args.eval_every,
        patch=args.patch,
        border=args.border,
        threads=args.threads or 1,
        yardstick=YardstickSettings(epochs=args.yardstick_epochs, device=args.device),
        strategy_options={
            name: {"device": args.device} for name in LEARNING_STRATEGIES
        },
    )
    print(table(report))
    for name, entry in report["strategies"].items():
        for failure in entry["failed"]:
            print(f"FAILED {name} seed {failure['seed']}: {failure['error']}")
    if args.json:
        write_json(report, args.json)
        print(f"report: {args.json}")
    if args.plot:
        plot_report(report, data, args.plot)
        print(f"figure: {args.plot}")
    failures = sum(len(e["failed"]) for e in report["strategies"].values())
    return 1 if failures else 0


def _shape(text: str) -> tuple[int, int]:
    """``'32'`` or ``'24x40'`` (rows x columns)."""
    parts = text.lower().split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected N or NYxNX (e.g. 32 or 24x40), got {text!r}"
        ) from None
    if len(values) == 1:
        values *= 2
    if len(values) != 2:
        raise argparse.ArgumentTypeError(f"expected N or NYxNX, got {text!r}")
    return values[0], values[1]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``pycroscopy-curiosity`` command."""
    parser = argparse.ArgumentParser(
        prog="pycroscopy-curiosity",
        description="Curiosity-driven active learning of structure-property "
        "relations for scanning-probe microscopy.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log output (-vv: debug)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    inspect = sub.add_parser(
        "inspect",
        help="list the datasets of an NSID-HDF5 file",
        description="List the NSID datasets of FILE (HDF5 path, data type, shape, "
        "dimensions with types and units). With data options, also show the "
        "structure image, spectra and candidates they select.",
    )
    inspect.add_argument("file", metavar="FILE")
    add_data_options(inspect)
    inspect.set_defaults(func=cmd_inspect)

    synth = sub.add_parser(
        "synth",
        help="write the synthetic PFM sample",
        description="Write a seeded synthetic ferroelectric sample: a domain "
        "image and hysteresis loops on a coarser grid, as NSID-HDF5.",
    )
    synth.add_argument("--out", required=True, metavar="FILE", help="file to write")
    synth.add_argument(
        "--size",
        type=_shape,
        default=(32, 32),
        metavar="N|NYxNX",
        help="spectral grid (default 32)",
    )
    synth.add_argument(
        "--image-size",
        type=_shape,
        default=(128, 128),
        metavar="N|NYxNX",
        help="structure image resolution (default 128)",
    )
    synth.add_argument("--n-bias", type=int, default=64, help="bias steps per loop")
    synth.add_argument("--noise", type=float, default=0.03, help="noise std")
    synth.add_argument("--seed", type=int, default=0)
    synth.set_defaults(func=cmd_synth)

    run = sub.add_parser(
        "run",
        help="learn point by point, from a file's spectra or from a microscope",
        description="Learn the structure-property relation with curiosity-"
        "driven sampling. Without --microscope, FILE's spectra are replayed "
        "point by point as if measured; with it, the chosen points are measured "
        "by the microscope. Maps, predicted spectra and the measured points go "
        "to --out and, with --session, every measured point is stored at once "
        "so that --resume can continue after a crash.",
    )
    run.add_argument("file", metavar="FILE", nargs="?", help="the data (NSID-HDF5)")
    add_data_options(run)
    add_run_options(run)
    run.add_argument("--out", metavar="RESULTS.h5", help="write the results here")
    closed = run.add_argument_group("microscope and session")
    closed.add_argument(
        "--microscope",
        metavar="SPEC",
        help="replay | replay:FILE | remote://HOST:PORT | aecroscopy "
        "(default: replay FILE in-process)",
    )
    add_backend_options(closed)
    closed.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="remote: seconds to wait for one reply (default 60)",
    )
    closed.add_argument(
        "--session",
        metavar="SESSION.h5",
        help="new session file: every measured point is stored and flushed "
        "before the next decision",
    )
    closed.add_argument(
        "--overwrite", action="store_true", help="replace an existing --session file"
    )
    closed.add_argument(
        "--resume",
        metavar="SESSION.h5",
        help="continue a session (settings and data as stored; --budget may "
        "raise the budget)",
    )
    closed.add_argument(
        "--pipeline",
        action="store_true",
        help="decide the next points while the microscope measures",
    )
    run.add_argument("--figure", metavar="PNG", help="also save a summary figure")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser(
        "serve",
        help="serve a microscope to remote clients over Pyro5",
        description="Run on the microscope's computer: expose measure, "
        "capabilities and acquire_image of a backend over Pyro5 to clients "
        "(run --microscope remote://HOST:PORT). Binds to loopback unless --host "
        "says otherwise; with --token-file every call must carry the token.",
    )
    serve.add_argument(
        "file", metavar="FILE", nargs="?", help="replay: the data to serve"
    )
    serve.add_argument("--backend", choices=("replay", "aecroscopy"), default="replay")
    add_data_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind to")
    serve.add_argument("--port", type=int, default=9091, help="TCP port (0: any)")
    serve.add_argument(
        "--max-points", type=int, default=256, help="most points per request"
    )
    serve.add_argument(
        "--max-bytes",
        type=int,
        default=16 * 2**20,
        help="most bytes of array data per request",
    )
    add_backend_options(serve)
    serve.add_argument("--seed", type=int, default=0, help="replay: noise seed")
    serve.set_defaults(func=cmd_serve)

    bench = sub.add_parser(
        "benchmark",
        help="compare sampling strategies over many trials",
        description="Replay FILE with each strategy for several seeded trials "
        "(tasks on dask.distributed), score every strategy with the same fixed "
        "Im2spec trained on the points it measured, and report learning curves, "
        "Welch t-tests and sample efficiency against random sampling.",
    )
    bench.add_argument("file", metavar="FILE")
    add_data_options(bench)
    bench.add_argument(
        "--strategies",
        default="random,grid,sobol,ensemble,autoencoder,autoencoder-mcd",
        help="comma-separated: random, grid, sobol, lhs, dkl, ensemble, "
        "autoencoder, autoencoder-mcd",
    )
    bench.add_argument("--trials", type=int, default=10, help="trials per strategy")
    bench.add_argument("--budget", type=int, default=200, help="measurements")
    bench.add_argument(
        "--init",
        type=_count_or_fraction,
        default=30,
        help="initial points: a count or a fraction (default 30)",
    )
    bench.add_argument("--batch", type=int, default=1, help="points per iteration")
    bench.add_argument(
        "--eval-every", type=int, default=10, help="score every K measurements"
    )
    bench.add_argument(
        "--yardstick-epochs",
        type=int,
        default=100,
        help="epochs of the yardstick Im2spec at each checkpoint",
    )
    bench.add_argument("--seed", type=int, default=0, help="seed of the first trial")
    where = bench.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, help="local cluster size (default: cores)"
    )
    where.add_argument("--scheduler", metavar="ADDRESS", help="a running scheduler")
    bench.add_argument("--threads", type=int, help="torch threads per trial (1)")
    bench.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    bench.add_argument("--json", metavar="OUT.json", help="write the report")
    bench.add_argument("--plot", metavar="OUT.png", help="write the figure")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")
    bench.set_defaults(func=cmd_benchmark)

    demo = sub.add_parser(
        "demo",
        help="curiosity vs random sampling on the synthetic sample",
        description="Write the synthetic sample, run a curiosity workflow "
        "(--workflow ensemble or autoencoder) and random sampling with the same "
        "models on it, and save both results and a figure in --out.",
    )
    demo.add_argument("--out", default="demo_out", metavar="DIR")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_run_options(demo)
    # lighter than the published settings, to finish in a few minutes on a laptop
    demo.set_defaults(
        func=cmd_demo,
        patch=16,
        border="valid",
        init=40,
        budget=120,
        batch=4,
        channels=8,
        ensemble_epochs=60,
    )
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO
    if verbosity > 1:
        level = logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    warnings.filterwarnings("ignore", category=FutureWarning, module="pyNSID")
    try:
        return args.func(args)
    except CuriosityError as exc:
        print(f"pycroscopy-curiosity {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
