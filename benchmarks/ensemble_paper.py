"""Workflow A on the published PbTiO3 data: random vs beta = 0, 0.5 and 1.

Settings as published: ``norm_polarization.npy`` (49 x 49 x 99), structure
image = step 25, spectra = steps 49 to 98, 9 x 9 patches (41 x 41
candidates), 30 random initial points, 200 measurements in all. Every
strategy trains the same Im2spec ensemble; they differ only in which points
they measure ("random" picks uniformly). After every 10 measurements the
best Im2spec is scored against the measured spectra of all candidates.

Run::

    python benchmarks/ensemble_paper.py --seeds 5 --workers 2 \
        --json benchmarks/results/ensemble_paper.json

One trial takes about 8 minutes on one CPU thread (the ensemble is retrained
from scratch about 18 times). Every finished trial is kept in ``--cache``
(one JSON file per strategy and seed) and not run again, so an interrupted
benchmark continues where it stopped; the table and ``--json`` summarise the
cached trials of the strategies and seeds asked for.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "norm_polarization.npy"
# the published choice: structure image = step 25, spectra = steps 49 to 98
DATA_OPTIONS = {"image_index": 25, "spectral_range": "49:99"}
STRATEGIES = {
    "random": {"workflow": "random"},
    "beta=0": {"beta": 0.0},
    "beta=0.5": {"beta": 0.5},
    "beta=1": {"beta": 1.0},
}


def load_paper_data(path: Path):
    """The published array as a sidpy spectral image (dims x, y, step)."""
    import sidpy

    values = np.load(path).astype(np.float32)
    ds = sidpy.Dataset.from_array(values, title="norm_polarization")
    ds.data_type = "SPECTRAL_IMAGE"
    ds.quantity, ds.units = "Polarization", "a.u."
    ds.set_dimension(
        0, sidpy.Dimension(np.arange(values.shape[0]), "x", "x", "pixel", "SPATIAL")
    )
    ds.set_dimension(
        1, sidpy.Dimension(np.arange(values.shape[1]), "y", "y", "pixel", "SPATIAL")
    )
    ds.set_dimension(
        2,
        sidpy.Dimension(
            np.arange(values.shape[2]), "step", "DC bias step", "a.u.", "SPECTRAL"
        ),
    )
    return ds


def dataset_record(path) -> dict:
    """The data file and the published image and spectral choice, for JSON."""
    return {"file": str(path), "image_index": 25, "spectral_range": [49, 99]}


def completed_trials(one_trial, jobs, args):
    """Run ``one_trial(strategy, seed, data, budget, init)`` for every
    ``(strategy, seed)`` of ``jobs`` in ``args.workers`` processes; yield
    ``(count, result)`` as trials finish."""
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [
            pool.submit(one_trial, s, seed, args.data, args.budget, args.init)
            for s, seed in jobs
        ]
        for done, future in enumerate(as_completed(futures), 1):
            yield done, future.result()


def one_trial(strategy: str, seed: int, path: str, budget: int, init: int) -> dict:
    """Run one strategy with one seed; return its curve and timings."""
    import torch

    torch.set_num_threads(1)
    from pycroscopy_curiosity.explorer import CuriosityExplorer

    start = time.perf_counter()
    explorer = CuriosityExplorer(
        load_paper_data(Path(path)),
        data_options=DATA_OPTIONS,
        patch=9,
        init=init,
        budget=budget,
        batch=1,
        seed=seed,
        eval_every=10,
        **STRATEGIES[strategy],
    )
    explorer.run()
    times = explorer.strategy.times[1:]
    parts = ("training", "error_model", "inference", "acquisition")
    updates = [t for t in times if not t.ensemble]
    full = [t for t in times if t.ensemble]
    return {
        "strategy": strategy,
        "seed": seed,
        "curve": explorer.history,
        "seconds_per_iteration": {
            "update_only": {
                p: float(np.median([getattr(t, p) for t in updates])) for p in parts
            }
            | {"total": float(np.median([t.total() for t in updates]))},
            "with_ensemble_training": float(np.median([t.total() for t in full]))
            if full
            else None,
            "ensemble_iterations": len(full),
        },
        "wall_seconds": time.perf_counter() - start,
    }


def summarise(trials: list[dict]) -> dict:
    """Mean and standard deviation of each metric at each checkpoint."""
    out = {}
    for name in STRATEGIES:
        runs = [t for t in trials if t["strategy"] == name]
        if not runs:
            continue
        ns = [h["n"] for h in runs[0]["curve"]]
        table = {}
        for metric in ("mse_sum", "mse_mean", "top10_mse"):
            values = np.array([[h[metric] for h in r["curve"]] for r in runs])
            table[metric] = {
                "mean": values.mean(0).tolist(),
                "std": values.std(0).tolist(),
            }
        upd = [r["seconds_per_iteration"]["update_only"] for r in runs]
        out[name] = {
            "n": ns,
            "trials": len(runs),
            "curves": table,
            "median_seconds_update_only": {
                k: float(np.median([u[k] for u in upd])) for k in upd[0]
            },
        }
    return out


def compare(summary: dict, trials: list[dict]) -> dict:
    """Against random: Welch t-test of the final summed MSE, and whether the
    mean summed MSE stays below random's from 100 measurements on."""
    from scipy.stats import ttest_ind

    if "random" not in summary:
        return {}
    base = summary["random"]["curves"]["mse_sum"]["mean"]
    finals = {
        name: [t["curve"][-1]["mse_sum"] for t in trials if t["strategy"] == name]
        for name in summary
    }
    out = {}
    for name in summary:
        if name == "random":
            continue
        ns = summary[name]["n"]
        mean = summary[name]["curves"]["mse_sum"]["mean"]
        late = [i for i, n in enumerate(ns) if n >= 100]
        p = (
            float(ttest_ind(finals[name], finals["random"], equal_var=False).pvalue)
            if min(len(finals[name]), len(finals["random"])) >= 2
            else None
        )
        out[name] = {
            "welch_p_final_mse_sum": p,
            "below_random_from_100": bool(all(mean[i] < base[i] for i in late)),
        }
    return out


def print_table(summary: dict) -> None:
    names = list(summary)
    ns = summary[names[0]]["n"]
    print("\nsummed per-pixel MSE over the 41 x 41 candidates (mean +- std over seeds)")
    print("n".rjust(5) + "".join(f"{name:>20}" for name in names))
    for i, n in enumerate(ns):
        row = f"{n:5d}"
        for name in names:
            c = summary[name]["curves"]["mse_sum"]
            row += f"{c['mean'][i]:>12.2f} +- {c['std'][i]:<5.2f}"
        print(row)
    print(
        "\nmedian seconds per update-only iteration (2 CPU cores shared by the workers)"
    )
    parts = ("training", "error_model", "inference", "acquisition", "total")
    print("strategy".ljust(10) + "".join(f"{p:>13}" for p in parts))
    for name in names:
        s = summary[name]["median_seconds_update_only"]
        print(name.ljust(10) + "".join(f"{s[p]:>13.4f}" for p in parts))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--init", type=int, default=30)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--json", default="benchmarks/results/ensemble_paper.json")
    parser.add_argument(
        "--cache",
        default="benchmarks/results/ensemble_paper_trials",
        help="folder of finished trials (one JSON each), reused on the next run",
    )
    args = parser.parse_args(argv)
    if not Path(args.data).exists():
        print(f"skipped: {args.data} not found")
        return 0
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    wanted = [
        (s, seed) for seed in range(args.seeds) for s in args.strategies.split(",")
    ]

    def cached(s: str, seed: int) -> Path:
        return cache / f"{s}_seed{seed}.json"

    jobs = [job for job in wanted if not cached(*job).exists()]
    print(f"{len(wanted) - len(jobs)} of {len(wanted)} trials cached in {cache}")
    for done, result in completed_trials(one_trial, jobs, args):
        s, seed = result["strategy"], result["seed"]
        cached(s, seed).write_text(json.dumps(result))
        final = result["curve"][-1]["mse_sum"]
        print(
            f"[{done}/{len(jobs)}] {s} seed {seed}: final summed MSE {final:.2f} "
            f"({result['wall_seconds']:.0f} s)",
            flush=True,
        )
    trials = [json.loads(cached(*job).read_text()) for job in wanted]
    summary = summarise(trials)
    comparisons = compare(summary, trials)
    print_table(summary)
    for name, c in comparisons.items():
        print(
            f"{name}: below random from 100 measurements on: "
            f"{c['below_random_from_100']}; Welch p (final summed MSE) "
            f"{c['welch_p_final_mse_sum']}"
        )
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    record = {
        "dataset": dataset_record(args.data),
        "settings": {
            "patch": 9,
            "init": args.init,
            "budget": args.budget,
            "seeds": args.seeds,
            "torch_threads_per_worker": 1,
            "workers": args.workers,
        },
        "strategies": summary,
        "comparisons": comparisons,
        "trials": sorted(trials, key=lambda t: (t["strategy"], t["seed"])),
    }
    Path(args.json).write_text(json.dumps(record, indent=1))
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
