"""Workflow B on the published PbTiO3 data: random vs curiosity vs MC dropout.

Settings as published: ``norm_polarization.npy`` (49 x 49 x 99), structure
image = step 25, spectra = steps 49 to 98, 9 x 9 patches (41 x 41
candidates), 30 initial points, 200 measurements in all. Every strategy
trains the same autoencoder, Im2spec and error predictor; they differ only in
which points they measure:

- ``random``: random initial points, then random points;
- ``curiosity``: k-means initial points, then the scheduled acquisition with
  ``sigma = 0``;
- ``curiosity-mcd``: the same with the MC-dropout spread, ``sigma = 2``;
- ``curiosity-plateau``: ``curiosity`` with learning-plateau down-weighting;
- ``curiosity-random-init``: ``curiosity`` with 30 random initial points
  instead of the k-means design.

After every 10 measurements the Im2spec is scored against the measured
spectra of all candidates. Run (about 20 minutes on 2 cores)::

    python benchmarks/autoencoder_paper.py --seeds 10 --workers 2 \
        --json benchmarks/results/autoencoder_paper.json

Prints a table and writes the JSON given by ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from ensemble_paper import (
    DATA,
    DATA_OPTIONS,
    completed_trials,
    dataset_record,
    load_paper_data,
)

STRATEGIES = {
    "random": {"selection": "random", "init_design": "random"},
    "curiosity": {"sigma": 0.0},
    "curiosity-mcd": {"sigma": 2.0},
    "curiosity-plateau": {"sigma": 0.0, "plateau": True},
    "curiosity-random-init": {"sigma": 0.0, "init_design": "random"},
}
PARTS = ("training", "error_model", "inference", "acquisition")


def one_trial(strategy: str, seed: int, path: str, budget: int, init: int) -> dict:
    """Run one strategy with one seed; return its curve and timings."""
    import torch

    torch.set_num_threads(1)
    from pycroscopy_curiosity.explorer import CuriosityExplorer

    start = time.perf_counter()
    explorer = CuriosityExplorer(
        load_paper_data(Path(path)),
        workflow="autoencoder",
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
    times = explorer.strategy.times[1:]  # the first fit on the initial points
    seconds = {p: float(np.median([getattr(t, p) for t in times])) for p in PARTS}
    seconds["total"] = float(np.median([t.total() for t in times]))
    curve = explorer.history
    return {
        "strategy": strategy,
        "seed": seed,
        "curve": curve,
        "final_mse_sum": curve[-1]["mse_sum"],
        "min_mse_sum": min(h["mse_sum"] for h in curve),
        "final_top10_mse": curve[-1]["top10_mse"],
        "seconds_per_iteration": seconds,
        "autoencoder_seconds": explorer.strategy.autoencoder_seconds,
        "wall_seconds": time.perf_counter() - start,
    }


def summarise(trials: list[dict]) -> tuple[dict, dict]:
    """Per-strategy means and spreads, and Welch t-tests against random."""
    from scipy.stats import ttest_ind

    summary, comparisons = {}, {}
    keys = ("final_mse_sum", "min_mse_sum", "final_top10_mse")
    for name in STRATEGIES:
        runs = [t for t in trials if t["strategy"] == name]
        if not runs:
            continue
        entry = {"trials": len(runs), "n": [h["n"] for h in runs[0]["curve"]]}
        for key in keys:
            values = np.array([r[key] for r in runs])
            entry[key] = {"mean": float(values.mean()), "std": float(values.std())}
        for metric in ("mse_sum", "top10_mse"):
            values = np.array([[h[metric] for h in r["curve"]] for r in runs])
            entry[f"curve_{metric}"] = {
                "mean": values.mean(0).tolist(),
                "std": values.std(0).tolist(),
            }
        entry["median_seconds"] = {
            p: float(np.median([r["seconds_per_iteration"][p] for r in runs]))
            for p in (*PARTS, "total")
        }
        summary[name] = entry
    base = [t for t in trials if t["strategy"] == "random"]
    for name in summary:
        if name == "random" or len(base) < 2:
            continue
        runs = [t for t in trials if t["strategy"] == name]
        comparisons[name] = {
            f"welch_p_{key}": float(
                ttest_ind(
                    [r[key] for r in runs], [r[key] for r in base], equal_var=False
                ).pvalue
            )
            for key in keys
        }
    return summary, comparisons


def print_table(summary: dict, comparisons: dict) -> None:
    print("\nper strategy, mean +- std over seeds (41 x 41 candidates)")
    head = ("final MSE sum", "min MSE sum", "ten-worst mean", "p final", "p 10w")
    print("strategy".ljust(18) + "".join(f"{h:>20}" for h in head))
    for name, s in summary.items():
        row = name.ljust(18)
        for key in ("final_mse_sum", "min_mse_sum", "final_top10_mse"):
            row += f"{s[key]['mean']:>11.3f} +- {s[key]['std']:<5.3f}"
        c = comparisons.get(name)
        if c:
            row += f"{c['welch_p_final_mse_sum']:>20.3g}"
            row += f"{c['welch_p_final_top10_mse']:>20.3g}"
        print(row)
    print("\nmedian seconds per iteration (1 torch thread per worker)")
    print("strategy".ljust(18) + "".join(f"{p:>13}" for p in (*PARTS, "total")))
    for name, s in summary.items():
        t = s["median_seconds"]
        print(name.ljust(18) + "".join(f"{t[p]:>13.4f}" for p in (*PARTS, "total")))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="seeds run are first-seed, first-seed + 1, ... (fresh seeds for a "
        "confirmation run)",
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="JSON",
        help="also summarise the trials of an earlier result file (repeatable; "
        "a strategy and seed run again here replaces the earlier trial)",
    )
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--init", type=int, default=30)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--json", default="benchmarks/results/autoencoder_paper.json")
    args = parser.parse_args(argv)
    if not Path(args.data).exists():
        print(f"skipped: {args.data} not found")
        return 0
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(s, seed) for seed in seeds for s in args.strategies.split(",")]
    trials = []
    for done, result in completed_trials(one_trial, jobs, args):
        trials.append(result)
        print(
            f"[{done}/{len(jobs)}] {result['strategy']} seed {result['seed']}: "
            f"final summed MSE {result['final_mse_sum']:.2f}, ten-worst "
            f"{result['final_top10_mse']:.4f}, "
            f"{result['seconds_per_iteration']['total']:.3f} s/iteration "
            f"({result['wall_seconds']:.0f} s)",
            flush=True,
        )
    fresh_summary, fresh_comparisons = summarise(trials)
    print(f"\nseeds {seeds.start} to {seeds.stop - 1}")
    print_table(fresh_summary, fresh_comparisons)
    ran = {(t["strategy"], t["seed"]) for t in trials}
    for path in args.include:
        record = json.loads(Path(path).read_text())
        setting = {k: record["settings"].get(k) for k in ("budget", "init", "patch")}
        if setting != {"budget": args.budget, "init": args.init, "patch": 9}:
            parser.error(
                f"--include {path}: its trials ran with {setting}, not with "
                f"budget {args.budget}, init {args.init}, patch 9"
            )
        earlier = record["trials"]
        trials += [t for t in earlier if (t["strategy"], t["seed"]) not in ran]
        ran |= {(t["strategy"], t["seed"]) for t in earlier}
    summary, comparisons = summarise(trials)
    if args.include:
        print(f"\nwith the trials of {', '.join(args.include)}")
        print_table(summary, comparisons)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    record = {
        "dataset": dataset_record(args.data),
        "settings": {
            "patch": 9,
            "init": args.init,
            "budget": args.budget,
            "seeds": args.seeds,
            "first_seed": args.first_seed,
            "included": args.include,
            "torch_threads_per_worker": 1,
            "workers": args.workers,
            "strategies": STRATEGIES,
        },
        "strategies": summary,
        "comparisons": comparisons,
        "fresh_seeds": {
            "strategies": fresh_summary,
            "comparisons": fresh_comparisons,
        },
        "trials": sorted(trials, key=lambda t: (t["strategy"], t["seed"])),
    }
    Path(args.json).write_text(json.dumps(record, indent=1))
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
