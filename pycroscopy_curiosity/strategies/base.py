"""The interface every way of choosing points implements.

A strategy works on candidate indices ``0 .. n - 1`` (see
:class:`~pycroscopy_curiosity.data.patches.CandidateGrid`). It is asked for
the next ``k`` indices, told the spectra measured at indices, and shows its
current maps. The base class guarantees that :meth:`Strategy.ask` never
proposes a point already measured, off the candidate grid, or twice in one
batch, whatever the subclass does.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from pycroscopy_curiosity.errors import CuriosityError, ParameterError

log = logging.getLogger(__name__)

__all__ = ["IterationTimes", "Strategy", "StrategyError"]


class StrategyError(CuriosityError, RuntimeError):
    """A strategy broke its contract (a bug, reported rather than obeyed)."""


@dataclass
class IterationTimes:
    """Seconds spent in each part of one iteration."""

    training: float = 0.0
    error_model: float = 0.0
    inference: float = 0.0
    acquisition: float = 0.0
    ensemble: bool = False

    def total(self) -> float:
        """Sum of the parts."""
        return self.training + self.error_model + self.inference + self.acquisition


class Strategy(ABC):
    """Base class of all strategies.

    Parameters
    ----------
    n_candidates : int
        Number of candidates.
    n_spec : int
        Length of a spectrum.
    seed : int
        Seeds every random choice of the strategy.

    Attributes
    ----------
    measured : numpy.ndarray
        ``(n,)`` bool, ``True`` where a spectrum was told.
    order : list of int
        Candidate indices in the order they were told.
    spectra : numpy.ndarray
        ``n x L`` told spectra (zeros where not measured).
    """

    #: Short name used in results, logs and the command line.
    name = "strategy"

    def __init__(self, n_candidates: int, n_spec: int, seed: int = 0) -> None:
        if n_candidates < 1:
            raise ParameterError(f"need at least one candidate, got {n_candidates}")
        self.n_candidates = int(n_candidates)
        self.n_spec = int(n_spec)
        self.seed = int(seed)
        self.rng = np.random.default_rng(seed)
        self.measured = np.zeros(self.n_candidates, dtype=bool)
        self.reserved = np.zeros(self.n_candidates, dtype=bool)
        self.order: list[int] = []
        self.spectra = np.zeros((self.n_candidates, self.n_spec), dtype=np.float32)

    @property
    def n_measured(self) -> int:
        """Number of candidates measured so far."""
        return len(self.order)

    @property
    def n_unmeasured(self) -> int:
        """Number of candidates still open."""
        return self.n_candidates - self.n_measured

    @property
    def unavailable(self) -> np.ndarray:
        """``(n,)`` bool: measured, or excluded from the current :meth:`ask`."""
        return self.measured | self.reserved

    def ask(self, k: int = 1, exclude=None) -> np.ndarray:
        """The next ``k`` candidate indices to measure (fewer if fewer remain).

        Parameters
        ----------
        k : int
            Points wanted.
        exclude : array-like of int, optional
            Candidates not to propose although not yet told, for example the
            points a microscope is measuring right now.

        Raises
        ------
        ParameterError
            When ``k < 1`` or every candidate is measured.
        StrategyError
            When the strategy proposed an invalid point (never silently
            passed on to a microscope).
        """
        if isinstance(k, bool) or int(k) != k or k < 1:
            raise ParameterError(f"ask for at least one point, got k={k!r}")
        self.reserved[:] = False
        if exclude is not None:
            self.reserved[np.asarray(exclude, dtype=np.int64).reshape(-1)] = True
        try:
            n_open = int((~self.unavailable).sum())
            if n_open == 0:
                raise ParameterError(
                    f"all {self.n_candidates} candidates are measured or "
                    "excluded; nothing to ask"
                )
            k = min(int(k), n_open)
            proposal = np.asarray(self._propose(k), dtype=np.int64).reshape(-1)
            self._validate(proposal, k)
        finally:
            self.reserved[:] = False
        return proposal

    def _validate(self, proposal: np.ndarray, k: int) -> None:
        if len(proposal) == 0 or len(proposal) > k:
            raise StrategyError(
                f"{self.name} proposed {len(proposal)} points for k={k}"
            )
        if proposal.min() < 0 or proposal.max() >= self.n_candidates:
            raise StrategyError(f"{self.name} proposed a point off the candidate grid")
        if len(np.unique(proposal)) != len(proposal):
            raise StrategyError(f"{self.name} proposed a point twice in one batch")
        if self.measured[proposal].any():
            raise StrategyError(f"{self.name} proposed an already measured point")
        if self.reserved[proposal].any():
            raise StrategyError(f"{self.name} proposed an excluded point")

    def tell(self, indices, spectra) -> None:
        """Record spectra measured at candidate ``indices`` and update.

        Parameters
        ----------
        indices : array-like of int
            ``(m,)`` candidate indices.
        spectra : array-like
            ``m x L`` spectra, in the learners' normalised units.
        """
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        spectra = np.asarray(spectra, dtype=np.float32).reshape(len(indices), -1)
        if spectra.shape[1] != self.n_spec:
            raise ParameterError(
                f"told spectra of length {spectra.shape[1]}; this strategy "
                f"expects {self.n_spec}"
            )
        if len(indices) == 0:
            return
        if indices.min() < 0 or indices.max() >= self.n_candidates:
            raise ParameterError(
                f"told index outside 0..{self.n_candidates - 1}: {indices.tolist()}"
            )
        if len(np.unique(indices)) != len(indices) or self.measured[indices].any():
            raise ParameterError(
                f"told a point that is already measured or repeated: {indices.tolist()}"
            )
        if not np.isfinite(spectra).all():
            raise ParameterError(f"told non-finite spectra at {indices.tolist()}")
        self.measured[indices] = True
        self.order.extend(int(i) for i in indices)
        self.spectra[indices] = spectra
        self._update(indices)

    def random_unmeasured(self, k: int) -> np.ndarray:
        """``k`` distinct open candidates drawn from the strategy's RNG."""
        open_ = np.flatnonzero(~self.unavailable)
        return self.rng.choice(open_, size=min(k, len(open_)), replace=False)

    @abstractmethod
    def _propose(self, k: int) -> np.ndarray:
        """Return ``k`` candidate indices; validated by :meth:`ask`."""

    def _update(self, indices: np.ndarray) -> None:  # noqa: B027 (optional hook)
        """React to new measurements (models are retrained here); optional."""

    def maps(self) -> dict[str, np.ndarray]:
        """Current per-candidate maps (``(n,)`` or ``n x L`` arrays).

        Learning strategies return ``predicted_error``, ``acquisition`` and
        ``predicted_spectra``; the base class only knows ``measured``.
        """
        return {"measured": self.measured.astype(np.float32)}
