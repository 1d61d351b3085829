"""Statistics over trials, the JSON report and its figure.

The JSON keeps a stable layout: top-level ``dataset``, ``settings``,
``strategies`` and ``comparisons``; ``strategies[name]`` holds ``trials``
(each with ``seed``, ``curve`` and ``seconds_per_iteration``), ``failed``
and ``summary``; ``comparisons[name]`` holds ``welch_p_vs_random`` and
``efficiency_vs_random``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

__all__ = [
    "CURVE_KEYS",
    "compare",
    "efficiency",
    "plot_report",
    "summarise",
    "table",
    "write_json",
]

#: Metrics kept for every checkpoint of a trial's curve in the JSON.
CURVE_KEYS = (
    "n",
    "mse_sum",
    "mse_mean",
    "l1_sum",
    "l1_mean",
    "unmeasured_mse_sum",
    "unmeasured_mse_mean",
    "unmeasured_l1_sum",
    "unmeasured_l1_mean",
    "top10_mse",
)


def _stats(values) -> dict[str, float]:
    values = np.asarray(values, dtype=float)
    return {"mean": float(values.mean()), "std": float(values.std())}


def summarise(trials: list[dict]) -> dict:
    """Mean and spread over the trials of one strategy.

    Returns
    -------
    dict
        ``trials`` (count), ``final`` and ``minimum`` (``{metric: {mean,
        std}}``), ``curve`` (``n`` and per-metric ``mean`` and ``std`` lists)
        and ``median_seconds_per_iteration`` (whole decision and parts).
    """
    if not trials:
        return {"trials": 0}
    metrics = list(trials[0]["final"])
    out = {
        "trials": len(trials),
        "final": {m: _stats([t["final"][m] for t in trials]) for m in metrics},
        "minimum": {m: _stats([t["minimum"][m] for t in trials]) for m in metrics},
    }
    length = min(len(t["curve"]) for t in trials)
    curve = {"n": [trials[0]["curve"][i]["n"] for i in range(length)]}
    for m in metrics:
        values = np.array([[t["curve"][i][m] for i in range(length)] for t in trials])
        curve[m] = {"mean": values.mean(0).tolist(), "std": values.std(0).tolist()}
    out["curve"] = curve
    parts = trials[0]["seconds_per_iteration"]
    out["median_seconds_per_iteration"] = {
        p: float(np.median([t["seconds_per_iteration"][p] for t in trials]))
        for p in parts
    }
    return out


def efficiency(summary: dict, baseline: dict, budget: int) -> float | None:
    """Measurements needed to reach the baseline's final mean error, over its
    budget.

    The strategy's mean curve of ``mse_mean`` is read at its checkpoints; the
    first checkpoint at or below the baseline's final mean ``mse_mean`` gives
    the count. ``None`` when it never gets there.
    """
    target = baseline["final"]["mse_mean"]["mean"]
    for n, value in zip(
        summary["curve"]["n"], summary["curve"]["mse_mean"]["mean"], strict=True
    ):
        if value <= target:
            return n / budget
    return None


def compare(report_strategies: dict, budget: int) -> dict:
    """Welch t-test of the final summed MSE and efficiency, against random."""
    from scipy.stats import ttest_ind

    base = report_strategies.get("random")
    if base is None or not base["trials"]:
        return {}
    base_final = [t["final"]["mse_sum"] for t in base["trials"]]
    out = {}
    for name, entry in report_strategies.items():
        if name == "random" or not entry["trials"]:
            continue
        final = [t["final"]["mse_sum"] for t in entry["trials"]]
        p = None
        if len(final) >= 2 and len(base_final) >= 2:
            value = float(ttest_ind(final, base_final, equal_var=False).pvalue)
            p = None if math.isnan(value) else value
        out[name] = {
            "welch_p_vs_random": p,
            "efficiency_vs_random": efficiency(
                entry["summary"], base["summary"], budget
            ),
            "final_mse_sum_difference": float(np.mean(final) - np.mean(base_final)),
        }
    return out


def write_json(report: dict, path: str | Path) -> None:
    """Write the report as indented JSON (NaN written as null)."""

    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    Path(path).write_text(json.dumps(clean(report), indent=1))


def table(report: dict) -> str:
    """A plain-text table of the report, one line per strategy."""
    head = (
        f"{'strategy':<16}{'trials':>7}{'final MSE sum':>22}{'min MSE sum':>22}"
        f"{'ten-worst':>20}{'p vs random':>13}{'efficiency':>12}{'s/iter':>9}"
    )
    lines = [head]
    for name, entry in report["strategies"].items():
        s = entry["summary"]
        if not s.get("trials"):
            lines.append(f"{name:<16}{0:>7}  (all trials failed)")
            continue
        c = report["comparisons"].get(name, {})
        p = c.get("welch_p_vs_random")
        e = c.get("efficiency_vs_random")

        def cell(block, metric):
            return f"{block[metric]['mean']:.4g} +- {block[metric]['std']:.2g}"

        lines.append(
            f"{name:<16}{s['trials']:>7}{cell(s['final'], 'mse_sum'):>22}"
            f"{cell(s['minimum'], 'mse_sum'):>22}{cell(s['final'], 'top10_mse'):>20}"
            f"{('-' if p is None else f'{p:.3g}'):>13}"
            f"{('-' if e is None else f'{e:.2f}'):>12}"
            f"{s['median_seconds_per_iteration']['total']:>9.3f}"
        )
    return "\n".join(lines)


def plot_report(report: dict, data, path: str | Path | None = None):
    """Learning curves with spread bands, histograms of final losses, and one
    trial's exploration path per strategy over the structure image.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    from pycroscopy_curiosity.plotting import _extent

    names = [n for n, e in report["strategies"].items() if e["summary"].get("trials")]
    fig = Figure(figsize=(max(10, 3.2 * len(names)), 8), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.1, 1])
    curves, hist = top.subplots(1, 2)
    colours = {n: f"C{i}" for i, n in enumerate(names)}
    for name in names:
        s = report["strategies"][name]["summary"]
        n = np.asarray(s["curve"]["n"])
        mean = np.asarray(s["curve"]["mse_mean"]["mean"])
        std = np.asarray(s["curve"]["mse_mean"]["std"])
        curves.plot(n, mean, color=colours[name], label=name)
        curves.fill_between(n, mean - std, mean + std, color=colours[name], alpha=0.2)
        finals = [t["final"]["mse_sum"] for t in report["strategies"][name]["trials"]]
        hist.hist(finals, bins=10, alpha=0.5, color=colours[name], label=name)
    curves.set_xlabel("measurements")
    curves.set_ylabel("mean per-pixel MSE, all candidates")
    curves.set_title("learning curves (mean +- std over trials)")
    curves.legend(fontsize="small")
    hist.set_xlabel("final summed MSE")
    hist.set_ylabel("trials")
    hist.set_title("final losses")
    axes = np.atleast_1d(bottom.subplots(1, max(1, len(names))))
    image_extent = _extent(data.image_y.values, data.image_x.values)
    for ax, name in zip(axes, names, strict=False):
        trial = report["strategies"][name]["trials"][0]
        yx = data.grid_coordinates(np.asarray(trial["grid_index"]))
        ax.imshow(data.image, cmap="gray", extent=image_extent)
        ax.plot(yx[:, 1], yx[:, 0], color="white", lw=0.4, alpha=0.5)
        ax.scatter(
            yx[:, 1], yx[:, 0], c=np.arange(len(yx)), cmap="viridis", s=8, zorder=3
        )
        ax.set_title(f"{name} (seed {trial['seed']})", fontsize="small")
        ax.set_xticks([])
        ax.set_yticks([])
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
