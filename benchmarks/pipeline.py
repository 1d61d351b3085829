"""Instrument idle fraction with and without pipelining.

A replay microscope that takes ``--delay`` seconds (1 s by default) per
point measures the published PbTiO3 data (``norm_polarization.npy``, image =
step 25, spectra = steps 49 to 98, 9 x 9 patches; the synthetic sample when
the file is absent). Each workflow measures 30 random initial points and
then ``--iterations`` single points, once deciding between measurements and
once deciding while the microscope measures (``run(pipeline=True)``).

The idle fraction is the share of wall time between the start of the first
and the end of the last microscope call during which the microscope waited.
It is reported over the whole run and over the steady state (from the third
call on, after the initial points and the first full training). Every run
has a fresh process. Run::

    python benchmarks/pipeline.py --threads 2 --json benchmarks/results/pipeline.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ensemble_paper import DATA, load_paper_data  # noqa: E402


def one(workflow: str, pipeline: bool, args) -> dict:
    from pycroscopy_curiosity.data.exploration import ExplorationData
    from pycroscopy_curiosity.data.synthetic import make_synthetic_sample
    from pycroscopy_curiosity.explorer import CuriosityExplorer, idle_fraction
    from pycroscopy_curiosity.microscope import ReplayMicroscope

    if Path(args.data).exists():
        data = ExplorationData.from_sidpy(
            load_paper_data(Path(args.data)), image_index=25, spectral_range="49:99"
        )
        patch, source = 9, Path(args.data).name
    else:
        sample = make_synthetic_sample(
            grid_shape=(41, 41), image_shape=(164, 164), seed=0
        )
        data = ExplorationData.from_sidpy(sample.spectra, sample.image)
        patch, source = 16, "synthetic 41 x 41"
    microscope = ReplayMicroscope(data, delay=args.delay)
    explorer = CuriosityExplorer(
        data,
        workflow=workflow,
        patch=patch,
        init=30,
        budget=30 + args.iterations,
        seed=args.seed,
        measure=microscope,
        threads=args.threads,
        **({"init_design": "random"} if workflow == "autoencoder" else {}),
    )
    start = time.perf_counter()
    explorer.run(pipeline=pipeline)
    wall = time.perf_counter() - start
    calls = explorer.instrument_log
    return {
        "workflow": workflow,
        "pipeline": pipeline,
        "data": source,
        "delay_s": args.delay,
        "measurements": explorer.n_measured,
        "calls": len(calls),
        "wall_s": wall,
        "idle_fraction": idle_fraction(calls),
        "steady_idle_fraction": idle_fraction(sorted(calls)[2:]),
        "measuring_s": float(sum(e - s for s, e in calls)),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workflows", default="ensemble,autoencoder")
    parser.add_argument("--json", default="benchmarks/results/pipeline.json")
    args = parser.parse_args(argv)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    rows = []
    spawn = multiprocessing.get_context("spawn")
    for workflow in args.workflows.split(","):
        for pipeline in (False, True):
            # a fresh process each, so no run inherits another's warm-up
            with ProcessPoolExecutor(1, mp_context=spawn) as pool:
                row = pool.submit(one, workflow, pipeline, args).result()
            rows.append(row)
            print(
                f"{workflow:12s} pipeline={str(pipeline):5s} idle "
                f"{100 * row['idle_fraction']:5.1f} % (steady "
                f"{100 * row['steady_idle_fraction']:5.1f} %), wall "
                f"{row['wall_s']:6.1f} s for {row['measurements']} points",
                flush=True,
            )
    print()
    print("| workflow | pipelining | idle, whole run | idle, steady state | wall s |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print(
            f"| {r['workflow']} | {'yes' if r['pipeline'] else 'no'} | "
            f"{100 * r['idle_fraction']:.1f} % | "
            f"{100 * r['steady_idle_fraction']:.1f} % | {r['wall_s']:.1f} |"
        )
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        meta = {"settings": vars(args), "rows": rows}
        Path(args.json).write_text(json.dumps(meta, indent=2, default=float))
        print(f"\nwritten: {args.json}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
