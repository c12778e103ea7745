"""Rows of the README's "hls4ml 1.3 as it really behaves" table, each measured in C simulation:
the tables' libm, when BatchNormalization is fused, and the digits example's default config."""

from __future__ import annotations

import ctypes
import math
from pathlib import Path

import numpy as np
import pytest

from emulation import EmulatedModel
from emulation.fixed import FixedType
from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim, hls_predict, mismatch_report

EXAMPLE = Path(__file__).resolve().parents[2] / "tuner" / "example"
N = 1024  # hls4ml's default table size
WIDE = "ap_fixed<32,2>"  # 30 fractional bits: keeps every float32 tanh value above 2^-6


def _tanhf_differs_from_correct_rounding() -> np.ndarray:
    """Indices of the tanh table whose glibc tanhf value is not tanh rounded to float32."""
    try:
        libm = ctypes.CDLL("libm.so.6")
    except OSError:
        pytest.skip("glibc's libm is not here")
    libm.tanhf.restype, libm.tanhf.argtypes = ctypes.c_float, [ctypes.c_float]
    # the C++ fills entry i with tanh(float(8 * (i - N/2) / N))
    x = (8.0 * (np.arange(N) - N / 2) / N).astype(np.float32)
    libm_values = np.array([libm.tanhf(float(v)) for v in x], dtype=np.float32)
    correct = np.array([math.tanh(float(v)) for v in x]).astype(np.float32)
    differs = np.flatnonzero((libm_values != correct) & (np.abs(correct) >= 2.0**-6))
    if differs.size == 0:
        pytest.skip("this C library's tanhf is correctly rounded on every table entry")
    return differs


@requires_gxx
@pytest.mark.csim
def test_tanh_table_uses_the_c_librarys_tanhf_not_correct_rounding() -> None:
    """Where glibc's tanhf is not correctly rounded, the C simulation reads the tanhf value,
    and so does the emulator; a table of correctly rounded values would differ there."""
    import keras

    idx = _tanhf_differs_from_correct_rounding()
    model = keras.Sequential(
        [keras.Input((1,), name="x"), keras.layers.Activation("tanh", name="th")]
    )
    cfg = {
        "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1},
        "LayerName": {"th": {"table_t": WIDE, "Precision": {"result": WIDE}}},
    }
    X = ((idx - N / 2) * 8.0 / N).reshape(-1, 1)  # exactly the input of each such entry
    want = hls_predict(model, cfg, X).ravel()
    got = EmulatedModel(model, cfg).predict(X).ravel()
    assert np.array_equal(got, want), mismatch_report(got, want, inputs=X)
    x_in = (8.0 * (idx - N / 2) / N).astype(np.float32)
    correct = FixedType.parse(WIDE).quantize(
        np.array([math.tanh(float(v)) for v in x_in]).astype(np.float32).astype(np.float64)
    )
    assert (correct != want).all(), "the C simulation used correctly rounded tanh"


def _bn_with_two_consumers():
    """x -> d1 -> bn1 and d1 -> d2; bn1 + d2: BN is not d1's only consumer."""
    import keras

    rng = np.random.default_rng(4)
    inp = keras.Input((6,), name="x")
    d1 = keras.layers.Dense(5, name="d1")(inp)
    bn = keras.layers.BatchNormalization(name="bn1")
    d2 = keras.layers.Dense(5, name="d2")(d1)
    out = keras.layers.Add(name="add")([bn(d1), d2])
    model = keras.Model(inp, out)
    bn.set_weights(
        [
            rng.uniform(0.5, 2, 5),
            rng.normal(0, 0.5, 5),
            rng.normal(0, 0.5, 5),
            rng.uniform(0.5, 2, 5),
        ]
    )
    return model


def _default_config(model) -> dict:
    import hls4ml

    return hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")


@requires_gxx
@pytest.mark.csim
def test_batchnorm_is_fused_only_when_it_is_the_only_consumer() -> None:
    """With d1's result 'auto', BN fuses into d1 when it is d1's only consumer; with a second
    consumer it stays a layer of its own, and the emulator still equals the C simulation."""
    from tests.support.models import mlp

    alone = mlp([6, 5, 4], batchnorm_after=[1])
    kinds = [n.kind for n in EmulatedModel(alone, _default_config(alone)).nodes]
    assert "BatchNormalization" not in kinds, kinds

    shared = _bn_with_two_consumers()
    cfg = _default_config(shared)
    assert cfg["LayerName"]["d1"]["Precision"]["result"] == "auto"
    nodes = {n.name: n.kind for n in EmulatedModel(shared, cfg).nodes}
    assert nodes.get("bn1") == "BatchNormalization", nodes
    X = np.random.default_rng(5).normal(0, 2, (200, 6))
    assert_equal_to_csim(shared, cfg, X)


@requires_gxx
@pytest.mark.csim
def test_digits_example_with_hls4mls_default_config_is_near_chance() -> None:
    """hls4ml's default config gives the digits example (float accuracy 98 %) about 9 %
    accuracy in C simulation: the 'auto' logits are too wide for the stable softmax, so every
    output row is the same."""
    from emulation.io.keras_files import load_model

    model = load_model(EXAMPLE / "digits_mlp.keras")
    x, y = np.load(EXAMPLE / "digits_x.npy"), np.load(EXAMPLE / "digits_y.npy")
    float_accuracy = np.mean(np.argmax(model.predict(x, verbose=0), axis=1) == y)
    assert float_accuracy > 0.97
    cfg = _default_config(model)
    logits = EmulatedModel(model, cfg).graph.node("logits")
    # 'auto': W = Ww + Win + ceil(log2 16) + 1 bias bit = 16 + 16 + 4 + 1
    assert str(logits.types["result_t"]) == "ap_fixed<37,17>"
    y_hls = hls_predict(model, cfg, x)
    assert (y_hls == y_hls[0]).all(), "the C simulation's output rows differ"
    accuracy = np.mean(np.argmax(y_hls, axis=1) == y)
    assert 0.08 <= accuracy <= 0.11, accuracy
    y_em = EmulatedModel(model, cfg).predict(x)
    assert np.array_equal(y_em, y_hls), mismatch_report(y_em, y_hls)
