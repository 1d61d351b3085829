"""Decision latency and peak memory of both workflows against problem size.

For 41 x 41, 128 x 128 and 256 x 256 candidate grids of the synthetic sample
(16 x 16 patches, ``reflect`` border so that every grid point is a
candidate), each workflow measures 30 random initial points and then runs
``--iterations`` iterations of one point; the decision latency of an
iteration is the time from a new spectrum to the next point (model update,
error-model update, inference on all candidates, acquisition), split into
its parts. The ensemble workflow is timed on best-model updates
(``ensemble_fraction = 0``); a full ensemble retraining is reported
separately as the set-up cost, like the autoencoder's one-off training.
Growth with the number of measured points is measured on the 41 x 41 grid at
50, 100 and 200 measured points.

Every configuration runs in a fresh process, so its peak resident memory
(``ru_maxrss``) is its own; on a GPU the peak allocated GPU memory is
reported too. Run::

    python benchmarks/speed.py --threads 2 --json benchmarks/results/speed.json

and on a machine with a GPU add ``--device cuda``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SIZES = (41, 128, 256)
WORKFLOWS = ("ensemble", "autoencoder")
PARTS = ("training", "error_model", "inference", "acquisition")


def one(
    workflow: str,
    size: int,
    measured: int,
    iterations: int,
    threads: int,
    device: str,
    architecture: str | None = None,
) -> dict:
    """Time one configuration in this process."""
    import torch

    torch.set_num_threads(threads)
    from pycroscopy_curiosity.data.exploration import ExplorationData
    from pycroscopy_curiosity.data.synthetic import make_synthetic_sample
    from pycroscopy_curiosity.explorer import CuriosityExplorer

    sample = make_synthetic_sample(
        grid_shape=(size, size), image_shape=(4 * size, 4 * size), seed=0
    )
    data = ExplorationData.from_sidpy(sample.spectra, sample.image)
    options = {"device": device}
    if workflow == "ensemble":
        options["ensemble_fraction"] = 0.0
        if architecture:
            options["architectures"] = (architecture,)
    start = time.perf_counter()
    explorer = CuriosityExplorer(
        data,
        workflow=workflow,
        patch=16,
        border="reflect",
        init=measured,
        budget=measured + iterations,
        seed=0,
        **options,
    )
    explorer.step()  # the initial points and the first fit
    setup = time.perf_counter() - start
    decisions = []
    for _ in range(iterations):
        tick = time.perf_counter()
        explorer.step()
        decisions.append(time.perf_counter() - tick)
    times = explorer.strategy.times[1:]
    out = {
        "workflow": workflow,
        "candidates": len(explorer.candidates),
        "grid": size,
        "measured": measured,
        "iterations": iterations,
        "threads": threads,
        "device": device,
        "setup_seconds": setup,
        "decision_seconds": float(np.median(decisions)),
        "parts": {p: float(np.median([getattr(t, p) for t in times])) for p in PARTS},
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if workflow == "ensemble":
        out["best_architecture"] = explorer.strategy.state.best
    if device.startswith("cuda"):
        out["peak_gpu_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def run_child(args: argparse.Namespace, workflow: str, size: int, measured: int):
    command = [
        sys.executable,
        __file__,
        "--one",
        workflow,
        str(size),
        str(measured),
        "--iterations",
        str(args.iterations),
        "--threads",
        str(args.threads),
        "--device",
        args.device,
    ]
    if args.architecture:
        command += ["--architecture", args.architecture]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return {
            "workflow": workflow,
            "grid": size,
            "measured": measured,
            "error": done.stderr.strip().splitlines()[-1:],
        }
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--one", nargs=3, metavar=("WORKFLOW", "SIZE", "MEASURED"))
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--workflows", default=",".join(WORKFLOWS))
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--measured",
        default="50,100,200",
        help="measured points of the growth rows (41 x 41 grid); empty: none",
    )
    parser.add_argument(
        "--architecture",
        help="ensemble: train only this Im2spec (default: all five)",
    )
    parser.add_argument("--json", default="benchmarks/results/speed.json")
    args = parser.parse_args(argv)
    if args.one:
        workflow, size, measured = args.one
        result = one(
            workflow,
            int(size),
            int(measured),
            args.iterations,
            args.threads,
            args.device,
            args.architecture,
        )
        print(json.dumps(result))
        return 0
    workflows = args.workflows.split(",")
    configs = [(w, int(s), 30) for w in workflows for s in args.sizes.split(",") if s]
    configs += [
        (w, 41, int(m)) for w in workflows for m in args.measured.split(",") if m
    ]
    rows = []
    head = (
        f"{'workflow':<12}{'candidates':>11}{'measured':>9}{'decision s':>11}"
        + "".join(f"{p:>12}" for p in PARTS)
        + f"{'set-up s':>10}{'peak MiB':>10}"
    )
    print(head, flush=True)
    for workflow, size, measured in configs:
        row = run_child(args, workflow, size, measured)
        rows.append(row)
        if "error" in row:
            print(
                f"{workflow:<12}{size * size:>11}{measured:>9}  failed: {row['error']}"
            )
            continue
        print(
            f"{workflow:<12}{row['candidates']:>11}{measured:>9}"
            f"{row['decision_seconds']:>11.3f}"
            + "".join(f"{row['parts'][p]:>12.3f}" for p in PARTS)
            + f"{row['setup_seconds']:>10.1f}{row['peak_rss_mib']:>10.0f}"
            + f"  {row.get('best_architecture', '')}",
            flush=True,
        )
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"rows": rows}, indent=1))
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
