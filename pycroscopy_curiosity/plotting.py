"""Figures of a run: exploration path, error and acquisition maps, curves.

Built on :class:`matplotlib.figure.Figure` directly (no pyplot), so it works
without a display and never touches the caller's pyplot state.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["exploration_figure"]


def _extent(y: np.ndarray, x: np.ndarray) -> list[float]:
    """imshow extent with pixel centres at the axis values (rows downwards)."""
    dx = (x[-1] - x[0]) / max(len(x) - 1, 1) if len(x) > 1 else 1.0
    dy = (y[-1] - y[0]) / max(len(y) - 1, 1) if len(y) > 1 else 1.0
    return [x[0] - dx / 2, x[-1] + dx / 2, y[-1] + dy / 2, y[0] - dy / 2]


def exploration_figure(explorer, baseline=None, path: str | Path | None = None):
    """A four-panel summary of a run.

    Parameters
    ----------
    explorer : CuriosityExplorer
        The run to show.
    baseline : CuriosityExplorer, optional
        A run to compare the learning curve with (random sampling, say).
    path : str or path-like, optional
        Where to save a PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    data = explorer.data
    maps = explorer.maps()
    fig = Figure(figsize=(16, 4.2), layout="constrained")
    axes = fig.subplots(1, 4)
    image_extent = _extent(data.image_y.values, data.image_x.values)
    grid_extent = _extent(data.grid_y.values, data.grid_x.values)
    units = data.grid_x.units or "px"

    ax = axes[0]
    ax.imshow(data.image, cmap="gray", extent=image_extent)
    grid_index, _ = explorer.measured_points()
    yx = data.grid_coordinates(grid_index)
    ax.plot(yx[:, 1], yx[:, 0], color="white", lw=0.5, alpha=0.6)
    dots = ax.scatter(
        yx[:, 1],
        yx[:, 0],
        c=np.arange(len(yx)),
        cmap="viridis",
        s=14,
        edgecolors="k",
        linewidths=0.3,
    )
    fig.colorbar(dots, ax=ax, label="measurement order", shrink=0.8)
    ax.set_title(f"exploration path ({explorer.label}, {len(yx)} points)")

    for ax, name, title, cmap in (
        (axes[1], "predicted_error", "predicted error", "magma"),
        (axes[2], "acquisition", "acquisition (bright = measure next)", "inferno"),
    ):
        if name in maps:
            shown = ax.imshow(maps[name], cmap=cmap, extent=grid_extent)
            fig.colorbar(shown, ax=ax, shrink=0.8)
        ax.set_title(title)
    for ax in axes[:3]:
        ax.set_xlabel(f"x ({units})")
        ax.set_ylabel(f"y ({units})")
        ax.set_xlim(image_extent[0], image_extent[1])
        ax.set_ylim(image_extent[2], image_extent[3])

    ax = axes[3]
    for run, style in ((explorer, "-o"), (baseline, "--s")):
        if run is not None and run.history:
            n = [h["n"] for h in run.history]
            ax.plot(
                n, [h["mse_mean"] for h in run.history], style, ms=3, label=run.label
            )
    ax.set_xlabel("measurements")
    ax.set_ylabel("mean per-pixel MSE, all candidates")
    ax.set_yscale("log")
    ax.set_title("surrogate error vs measurements")
    ax.legend()
    if path is not None:
        fig.savefig(path, dpi=110)
        log.info("figure saved to %s", path)
    return fig
