"""Session files: journal, operator points, proposals, pipelining and resume."""

import h5py
import numpy as np
import pytest

from pycroscopy_curiosity.data.journal import JOURNAL_GROUP, Journal
from pycroscopy_curiosity.data.results import read_results
from pycroscopy_curiosity.data.synthetic import write_synthetic_sample
from pycroscopy_curiosity.errors import DataFileError, ParameterError
from pycroscopy_curiosity.explorer import CuriosityExplorer
from pycroscopy_curiosity.microscope import ReplayMicroscope

FAST = dict(
    channels=4,
    hidden=16,
    ensemble_epochs=4,
    update_epochs=1,
    error_epochs=5,
    best_window=2,
)


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("session") / "sample.h5"
    paths = write_synthetic_sample(
        path, grid_shape=(10, 10), image_shape=(40, 40), n_bias=12, seed=4
    )
    return path, paths


def _explorer(sample_file, **kw):
    path, paths = sample_file
    args = dict(patch=8, init=6, budget=14, batch=2, seed=1, eval_every=4, **FAST)
    args.update(kw)
    return CuriosityExplorer.from_file(
        path, data_options={"image_dataset": paths["structure"]}, **args
    )


def _source_spectra(explorer, grid_index):
    physical = explorer.data.physical_spectra(explorer.data.spectra)
    return physical[grid_index[:, 0], grid_index[:, 1]]


def test_journal_holds_every_point_before_the_next_decision(tmp_path, sample_file):
    session = tmp_path / "s.h5"
    explorer = _explorer(sample_file, session=session)
    counts = []

    def check(result):
        counts.append((explorer.n_measured, Journal.read(session).n))

    explorer.run(callback=check)
    assert counts and all(told == stored for told, stored in counts)
    record = Journal.read(session)
    assert record.n == 14
    assert len(set(record.candidate.tolist())) == 14
    assert record.chooser[:6] == ["initial"] * 6
    assert set(record.chooser[6:]) == {"model"}
    assert set(record.strategy) == {"ensemble"}
    np.testing.assert_allclose(
        record.spectra, _source_spectra(explorer, record.grid_index), rtol=1e-6
    )
    np.testing.assert_allclose(
        record.coordinates, explorer.data.grid_coordinates(record.grid_index)
    )
    assert np.all(np.diff(record.time) >= 0)
    assert record.pending() == {}
    assert record.config["budget"] == 14 and record.config["load"]["image_dataset"]

    explorer.close()
    results = read_results(session)
    measured = results["measured"]
    assert measured.shape == (14, 12)
    assert measured.metadata["points"]["chooser"][:6] == ["initial"] * 6
    with h5py.File(session, "r") as handle:
        assert [k for k in handle if k.startswith("Results_")] == ["Results_000"]
    explorer.save(session)  # into the session itself: the journal stays
    assert Journal.read(session).n == 14
    explorer.close()  # again: replaces the results, one group stays
    with h5py.File(session, "r") as handle:
        assert len([k for k in handle if k.startswith("Results_")]) == 1
        assert JOURNAL_GROUP in handle


def test_no_results_before_the_first_measurement(sample_file):
    explorer = _explorer(sample_file)
    assert list(explorer.maps()) == ["measured_order"]
    with pytest.raises(ParameterError, match="nothing has been measured"):
        explorer.results()


def test_existing_session_is_not_overwritten(tmp_path, sample_file):
    session = tmp_path / "s.h5"
    session.write_bytes(b"")
    with pytest.raises(DataFileError, match="exists; resume it"):
        _explorer(sample_file, session=session)
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as handle:
        handle["x"] = 1
    with pytest.raises(DataFileError, match="not a session file"):
        CuriosityExplorer.resume(plain)


def test_propose_then_step_measures_the_proposal(sample_file):
    explorer = _explorer(sample_file)
    first = explorer.propose()
    assert len(first) == 6
    np.testing.assert_array_equal(explorer.propose(), first)
    assert explorer.step().indices.tolist() == first.tolist()
    nxt = explorer.propose()
    assert len(nxt) == 2 and not explorer.strategy.measured[nxt].any()
    assert explorer.step().indices.tolist() == nxt.tolist()


def test_operator_points_are_measured_and_marked(tmp_path, sample_file):
    session = tmp_path / "op.h5"
    explorer = _explorer(sample_file, session=session)
    explorer.step()
    gi = explorer.candidates.grid_index
    open_ = np.flatnonzero(~explorer.strategy.measured)[:2]
    result = explorer.measure_points(gi[open_])
    assert sorted(result.indices.tolist()) == sorted(open_.tolist())
    assert explorer.choosers[-2:] == ["operator", "operator"]
    record = Journal.read(session)
    assert record.chooser[-2:] == ["operator", "operator"]
    np.testing.assert_allclose(
        record.spectra[-2:], _source_spectra(explorer, gi[open_]), rtol=1e-6
    )
    with pytest.raises(ParameterError, match="already measured"):
        explorer.measure_points(gi[open_[:1]])
    with pytest.raises(ParameterError, match="outside the 10 x 10 grid"):
        explorer.measure_points([[10, 0]])
    with pytest.raises(ParameterError, match=r"point \(row 0, col 0\) is not a cand"):
        explorer.measure_points([[0, 0]])  # its patch leaves the image
    with pytest.raises(ParameterError, match="m x 2"):
        explorer.measure_points([1, 2, 3])
    assert Journal.read(session).n == explorer.n_measured == 8


def test_pipelined_run_measures_the_budget_once(tmp_path, sample_file):
    session = tmp_path / "pipe.h5"
    explorer = _explorer(sample_file, session=session)
    microscope = ReplayMicroscope(explorer.data, delay=0.01)
    explorer.measure = microscope
    seen = []
    explorer.run(pipeline=True, callback=lambda r: seen.append(r.indices.tolist()))
    record = Journal.read(session)
    assert explorer.n_measured == record.n == 14
    assert len(set(record.candidate.tolist())) == 14
    assert sum(len(s) for s in seen) == 14 and len(seen[0]) == 6
    np.testing.assert_allclose(
        record.spectra, _source_spectra(explorer, record.grid_index), rtol=1e-6
    )
    assert microscope.measured == 14
    assert len(explorer.instrument_log) == len(seen)
    assert 0.0 <= explorer.idle_fraction() < 1.0


def test_resume_after_a_crash_loses_and_repeats_nothing(tmp_path, sample_file):
    session = tmp_path / "crash.h5"
    explorer = _explorer(sample_file, session=session)
    explorer.step()
    explorer.step()
    # a crash after the next points were sent but before they came back
    lost = explorer.propose()
    explorer.journal.add_requests(lost, "lost-request")
    del explorer
    assert Journal.read(session).pending() == {int(c): "lost-request" for c in lost}

    calls = []

    class Counting(ReplayMicroscope):
        def measure_as(self, request_id, grid_index, coordinates=None):
            calls.append(request_id)
            return super().measure_as(request_id, grid_index, coordinates)

    resumed = CuriosityExplorer.resume(session, measure=None)
    resumed.measure = None
    assert resumed.n_measured == 10  # 8 stored + the 2 lost, asked again
    data = resumed.data
    resumed.measure = Counting(data)
    resumed.run()
    record = Journal.read(session)
    assert record.n == 14 == resumed.n_measured
    assert len(set(record.candidate.tolist())) == 14
    assert set(lost.tolist()) <= set(record.candidate[8:10].tolist())
    assert record.request[8] == "lost-request"
    assert len(calls) == 2 and "lost-request" not in calls
    np.testing.assert_allclose(
        record.spectra, _source_spectra(resumed, record.grid_index), rtol=1e-6
    )
    assert record.pending() == {}
    with pytest.raises(ParameterError, match="budget of 14"):
        resumed.step()


def test_resume_can_extend_the_budget_and_checks_the_data(tmp_path, sample_file):
    session = tmp_path / "more.h5"
    explorer = _explorer(sample_file, session=session).run()
    resumed = CuriosityExplorer.resume(session, budget=18)
    assert resumed.n_measured == 14 and not resumed.done
    resumed.run()
    assert Journal.read(session).n == 18
    # an in-memory session needs its data back
    mem = tmp_path / "mem.h5"
    CuriosityExplorer(
        explorer.data, patch=8, init=6, budget=8, seed=0, session=mem, **FAST
    ).step()
    with pytest.raises(ParameterError, match="in-memory data"):
        CuriosityExplorer.resume(mem)
    again = CuriosityExplorer.resume(mem, spectral=explorer.data)
    assert again.n_measured == 6
