"""Ctrl-C at any moment of ``aptune tune`` leaves on disk either the previous run's outputs,
untouched, or a complete new set marked as interrupted; and a run that writes no config says
which earlier run the config left in place came from."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tuner.cli import main
from tuner.outputs import run_of

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
APTUNE = [sys.executable, "-c", "from tuner.cli import main; raise SystemExit(main())"]
FILES = ("recommended.yml", "tuning.json", "report/report.html", "report/summary.md")


@pytest.fixture(scope="module")
def setup(iris_model, tmp_path_factory):
    """The iris model, data, and one finished run's outputs to compare against."""
    _, x, _, model = iris_model
    folder = tmp_path_factory.mktemp("interrupts")
    np.save(folder / "x.npy", np.repeat(x, 20, axis=0))
    return model, folder


def _args(model: Path, folder: Path, out: Path) -> list[str]:
    data, yml = str(folder / "x.npy"), str(out / "recommended.yml")
    report = ["--report", str(out / "report")]
    return ["tune", str(model), "--data", data, "--target", "0.9", "-o", yml, *report]


def _snapshot(out: Path) -> dict[str, bytes | None]:
    return {f: (out / f).read_bytes() if (out / f).exists() else None for f in FILES}


def _as_a_terminal() -> None:
    """Ctrl-C as a shell delivers it: a child inherits an ignored SIGINT, and a library run
    earlier in this test process (not aptune) may have left it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt_when(args: list[str], marker: str | None, delay: float = 0.0) -> int:
    """Run the CLI, send SIGINT once ``marker`` appears on stderr (None: at once) plus
    ``delay`` seconds; its exit code."""
    proc = subprocess.Popen(
        [*APTUNE, *args], stderr=subprocess.PIPE, text=True, env=ENV, preexec_fn=_as_a_terminal
    )
    if marker is not None:
        for line in proc.stderr:
            if marker in line:
                break
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=600)
    return proc.returncode


@pytest.mark.parametrize(
    ("marker", "delay"),
    [
        (None, 1.0),
        ("search:", 0.0),
        ("descent:", 0.0),
        ("baseline: range rule", 0.0),
        ("done:", 0.0),
    ],
    ids=["loading", "search-start", "descent", "baselines", "after-search"],
)
def test_an_interrupt_leaves_the_old_set_or_a_complete_marked_new_one(
    setup, tmp_path, marker, delay
):
    model, folder = setup
    out = tmp_path / "out"
    assert main(_args(model, folder, out)) == 0
    before = _snapshot(out)
    code = _interrupt_when(_args(model, folder, out), marker, delay)
    after = _snapshot(out)
    # -SIGINT: stopped while Python itself was still importing, before aptune's handler
    assert code in (0, 130, -signal.SIGINT)
    leftovers = [p.name for p in out.rglob("*") if ".staged" in p.name]
    assert not leftovers, leftovers
    if after == before:
        assert code != 0
        return
    # a new set: every file replaced, all naming one run, marked when interrupted
    assert all(after[f] is not None and after[f] != before[f] for f in FILES), [
        f for f in FILES if after[f] == before[f]
    ]
    record = json.loads(after["tuning.json"])
    assert run_of(out / "recommended.yml") == record["run"]
    assert record["run"] in after["report/summary.md"].decode()
    assert record["interrupted"] == (code == 130)
    if marker in ("search:", "descent:"):
        assert code == 130 and record["interrupted"], "the search's best so far was not saved"


def test_a_run_without_config_names_the_config_it_left(setup, tmp_path, capsys):
    model, folder = setup
    out = tmp_path / "out"
    assert main(_args(model, folder, out)) == 0
    first = run_of(out / "recommended.yml")
    yml = (out / "recommended.yml").read_bytes()
    args = ["tune", str(model), "--data", str(folder / "x.npy"), "--metric", "mae"]
    code = main([*args, "--target", "1e-12", "-o", str(out / "recommended.yml")])
    assert code == 1
    record = json.loads((out / "tuning.json").read_text())
    assert record["run"] != first and first in record["config_left"]
    assert (out / "recommended.yml").read_bytes() == yml  # nothing the user had is lost
    assert f"run {first}" in capsys.readouterr().out
