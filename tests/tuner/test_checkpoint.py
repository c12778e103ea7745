"""Resumable tuning: the checkpoint file, and a run killed with SIGKILL and resumed."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import tuner.evaluate
from emulation.errors import ConfigError
from tests.conftest import REPO
from tuner.checkpoint import Checkpoint
from tuner.cli import main
from tuner.cures import Refusal


def test_outcomes_survive_a_reopen_exactly(tmp_path):
    """Metrics (NaN included) and refusals read back equal, bit for bit."""
    path = tmp_path / "c.jsonl"
    outcomes = {
        "a": (0.1 + 0.2, None, 0.5),
        "b": (math.nan, None, 0.0),
        "c": (1 / 3, Refusal("wrap", "d.result_t", "3 value(s) wrap around at d.result_t"), 1.0),
    }
    with Checkpoint.open(path, "job") as cp:
        cp.record(outcomes)
    again = Checkpoint.open(path, "job")
    assert again.resumed == 3 and "3 evaluation(s) recorded" in again.note
    assert again.get("a") == outcomes["a"] and again.get("c") == outcomes["c"]
    assert math.isnan(again.get("b")[0])
    again.close()


def test_a_partial_last_line_is_dropped_and_cut(tmp_path):
    """A process killed mid-write leaves half a line: it is ignored, and cut before the next
    append, so the file stays one record per line."""
    path = tmp_path / "c.jsonl"
    with Checkpoint.open(path, "job") as cp:
        cp.record({"a": (0.5, None, 0.1)})
    with path.open("ab") as f:
        f.write(b'{"k":"b","m":0.')
    with Checkpoint.open(path, "job") as cp:
        assert cp.get("b") is None and cp.get("a") is not None
        cp.record({"c": (0.25, None, 0.1)})
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(line) for line in lines)


def test_a_checkpoint_of_another_job_is_refused_or_replaced(tmp_path):
    """Asked for by name, another job's checkpoint is a one-line error; at the default place
    it is started afresh, and the note says so."""
    path = tmp_path / "c.jsonl"
    with Checkpoint.open(path, "job-1") as cp:
        cp.record({"a": (0.5, None, 0.1)})
    with pytest.raises(ConfigError, match="another tuning job"):
        Checkpoint.open(path, "job-2")
    with Checkpoint.open(path, "job-2", replace_foreign=True) as cp:
        assert len(cp) == 0 and "started afresh" in cp.note
    (tmp_path / "other.txt").write_text("not a checkpoint\n")
    with pytest.raises(ConfigError, match="not an aptune checkpoint"):
        Checkpoint.open(tmp_path / "other.txt", "job-2")


@pytest.fixture
def command(iris_model, tmp_path):
    """``aptune tune`` arguments for the iris model, minus the output and checkpoint."""
    _, x, y, path = iris_model
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    data = ["--data", str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy")]
    return ["tune", str(path), *data, "--seed", "1", "--target", "0.95"]


def _records(path) -> list[str]:
    """The keys recorded in a checkpoint (complete lines only, header excluded)."""
    text = path.read_bytes()
    lines = text[: text.rfind(b"\n") + 1].decode().splitlines()[1:]
    return [json.loads(line)["k"] for line in lines]


@pytest.fixture
def counted(monkeypatch):
    """Counts the emulator runs of in-process, single-job tuning."""
    calls = []
    original = tuner.evaluate.emulated_metric

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(tuner.evaluate, "emulated_metric", counting)
    return calls


def test_a_run_killed_with_sigkill_resumes_to_the_same_config(command, tmp_path, counted):
    """Killed (SIGKILL) after 15 evaluations, the same command resumes: it emulates only what
    was not recorded, and ends with the config of an uninterrupted run."""
    full = tmp_path / "full"
    assert main([*command, "-o", str(full / "cfg.yml")]) == 0
    n_full = len(counted)
    full_keys = _records(full / "cfg.checkpoint.jsonl")
    assert len(full_keys) == n_full == len(set(full_keys))  # every emulation recorded once

    ckpt, out = tmp_path / "killed.ckpt", tmp_path / "killed" / "cfg.yml"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [*command, "-o", str(out), "--checkpoint", str(ckpt)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuner.cli", *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if ckpt.exists() and len(_records(ckpt)) >= 15:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    recorded = set(_records(ckpt))
    assert 15 <= len(recorded) < n_full and not out.exists()

    counted.clear()
    assert main(argv) == 0
    assert len(counted) == n_full - len(recorded)  # nothing recorded was emulated again
    assert set(_records(ckpt)) == set(full_keys)
    full_config = json.loads((full / "tuning.json").read_text())["config"]
    assert json.loads((out.parent / "tuning.json").read_text())["config"] == full_config


def test_a_named_checkpoint_of_another_job_exits_2(command, tmp_path, capsys):
    """``--checkpoint`` naming another job's file: one line, exit 2, the file untouched."""
    ckpt = tmp_path / "other.ckpt"
    ckpt.write_text('{"format": "aptune-checkpoint/1", "job": "another"}\n')
    code = main([*command, "-o", str(tmp_path / "cfg.yml"), "--checkpoint", str(ckpt)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "another tuning job" in err
    assert ckpt.read_text().count("\n") == 1
