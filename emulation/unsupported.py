"""Keras layers and config settings refused before hls4ml converts the model.

hls4ml 1.3 crashes on these with messages that name neither the layer nor a fix (a
SeparableConv: "'SeparableConv2D' object has no attribute 'kernel'"; a dilated convolution:
"array split does not result in an equal division"; distributed arithmetic without da4ml:
"No module named 'da4ml'"), so they are caught here, by layer name and class, with the fix.
Layers hls4ml converts but the emulator does not reproduce yet (`NOT_EMULATED`) are refused here
too, before the conversion, each with the nearest supported alternative.

`HLS4ML_CANNOT` lists the Keras classes hls4ml 1.3 itself cannot convert ("not found in
registry", an assertion, an AttributeError) or converts into C++ that does not compile, each seen
failing so in hls4ml 1.3 (Vivado, io_parallel); `HLS4ML_CANNOT_ACTIVATIONS` the activation
functions its C++ has no function for (as ``Activation(name)`` or a layer's ``activation=``, the
project fails to compile). `HLS4ML_CANNOT_IN_STREAM`: classes hls4ml refuses in io_stream with a
message naming no layer. Three settings of supported classes are refused with them:
``ReLU(max_value=...)`` (hls4ml asserts), ``PReLU(shared_axes=...)`` (hls4ml writes one alpha per
channel but its ``nnet::prelu`` reads ``alpha[i]`` for every input value: past the array) and
``UpSampling2D(interpolation='bilinear')`` (its Resize implements ``resize_nearest`` only; the
project fails to compile); and an io_parallel model holding a DepthwiseConv1D beside a
DepthwiseConv2D (two of hls4ml's headers share an include guard: the project fails to compile).
Channels-first data (`CHANNELS_FIRST`) is refused for every setting of ChannelsLastConversion,
and that setting's 'full' and 'internal' on any layer with weights (`CHANNELS_LAST_CONVERSION`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulation.config import config_section
from emulation.errors import UnsupportedLayerError

__all__ = [
    "CHANNELS_FIRST",
    "CHANNELS_LAST_CONVERSION",
    "COMPRESSED_DENSE",
    "HLS4ML_CANNOT",
    "HLS4ML_CANNOT_ACTIVATIONS",
    "HLS4ML_CANNOT_IN_STREAM",
    "NOT_EMULATED",
    "refuse_unsupported",
]

_DA = ("distributedarithmetic", "da")

#: Why a Dense with ``Compression: True`` (its kernel stored as (row, col, weight) triplets for
#: ``nnet::dense_compressed``) has no C simulation: hls4ml 1.3 never compiles one for Vivado or
#: Vitis, in either io_type (each reason is checked in the tests).
COMPRESSED_DENSE = (
    "hls4ml 1.3 cannot compile it for Vivado or Vitis: with Strategy Resource the conversion "
    "fails (its Dense template has no kernel for strategy 'compressed': KeyError "
    "'dense_function'), with Latency the C++ multiplies the data by the (row, col, weight) "
    "struct, and the struct's index type is written 'uint<N>'; drop the Compression setting "
    "for that layer"
)
_COMPRESSIBLE = ("Dense", "QDense")

#: Why a Keras layer with ``data_format='channels_first'`` has no faithful C simulation in
#: hls4ml 1.3, in either io_type (the tests check each case: the conversions on Vivado and Vitis,
#: the compiles and the C simulation on Vivado; measured on Conv1D, Conv2D + MaxPooling2D).
#: ``config_from_keras_model`` writes no ``ChannelsLastConversion``, and unset means 'off'.
CHANNELS_FIRST = (
    "hls4ml 1.3 cannot build channels_first Keras layers: with ChannelsLastConversion 'off' "
    "(the default for Keras) the io_parallel conversion fails ('array split does not result "
    "in an equal division') and the io_stream project does not compile (it calls "
    "nnet::conv_1d_cf / conv_2d_cf, which hls4ml's stream headers lack); with 'full' or "
    "'internal' it compiles, but its ChannelsLastConverter transposes the weights as if they "
    "were laid out as PyTorch's, so the C simulation computes something other than the Keras "
    "model; build the model with data_format='channels_last' (transpose the input once before "
    "the first layer)"
)

#: Why Model.ChannelsLastConversion 'full' or 'internal' (a setting written by
#: ``config_from_pytorch_model``) is refused for a Keras layer with weights.
CHANNELS_LAST_CONVERSION = (
    "hls4ml 1.3's ChannelsLastConverter, meant for PyTorch models, transposes every Dense and "
    "convolution kernel (a Dense's (in, out) kernel becomes (out, in)), so the C simulation "
    "computes something other than the Keras model; remove ChannelsLastConversion from the "
    "config (or set it to 'off')"
)

_SIMPLE_RNN = (
    "hls4ml 1.3 has no Vivado or Vitis template for SimpleRNN (only Quartus and oneAPI have "
    "one): it converts and compiles the model but writes no code for this layer, so the C "
    "simulation never sets its output; use an LSTM or a GRU, which are emulated"
)
#: Keras classes hls4ml 1.3 converts that the emulator does not reproduce: why, and what to use.
NOT_EMULATED = {
    "SimpleRNN": _SIMPLE_RNN,
}

_NO_HANDLER = "hls4ml 1.3 has no converter for it"
_NO_3D = "hls4ml 1.3 converts 1D and 2D layers only"
#: Keras classes hls4ml 1.3 cannot convert or compile: why, and the nearest alternative.
HLS4ML_CANNOT = {
    "Conv1DTranspose": f"{_NO_HANDLER}; use UpSampling1D followed by a Conv1D",
    "Conv2DTranspose": f"{_NO_HANDLER}; use UpSampling2D followed by a Conv2D",
    "Conv3D": f"{_NO_HANDLER}; use Conv2D (fold one spatial axis into the channels)",
    "MaxPooling3D": f"{_NO_3D}; use MaxPooling2D",
    "AveragePooling3D": f"{_NO_3D}; use AveragePooling2D",
    "GlobalMaxPooling3D": f"{_NO_3D}; use GlobalMaxPooling2D",
    "GlobalAveragePooling3D": f"{_NO_3D}; use GlobalAveragePooling2D",
    "TimeDistributed": (
        "hls4ml 1.3's converter crashes on it; apply the wrapped layer directly (a Dense or "
        "Conv1D with kernel size 1 acts on every time step alike)"
    ),
    "MultiHeadAttention": (
        f"{_NO_HANDLER}; build the attention from EinsumDense projections, Dot and Softmax"
    ),
    "GaussianNoise": f"{_NO_HANDLER}; it does nothing at inference: remove it",
    "RepeatVector": (f"{_NO_HANDLER}; use a Reshape to (1, features) followed by UpSampling1D(n)"),
    "UnitNormalization": f"{_NO_HANDLER}; use LayerNormalization or BatchNormalization",
}

#: Keras classes hls4ml 1.3 refuses to convert in io_stream (its message names no layer).
HLS4ML_CANNOT_IN_STREAM = {
    "EinsumDense": (
        "hls4ml 1.3 converts it in io_parallel only ('EinsumDense layer only supports "
        "io_parallel'); emulate the model in io_parallel, where it is emulated"
    ),
}

#: Keras activation functions hls4ml 1.3's C++ has no function for: the nearest alternative.
HLS4ML_CANNOT_ACTIVATIONS = {
    "silu": "x * sigmoid(x): Activation('sigmoid') and a Multiply with its input",
    "gelu": "relu, or x * sigmoid(x) from Activation('sigmoid') and a Multiply with its input",
    "hard_tanh": "tanh, or the HardActivation hard_sigmoid (hls4ml's slope 0.2)",
    "hard_silu": "x * hard_sigmoid(x): Activation('hard_sigmoid') and a Multiply with its input",
    "exponential": "softplus (log(1 + e^x), close to e^x for negative x)",
    "mish": "x * sigmoid(x) from Activation('sigmoid') and a Multiply, or relu",
    "celu": "elu (celu with alpha 1 is elu), or ELU(alpha)",
    "log_sigmoid": "sigmoid (take the log after the model)",
    "log_softmax": "softmax (take the log after the model; the argmax is the same)",
    "glu": "two Dense layers a and b, Activation('sigmoid') on b and a Multiply",
    "sparse_plus": "softplus (the smooth form of the same ramp)",
    "squareplus": "softplus (the smooth form of the same ramp)",
    "tanh_shrink": "x - tanh(x): Activation('tanh') and a Subtract from its input",
    "soft_shrink": "relu(x - t) - relu(-x - t): biased Dense layers, ReLU and a Subtract",
    "hard_shrink": "ReLU(threshold=t) of x minus that of -x (a ThresholdedReLU and a Subtract)",
    "sparsemax": "softmax",
    "sparse_sigmoid": "hard_sigmoid (hls4ml's slope 0.2)",
    "threshold": "ReLU(threshold=t) (a ThresholdedReLU)",
}


def _cannot(layer: Any) -> str | None:
    """Why hls4ml 1.3 cannot convert or compile ``layer`` (with the fix), or None."""
    cls = type(layer).__name__
    if cls in HLS4ML_CANNOT:
        return f"is not supported: {HLS4ML_CANNOT[cls]}"
    activation = getattr(getattr(layer, "activation", None), "__name__", None)
    if activation in HLS4ML_CANNOT_ACTIVATIONS:
        return (
            f"uses activation {activation!r}, which hls4ml 1.3's C++ has no function for (the "
            f"project does not compile); use {HLS4ML_CANNOT_ACTIVATIONS[activation]}"
        )
    if cls == "ReLU" and getattr(layer, "max_value", None) not in (None, float("inf")):
        return (
            f"sets max_value={layer.max_value}, which hls4ml 1.3 refuses (an assertion); use "
            "Activation('relu6') for a ceiling of 6, or ReLU() without max_value"
        )
    if cls == "PReLU" and getattr(layer, "shared_axes", None):
        return (
            f"shares alpha over axes {tuple(layer.shared_axes)}: hls4ml 1.3's nnet::prelu reads "
            "one alpha per input value, past the shared array; use PReLU() without shared_axes"
        )
    interpolation = getattr(layer, "interpolation", "nearest")
    if cls.startswith("UpSampling") and interpolation != "nearest":
        return (
            f"uses interpolation {interpolation!r}: hls4ml 1.3's Resize implements 'nearest' "
            "only (the project does not compile); use interpolation='nearest'"
        )
    return None


def _channels_first(layer: Any) -> bool:
    """True for a layer that reads channels-first data (an axis besides the features)."""
    if getattr(layer, "data_format", None) != "channels_first":
        return False
    shape = getattr(getattr(layer, "input", None), "shape", None)
    return shape is None or len(shape) > 2


def _refuse_depthwise_1d_beside_2d(layers: list[Any]) -> None:
    """hls4ml 1.3 cannot compile a DepthwiseConv2D beside a DepthwiseConv1D in io_parallel:
    both headers (nnet_sepconv1d_latency.h, nnet_sepconv2d_latency.h) carry one include guard,
    so the 2-D one is never declared (io_stream, whose functions are others, compiles)."""
    by_class = {type(layer).__name__: layer for layer in layers}
    if "DepthwiseConv1D" in by_class and "DepthwiseConv2D" in by_class:
        one, two = by_class["DepthwiseConv1D"], by_class["DepthwiseConv2D"]
        raise UnsupportedLayerError(
            f"layer {two.name!r} of class DepthwiseConv2D cannot be compiled beside the "
            f"DepthwiseConv1D {one.name!r}: hls4ml 1.3's nnet_sepconv1d_latency.h and "
            "nnet_sepconv2d_latency.h share one include guard, so the project does not "
            f"compile; use a DepthwiseConv2D with kernel (k, 1) for {one.name!r}, on a Reshape "
            "of its input to (steps, 1, channels)"
        )


def _layer_setting(config: Mapping[str, Any], layer: Any, key: str) -> tuple[str, Any] | None:
    """(where it is set, value) of the config ``key`` that applies to ``layer``, most specific
    first (names matched as hls4ml matches them, ignoring case; None counts as unset, as in
    hls4ml)."""
    cls = type(layer).__name__
    for where, block in (
        (f"LayerName.{layer.name}", config_section(config, "LayerName").get(layer.name.lower())),
        (f"LayerType.{cls}", config_section(config, "LayerType").get(cls.lower())),
        ("Model", config.get("Model")),
    ):
        if isinstance(block, Mapping) and block.get(key) is not None:
            return f"{where}.{key}", block[key]
    return None


def _strategy(config: Mapping[str, Any], layer: Any) -> tuple[str, str] | None:
    """(where it is set, value) of the Strategy that applies to ``layer``."""
    found = _layer_setting(config, layer, "Strategy")
    return (found[0], str(found[1])) if found else None


def refuse_unsupported(model: Any, config: Mapping[str, Any], io_type: str = "io_parallel") -> None:
    """Raise `UnsupportedLayerError` for the first layer of ``model`` the emulator refuses.

    Refused: what hls4ml 1.3 cannot convert or compile (`HLS4ML_CANNOT`,
    `HLS4ML_CANNOT_ACTIVATIONS`, the settings of `_cannot`, DepthwiseConv1D beside
    DepthwiseConv2D in ``io_type`` io_parallel, `HLS4ML_CANNOT_IN_STREAM` in io_stream),
    layers with channels-first data (`CHANNELS_FIRST`), layers with weights under
    ChannelsLastConversion 'full' or 'internal' (`CHANNELS_LAST_CONVERSION`),
    SeparableConv1D/2D, convolutions with a dilation rate above 1, layers whose Strategy is
    ``distributed_arithmetic`` (``da``), and the classes of `NOT_EMULATED`. Each message names
    the layer, its class and what to use instead.
    """
    layers = list(getattr(model, "layers", []))
    model_block = config.get("Model")
    conversion = "off"
    if isinstance(model_block, Mapping) and model_block.get("ChannelsLastConversion"):
        conversion = str(model_block["ChannelsLastConversion"])
    if io_type == "io_parallel":
        _refuse_depthwise_1d_beside_2d(layers)
    for layer in layers:
        cls = type(layer).__name__
        why = _cannot(layer)
        if io_type == "io_stream" and cls in HLS4ML_CANNOT_IN_STREAM:
            why = f"is not supported in io_stream: {HLS4ML_CANNOT_IN_STREAM[cls]}"
        if why:
            raise UnsupportedLayerError(f"layer {layer.name!r} of class {cls} {why}")
        if _channels_first(layer):
            raise UnsupportedLayerError(
                f"layer {layer.name!r} of class {cls} uses data_format='channels_first' "
                f"(Model.ChannelsLastConversion: {conversion!r}): {CHANNELS_FIRST}"
            )
        if cls in NOT_EMULATED:
            raise UnsupportedLayerError(
                f"layer {layer.name!r} of class {cls} is not supported: {NOT_EMULATED[cls]}"
            )
        if cls.startswith("SeparableConv"):
            dims = cls.removeprefix("SeparableConv")
            raise UnsupportedLayerError(
                f"layer {layer.name!r} of class {cls} is not supported: hls4ml 1.3's Keras 3 "
                f"converter cannot read it; build it as a DepthwiseConv{dims} followed by a "
                f"Conv{dims} with kernel size 1 (the same products), which are supported"
            )
        dilation = getattr(layer, "dilation_rate", None)
        if dilation is not None and any(int(d) != 1 for d in tuple(dilation)):
            raise UnsupportedLayerError(
                f"layer {layer.name!r} of class {cls} uses dilation_rate={tuple(dilation)}: "
                "hls4ml 1.3 ignores dilation (its windows would not match Keras); use "
                "dilation_rate=1"
            )
        if not (hasattr(layer, "kernel") or hasattr(layer, "depthwise_kernel")):
            continue
        if conversion != "off":
            raise UnsupportedLayerError(
                f"layer {layer.name!r} of class {cls} is converted with "
                f"Model.ChannelsLastConversion {conversion!r}: {CHANNELS_LAST_CONVERSION}"
            )
        strategy = _strategy(config, layer)
        if strategy and strategy[1].lower().replace("_", "") in _DA:
            raise UnsupportedLayerError(
                f"layer {layer.name!r} of class {cls} uses {strategy[0]} {strategy[1]!r} "
                "(distributed arithmetic), which the emulator does not reproduce; set "
                f"Strategy: Latency (or Resource) for it, e.g. LayerName: {{{layer.name}: "
                "{Strategy: Latency}}"
            )
        compression = _layer_setting(config, layer, "Compression")
        if cls in _COMPRESSIBLE and compression and bool(compression[1]):
            raise UnsupportedLayerError(
                f"layer {layer.name!r} of class {cls} sets {compression[0]} "
                f"{compression[1]!r}: {COMPRESSED_DENSE}"
            )
