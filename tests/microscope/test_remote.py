"""The Pyro5 instrument server and its client, with real server processes."""

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from pycroscopy_curiosity.data.exploration import load_exploration_data
from pycroscopy_curiosity.data.journal import Journal
from pycroscopy_curiosity.errors import ParameterError
from pycroscopy_curiosity.explorer import CuriosityExplorer
from pycroscopy_curiosity.microscope import MicroscopeError, open_microscope
from pycroscopy_curiosity.microscope.remote import (
    OBJECT_ID,
    RemoteMicroscope,
    decode_array,
    encode_array,
    parse_address,
)

IMAGE = "/Measurement_000/Channel_000/structure/structure"
LIGHT = [
    "--channels",
    "4",
    "--ensemble-epochs",
    "3",
    "--update-epochs",
    "1",
    "--patch",
    "8",
    "--init",
    "6",
    "--batch",
    "2",
    "--no-progress",
]
CLI = [sys.executable, "-m", "pycroscopy_curiosity.cli"]


def test_wire_format_round_trip_and_refusals():
    for values in (
        np.arange(6, dtype=np.int64).reshape(3, 2),
        np.linspace(0, 1, 12).reshape(2, 2, 3),
        np.array([], dtype=np.float32),
    ):
        message = encode_array(values)
        assert isinstance(message["data"], bytes)
        back = decode_array(message)
        assert back.dtype == values.dtype and back.shape == values.shape
        np.testing.assert_array_equal(back, values)
    big_endian = np.arange(3, dtype=">f8")
    np.testing.assert_array_equal(decode_array(encode_array(big_endian)), [0, 1, 2])
    with pytest.raises(ParameterError, match="only numeric"):
        encode_array(np.array(["a"]))
    bad = encode_array(np.zeros(4))
    bad["shape"] = [5]
    with pytest.raises(ParameterError, match="32 bytes for shape"):
        decode_array(bad, "spectra")
    with pytest.raises(ParameterError, match="not allowed"):
        decode_array({"dtype": "|O", "shape": [1], "data": b"x" * 8})
    with pytest.raises(ParameterError, match="encoded array"):
        decode_array([1, 2])
    assert parse_address("remote://10.0.0.5:9100") == ("10.0.0.5", 9100)
    assert parse_address("localhost")[1] == 9091
    with pytest.raises(ParameterError, match="remote://HOST:PORT"):
        parse_address("http://x:1")
    with pytest.raises(ParameterError, match="unknown microscope"):
        open_microscope("telescope")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from pycroscopy_curiosity.data.synthetic import write_synthetic_sample

    folder = tmp_path_factory.mktemp("remote")
    path = folder / "sample.h5"
    write_synthetic_sample(
        path, grid_shape=(10, 10), image_shape=(40, 40), n_bias=12, seed=5
    )
    token = folder / "token"
    token.write_text("s3cret\n")
    return path, token


class Server:
    """A ``serve`` process on a free loopback port."""

    def __init__(self, sample, port=None, delay=0.0, extra=()):
        self.path, self.token = sample
        self.port = port or _free_port()
        self.log = self.path.parent / f"server-{self.port}.log"
        self.args = [
            *CLI,
            "serve",
            str(self.path),
            "--image-dataset",
            IMAGE,
            "--port",
            str(self.port),
            "--token-file",
            str(self.token),
            "--delay",
            str(delay),
            *extra,
        ]
        self.start()

    @property
    def address(self):
        return f"remote://127.0.0.1:{self.port}"

    def start(self):
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                self.args, stdout=subprocess.DEVNULL, stderr=log
            )
        deadline = time.time() + 60
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if self.proc.poll() is not None:
                raise RuntimeError(f"server died: {self.log.read_text()}")
            time.sleep(0.2)
        raise RuntimeError("server did not start")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.log.read_text()


@pytest.fixture
def server(sample):
    srv = Server(sample, extra=["--max-points", "8", "--max-bytes", "4096"])
    yield srv
    srv.stop()


def _source(path, grid_index):
    data = load_exploration_data(path, image_dataset=IMAGE)
    physical = data.physical_spectra(data.spectra)
    return physical[grid_index[:, 0], grid_index[:, 1]]


def test_closed_loop_through_a_server_process(server, sample, tmp_path):
    path, token = sample
    client = open_microscope(server.address, token_file=token, timeout=20)
    try:
        assert client.ping()
        caps = client.capabilities()
        assert caps["backend"] == "replay" and caps["grid"] == [10, 10]
        assert caps["max_points"] == 8
        explorer = CuriosityExplorer.from_file(
            path,
            data_options={"image_dataset": IMAGE},
            patch=8,
            init=12,  # more than the server takes at once: sent in two parts
            budget=18,
            batch=3,
            measure=client,
            session=tmp_path / "s.h5",
            channels=4,
            ensemble_epochs=3,
            update_epochs=1,
            error_epochs=3,
            best_window=2,
        ).run()
        record = Journal.read(tmp_path / "s.h5")
        assert record.n == 18 and len(set(record.candidate.tolist())) == 18
        np.testing.assert_allclose(
            record.spectra, _source(path, record.grid_index), rtol=1e-6
        )
        assert explorer.maps()["predicted_error"].shape == (10, 10)
    finally:
        client.close()
    log = server.stop()
    assert "2 point(s)" in log or "3 point(s)" in log  # every request logged
    assert f"{record.request[0]}/0" in log and f"{record.request[0]}/1" in log


def test_token_bounds_and_whitelist(server, sample):
    import Pyro5.api
    import Pyro5.errors

    path, _ = sample
    wrong = RemoteMicroscope(server.address, token="guess", retries=0)
    none = RemoteMicroscope(server.address, retries=0)
    good = open_microscope(server.address, token_file=sample[1], retries=0)
    try:
        for client in (wrong, none):
            with pytest.raises(MicroscopeError, match="token was refused"):
                client.ping()
            with pytest.raises(MicroscopeError, match="token was refused"):
                client.measure([[3, 3]])
        # oversized requests, straight to the server (the client would split)
        proxy = good._proxy
        proxy._pyroClaimOwnership()
        with pytest.raises(ValueError, match="at most 8 per request"):
            proxy.measure("s3cret", "big", encode_array(np.ones((9, 2), int)), None)
        with pytest.raises(ValueError, match="accepts at most 4096"):
            proxy.measure("s3cret", "fat", encode_array(np.ones((300, 2), int)), None)
        with pytest.raises(ValueError, match="request_id"):
            proxy.measure("s3cret", "", encode_array(np.ones((1, 2), int)), None)
        # a point the instrument cannot measure: the error names it
        with pytest.raises(MicroscopeError, match=r"point \(row 40, col 1\)"):
            good.measure([[40, 1]])
        # only the whitelist is reachable
        with Pyro5.api.Proxy(f"PYRO:{OBJECT_ID}@127.0.0.1:{server.port}") as raw:
            with pytest.raises(AttributeError, match="no exposed attribute"):
                raw.close("s3cret")
            for name in ("close", "backend", "_service", "_check_token"):
                with pytest.raises(AttributeError):
                    raw._pyroInvoke(name, ("s3cret",), {})
            assert raw.ping("s3cret") == "pong"
        # a repeated request id is answered from the record, not measured again
        first = good.measure_as("same-id", [[4, 4]]).spectra
        again = good.measure_as("same-id", [[5, 5]]).spectra
        np.testing.assert_array_equal(first, again)
    finally:
        for client in (wrong, none, good):
            client.close()


def _poll_count(session, at_least, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"client ended early: {proc.communicate()}")
        try:
            if Journal.read(session).n >= at_least:
                return
        except Exception:  # the file is being created
            pass
        time.sleep(0.1)
    raise RuntimeError("no progress")


def _run_args(sample, port, session, budget=20):
    path, token = sample
    return [
        *CLI,
        "run",
        str(path),
        "--image-dataset",
        IMAGE,
        *LIGHT,
        "--budget",
        str(budget),
        "--microscope",
        f"remote://127.0.0.1:{port}",
        "--token-file",
        str(token),
        "--session",
        str(session),
    ]


def _check_session(sample, session, budget):
    record = Journal.read(session)
    assert record.n == budget
    assert len(set(record.candidate.tolist())) == budget
    assert len(set(map(tuple, record.grid_index.tolist()))) == budget
    np.testing.assert_allclose(
        record.spectra, _source(sample[0], record.grid_index), rtol=1e-6
    )
    assert record.pending() == {}
    return record


def test_kill_9_of_the_client_then_resume(sample, tmp_path):
    srv = Server(sample, delay=0.1)
    session = tmp_path / "killed.h5"
    try:
        client = subprocess.Popen(
            _run_args(sample, srv.port, session),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _poll_count(session, 10, client)
        client.send_signal(signal.SIGKILL)
        client.communicate()
        stored = Journal.read(session).n
        assert 10 <= stored < 20
        done = subprocess.run(
            [*CLI, "run", "--resume", str(session), "--no-progress"]
            + ["--token-file", str(sample[1])],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert f"resumed {session}: " in done.stdout
        record = _check_session(sample, session, 20)
        assert record.config["microscope"] == f"remote://127.0.0.1:{srv.port}"
    finally:
        srv.stop()


def test_server_killed_and_restarted_mid_run(sample, tmp_path):
    srv = Server(sample, delay=0.1)
    session = tmp_path / "restart.h5"
    client = subprocess.Popen(
        _run_args(sample, srv.port, session, budget=22),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _poll_count(session, 10, client)
        srv.kill()
        time.sleep(1.0)
        srv.start()
        out, err = client.communicate(timeout=300)
        assert client.returncode == 0, err
        assert "retrying" in err
        _check_session(sample, session, 22)
    finally:
        if client.poll() is None:
            client.kill()
            client.communicate()
        srv.stop()


def test_open_microscope_replay_forms(sample):
    path, _ = sample
    data = load_exploration_data(path, image_dataset=IMAGE)
    from_file = open_microscope(
        f"replay:{path}", data_options={"image_dataset": IMAGE}, delay=0.0
    )
    in_memory = open_microscope("replay", data, noise=0.0)
    points = np.array([[2, 3], [7, 1]])
    np.testing.assert_array_equal(
        from_file.measure(points).spectra, in_memory.measure(points).spectra
    )
    np.testing.assert_allclose(
        in_memory.measure(points).spectra, _source(path, points), rtol=1e-6
    )
    with pytest.raises(ParameterError, match="needs the data"):
        open_microscope("replay")
    from pycroscopy_curiosity.microscope import check_compatible

    check_compatible(in_memory, data)
    other = load_exploration_data(path, image_dataset=IMAGE, spectral_range="0:6")
    with pytest.raises(ParameterError, match="spectra of length 12; the data have 6"):
        check_compatible(in_memory, other)
