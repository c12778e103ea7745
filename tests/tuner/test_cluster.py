"""Tuning on a real Dask LocalCluster (2 worker processes on loopback), and the joblib route.

The candidates must run on the workers (the scheduler's task stream says where), the workers
must never import TensorFlow, a worker killed during the search must cost a retry, not the job,
and the result must equal a local run's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from tuner.cli import main
from tuner.tune import TuneOptions, tune

distributed = pytest.importorskip("distributed", reason="dask[distributed] is not installed")


def _plain(config) -> dict:
    """A config as tuning.json holds it (tuples as lists), for comparing runs."""
    return json.loads(json.dumps(config, default=str))


@pytest.fixture(scope="module")
def example():
    """(model, model path, x, labels, data path, labels path) of the built-in digits MLP."""
    from emulation.io.keras_files import load_model

    root = resources.files("tuner") / "example"
    paths = [Path(str(root / n)) for n in ("digits_mlp.keras", "digits_x.npy", "digits_y.npy")]
    model = load_model(paths[0])
    return model, paths[0], np.load(paths[1]), np.load(paths[2]), paths[1], paths[2]


@pytest.fixture(scope="module")
def local_config(example):
    """The example's config from a local run with 2 loky workers (batches of 2)."""
    model, _, x, y, _, _ = example
    return _plain(tune(model, x, y, TuneOptions(jobs=2)).config)


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 single-threaded worker processes, and a client of it."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as local,
        distributed.Client(local) as client,
    ):
        yield local, client


def _emulations(stream) -> list[dict]:
    return [t for t in stream.data if "emulated_metric" in t["key"] or "metrics_of" in t["key"]]


def test_the_example_tunes_to_the_local_config_on_the_cluster(example, local_config, cluster):
    """Through the scheduler's address: the same config as the local run, every candidate on the
    workers, none of which imported TensorFlow."""
    from tuner.cluster import connect

    model, _, x, y, _, _ = example
    local, client = cluster
    with connect(local.scheduler_address) as dask, distributed.get_task_stream(client) as stream:
        assert dask.workers == 2
        result = tune(model, x, y, TuneOptions(jobs=dask.workers))
    assert _plain(result.config) == local_config
    tasks = _emulations(stream)
    # a batch goes to the workers (a single candidate is emulated here, as with --jobs)
    batched = [c for c in result.candidates if c.phase in ("sensitivity", "descent")]
    assert len(batched) > 20 and len(tasks) >= len(batched)
    assert {t["worker"] for t in tasks} == set(client.scheduler_info()["workers"])
    assert not any(client.run(lambda: "tensorflow" in sys.modules).values())


def test_a_worker_killed_during_the_search_costs_a_retry(example, local_config, cluster, tmp_path):
    """``aptune tune --cluster tcp://...``: SIGKILL one worker process once 20 evaluations are
    recorded; the search finishes with the local run's config."""
    _, model_path, _, _, data, labels = example
    local, client = cluster
    checkpoint = tmp_path / "run.ckpt"
    before = client.run(os.getpid)
    killed: list[int] = []

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if checkpoint.exists() and checkpoint.read_text().count("\n") > 20:
                pid = next(iter(before.values()))
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker, daemon=True)
    killer.start()
    out = tmp_path / "cfg.yml"
    args = ["tune", str(model_path), "--data", str(data), "--labels", str(labels), "-o", str(out)]
    # in its own process, as a user runs it: a second Client in this one (beside the
    # fixture's) can bind distributed's events to the other's loop
    cmd = [sys.executable, "-c", "from tuner.cli import main; raise SystemExit(main())", *args]
    cmd += ["--cluster", local.scheduler_address, "--checkpoint", str(checkpoint)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    killer.join()
    assert run.returncode == 0, run.stderr[-2000:]
    assert killed, "the search ended before a worker could be killed"
    client.wait_for_workers(2, timeout=60)
    assert killed[0] not in client.run(os.getpid).values()  # the nanny started a new one
    assert json.loads((tmp_path / "tuning.json").read_text())["config"] == local_config


def test_a_joblib_backend_around_the_library_call_is_honoured(example, cluster):
    """``with joblib.parallel_config(backend="dask")`` sends a ``jobs=1`` tuning's
    emulations to the Dask workers (it used to be overridden by a hard-coded loky)."""
    import joblib

    model, _, x, y, _, _ = example
    _, client = cluster
    with (
        distributed.get_task_stream(client) as stream,
        joblib.parallel_config(backend="dask", n_jobs=2),
    ):
        # the search's first phases are enough to see where the emulations ran
        tune(model, x, y, TuneOptions(jobs=1, time_limit=3))
    assert len({t["worker"] for t in _emulations(stream)}) == 2


def test_without_dask_cluster_is_one_line_naming_the_extra(example, monkeypatch, capsys):
    """``--cluster`` without the extra: exit 2, one line naming ``aptune[cluster]``, before the
    model is loaded."""
    _, model_path, _, _, data, _ = example
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    code = main(["tune", str(model_path), "--data", str(data), "--cluster", "local:2"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "pip install 'aptune[cluster]'" in err


@pytest.mark.parametrize("spec", ["local:0", "local:two", "somehost:8786"])
def test_a_bad_cluster_address_is_one_line(example, capsys, spec):
    """A malformed ``--cluster`` exits 2 with one line naming the two accepted forms."""
    _, model_path, _, _, data, _ = example
    code = main(["tune", str(model_path), "--data", str(data), "--cluster", spec])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "local:N" in err
