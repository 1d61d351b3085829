"""A microscope on another computer: a Pyro5 server and its client backend.

The server runs on the microscope's computer (``pycroscopy-curiosity serve``)
and exposes a small whitelisted API over Pyro5, the transport of pycroscopy's
digital-twin microscope servers: ``ping``, ``capabilities``, ``measure`` and
``acquire_image``. Nothing else of the server or its backend can be reached.

Wire format
    Arrays travel as ``{"dtype": str, "shape": [int, ...], "data": bytes}``
    (C order, little-endian), never as pickles; every other value is a plain
    number, string, list or dict. Only numeric dtypes are accepted.

Security
    The server binds to 127.0.0.1 unless told otherwise. With a token (read
    from a file) every call must carry it; a wrong token is refused and
    logged. Each request is bounded in points and in bytes. Every request is
    logged with its id, the number of points and the outcome. Pyro5 itself
    offers no encryption: across a network, use a private link or an SSH
    tunnel to the loopback port.

Requests
    Every ``measure`` carries a request id. The server keeps the results of
    its most recent requests and answers a repeated id from that record, so a
    client that lost a reply (timeout, dropped connection) can ask again
    without the points being measured twice. Requests are measured one at a
    time, in the order they arrive.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.microscope.base import (
    Measurement,
    Microscope,
    MicroscopeError,
    check_points,
)

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_PORT",
    "InstrumentServer",
    "RemoteMicroscope",
    "decode_array",
    "encode_array",
    "read_token",
]

#: Port of ``pycroscopy-curiosity serve`` by default.
DEFAULT_PORT = 9091

#: Pyro5 object id of the instrument service.
OBJECT_ID = "pycroscopy_curiosity.microscope"

#: Methods a client can call; the only ones exposed.
WHITELIST = ("ping", "capabilities", "measure", "acquire_image")

_KINDS = "biuf"  # bool, signed and unsigned integers, floats


def encode_array(values) -> dict:
    """An array as raw little-endian bytes with its dtype and shape."""
    arr = np.ascontiguousarray(values)
    if arr.dtype.kind not in _KINDS:
        raise ParameterError(f"only numeric arrays travel; got dtype {arr.dtype}")
    arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return {"dtype": arr.dtype.str, "shape": list(arr.shape), "data": arr.tobytes()}


def decode_array(message, what: str = "array") -> np.ndarray:
    """Undo :func:`encode_array`, checking dtype, shape and length."""
    import serpent

    if not isinstance(message, dict) or set(message) != {"dtype", "shape", "data"}:
        raise ParameterError(f"{what}: expected an encoded array, got {message!r:.80}")
    try:
        dtype = np.dtype(str(message["dtype"]))
        shape = tuple(int(n) for n in message["shape"])
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{what}: bad dtype or shape ({exc})") from exc
    if dtype.kind not in _KINDS or any(n < 0 for n in shape):
        raise ParameterError(f"{what}: dtype {dtype} or shape {shape} not allowed")
    data = message["data"]
    if isinstance(data, dict):  # serpent sends bytes as base64 in a dict
        data = serpent.tobytes(data)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ParameterError(f"{what}: data must be bytes")
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ParameterError(
            f"{what}: {len(data)} bytes for shape {shape} of {dtype} "
            f"({expected} expected)"
        )
    return np.frombuffer(bytes(data), dtype=dtype).reshape(shape).copy()


def read_token(path) -> str:
    """The shared token from a file (surrounding whitespace removed)."""
    path = Path(path)
    try:
        token = path.read_text().strip()
    except OSError as exc:
        raise ParameterError(
            f"cannot read the token file {str(path)!r}: {exc}"
        ) from exc
    if not token:
        raise ParameterError(f"the token file {str(path)!r} is empty")
    return token


def _measurement_message(m: Measurement) -> dict:
    return {
        "spectra": encode_array(np.asarray(m.spectra, dtype=np.float64)),
        "axis": encode_array(np.asarray(m.axis, dtype=np.float64)),
        "axis_name": m.axis_name,
        "axis_units": m.axis_units,
        "quantity": m.quantity,
        "units": m.units,
        "seconds": float(m.seconds),
    }


class InstrumentService:
    """What the server exposes: a backend behind token, bounds and a log.

    Parameters
    ----------
    backend : Microscope
        Measures for the clients.
    token : str, optional
        When set, every call must carry it.
    max_points : int
        Most points one ``measure`` request may ask for.
    max_bytes : int
        Most bytes of array data one request may carry in or out.
    remember : int
        Results of this many recent requests are kept to answer repeats.
    """

    def __init__(
        self,
        backend: Microscope,
        token: str | None = None,
        max_points: int = 256,
        max_bytes: int = 16 * 2**20,
        remember: int = 1024,
    ) -> None:
        if max_points < 1 or max_bytes < 1 or remember < 1:
            raise ParameterError(
                "max_points, max_bytes and remember must be positive, got "
                f"{max_points}, {max_bytes} and {remember}"
            )
        self.backend = backend
        self._token = token
        self.max_points = int(max_points)
        self.max_bytes = int(max_bytes)
        self.remember = int(remember)
        self._done: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()
        self.requests = 0

    def _check_token(self, token, method: str) -> None:
        self.requests += 1
        if self._token is None:
            return
        if not isinstance(token, str) or not hmac.compare_digest(
            token.encode(), self._token.encode()
        ):
            log.warning("%s refused: wrong or missing token", method)
            raise PermissionError(f"{method}: the token was refused")

    def ping(self, token=None) -> str:
        """``'pong'``, to check the connection and the token."""
        self._check_token(token, "ping")
        return "pong"

    def capabilities(self, token=None) -> dict:
        """The backend's capabilities plus the server's limits."""
        self._check_token(token, "capabilities")
        caps = dict(self.backend.capabilities())
        caps.update(max_points=self.max_points, max_bytes=self.max_bytes)
        log.info("capabilities asked")
        return caps

    def measure(self, token, request_id, grid_index, coordinates=None) -> dict:
        """Measure points; a repeated ``request_id`` gets the recorded reply."""
        self._check_token(token, "measure")
        if not isinstance(request_id, str) or not 0 < len(request_id) <= 64:
            raise ValueError("measure: request_id must be a string of 1 to 64 chars")
        size = 0
        for value in (grid_index, coordinates):
            if isinstance(value, dict):
                data = value.get("data")
                if isinstance(data, dict):  # base64 from serpent: 3 bytes per 4
                    data = data.get("data", "")
                    size += len(str(data)) * 3 // 4
                else:
                    size += len(data) if isinstance(data, bytes) else len(str(data))
        if size > self.max_bytes:
            log.warning("measure %s refused: %d bytes", request_id, size)
            raise ValueError(
                f"measure: request {request_id} carries {size} bytes; this server "
                f"accepts at most {self.max_bytes}"
            )
        index = decode_array(grid_index, "grid_index")
        coords = None if coordinates is None else decode_array(coordinates, "coords")
        if index.ndim != 2 or index.shape[1] != 2:
            raise ValueError(f"measure: grid_index must be n x 2, got {index.shape}")
        if len(index) > self.max_points:
            log.warning("measure %s refused: %d points", request_id, len(index))
            raise ValueError(
                f"measure: request {request_id} asks for {len(index)} points; this "
                f"server accepts at most {self.max_points} per request"
            )
        with self._lock:
            if request_id in self._done:
                log.info("measure %s: repeated, answered from the record", request_id)
                return self._done[request_id]
            start = time.perf_counter()
            try:
                result = self.backend.measure(index, coords)
            except Exception as exc:
                log.error("measure %s failed: %s", request_id, exc)
                # a builtin type, so that every client can rebuild it
                raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
            message = _measurement_message(result)
            if len(message["spectra"]["data"]) > self.max_bytes:
                raise ValueError(
                    f"measure: the reply to {request_id} exceeds {self.max_bytes} "
                    "bytes; ask for fewer points"
                )
            self._done[request_id] = message
            while len(self._done) > self.remember:
                self._done.popitem(last=False)
        log.info(
            "measure %s: %d point(s) in %.3f s",
            request_id,
            len(index),
            time.perf_counter() - start,
        )
        return message

    def acquire_image(self, token=None) -> dict:
        """The structure image: values, axes, names and units."""
        self._check_token(token, "acquire_image")
        with self._lock:
            try:
                image = self.backend.acquire_image()
            except Exception as exc:
                log.error("acquire_image failed: %s", exc)
                raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
        log.info("acquire_image: %s", image.shape)
        values = np.asarray(image, dtype=np.float64)
        axes = []
        for i in range(values.ndim):
            dim = image._axes[i]
            axes.append(
                {
                    "name": dim.name,
                    "quantity": dim.quantity,
                    "units": dim.units,
                    "values": encode_array(np.asarray(dim.values, np.float64)),
                }
            )
        return {
            "values": encode_array(values),
            "axes": axes,
            "quantity": image.quantity,
            "units": image.units,
            "title": image.title,
        }


class InstrumentServer:
    """Serves a backend over Pyro5 until stopped.

    Parameters
    ----------
    backend : Microscope
        What the clients measure with.
    host : str
        Address to bind to; loopback by default.
    port : int
        TCP port (0: any free port).
    token : str, optional
        Shared token required on every call.
    max_points, max_bytes, remember
        See :class:`InstrumentService`.

    Examples
    --------
    >>> server = InstrumentServer(ReplayMicroscope(data), port=0)  # doctest: +SKIP
    >>> server.start_background()  # doctest: +SKIP
    >>> RemoteMicroscope(server.address).capabilities()  # doctest: +SKIP
    """

    def __init__(
        self,
        backend: Microscope,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        token: str | None = None,
        max_points: int = 256,
        max_bytes: int = 16 * 2**20,
        remember: int = 1024,
    ) -> None:
        import Pyro5.api

        self.service = InstrumentService(
            backend, token, max_points, max_bytes, remember
        )
        exposed = _exposed_class()
        self._exposed = exposed(self.service)
        # the transport refuses far larger messages before they are read;
        # the service checks the exact size of what it decodes
        Pyro5.config.MAX_MESSAGE_SIZE = 2 * int(max_bytes) + 65536
        self.daemon = Pyro5.api.Daemon(host=host, port=int(port))
        self.daemon.register(self._exposed, objectId=OBJECT_ID)
        self.host, self.port = self.daemon.locationStr.rsplit(":", 1)
        self.host = self.host.strip("[]")
        self.port = int(self.port)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if token is None and self.host not in ("127.0.0.1", "::1", "localhost"):
            log.warning(
                "serving on %s without a token: anyone who can reach the port "
                "can measure",
                self.host,
            )

    @property
    def address(self) -> str:
        """``remote://HOST:PORT`` for :class:`RemoteMicroscope`."""
        return f"remote://{self.host}:{self.port}"

    def serve(self) -> None:
        """Handle requests until :meth:`stop` (or Ctrl-C)."""
        log.info("serving %s at %s", self.service.backend.name, self.address)
        try:
            self.daemon.requestLoop(loopCondition=lambda: not self._stop.is_set())
        finally:
            self.daemon.close()
            self.service.backend.close()

    def start_background(self) -> None:
        """Serve from a daemon thread (for tests and notebooks)."""
        self._thread = threading.Thread(target=self.serve, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the backend."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _exposed_class():
    """The Pyro5-exposed wrapper: only the whitelisted methods exist on it."""
    import Pyro5.api

    @Pyro5.api.behavior(instance_mode="single")
    class Exposed:
        def __init__(self, service: InstrumentService) -> None:
            self._service = service

    def forward(name):
        def method(self, *args, **kwargs):
            return getattr(self._service, name)(*args, **kwargs)

        method.__name__ = name
        method.__doc__ = getattr(InstrumentService, name).__doc__
        return Pyro5.api.expose(method)

    for name in WHITELIST:
        setattr(Exposed, name, forward(name))
    return Exposed


def parse_address(address: str) -> tuple[str, int]:
    """``(host, port)`` of ``remote://HOST:PORT`` (or ``HOST:PORT``)."""
    text = address if "://" in address else f"remote://{address}"
    parsed = urlparse(text)
    if parsed.scheme != "remote" or not parsed.hostname:
        raise ParameterError(
            f"a remote microscope address looks like remote://HOST:PORT, got "
            f"{address!r}"
        )
    try:
        port = parsed.port or DEFAULT_PORT
    except ValueError as exc:
        raise ParameterError(f"bad port in {address!r}: {exc}") from exc
    return parsed.hostname, port


class RemoteMicroscope(Microscope):
    """Client backend of an :class:`InstrumentServer`.

    Parameters
    ----------
    address : str
        ``remote://HOST:PORT``.
    token : str, optional
        The server's shared token.
    timeout : float
        Seconds to wait for one reply; must exceed the time the instrument
        takes for one request.
    retries : int
        Attempts after a failed connection or a lost reply; each one waits
        ``backoff`` seconds, doubling up to 10 s, and reconnects. A retried
        request keeps its id, so the server never measures it twice.
    backoff : float
        First wait between attempts.
    """

    name = "remote"

    def __init__(
        self,
        address: str,
        token: str | None = None,
        timeout: float = 60.0,
        retries: int = 8,
        backoff: float = 0.5,
    ) -> None:
        import Pyro5.api

        if timeout <= 0 or retries < 0 or backoff < 0:
            raise ParameterError(
                f"timeout must be > 0 and retries, backoff >= 0; got {timeout}, "
                f"{retries}, {backoff}"
            )
        self.host, self.port = parse_address(address)
        self.address = f"remote://{self.host}:{self.port}"
        self.token = token
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        uri = f"PYRO:{OBJECT_ID}@{self.host}:{self.port}"
        self._proxy = Pyro5.api.Proxy(uri)
        self._proxy._pyroTimeout = self.timeout
        self._lock = threading.Lock()
        self._max_points: int | None = None
        self.attempts = 0

    def _call(self, method: str, *args, what: str = ""):
        """Call the server, reconnecting and retrying on transport errors."""
        import Pyro5.errors

        wait = self.backoff
        for attempt in range(self.retries + 1):
            self.attempts += 1
            try:
                with self._lock:
                    self._proxy._pyroClaimOwnership()
                    return getattr(self._proxy, method)(self.token, *args)
            except PermissionError as exc:
                raise MicroscopeError(
                    f"{self.name} {self.address}: {exc} (check the token file)"
                ) from exc
            except (ValueError, TypeError, AttributeError) as exc:
                raise MicroscopeError(
                    f"{self.name} {self.address}: {method}{what} refused: {exc}"
                ) from exc
            except Pyro5.errors.CommunicationError as exc:
                if attempt == self.retries:
                    raise MicroscopeError(
                        f"{self.name} {self.address}: {method}{what} failed after "
                        f"{attempt + 1} attempts: {exc}"
                    ) from exc
                log.warning(
                    "%s%s to %s: %s; retrying in %.1f s",
                    method,
                    what,
                    self.address,
                    exc,
                    wait,
                )
                time.sleep(wait)
                wait = min(2 * wait, 10.0) if wait else 0.0
                with self._lock:
                    self._proxy._pyroClaimOwnership()
                    self._proxy._pyroRelease()
            except Exception as exc:  # raised by the instrument on the server
                raise MicroscopeError(
                    f"{self.name} {self.address}: {method}{what} failed on the "
                    f"server: {type(exc).__name__}: {exc}"
                ) from exc
        raise AssertionError("unreachable")

    def ping(self) -> bool:
        """Whether the server answers (and accepts the token)."""
        return self._call("ping") == "pong"

    def capabilities(self) -> dict:
        """The server's backend capabilities and limits."""
        caps = dict(self._call("capabilities"))
        caps["backend"] = caps.get("name")
        caps["name"] = self.name
        return caps

    def measure(self, grid_index, coordinates=None) -> Measurement:
        """Measure under a fresh request id."""
        return self.measure_as(uuid.uuid4().hex, grid_index, coordinates)

    def measure_as(self, request_id, grid_index, coordinates=None) -> Measurement:
        """Measure under ``request_id``; a retry reuses it.

        More points than the server takes per request go out in parts, with
        ids ``request_id/0``, ``request_id/1``...
        """
        index, coords = check_points(self.name, grid_index, coordinates)
        start = time.perf_counter()
        if self._max_points is None:
            self._max_points = int(self.capabilities().get("max_points", len(index)))
        step = max(1, self._max_points)
        parts = []
        for first in range(0, len(index), step):
            part = slice(first, first + step)
            rid = str(request_id)
            if len(index) > step:
                rid = f"{rid}/{first // step}"
            reply = self._call(
                "measure",
                rid,
                encode_array(index[part]),
                None if coords is None else encode_array(coords[part]),
                what=f" {rid}",
            )
            spectra = decode_array(reply["spectra"], "spectra")
            n = len(index[part])
            if spectra.ndim != 2 or len(spectra) != n:
                raise MicroscopeError(
                    f"{self.name} {self.address}: {n} points asked, spectra of "
                    f"shape {spectra.shape} returned (request {rid})"
                )
            parts.append(spectra)
        return Measurement(
            spectra=np.concatenate(parts).astype(np.float64),
            axis=decode_array(reply["axis"], "axis"),
            axis_name=reply.get("axis_name", ""),
            axis_units=reply.get("axis_units", ""),
            quantity=reply.get("quantity", ""),
            units=reply.get("units", ""),
            seconds=time.perf_counter() - start,
        )

    def acquire_image(self):
        """The server's structure image as a sidpy Dataset."""
        import sidpy

        reply = self._call("acquire_image")
        values = decode_array(reply["values"], "image")
        ds = sidpy.Dataset.from_array(values, title=reply.get("title", "image"))
        ds.data_type = "IMAGE"
        ds.quantity = reply.get("quantity", "")
        ds.units = reply.get("units", "")
        for i, axis in enumerate(reply["axes"]):
            ds.set_dimension(
                i,
                sidpy.Dimension(
                    decode_array(axis["values"], "axis"),
                    axis["name"],
                    axis["quantity"],
                    axis["units"],
                    "SPATIAL",
                ),
            )
        return ds

    def close(self) -> None:
        """Drop the connection."""
        with self._lock:
            self._proxy._pyroClaimOwnership()
            self._proxy._pyroRelease()
