"""The spectrum panel: measured and predicted spectrum of one grid point."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from qtpy.QtWidgets import QVBoxLayout, QWidget


def axis_label(name: str, quantity: str, units: str) -> str:
    """``'DC bias (V)'`` from an axis' name, quantity and units."""
    text = quantity or name or "index"
    return f"{text} ({units})" if units else text


def spectra_at(snapshot, data, row: int, col: int) -> dict:
    """What the panel shows at grid point (row, col) of a snapshot: the
    keyword arguments of :meth:`SpectrumPanel.show_spectra`."""
    s = snapshot
    hits = np.flatnonzero(
        (s.measured_index[:, 0] == row) & (s.measured_index[:, 1] == col)
    )
    measured = s.measured_spectra[hits[0]] if hits.size else None
    predicted = None
    if s.predicted is not None:
        values = s.predicted[row, col]
        predicted = values if np.isfinite(values).all() else None
    title = f"grid ({row}, {col})"
    if hits.size:
        k = int(hits[0])
        title += f" · measured #{k} ({s.choosers[k]})"
    axis = data.spectral_axis
    return {
        "grid_index": (row, col),
        "x": axis.values,
        "measured": measured,
        "predicted": predicted,
        "xlabel": axis_label(axis.name, axis.quantity, axis.units),
        "ylabel": axis_label(
            "", data.spectra_quantity or "response", data.spectra_units
        ),
        "title": title,
    }


class SpectrumPanel(QWidget):
    """A matplotlib plot of the spectrum at the selected grid point.

    The data shown stay readable as attributes: ``grid_index`` (row, col),
    ``x`` (the spectral axis values, in acquisition order), ``measured`` and
    ``predicted`` (``(L,)`` arrays in physical units, or ``None``),
    ``xlabel``, ``ylabel`` and ``title``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figure = Figure(figsize=(3.2, 2.2), dpi=100, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setMinimumHeight(180)
        self.axes = self.figure.add_subplot()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.grid_index: tuple[int, int] | None = None
        self.x: np.ndarray | None = None
        self.measured: np.ndarray | None = None
        self.predicted: np.ndarray | None = None
        self.xlabel = ""
        self.ylabel = ""
        self.title = ""
        self.clear()

    def clear(self, message: str = "click a pixel to see its spectrum") -> None:
        """Empty the plot, showing ``message``."""
        self.grid_index = None
        self.measured = self.predicted = self.x = None
        self.title = ""
        self.axes.clear()
        self.axes.text(
            0.5, 0.5, message, ha="center", va="center", transform=self.axes.transAxes
        )
        self.axes.set_xticks([])
        self.axes.set_yticks([])
        self.canvas.draw_idle()

    def show_spectra(
        self,
        grid_index: tuple[int, int],
        x: np.ndarray,
        *,
        measured: np.ndarray | None,
        predicted: np.ndarray | None,
        xlabel: str,
        ylabel: str,
        title: str,
    ) -> None:
        """Plot the measured (when there is one) and predicted spectra."""
        self.grid_index = (int(grid_index[0]), int(grid_index[1]))
        self.x = np.asarray(x, dtype=np.float64)
        self.measured = None if measured is None else np.asarray(measured, float)
        self.predicted = None if predicted is None else np.asarray(predicted, float)
        self.xlabel, self.ylabel, self.title = xlabel, ylabel, title
        ax = self.axes
        ax.clear()
        if self.measured is not None:
            ax.plot(self.x, self.measured, "o-", ms=2.5, lw=1, label="measured")
        if self.predicted is not None:
            ax.plot(self.x, self.predicted, "-", lw=1.5, label="predicted")
        if self.measured is None and self.predicted is None:
            ax.text(
                0.5,
                0.5,
                "no spectrum here yet",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
        else:
            ax.legend(fontsize=7, loc="best")
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=7)
        self.canvas.draw_idle()
