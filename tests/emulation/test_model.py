"""emulation.model: EmulatedModel end to end against hls4ml's C simulation, and its API."""

from __future__ import annotations

import json

import numpy as np
import pytest

import emulation
from emulation import DataError, EmulatedModel, UnsupportedLayerError
from emulation.layers import base
from tests.conftest import requires_gxx
from tests.support.hls import hls_predict, hls_trace, mismatch_report
from tests.support.models import inputs, mlp, two_heads

# 16-32-8-100-5 with two BatchNormalizations: bn1 fused (d1 result 'auto'), bn2 a layer of its
# own (d2 has an explicit result); Resource layers, one with an invalid ReuseFactor (7 -> 5).
BATCHNORM = {
    "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "x_in": {"Precision": {"result": "ap_fixed<10,3,AP_RND,AP_SAT>"}},
        "d1": {"Precision": {"result": "auto", "accum": "auto", "weight": "ap_fixed<8,2>"}},
        "d2": {
            "Precision": {
                "result": "ap_fixed<12,4,AP_RND_CONV,AP_SAT>",
                "accum": "ap_fixed<14,6,AP_RND,AP_WRAP>",
            }
        },
        "bn2": {
            "Precision": {
                "scale": "ap_fixed<10,3>",
                "bias": "ap_fixed<9,4>",
                "result": "ap_fixed<14,5,AP_RND_ZERO,AP_SAT_SYM>",
            }
        },
        "d3": {
            "Strategy": "Resource",
            "ReuseFactor": 4,
            "Precision": {
                "accum": "ap_fixed<12,3,AP_RND,AP_SAT>",
                "weight": "ap_fixed<6,1,AP_RND>",
            },
        },
        "d4": {
            "Strategy": "Resource",
            "ReuseFactor": 7,
            "Precision": {"accum": "ap_fixed<13,5,AP_TRN_ZERO,AP_SAT>"},
        },
    },
}

HEADS = {
    "Model": {"Precision": "ap_fixed<14,5,AP_RND,AP_SAT>", "ReuseFactor": 1},
    "LayerName": {"head_b": {"Precision": {"result": "ap_fixed<8,2>"}}},
}


@pytest.fixture(scope="module")
def bn_case():
    model = mlp([16, 32, 8, 100, 5], seed=7, batchnorm_after=(1, 2))
    with pytest.warns(UserWarning, match="Invalid ReuseFactor=7"):
        em = EmulatedModel(model, BATCHNORM)
    return model, em, inputs(1000, 16)


@pytest.fixture(scope="module")
def heads_case():
    return two_heads(seed=8), inputs(1000, 16, seed=9)


# ---------------------------------------------------------------------------- C simulation
@requires_gxx
@pytest.mark.csim
def test_batchnorm_model_predict_equals_c_simulation(bn_case):
    """Fused and standalone BatchNormalization, Resource layers: predict equals C simulation."""
    model, em, X = bn_case
    got, expected = em.predict(X), hls_predict(model, BATCHNORM, X)
    assert np.array_equal(got, expected), mismatch_report(got, expected, inputs=X)


@requires_gxx
@pytest.mark.csim
def test_batchnorm_model_trace_equals_c_simulation(bn_case):
    """trace() has hls4ml's layer names (bn1 fused away, bn2 kept) and its values."""
    model, em, X = bn_case
    got, expected = em.trace(X), hls_trace(model, BATCHNORM, X)
    assert sorted(got) == sorted(expected) == ["bn2", "d1", "d2", "d3", "d4"]
    for name in expected:
        types = dict(em.graph.node(name).types)
        assert np.array_equal(got[name], expected[name]), f"layer {name}: " + mismatch_report(
            got[name], expected[name], inputs=X, types=types
        )


@requires_gxx
@pytest.mark.csim
def test_two_outputs_come_back_as_hls4ml_returns_them(heads_case):
    """Several outputs: a list of (n, size) arrays; one sample: the same without batch axis."""
    model, X = heads_case
    em = EmulatedModel(model, HEADS)
    for data in (X, X[:1], X[0]):
        got, expected = em.predict(data), hls_predict(model, HEADS, data)
        assert isinstance(got, list) and len(got) == len(expected) == 2
        for g, e in zip(got, expected, strict=True):
            assert g.shape == e.shape
            assert np.array_equal(g, e), mismatch_report(g, e, inputs=X)


@requires_gxx
@pytest.mark.csim
def test_single_output_single_sample_is_one_dimensional(bn_case):
    """One output and one sample: hls4ml returns a 1-D array, and so does predict()."""
    model, em, X = bn_case
    got, expected = em.predict(X[:1]), hls_predict(model, BATCHNORM, X[:1])
    assert got.shape == expected.shape == (5,)
    assert np.array_equal(got, expected)


# ------------------------------------------------------------------------------------ API
def test_batches_do_not_change_results(bn_case):
    """Any batch size gives the same values and the same overflow counts."""
    _, em, X = bn_case
    whole = em.predict(X)
    counts = {k: (p.count, p.total) for k, p in em.overflows.items()}
    assert np.array_equal(em.predict(X, batch_size=7), whole)
    assert {k: (p.count, p.total) for k, p in em.overflows.items()} == counts


def test_overflows_are_plain_json_per_cast_point(bn_case):
    """overflows: '<layer>.<type>' -> count, total, share, max_abs, serialisable to JSON."""
    _, em, X = bn_case
    em.predict(X)
    report = {k: p.to_dict() for k, p in em.overflows.items()}
    assert json.loads(json.dumps(report)) == report
    assert {"x_in.result_t", "d1.accum_t", "d1.result_t", "bn2.result_t"} <= set(report)
    assert "bn1.result_t" not in report  # fused: no cast of its own
    inp = report["x_in.result_t"]
    assert inp["total"] == X.size and inp["count"] > 0  # the doubled inputs overflow <10,3>
    assert inp["max_abs"] == np.max(np.abs(X))
    assert all(0 <= r["share"] <= 1 for r in report.values())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.zeros((4, 15)), r"shape \(4, 15\); expected \(n, 16\)"),
        (np.zeros((0, 16)), "no samples"),
        (np.array([[0.0] * 15 + [np.nan]]), r"NaN or infinity \(first at index \(0, 15\)\)"),
        ([np.zeros((2, 16)), np.zeros((2, 16))], r"shape \(2, 2, 16\); expected \(n, 16\):"),
        ("text", "not numeric"),
    ],
)
def test_bad_inputs_raise_data_error(bn_case, data, message):
    """Wrong shape, no samples, NaN, a list for one input, non-numbers: one-line DataError."""
    _, em, _ = bn_case
    with pytest.raises(DataError, match=message):
        em.predict(data)


def test_flat_and_single_sample_inputs_are_accepted(bn_case):
    """(size,) is one sample, as in hls4ml; (n, size) is n samples."""
    _, em, X = bn_case
    assert np.array_equal(em.predict(X[3]), em.predict(X[3:4]))
    assert np.array_equal(em.predict(X[:5].tolist()), em.predict(X[:5]))


def test_layer_without_adapter_names_it(monkeypatch):
    """A node kind with no adapter raises UnsupportedLayerError naming the layer and kinds."""
    monkeypatch.delitem(base.ADAPTERS, "Dense")
    with pytest.raises(UnsupportedLayerError, match=r"'d1' of class Dense.*supported: .*Input"):
        EmulatedModel(mlp([4, 3], seed=1), {"Model": {"Precision": "ap_fixed<8,3>"}})


def test_unsupported_strategy_is_refused():
    """A Dense with a strategy the emulator does not reproduce raises, naming the fix."""
    model = mlp([8, 4], seed=1)
    cfg = {"Model": {"Precision": "ap_fixed<8,3>", "ReuseFactor": 2, "Strategy": "Latency"}}
    layer = {"d1": {"Strategy": "distributed_arithmetic"}}
    with pytest.raises(UnsupportedLayerError, match=r"distributed_arithmetic.*Strategy: Latency"):
        EmulatedModel(model, {**cfg, "LayerName": layer}).predict(np.zeros((1, 8)))


def test_package_exports_the_entry_points():
    """`from emulation import EmulatedModel, load_model` works."""
    assert emulation.EmulatedModel is EmulatedModel
    assert callable(emulation.load_model)
    assert {"EmulatedModel", "load_model"} <= set(emulation.__all__)


_FAULTS = """
import resource, sys
import emulation.model as m
from tests.support.models import inputs, mlp
if sys.argv[1] == "glibc-defaults":
    m._keep_freed_memory = lambda: None
em = m.EmulatedModel(mlp([16, 256, 256, 5], seed=2), {"Model": {"Precision": "ap_fixed<16,6>"}})
X = inputs(4096, 16)
em.predict(X)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
em.predict(X)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_repeated_predicts_reuse_freed_memory():
    """A second predict of the same batch touches almost no fresh pages: the layers' freed
    arrays are reused (`model._keep_freed_memory`); under glibc's defaults the same predict
    page-faults thousands of times. Each in a fresh process (malloc's thresholds depend on its
    history). The tuned run faults 0 times, or about 220 in some processes (under 1 MB the
    interpreter or a library takes at random): the bound is a tenth of glibc's defaults."""
    import ctypes
    import os
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("resource")
    if not hasattr(ctypes.CDLL(None), "mallopt"):
        pytest.skip("the C library has no mallopt")
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root, "TF_CPP_MIN_LOG_LEVEL": "3"}
    faults = {}
    for mode in ("tuned", "glibc-defaults"):
        run = subprocess.run(
            [sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, env=env, cwd=root
        )
        assert run.returncode == 0, run.stderr[-2000:]
        faults[mode] = int(run.stdout.split()[-1])
    assert faults["tuned"] * 10 < faults["glibc-defaults"] and faults["glibc-defaults"] > 1000, (
        faults
    )


def test_predict_and_trace_run_blas_on_one_thread(monkeypatch):
    """`model.BLAS_THREADS` holds while the layers run, and BLAS is as before afterwards."""
    from threadpoolctl import threadpool_info

    from emulation import model as model_mod

    def blas_threads() -> set[int]:
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    outside = blas_threads()
    if not outside or outside == {1}:
        pytest.skip("BLAS runs on one thread here anyway")
    seen: list[set[int]] = []
    real = model_mod.EmulatedModel._run
    monkeypatch.setattr(
        model_mod.EmulatedModel, "_run", lambda *a: seen.append(blas_threads()) or real(*a)
    )
    em = EmulatedModel(mlp([4, 3]), {"Model": {"Precision": "ap_fixed<16,6>"}})
    em.predict(inputs(5, 4))
    em.trace(inputs(5, 4))
    assert seen == [{1}, {1}]
    assert blas_threads() == outside
