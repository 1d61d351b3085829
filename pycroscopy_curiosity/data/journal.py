"""The session journal: every measured point, appended and flushed at once.

A session file is an NSID-HDF5 file with two parts:

- ``/Session``: the journal, the single source of truth of what was measured.
  Its columns grow by one row per measured point and are flushed to disk (and
  the file closed) before the explorer makes its next decision, so a crash or
  ``kill -9`` at any moment loses at most the point being measured. Points
  sent to the microscope are first written to ``requests`` with their request
  id; a point that was sent but never came back is known on resume and asked
  again with the same request id, which a remote server answers from its
  cache instead of measuring twice.
- ``Results_NNN``: the results as NSID datasets (maps, measured points,
  learning curve), written through
  :func:`~pycroscopy_curiosity.data.results.write_results` whenever the
  session is saved or closed; the newest group is the current one.

The journal's columns, one row per measured point in measurement order:

=============== ========= ====================================================
``candidate``   int64     candidate index (see ``CandidateGrid``)
``grid_index``  int64 x 2 ``(row, col)`` on the spectral grid
``coordinates`` float64x2 physical ``(y, x)`` of the point
``spectra``     float64xL the measured spectrum, physical units
``time``        float64   Unix time the spectrum arrived
``iteration``   int64     the explorer's iteration (0: initial points)
``chooser``     int8      index into the ``choosers`` attribute
``strategy``    int8      index into the ``strategies`` attribute
``request``     S40       the request id it was measured under
=============== ========= ====================================================

``requests`` (``candidate``, ``request``) lists every point sent, before it is
sent. The ``count`` attribute of ``/Session`` is written last on every append:
rows past it belong to an append that a crash interrupted and are ignored.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from pycroscopy_curiosity.errors import DataError, DataFileError

log = logging.getLogger(__name__)

__all__ = ["CHOOSERS", "JOURNAL_GROUP", "Journal", "JournalRecord"]

#: The HDF5 group of the journal.
JOURNAL_GROUP = "Session"

#: Who chose a point.
CHOOSERS = ("initial", "model", "operator")

#: Version of the journal layout.
JOURNAL_VERSION = 1

_REQUEST = "S40"


@dataclass
class JournalRecord:
    """Everything the journal holds, read back (see the module docstring)."""

    config: dict
    candidate: np.ndarray
    grid_index: np.ndarray
    coordinates: np.ndarray
    spectra: np.ndarray
    time: np.ndarray
    iteration: np.ndarray
    chooser: list[str]
    strategy: list[str]
    request: list[str]
    requested: dict[int, str]
    strategies: list[str]

    @property
    def n(self) -> int:
        """Measured points."""
        return len(self.candidate)

    def pending(self) -> dict[int, str]:
        """Candidates sent to the microscope whose spectra never arrived,
        with their request ids, in the order sent."""
        done = set(self.candidate.tolist())
        return {c: r for c, r in self.requested.items() if c not in done}


class Journal:
    """Appends measured points to a session file.

    Use :meth:`create` for a new session and :meth:`open` to continue one;
    :meth:`read` reads a journal without opening it for writing.
    """

    def __init__(self, path: str | os.PathLike, strategies: list[str]) -> None:
        self.path = str(path)
        self.strategies = list(strategies)

    # -- creating and opening --------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | os.PathLike,
        *,
        n_spec: int,
        config: dict,
        overwrite: bool = False,
    ) -> Journal:
        """Start a session file at ``path``.

        Raises
        ------
        DataFileError
            When ``path`` exists and ``overwrite`` is false: an existing
            session is never replaced by accident (use resume).
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise DataFileError(
                f"session file {str(path)!r} exists; resume it or choose another path"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        with h5py.File(path, "w") as handle:
            group = handle.create_group(JOURNAL_GROUP)
            group.attrs["version"] = JOURNAL_VERSION
            group.attrs["config_json"] = json.dumps(config, sort_keys=True)
            group.attrs["choosers"] = json.dumps(list(CHOOSERS))
            group.attrs["strategies"] = json.dumps([])
            group.attrs["created"] = time.time()
            group.attrs["count"] = 0
            group.attrs["n_requests"] = 0

            def column(name, shape, dtype):
                group.create_dataset(
                    name,
                    shape=(0, *shape),
                    maxshape=(None, *shape),
                    dtype=dtype,
                    chunks=(64, *shape),
                )

            column("candidate", (), np.int64)
            column("grid_index", (2,), np.int64)
            column("coordinates", (2,), np.float64)
            column("spectra", (int(n_spec),), np.float64)
            column("time", (), np.float64)
            column("iteration", (), np.int64)
            column("chooser", (), np.int8)
            column("strategy", (), np.int8)
            column("request", (), _REQUEST)
            requests = group.create_group("requests")
            for name, dtype in (("candidate", np.int64), ("request", _REQUEST)):
                requests.create_dataset(
                    name, shape=(0,), maxshape=(None,), dtype=dtype, chunks=(64,)
                )
        log.info("session file %s created", path)
        return cls(path, [])

    @classmethod
    def open(cls, path: str | os.PathLike) -> Journal:
        """Continue appending to an existing session file."""
        return cls(path, cls.read(path).strategies)

    @staticmethod
    def read(path: str | os.PathLike) -> JournalRecord:
        """Read the journal of a session file.

        Raises
        ------
        DataFileError
            When the file cannot be opened or holds no journal.
        """
        path = str(path)
        try:
            handle = h5py.File(path, "r", locking=False)
        except (OSError, FileNotFoundError) as exc:
            raise DataFileError(f"cannot open session file {path!r}: {exc}") from exc
        with handle:
            if JOURNAL_GROUP not in handle:
                raise DataFileError(
                    f"{path!r} is not a session file: it has no /{JOURNAL_GROUP} "
                    "journal"
                )
            group = handle[JOURNAL_GROUP]
            version = int(group.attrs.get("version", 0))
            if version != JOURNAL_VERSION:
                raise DataFileError(
                    f"{path!r}: journal version {version}; this version of "
                    f"pycroscopy-curiosity reads version {JOURNAL_VERSION}"
                )
            n = int(group.attrs["count"])
            lengths = {name: group[name].shape[0] for name in _COLUMNS}
            if min(lengths.values()) < n:
                raise DataError(
                    f"{path!r}: the journal's count is {n} but its columns hold "
                    f"{lengths}"
                )
            col = {name: group[name][:n] for name in _COLUMNS}
            choosers = json.loads(group.attrs["choosers"])
            strategies = json.loads(group.attrs["strategies"])
            n_req = int(group.attrs["n_requests"])
            req_c = group["requests/candidate"][:n_req]
            req_r = group["requests/request"][:n_req]
            config = json.loads(group.attrs["config_json"])
        requested: dict[int, str] = {}
        for c, r in zip(req_c.tolist(), req_r.tolist(), strict=True):
            requested[int(c)] = r.decode()
        return JournalRecord(
            config=config,
            candidate=col["candidate"],
            grid_index=col["grid_index"],
            coordinates=col["coordinates"],
            spectra=col["spectra"],
            time=col["time"],
            iteration=col["iteration"],
            chooser=[choosers[i] for i in col["chooser"]],
            strategy=[strategies[i] for i in col["strategy"]],
            request=[r.decode() for r in col["request"]],
            requested=requested,
            strategies=strategies,
        )

    # -- appending -------------------------------------------------------------
    def _strategy_code(self, group: h5py.Group, name: str) -> int:
        if name not in self.strategies:
            self.strategies.append(name)
            group.attrs["strategies"] = json.dumps(self.strategies)
        return self.strategies.index(name)

    def add_requests(self, candidates: np.ndarray, request: str) -> None:
        """Note, before sending, that ``candidates`` go out under ``request``."""
        candidates = np.asarray(candidates, dtype=np.int64).reshape(-1)
        with h5py.File(self.path, "a") as handle:
            group = handle[JOURNAL_GROUP]
            n = int(group.attrs["n_requests"])
            req = group["requests"]
            for name in ("candidate", "request"):
                req[name].resize((n + len(candidates),))
            req["candidate"][n:] = candidates
            req["request"][n:] = np.array([request] * len(candidates), _REQUEST)
            group.attrs["n_requests"] = n + len(candidates)
            handle.flush()

    def append(
        self,
        *,
        candidate: np.ndarray,
        grid_index: np.ndarray,
        coordinates: np.ndarray,
        spectra: np.ndarray,
        iteration: int,
        chooser: str,
        strategy: str,
        request: str = "",
    ) -> int:
        """Append measured points and flush; returns the new count.

        ``spectra`` are ``m x L`` in physical units.
        """
        if chooser not in CHOOSERS:
            raise DataError(f"chooser must be one of {CHOOSERS}, got {chooser!r}")
        candidate = np.asarray(candidate, dtype=np.int64).reshape(-1)
        m = len(candidate)
        spectra = np.asarray(spectra, dtype=np.float64).reshape(m, -1)
        now = time.time()
        with h5py.File(self.path, "a") as handle:
            group = handle[JOURNAL_GROUP]
            n = int(group.attrs["count"])
            if spectra.shape[1] != group["spectra"].shape[1]:
                raise DataError(
                    f"{self.path!r}: spectra of length {spectra.shape[1]} for a "
                    f"session of length {group['spectra'].shape[1]}"
                )
            values = {
                "candidate": candidate,
                "grid_index": np.asarray(grid_index, np.int64).reshape(m, 2),
                "coordinates": np.asarray(coordinates, np.float64).reshape(m, 2),
                "spectra": spectra,
                "time": np.full(m, now),
                "iteration": np.full(m, int(iteration), np.int64),
                "chooser": np.full(m, CHOOSERS.index(chooser), np.int8),
                "strategy": np.full(m, self._strategy_code(group, strategy), np.int8),
                "request": np.array([request] * m, _REQUEST),
            }
            for name, column in values.items():
                group[name].resize((n + m, *group[name].shape[1:]))
                group[name][n:] = column
            handle.flush()
            # the count goes last: rows past it are an interrupted append
            group.attrs["count"] = n + m
            handle.flush()
        return n + m


_COLUMNS = (
    "candidate",
    "grid_index",
    "coordinates",
    "spectra",
    "time",
    "iteration",
    "chooser",
    "strategy",
    "request",
)
