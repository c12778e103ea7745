"""emulation.graph: hls4ml's graph as plain nodes (no compilation in this file)."""

from __future__ import annotations

import tempfile
import time

import numpy as np
import pytest

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FixedType, Overflow, Rounding
from emulation.graph import build_graph, convert
from emulation.hls_nodes import decimal_text_values, fixed_from_hls4ml
from tests.support.models import mlp

BASE = {"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"}}


def config(**layers: dict) -> dict:
    """BASE with per-layer settings."""
    return {**BASE, "LayerName": layers}


@pytest.fixture(scope="module")
def model_16_32_8():
    return mlp([16, 32, 8], seed=0)


def test_conversion_writes_nothing_and_is_fast(model_16_32_8, tmp_path, monkeypatch):
    """build_graph converts in well under a second and creates no file or folder."""
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    build_graph(model_16_32_8, BASE)  # warm up imports
    start = time.perf_counter()
    graph = build_graph(model_16_32_8, BASE)
    elapsed = time.perf_counter() - start
    assert [n.kind for n in graph.nodes] == ["Input", "Dense", "Dense"]
    assert list(tmp_path.iterdir()) == []
    assert elapsed < 1.0, f"conversion took {elapsed:.3f} s"


def test_fixed_from_hls4ml_keeps_every_mode():
    """FixedPrecisionType keeps width, integer, sign, rounding, saturation and sat bits."""
    from hls4ml.model.types import FixedPrecisionType

    p = FixedPrecisionType(12, -2, False, "RND_CONV", "SAT_SYM", 3)
    assert fixed_from_hls4ml(p) == FixedType(12, -2, False, Rounding.RND_CONV, Overflow.SAT_SYM, 3)


def test_fixed_from_hls4ml_integer_types_convert_like_c():
    """IntegerPrecisionType is ap_int: toward zero, modulo 2^W."""
    from hls4ml.model.types import IntegerPrecisionType

    assert fixed_from_hls4ml(IntegerPrecisionType(5, False)) == FixedType.integer_type(5, False)


@pytest.mark.parametrize("name", ["XnorPrecisionType", "ExponentPrecisionType"])
def test_fixed_from_hls4ml_rejects_other_types(name):
    """Binary and exponent types raise UnsupportedLayerError naming the type and place."""
    import hls4ml.model.types as types

    with pytest.raises(UnsupportedLayerError, match=f"{name}.*in d1.weight_t"):
        fixed_from_hls4ml(getattr(types, name)(), "d1.weight_t")


@pytest.mark.parametrize("digits", [0, 1, 2, 3, 5, 8, 12, 13, 20])
def test_decimal_text_values_match_the_formatter(digits):
    """The vectorised text round trip equals float(f'{w:.Ff}') on float32, ties and float64."""
    rng = np.random.default_rng(digits)
    w32 = (rng.normal(size=20000) * rng.choice([1e-4, 0.3, 7.0, 900.0], 20000)).astype(np.float32)
    w32[:200] = (np.arange(200) - 100) / 2.0 ** rng.integers(0, 9, 200)  # exact ties
    w64 = rng.normal(size=2000) * 3
    for w in (w32, w64):
        expected = np.array([float(f"{v:.{digits}f}") for v in w.tolist()])
        assert np.array_equal(decimal_text_values(w, digits), expected)


def test_weights_are_the_written_text_read_back_into_the_type(model_16_32_8):
    """Node.weights == weight_t.quantize(float(text)) with hls4ml's own text of each weight."""
    cfg = config(d1={"Precision": {"weight": "ap_fixed<6,2,AP_RND>", "bias": "ap_fixed<5,1>"}})
    hls_model = convert(model_16_32_8, cfg)
    graph = build_graph(model_16_32_8, cfg)
    layer, node = hls_model.graph["d1"], graph.node("d1")
    for key, t in (("weight", "weight_t"), ("bias", "bias_t")):
        var = layer.weights[key]
        text = np.array([float(s) for s in var]).reshape(var.data.shape)  # hls4ml's writer
        expected = node.types[t].quantize(text)
        assert np.array_equal(node.weights[key], expected), key
        assert np.array_equal(node.raw_weights[key], var.data), key
    # and the double rounding matters for this type: Q(w) differs for some weights
    assert not np.array_equal(node.types["weight_t"].quantize(var.data), node.weights["weight"])


def test_batchnorm_fused_only_when_dense_result_is_auto():
    """BN disappears into the Dense when its result is 'auto'; explicit result keeps a BN node."""
    model = mlp([8, 6, 4], seed=2, batchnorm_after=(1,))
    fused = build_graph(model, config(d1={"Precision": {"result": "auto"}}))
    kept = build_graph(model, config(d1={"Precision": {"result": "ap_fixed<14,5>"}}))
    assert [n.name for n in fused.nodes] == ["x_in", "d1", "d2"]
    assert fused.node("d1").attrs["fused_batchnorm"] == ("bn1",)
    assert [n.kind for n in kept.nodes] == ["Input", "Dense", "BatchNormalization", "Dense"]
    assert kept.node("d1").attrs["fused_batchnorm"] == ()
    # the fused weights are BN's scale times the Dense weights (then written and re-read)
    bn = model.get_layer("bn1")
    gamma, _beta, _mean, var = bn.get_weights()
    scale = gamma / np.sqrt(var + bn.epsilon)
    raw = fused.node("d1").raw_weights["weight"]
    np.testing.assert_allclose(raw, model.get_layer("d1").get_weights()[0] * scale, rtol=1e-6)


@pytest.mark.parametrize(
    ("n_in", "x", "w", "b", "expected"),
    [
        (16, "ap_fixed<16,6>", "ap_fixed<16,6>", "ap_fixed<16,6>", "ap_fixed<37,17>"),
        (100, "ap_fixed<10,3>", "ap_fixed<8,2>", "ap_fixed<12,8>", "ap_fixed<26,13>"),
        (100, "ap_fixed<10,3>", "ap_fixed<8,2>", "ap_fixed<20,2>", "ap_fixed<31,13>"),
    ],
)
def test_auto_dense_precision(n_in, x, w, b, expected):
    """'auto' accum and result: W = Ww + Win + ceil(log2 n), I likewise, plus a bias bit."""
    model = mlp([n_in, 4], seed=3)
    cfg = config(
        x_in={"Precision": {"result": x}},
        d1={"Precision": {"weight": w, "bias": b, "accum": "auto", "result": "auto"}},
    )
    node = build_graph(model, cfg).node("d1")
    assert str(node.types["accum_t"]) == expected
    assert str(node.types["result_t"]) == expected


def test_invalid_reuse_factor_is_replaced_and_read_back():
    """ReuseFactor 7 on a 100x5 Resource Dense becomes 5, with a warning; the node says 5."""
    model = mlp([16, 100, 5], seed=4)
    cfg = config(d2={"Strategy": "Resource", "ReuseFactor": 7})
    with pytest.warns(UserWarning, match="Invalid ReuseFactor=7"):
        graph = build_graph(model, cfg)
    node = graph.node("d2")
    assert node.attrs["reuse_factor"] == 5
    assert node.attrs["strategy"] == "resource"
    assert node.attrs["_weights_transposed"] is True
    assert node.weights["weight"].shape == (5, 100)  # hls4ml's Resource layout


def test_dropout_is_removed_and_inputs_are_typed():
    """Dropout leaves no node; every node knows its inputs' result types (data_T)."""
    import keras

    inp = keras.Input((6,), name="x_in")
    x = keras.layers.Dense(5, name="d1")(inp)
    x = keras.layers.Dropout(0.3, name="drop")(x)
    model = keras.Model(inp, keras.layers.Dense(3, name="d2")(x))
    cfg = config(x_in={"Precision": {"result": "ap_fixed<9,4>"}})
    graph = build_graph(model, cfg)
    assert [n.name for n in graph.nodes] == ["x_in", "d1", "d2"]
    assert graph.node("d1").input_types == (FixedType(9, 4),)
    assert graph.node("d2").inputs == ("d1",)
    assert graph.inputs == ("x_in",) and graph.outputs == ("d2",)
    assert graph.node("d1").attrs["product_type"] == "mult"
