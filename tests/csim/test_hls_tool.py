"""The vendor C-simulation path: tool lookup, testbench files, the patched testbench.

Neither Vivado HLS nor Vitis HLS is installed where these tests run. What they prove instead:
the tools are looked up and their absence reported in one line; the testbench files are written
and read back exactly; and the whole vivado path, with ``vivado_hls`` replaced by a script that
compiles hls4ml's patched testbench with g++ and runs it on those files, gives the same values
as hls4ml's C simulation, bit for bit.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import numpy as np
import pytest

from csim.compare import compare
from csim.hls4ml_sim import compile_sim, convert_project
from csim.hls_tool import (
    CSIM_LOG,
    INPUT_FILE,
    PREDICTIONS_FILE,
    find_tool,
    patch_testbench,
    read_csim_results,
    write_testbench_data,
)
from emulation.errors import ToolError
from tests.conftest import requires_gxx
from tests.csim.small_models import CONFIG, small_inputs


@pytest.fixture(scope="module")
def model(small_model_file):
    from emulation.io.keras_files import load_model

    return load_model(small_model_file)


@pytest.fixture(scope="module")
def project(model, tmp_path_factory) -> Path:
    """hls4ml's project for the small model, written (not compiled), testbench patched."""
    folder = tmp_path_factory.mktemp("vendor") / "prj"
    hls_model = convert_project(model, CONFIG, folder)
    with contextlib.redirect_stdout(io.StringIO()):
        hls_model.write()
    patch_testbench(folder / "myproject_test.cpp")
    return folder


@pytest.mark.parametrize(("tool", "exe"), [("vivado", "vivado_hls"), ("vitis", "vitis-run")])
def test_missing_tool_is_one_line_naming_gxx(tool, exe, tmp_path, monkeypatch):
    """Without the vendor executable on PATH: one line pointing at --hls-tool gxx."""
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolError) as info:
        find_tool(tool)
    assert str(info.value) == (
        f"{exe} not found on PATH; --hls-tool gxx runs hls4ml's g++ C simulation instead"
    )


def test_found_tool_is_returned(tmp_path, monkeypatch):
    """An executable vivado_hls on PATH is found."""
    exe = tmp_path / "vivado_hls"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_tool("vivado") == str(exe)


def test_testbench_files_round_trip_float64(tmp_path):
    """Inputs are written with 17 digits: read back, every float64 is the same bit pattern."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 5)) * 10.0 ** rng.integers(-8, 8, size=(7, 5))
    y = rng.random((7, 3))
    files = write_testbench_data(tmp_path, x, y)
    assert files == (tmp_path / INPUT_FILE, tmp_path / PREDICTIONS_FILE)
    back = np.loadtxt(files[0], ndmin=2)
    assert np.array_equal(back, x)
    assert len(files[1].read_text().splitlines()) == 7


def test_results_log_is_read_exactly(tmp_path):
    """The results log's decimal values become the exact float64 fixed-point values."""
    log = tmp_path / CSIM_LOG
    log.parent.mkdir()
    log.write_text("0.2363281250 -1.5 0 \n0.0009765625 3 1e-05 \n")
    got = read_csim_results(log, 2, 3)
    assert np.array_equal(got, [[0.236328125, -1.5, 0.0], [2.0**-10, 3.0, 1e-5]])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("1 2 3\n", "holds 1 lines"),
        ("1 2 3\n4 5\n", r"of \[2, 3\] values"),
        ("1 2 x\n1 2 3\n", "not a number"),
    ],
)
def test_malformed_results_log_is_a_tool_error(tmp_path, text, match):
    """A log with the wrong shape or a non-number says what it expected."""
    log = tmp_path / "csim_results.log"
    log.write_text(text)
    with pytest.raises(ToolError, match=match):
        read_csim_results(log, 2, 3)


def test_missing_results_log_is_a_tool_error(tmp_path):
    """No log at all: the tool failed; the error says where to look."""
    with pytest.raises(ToolError, match="wrote no results"):
        read_csim_results(tmp_path / CSIM_LOG, 2, 3)


def test_patch_reads_double_and_prints_every_digit(project):
    """The generated testbench reads inputs as double and sets the log's precision."""
    text = (project / "myproject_test.cpp").read_text()
    assert "std::vector<double> in;" in text
    assert "std::vector<float> in;" not in text
    assert "nnet::copy_data<double, input_t, 0, 6>(in, x);" in text
    assert "fout.precision(1000);" in text


def test_patch_refuses_an_unknown_template(tmp_path):
    """A testbench without the expected lines is reported, not silently left inexact."""
    file = tmp_path / "myproject_test.cpp"
    file.write_text("int main() { return 0; }\n")
    with pytest.raises(ToolError, match="testbench template changed"):
        patch_testbench(file)


_FAKE_VIVADO_HLS = """#!/bin/bash
# Stands in for vivado_hls -f build_prj.tcl "csim=True ...": builds hls4ml's testbench with g++
# and runs it in the project folder, as csim_design does.
set -e
g++ -O1 -std=c++14 -Ifirmware/ap_types -DWEIGHTS_DIR="\\"$(pwd)/firmware/weights\\"" \\
    myproject_test.cpp firmware/myproject.cpp -o aptune_tb
./aptune_tb
"""


@requires_gxx
@pytest.mark.csim
def test_vendor_path_reproduces_the_csim_exactly(model, csim_cache, tmp_path, monkeypatch):
    """The vivado path end to end (the tool replaced by g++ on the patched testbench) gives
    hls4ml's C simulation value for value.

    Inputs just below a grid point of the input type (float32 would round them onto it) and
    outputs with more than 6 significant digits make both testbench patches necessary.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "vivado_hls"
    fake.write_text(_FAKE_VIVADO_HLS)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    x = small_inputs(40, seed=5)
    lsb = 2.0**-10
    x[:20] = np.floor(x[:20] / lsb) * lsb - 2.0**-40  # off-grid by less than float32 resolves
    prj = tmp_path / "prj"
    result = compare(model, CONFIG, x, hls_tool="vivado", project_dir=prj, progress=False)
    assert (prj / "tb_data" / "csim_results.log").is_file()
    assert result.agree, result.to_dict()["histograms"]
    assert result.identical == result.n_values == 160
    assert result.first_divergence is None
    got = read_csim_results(prj / CSIM_LOG, len(x), 4)
    want = compile_sim(model, CONFIG, cache_dir=csim_cache).predict(x)
    bad = [tuple(i) for i in np.argwhere(got != want)]
    first = [(i, x[i[0]], got[i], want[i]) for i in bad[:3]]
    assert np.array_equal(got, want), (
        f"{len(bad)} of {got.size} differ; first (index, input, testbench, csim): {first}"
    )
