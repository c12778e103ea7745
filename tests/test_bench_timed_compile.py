"""The benchmarks' compile limit: a build past it is killed with every process it started."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.benchmarks.timed_compile import CompileTimeout, compile_minutes, run_build

# a stand-in for hls4ml's build script: a child that outlives the shell's own sleep, as cc1plus
# outlives the g++ driver's wait, and writes its pid so the test can look for it afterwards
SLOW_BUILD = """#!/bin/bash
sleep 120 &
echo $! > child.pid
wait
"""


def test_a_build_past_the_limit_is_killed_with_its_children(tmp_path: Path) -> None:
    """The limit raises CompileTimeout at once and leaves no process of the build running."""
    (tmp_path / "build_lib.sh").write_text(SLOW_BUILD)
    start = time.monotonic()
    with pytest.raises(CompileTimeout, match=r"did not finish compiling .* in 0\.02 min"):
        run_build(tmp_path, 0.02)
    assert time.monotonic() - start < 30
    child = int((tmp_path / "child.pid").read_text())
    for _ in range(50):  # the kill is delivered at once; reaping by init may take a moment
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        if (
            Path(f"/proc/{child}/stat").exists()
            and " Z " in Path(f"/proc/{child}/stat").read_text()
        ):
            break  # a zombie: killed, not yet reaped by init
        time.sleep(0.1)
    else:
        pytest.fail(f"the build's child {child} still runs after the limit")


def test_a_failed_build_names_its_first_error(tmp_path: Path) -> None:
    """A build that fails reports its first error line, not a timeout."""
    (tmp_path / "build_lib.sh").write_text("echo 'x.cpp:1: error: nope'; exit 1\n")
    with pytest.raises(RuntimeError, match=r"g\+\+ failed: x\.cpp:1: error: nope"):
        run_build(tmp_path, 1.0)


def test_the_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """APTUNE_BENCH_COMPILE_MINUTES sets the limit; 15 without it; nonsense is refused."""
    monkeypatch.delenv("APTUNE_BENCH_COMPILE_MINUTES", raising=False)
    assert compile_minutes() == 15.0
    monkeypatch.setenv("APTUNE_BENCH_COMPILE_MINUTES", "2.5")
    assert compile_minutes() == 2.5
    monkeypatch.setenv("APTUNE_BENCH_COMPILE_MINUTES", "soon")
    with pytest.raises(ValueError, match="not a number"):
        compile_minutes()
