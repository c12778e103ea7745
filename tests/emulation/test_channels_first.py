"""Channels-first data and ChannelsLastConversion: refused with hls4ml 1.3's own reasons, and
each reason checked against hls4ml (its conversion, its compile and its C simulation)."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from emulation import EmulatedModel, UnsupportedLayerError
from emulation.unsupported import CHANNELS_FIRST, CHANNELS_LAST_CONVERSION
from tests.conftest import requires_gxx
from tests.support.hls import assert_equal_to_csim, hls_compile, hls_predict

BASE = {"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1}}
# wide enough that a faithful emulation tracks Keras to about 1e-3 (measured: 1.4e-3)
WIDE = {"Model": {"Precision": "ap_fixed<32,16>", "ReuseFactor": 1}}


def _with(config: dict, **model_keys: str) -> dict:
    return {"Model": {**config["Model"], **model_keys}}


def _conv1d_first():
    """Conv1D (channels_first) -> Flatten -> Dense, seeded weights."""
    import keras

    L = keras.layers
    model = keras.Sequential(
        [
            keras.Input((3, 10)),
            L.Conv1D(4, 3, data_format="channels_first", name="c1"),
            L.Flatten(name="fl"),
            L.Dense(5, name="d"),
        ]
    )
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def _refusal(model, config, io_type: str = "io_parallel") -> str:
    with pytest.raises(UnsupportedLayerError) as info:
        EmulatedModel(model, config, io_type=io_type)
    return str(info.value)


def _cases():
    import keras

    L = keras.layers
    first = {"data_format": "channels_first"}
    return {
        "Conv1D": ((3, 10), L.Conv1D(4, 3, name="x", **first)),
        "Conv2D": ((3, 8, 8), L.Conv2D(4, 3, name="x", **first)),
        "MaxPooling2D": ((3, 8, 8), L.MaxPooling2D(2, name="x", **first)),
        "AveragePooling1D": ((3, 8), L.AveragePooling1D(2, name="x", **first)),
        "GlobalAveragePooling2D": ((3, 8, 8), L.GlobalAveragePooling2D(name="x", **first)),
        "Flatten": ((4, 3, 3), L.Flatten(name="x", **first)),
    }


@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
@pytest.mark.parametrize("conversion", [None, "off", "full", "internal"])
def test_channels_first_layers_are_refused_with_hls4ml_reason(conversion, io_type) -> None:
    """Every channels-first layer is refused, naming the layer, the setting and the fix."""
    import keras

    config = BASE if conversion is None else _with(BASE, ChannelsLastConversion=conversion)
    for cls, (shape, layer) in _cases().items():
        model = keras.Sequential([keras.Input(shape), layer, keras.layers.Flatten()])
        assert _refusal(model, config, io_type) == (
            f"layer 'x' of class {cls} uses data_format='channels_first' "
            f"(Model.ChannelsLastConversion: {conversion or 'off'!r}): {CHANNELS_FIRST}"
        )
    assert "data_format='channels_last'" in CHANNELS_FIRST


@pytest.mark.parametrize("conversion", ["full", "internal"])
def test_channels_last_conversion_on_a_keras_model_is_refused(conversion) -> None:
    """ChannelsLastConversion 'full'/'internal' is refused even on a channels-last Dense model,
    because hls4ml transposes its kernel; 'off' runs."""
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d")])
    assert _refusal(model, _with(BASE, ChannelsLastConversion=conversion)) == (
        f"layer 'd' of class Dense is converted with Model.ChannelsLastConversion "
        f"{conversion!r}: {CHANNELS_LAST_CONVERSION}"
    )
    EmulatedModel(model, _with(BASE, ChannelsLastConversion="off")).predict(np.ones((1, 4)))


def _channels_last_fix(first):
    """The fix named: the channels-last twin of `_conv1d_first` (same kernels; a Permute back
    before the Flatten keeps Keras's flattening order, so the Dense kernel is unchanged)."""
    import keras

    L = keras.layers
    fix = keras.Sequential(
        [
            keras.Input((10, 3)),
            L.Conv1D(4, 3, name="c1"),
            L.Permute((2, 1), name="to_channels_first"),
            L.Flatten(name="fl"),
            L.Dense(5, name="d"),
        ]
    )
    fix.set_weights(first.get_weights())
    return fix


def test_the_channels_last_fix_tracks_the_channels_first_model() -> None:
    """With the input transposed once, the fix's emulation in ap_fixed<32,16> tracks the
    channels-first Keras model."""
    first = _conv1d_first()
    x = np.random.default_rng(1).normal(size=(20, 3, 10))
    y = EmulatedModel(_channels_last_fix(first), WIDE).predict(x.transpose(0, 2, 1))
    assert np.abs(y - first.predict(x, verbose=0)).max() < 1e-2


@requires_gxx
@pytest.mark.csim
def test_the_channels_last_fix_equals_the_csim() -> None:
    """The fix is emulated bit for bit, every traced layer (the Permute is a Transpose)."""
    x = np.random.default_rng(2).normal(size=(30, 10, 3)) * 4
    assert_equal_to_csim(_channels_last_fix(_conv1d_first()), BASE, x)


@pytest.mark.parametrize("backend", ["Vivado", "Vitis"])
@pytest.mark.parametrize("conversion", ["full", "internal"])
def test_hls4ml_transposes_keras_dense_kernels(conversion, backend, tmp_path) -> None:
    """The reason in CHANNELS_LAST_CONVERSION: hls4ml's ModelGraph holds the Dense kernel
    transposed, (out, in), where Keras and an unset ChannelsLastConversion keep (in, out)."""
    import hls4ml
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d")])
    kernels = {}
    for mode in (conversion, None):
        config = BASE if mode is None else _with(BASE, ChannelsLastConversion=mode)
        with contextlib.redirect_stdout(io.StringIO()):
            graph = hls4ml.converters.convert_from_keras_model(
                model, hls_config=config, backend=backend, output_dir=str(tmp_path / str(mode))
            )
        kernels[mode] = graph.graph["d"].get_weights("weight").data
    keras_kernel = model.get_layer("d").get_weights()[0]
    assert np.array_equal(kernels[None], keras_kernel)
    assert np.array_equal(kernels[conversion], keras_kernel.T)


@pytest.mark.parametrize("backend", ["Vivado", "Vitis"])
@pytest.mark.parametrize("conversion", [None, "off"])
def test_hls4ml_cannot_convert_channels_first_in_io_parallel(conversion, backend, tmp_path) -> None:
    """The reason in CHANNELS_FIRST for 'off' in io_parallel: hls4ml's im2col code generator
    fails on the channels-first geometry."""
    import hls4ml

    model = _conv1d_first()
    config = WIDE if conversion is None else _with(WIDE, ChannelsLastConversion=conversion)
    with (
        contextlib.redirect_stdout(io.StringIO()),
        pytest.raises(ValueError, match="array split does not result in an equal division"),
    ):
        hls4ml.converters.convert_from_keras_model(
            model, hls_config=config, backend=backend, output_dir=str(tmp_path)
        )


@requires_gxx
@pytest.mark.csim
def test_hls4ml_cannot_compile_channels_first_in_io_stream() -> None:
    """The reason in CHANNELS_FIRST for 'off' in io_stream: the project does not compile."""
    with pytest.raises(Exception, match="Failed to compile project"):
        hls_compile(_conv1d_first(), WIDE, io_type="io_stream")


@requires_gxx
@pytest.mark.csim
def test_hls4ml_full_conversion_computes_something_else() -> None:
    """The reason in CHANNELS_FIRST for 'full': the project compiles, but in ap_fixed<32,16>
    (where the channels-last fix tracks Keras to 1e-3) its outputs are far from Keras's."""
    model = _conv1d_first()
    x = np.random.default_rng(1).normal(size=(20, 3, 10))
    keras_y = np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    hls_y = hls_predict(model, _with(WIDE, ChannelsLastConversion="full"), x)
    assert np.abs(hls_y.reshape(keras_y.shape) - keras_y).max() > 1.0
