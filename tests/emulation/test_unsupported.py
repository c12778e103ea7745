"""What the emulator refuses (README: "Refused with an error that names the layer, its class and
the fix"), through the public `EmulatedModel`, and that each suggested fix really runs."""

from __future__ import annotations

import numpy as np
import pytest

from emulation import EmulatedModel, UnsupportedLayerError
from tests.conftest import requires_gxx
from tests.support.hls import hls_predict, mismatch_report

BASE = {"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1}}


def _seq(shape, *layers):
    import keras

    return keras.Sequential([keras.Input(shape), *layers])


def _refusal(model, config=BASE) -> str:
    with pytest.raises(UnsupportedLayerError) as info:
        EmulatedModel(model, config).predict(np.zeros((1, *model.input_shape[1:])))
    return str(info.value)


@pytest.mark.parametrize("dims", [1, 2])
def test_separable_conv_is_refused_with_a_fix_that_runs(dims: int) -> None:
    """SeparableConv names the layer, its class and the depthwise + 1x1 conv replacement, which
    computes the same outputs and which the emulator runs."""
    import keras

    L = keras.layers
    shape = (10, 3) if dims == 1 else (8, 8, 3)
    sep_cls = L.SeparableConv1D if dims == 1 else L.SeparableConv2D
    sep = _seq(shape, sep_cls(4, 3, name="sep"))
    message = _refusal(sep)
    assert message.startswith(f"layer 'sep' of class SeparableConv{dims}D is not supported")
    assert f"build it as a DepthwiseConv{dims}D followed by a Conv{dims}D with kernel size 1" in (
        message
    )
    dw_cls = L.DepthwiseConv1D if dims == 1 else L.DepthwiseConv2D
    conv_cls = L.Conv1D if dims == 1 else L.Conv2D
    fix = _seq(shape, dw_cls(3, use_bias=False, name="dw"), conv_cls(4, 1, name="pw"))
    depthwise, pointwise, bias = sep.layers[0].get_weights()
    fix.layers[0].set_weights([depthwise])
    fix.layers[1].set_weights([pointwise, bias])
    x = np.random.default_rng(0).normal(size=(5, *shape)).astype(np.float32)
    np.testing.assert_allclose(fix(x), sep(x), rtol=1e-5, atol=1e-6)
    # in ap_fixed<16,6> the replacement tracks the float SeparableConv to a few LSBs
    y = EmulatedModel(fix, BASE).predict(x)
    assert np.abs(y - np.asarray(sep(x)).reshape(5, -1)).max() < 0.02


@pytest.mark.parametrize("dims", [1, 2])
def test_dilated_conv_is_refused_with_a_fix_that_runs(dims: int) -> None:
    """A dilated convolution names the layer, its class and dilation_rate=1, which runs."""
    import keras

    conv_cls = keras.layers.Conv1D if dims == 1 else keras.layers.Conv2D
    shape = (12, 2) if dims == 1 else (8, 8, 2)
    message = _refusal(_seq(shape, conv_cls(3, 3, dilation_rate=2, name="dil")))
    rate = (2,) * dims
    assert message == (
        f"layer 'dil' of class Conv{dims}D uses dilation_rate={rate}: hls4ml 1.3 ignores "
        "dilation (its windows would not match Keras); use dilation_rate=1"
    )
    EmulatedModel(_seq(shape, conv_cls(3, 3, name="dil")), BASE).predict(np.ones((2, *shape)))


@pytest.mark.parametrize(
    ("config", "where"),
    [
        ({**BASE, "LayerName": {"d": {"Strategy": "distributed_arithmetic"}}}, "LayerName.d"),
        (
            {**BASE, "LayerType": {"Dense": {"Strategy": "Distributed_Arithmetic"}}},
            "LayerType.Dense",
        ),
        # hls4ml matches LayerName and LayerType keys ignoring case
        ({**BASE, "LayerType": {"dense": {"Strategy": "da"}}}, "LayerType.Dense"),
        ({"Model": {**BASE["Model"], "Strategy": "da"}}, "Model"),
    ],
)
def test_distributed_arithmetic_is_refused_with_a_fix_that_runs(config, where) -> None:
    """Strategy distributed_arithmetic (or da), wherever it is set, names the layer, its class,
    where it was set and the Latency fix, which runs."""
    import copy

    import keras

    model = _seq((4,), keras.layers.Dense(3, name="d"))
    message = _refusal(model, config)
    assert message.startswith(f"layer 'd' of class Dense uses {where}.Strategy ")
    assert message.endswith("e.g. LayerName: {d: {Strategy: Latency}}")
    fixed = copy.deepcopy(config)
    fixed.setdefault("LayerName", {}).setdefault("d", {})["Strategy"] = "Latency"
    assert EmulatedModel(model, fixed).predict(np.ones((2, 4))).shape == (2, 3)


def test_compressed_weights_are_refused() -> None:
    """Compression on a Dense names the layer, its class and the setting to drop."""
    import keras

    model = _seq((4,), keras.layers.Dense(3, name="d"))
    message = _refusal(model, {**BASE, "LayerName": {"d": {"Compression": True}}})
    assert message.startswith("layer 'd' of class Dense sets LayerName.d.Compression True: ")
    assert message.endswith("drop the Compression setting for that layer")


def test_ternary_conv_weights_are_refused() -> None:
    """ap_int<2> weights make hls4ml multiply with weight_ternary: refused for a convolution,
    naming the layer, its class and the fix."""
    import keras

    model = _seq((8, 8, 2), keras.layers.Conv2D(3, 3, name="c"))
    cfg = {**BASE, "LayerName": {"c": {"Precision": {"weight": "ap_int<2>"}}}}
    message = _refusal(model, cfg)
    assert message.startswith("layer 'c' (Conv2D) uses nnet::product::weight_ternary")
    assert message.endswith("give it fixed-point weights")


def test_binary_and_exponent_precisions_are_refused() -> None:
    """A binary or exponent precision string is refused before conversion, with what to write."""
    import keras

    model = _seq((4,), keras.layers.Dense(3, name="d"))
    for text in ("exponent<4,2>", "xnor<1>"):
        cfg = {**BASE, "LayerName": {"d": {"Precision": {"weight": text}}}}
        with pytest.raises(
            ValueError, match=r"LayerName\.d\.Precision\.weight: cannot use"
        ) as info:
            EmulatedModel(model, cfg)
        assert "expected ap_[u]fixed<W,I[,Q[,O[,N]]]> or ap_[u]int<W>" in str(info.value)


@requires_gxx
@pytest.mark.csim
def test_ternary_dense_weights_equal_the_c_simulation() -> None:
    """A Dense with ap_int<2> weights (weight_ternary: 0, -1, else +1) is emulated exactly."""
    import keras

    model = _seq((6,), keras.layers.Dense(4, name="d"))
    rng = np.random.default_rng(2)
    model.layers[0].set_weights([rng.integers(-1, 2, (6, 4)).astype("float32"), rng.normal(size=4)])
    cfg = {**BASE, "LayerName": {"d": {"Precision": {"weight": "ap_int<2>"}}}}
    em = EmulatedModel(model, cfg)
    assert em.graph.node("d").attrs["product_type"] == "weight_ternary"
    X = rng.normal(0, 2, (200, 6))
    y, y_hls = em.predict(X), hls_predict(model, cfg, X)
    assert np.array_equal(y, y_hls), mismatch_report(y, y_hls, inputs=X)


def _not_emulated_models() -> dict:
    import keras

    L = keras.layers
    return {
        "SimpleRNN": ((5, 3), L.SimpleRNN(4, name="x"), "LSTM or a GRU"),
    }


@pytest.mark.parametrize("cls", ["SimpleRNN"])
def test_layers_hls4ml_converts_but_not_emulated_name_the_nearest_alternative(cls: str) -> None:
    """The RNNs: refused before hls4ml runs, naming the layer, its class and the nearest
    supported alternative."""
    shape, layer, alternative = _not_emulated_models()[cls]
    message = _refusal(_seq(shape, layer))
    assert message.startswith(f"layer 'x' of class {cls} is not supported: ")
    assert alternative in message
