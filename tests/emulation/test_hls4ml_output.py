"""emulation.io.hls4ml_output: hls4ml's printed notes dropped, warnings and real messages kept."""

from __future__ import annotations

import contextlib
import io
import sys

import pytest

from emulation.graph import build_graph
from emulation.io.hls4ml_output import quiet_hls4ml
from tests.support.models import mlp

DA4ML_NOTE = "Function da_call requires da4ml<0.6,>=0.5.2, but package da4ml is missing"
CONFIG = {"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"}}


@pytest.fixture(scope="module")
def batchnorm_model():
    """Dense -> BatchNormalization: hls4ml's Keras 3 parser has no handler for BN and tries
    its optional da4ml fallback first."""
    return mlp([6, 5, 4], batchnorm_after=[1])


def _raw_conversion_stderr(model) -> str:
    """What hls4ml itself writes to stderr converting ``model`` (stdout discarded)."""
    import hls4ml

    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        hls4ml.converters.convert_from_keras_model(
            model, hls_config=CONFIG, backend="Vivado", output_dir="/nonexistent-unwritten"
        )
    return err.getvalue()


def test_batchnorm_conversion_prints_nothing(batchnorm_model, capfd):
    """Converting a model with BatchNormalization leaks neither stdout nor stderr."""
    raw = _raw_conversion_stderr(batchnorm_model)
    if "da4ml" not in raw:
        pytest.skip("hls4ml prints no da4ml note here (da4ml is installed): nothing to silence")
    capfd.readouterr()
    graph = build_graph(batchnorm_model, CONFIG)
    out, err = capfd.readouterr()
    assert "bn1" in {n.name for n in graph.nodes}  # a separate layer: the result is explicit
    assert (out, err) == ("", ""), f"conversion printed: {out!r} {err!r}"


def test_other_stderr_lines_pass_through(capfd):
    """Only the missing-optional-package note is dropped; any other stderr line is shown."""
    with quiet_hls4ml():
        print(DA4ML_NOTE, file=sys.stderr)
        print("ERROR: something hls4ml really wants you to see", file=sys.stderr)
        print("Interpreting Sequential")  # a stdout note
    out, err = capfd.readouterr()
    assert out == ""
    assert err == "ERROR: something hls4ml really wants you to see\n"


def test_printed_warnings_become_python_warnings(capfd):
    """A WARNING line on stdout becomes a UserWarning prefixed 'hls4ml: '."""
    warning = "^hls4ml: WARNING: Invalid ReuseFactor=7"
    with pytest.warns(UserWarning, match=warning), quiet_hls4ml():
        print("WARNING: Invalid ReuseFactor=7 in layer d1. Using ReuseFactor=8 instead.")
    assert capfd.readouterr() == ("", "")


def test_exceptions_propagate_and_stderr_is_kept(capfd):
    """A failure inside the block raises unchanged, after its stderr is written through."""
    with pytest.raises(KeyError, match="boom"), quiet_hls4ml():
        print("Traceback-like detail", file=sys.stderr)
        print(DA4ML_NOTE, file=sys.stderr)
        raise KeyError("boom")
    assert capfd.readouterr().err == "Traceback-like detail\n"
