"""hls4ml's compiled C simulation: cached on disk, exact, and clear when g++ fails."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

import csim.hls4ml_sim as hs
from csim.cache import MANIFEST
from emulation.errors import ToolError
from tests.conftest import requires_gxx
from tests.csim.small_models import CONFIG, small_inputs


@pytest.fixture(scope="module")
def model(small_model_file):
    from emulation.io.keras_files import load_model

    return load_model(small_model_file)


def _report(a: np.ndarray, b: np.ndarray) -> str:
    bad = [tuple(i) for i in np.argwhere(a != b)]
    first = [(i, a[i], b[i]) for i in bad[:3]]
    return f"{len(bad)} of {a.size} values differ; first (index, ours, reference): {first}"


@requires_gxx
@pytest.mark.csim
def test_second_run_loads_the_cache_without_compiling(model, csim_cache, monkeypatch):
    """A second compile_sim with the same model and config neither converts nor runs g++."""
    first = hs.compile_sim(model, CONFIG, cache_dir=csim_cache, progress=None)
    X = small_inputs(50)
    y_first = first.predict(X)

    def no_build(project_dir: Path) -> None:
        raise AssertionError(f"the compiler was called again for {project_dir}")

    def no_convert(*args, **kwargs):
        raise AssertionError("hls4ml conversion was called again")

    monkeypatch.setattr(hs, "_run_build", no_build)
    monkeypatch.setattr(hs, "convert_project", no_convert)
    again = hs.compile_sim(model, CONFIG, cache_dir=csim_cache)
    assert again.cached
    assert again.project_dir == first.project_dir
    y_again = again.predict(X)
    assert np.array_equal(y_first, y_again), _report(y_first, y_again)


@requires_gxx
@pytest.mark.csim
def test_outputs_equal_hls4mls_own_predict(model, csim_cache):
    """run() returns what hls4ml's ModelGraph.predict returns for float64 inputs."""
    import contextlib
    import ctypes
    import io

    sim = hs.compile_sim(model, CONFIG, cache_dir=csim_cache)
    X = small_inputs(40, seed=3)
    ours = sim.predict(X)
    # hls4ml's own path, on the same library: a fresh ModelGraph pointed at it
    hls_model = hs.convert_project(model, CONFIG, sim.project_dir / "unused")
    hls_model._top_function_lib = ctypes.CDLL(str(sim.library))
    with contextlib.redirect_stdout(io.StringIO()):
        theirs = hls_model.predict(np.ascontiguousarray(X))
    assert np.array_equal(ours, theirs), _report(ours, theirs)


@requires_gxx
@pytest.mark.csim
def test_trace_holds_every_layer_and_ends_with_the_output(model, csim_cache):
    """trace() gives each layer's output; the last traced layer is the model output."""
    sim = hs.compile_sim(model, CONFIG, cache_dir=csim_cache)
    X = small_inputs(30, seed=4)
    outputs, traces = sim.run(X, trace=True)
    assert list(traces) == ["d1", "d1_relu", "d2", "d2_relu", "d3", "sm"]
    assert traces["d1"].shape == (30, 8)
    assert np.array_equal(traces["sm"], outputs[0]), _report(traces["sm"], outputs[0])


@requires_gxx
@pytest.mark.csim
def test_manifest_names_types_as_the_cpp_does(model, csim_cache):
    """The manifest records the library, sizes and each layer's result type."""
    sim = hs.compile_sim(model, CONFIG, cache_dir=csim_cache)
    data = json.loads((sim.project_dir / MANIFEST).read_text())
    assert data["inputs"] == [["x", 6]]
    assert data["types"]["d3"] == "ap_fixed<16,6>"
    assert (sim.project_dir / data["library"]).is_file()


def _fake_gxx(folder: Path, *, fail_with: str) -> None:
    script = folder / "g++"
    script.write_text(
        "#!/bin/bash\n"
        'if [ "$1" = "--version" ]; then echo "g++ (fake) 0.0"; exit 0; fi\n'
        f'echo "{fail_with}" >&2\n'
        "exit 1\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_compiler_failure_names_the_first_error_and_the_folder(model, tmp_path, monkeypatch):
    """A g++ error becomes one ToolError line with the first error and the project folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _fake_gxx(bin_dir, fail_with="firmware/myproject.cpp:12:3: error: 'x' was not declared")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ToolError) as info:
        hs.compile_sim(model, CONFIG, cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert "\n" not in message
    assert "error: 'x' was not declared" in message
    assert str(tmp_path / "cache") in message


def test_missing_gxx_is_a_tool_error(model, tmp_path, monkeypatch):
    """Without g++ on PATH, compile_sim says so and how to fix it, before any work."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolError, match=r"^g\+\+ not found on PATH: install a C\+\+ compiler"):
        hs.compile_sim(model, CONFIG, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_incomplete_cache_entry_is_not_used(tmp_path):
    """An entry whose library or a weight file is missing is rebuilt, never loaded."""
    manifest = hs.Manifest(
        key="k",
        library="firmware/lib.so",
        project_name="myproject",
        inputs=[["x", 2]],
        outputs=[["y", 1]],
        traced=[],
        n_traced=0,
        types={},
        weight_files=["w2.txt"],
        hls4ml="1.3.0",
        gxx="g++",
        convert_seconds=0.0,
        compile_seconds=0.0,
    )
    (tmp_path / "firmware" / "weights").mkdir(parents=True)
    (tmp_path / "firmware" / "lib.so").write_bytes(b"")
    assert not hs._usable(tmp_path, manifest)
    (tmp_path / "firmware" / "weights" / "w2.txt").write_text("1,2")
    assert hs._usable(tmp_path, manifest)
    (tmp_path / "firmware" / "lib.so").unlink()
    assert not hs._usable(tmp_path, manifest)
