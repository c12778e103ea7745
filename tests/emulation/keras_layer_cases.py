"""The Keras layer audit's cases: one tiny model per case, each emulated or refused.

A case is a builder ``(keras.layers, name, inputs) -> output`` applied to its own inputs, so the
same case makes a tiny model on its own (`tiny_model`) or one branch of a model holding many
(`branch_model`: one input and one output per case, so one compile checks them all). Every
layer a case builds is named after the case, which keeps names unique in a branch model and
lets a refusal be checked by name. ``refused`` is the Keras class the refusal must name (None:
emulated and compared with the C simulation); an emulated case with ``stream=False`` is refused
in io_stream (hls4ml 1.3 cannot compile it there, or asserts, or refuses it itself), a refused
one with ``stream=False`` is refused in io_parallel only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CONFIG = {"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"}}


@dataclass(frozen=True)
class LayerCase:
    """One audited Keras layer (or layer setting) in a tiny model."""

    name: str
    shapes: tuple[tuple[int, ...], ...]
    build: Callable[[Any, str, list[Any]], Any]
    refused: str | None = None
    stream: bool = True  # False: refused in io_stream (by the emulator or hls4ml)
    ids: int | None = None  # integer inputs in [0, ids) instead of normal values
    layer_config: dict[str, Any] = field(default_factory=dict)  # LayerName entries


CASES: dict[str, LayerCase] = {}


def _add(name, shapes, build, **kw) -> None:
    assert name not in CASES, name
    CASES[name] = LayerCase(name, tuple(shapes), build, **kw)


def _layer(name: str, shape: tuple[int, ...], make: Callable[[Any, str], Any], **kw) -> None:
    """A case of one layer ``make(L, name)`` on one input."""
    _add(name, [shape], lambda L, n, xs: make(L, n)(xs[0]), **kw)


def _after_dense(name: str, make: Callable[[Any, str], Any], **kw) -> None:
    """A case of ``make(L, name)`` after a Dense (a layer hls4ml would fold into the input)."""
    _add(name, [(6,)], lambda L, n, xs: make(L, n)(L.Dense(5, name=f"{n}_d")(xs[0])), **kw)


def _merge(name: str, shapes, make: Callable[[Any, str], Any], **kw) -> None:
    _add(name, shapes, lambda L, n, xs: make(L, n)(xs), **kw)


# ---------------------------------------------------------------------------- emulated
_layer("lstm", (5, 3), lambda L, n: L.LSTM(4, name=n))
_layer("gru", (5, 3), lambda L, n: L.GRU(4, name=n))
# hls4ml 1.3 has no io_stream bidirectional_stack
_layer("bidirectional", (5, 3), lambda L, n: L.Bidirectional(L.LSTM(4), name=n), stream=False)
_layer("dense", (6,), lambda L, n: L.Dense(4, name=n))
_layer("dense_relu", (6,), lambda L, n: L.Dense(4, activation="relu", name=n))
_layer(
    "dense_resource",
    (8,),
    lambda L, n: L.Dense(4, name=n),
    layer_config={"dense_resource": {"Strategy": "Resource", "ReuseFactor": 4}},
)
_after_dense("batchnorm_fused", lambda L, n: L.BatchNormalization(name=n))
_layer("batchnorm", (6,), lambda L, n: L.BatchNormalization(name=n))
_after_dense("dropout", lambda L, n: L.Dropout(0.3, name=n))
#: activations hls4ml 1.3 computes (relu6 has no io_stream function: refused there)
ACTIVATIONS = ("relu", "relu6", "sigmoid", "tanh", "softplus", "softsign", "selu", "elu")
for _act in (*ACTIVATIONS, "leaky_relu", "hard_sigmoid", "softmax"):
    _layer(
        f"act_{_act}",
        (6,),
        lambda L, n, a=_act: L.Activation(a, name=n),
        stream=_act != "relu6",
    )
# alone on an input, a linear activation is removed and the model's output is its input
_after_dense("act_linear", lambda L, n: L.Activation("linear", name=n))
_layer("dense_act_tanh", (6,), lambda L, n: L.Dense(4, activation="tanh", name=n))
_layer("leakyrelu", (6,), lambda L, n: L.LeakyReLU(0.1, name=n))
_layer("relu_layer", (6,), lambda L, n: L.ReLU(name=n))
_layer("relu_threshold", (6,), lambda L, n: L.ReLU(threshold=0.5, name=n))
_layer("relu_slope", (6,), lambda L, n: L.ReLU(negative_slope=0.25, name=n))
_layer("elu_layer", (6,), lambda L, n: L.ELU(0.7, name=n))
_layer("prelu", (6,), lambda L, n: L.PReLU(name=n))
_layer("softmax_layer", (6,), lambda L, n: L.Softmax(name=n))
_layer("conv1d_valid", (10, 3), lambda L, n: L.Conv1D(4, 3, name=n))
_layer("conv1d_same", (10, 3), lambda L, n: L.Conv1D(4, 3, padding="same", name=n))
_layer("conv1d_causal", (10, 3), lambda L, n: L.Conv1D(4, 3, padding="causal", name=n))
_layer("conv1d_strided", (11, 2), lambda L, n: L.Conv1D(3, 3, strides=2, name=n))
_layer("conv2d_valid", (6, 6, 2), lambda L, n: L.Conv2D(3, 3, name=n))
_layer("conv2d_same", (6, 6, 2), lambda L, n: L.Conv2D(3, 3, padding="same", name=n))
_layer("conv2d_strided", (7, 7, 2), lambda L, n: L.Conv2D(3, 3, strides=2, name=n))
_layer("conv1d_pointwise", (8, 3), lambda L, n: L.Conv1D(4, 1, name=n))
_layer("conv2d_pointwise", (5, 5, 3), lambda L, n: L.Conv2D(4, 1, name=n))
_layer("depthwise1d", (10, 3), lambda L, n: L.DepthwiseConv1D(3, name=n))
_layer("depthwise2d", (6, 6, 2), lambda L, n: L.DepthwiseConv2D(3, name=n))
for _dims, _shape in ((1, (8, 3)), (2, (6, 6, 2))):
    for _op in ("Max", "Average"):
        _layer(
            f"{_op.lower()}pool{_dims}d",
            _shape,
            lambda L, n, c=f"{_op}Pooling{_dims}D": getattr(L, c)(2, name=n),
        )
        _layer(
            f"{_op.lower()}pool{_dims}d_same",
            (7, 3) if _dims == 1 else (5, 5, 2),
            lambda L, n, c=f"{_op}Pooling{_dims}D": getattr(L, c)(2, padding="same", name=n),
            stream=False,  # hls4ml's stream pooling asserts no padding
        )
        _layer(
            f"global_{_op.lower()}pool{_dims}d",
            _shape,
            lambda L, n, c=f"Global{_op}Pooling{_dims}D": getattr(L, c)(name=n),
        )
for _cls in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"):
    _merge(
        _cls.lower(),
        [(4, 3), (4, 3)],
        lambda L, n, c=_cls: getattr(L, c)(name=n),
    )
# Dot, LayerNormalization: hls4ml 1.3 cannot compile them in io_stream; EinsumDense, Permute: it
# refuses them there itself
_merge("dot", [(5,), (5,)], lambda L, n: L.Dot(axes=1, name=n), stream=False)
_layer(
    "einsum_dense",
    (3, 5),
    lambda L, n: L.EinsumDense("abc,cd->abd", output_shape=(3, 4), bias_axes="d", name=n),
    stream=False,
)
_layer("layernorm", (4, 6), lambda L, n: L.LayerNormalization(axis=2, name=n), stream=False)
_layer("embedding", (5,), lambda L, n: L.Embedding(7, 3, name=n), ids=7)
# alone on an input, hls4ml makes a Flatten or Reshape the input itself: a layer comes first
_add("flatten", [(4, 3)], lambda L, n, xs: L.Flatten(name=n)(L.Conv1D(2, 1, name=f"{n}_c")(xs[0])))
_after_dense("reshape", lambda L, n: L.Reshape((5, 1), name=n))
_layer("zeropad1d", (6, 2), lambda L, n: L.ZeroPadding1D((1, 2), name=n))
_layer("zeropad2d", (4, 4, 2), lambda L, n: L.ZeroPadding2D(1, name=n))
_layer("crop1d", (8, 2), lambda L, n: L.Cropping1D((1, 2), name=n))
_layer("crop2d", (6, 6, 2), lambda L, n: L.Cropping2D(((1, 0), (0, 2)), name=n))
_layer("permute", (4, 3), lambda L, n: L.Permute((2, 1), name=n), stream=False)
_layer("upsample1d", (5, 2), lambda L, n: L.UpSampling1D(2, name=n))
_layer("upsample2d", (3, 3, 2), lambda L, n: L.UpSampling2D(2, name=n))


# ----------------------------------------------------------------------------- refused
_layer(
    "separable1d", (10, 3), lambda L, n: L.SeparableConv1D(4, 3, name=n), refused="SeparableConv1D"
)
_layer(
    "separable2d",
    (6, 6, 2),
    lambda L, n: L.SeparableConv2D(4, 3, name=n),
    refused="SeparableConv2D",
)
_layer("dilated1d", (12, 2), lambda L, n: L.Conv1D(3, 3, dilation_rate=2, name=n), refused="Conv1D")
_layer("simple_rnn", (5, 3), lambda L, n: L.SimpleRNN(4, name=n), refused="SimpleRNN")
_layer(
    "conv1d_transpose",
    (6, 2),
    lambda L, n: L.Conv1DTranspose(3, 3, name=n),
    refused="Conv1DTranspose",
)
_layer(
    "conv2d_transpose",
    (4, 4, 2),
    lambda L, n: L.Conv2DTranspose(3, 3, name=n),
    refused="Conv2DTranspose",
)
_layer("conv3d", (4, 4, 4, 1), lambda L, n: L.Conv3D(2, 2, name=n), refused="Conv3D")
for _cls in ("MaxPooling3D", "AveragePooling3D"):
    _layer(_cls.lower(), (4, 4, 4, 1), lambda L, n, c=_cls: getattr(L, c)(2, name=n), refused=_cls)
for _cls in ("GlobalMaxPooling3D", "GlobalAveragePooling3D"):
    _layer(_cls.lower(), (4, 4, 4, 1), lambda L, n, c=_cls: getattr(L, c)(name=n), refused=_cls)
_layer(
    "time_distributed",
    (5, 3),
    lambda L, n: L.TimeDistributed(L.Dense(4), name=n),
    refused="TimeDistributed",
)
_add(
    "multi_head_attention",
    [(4, 6), (4, 6)],
    lambda L, n, xs: L.MultiHeadAttention(2, 3, name=n)(xs[0], xs[1]),
    refused="MultiHeadAttention",
)
_layer("gaussian_noise", (6,), lambda L, n: L.GaussianNoise(0.1, name=n), refused="GaussianNoise")
_layer("repeat_vector", (6,), lambda L, n: L.RepeatVector(3, name=n), refused="RepeatVector")
_layer(
    "unit_normalization",
    (6,),
    lambda L, n: L.UnitNormalization(name=n),
    refused="UnitNormalization",
)
_layer("relu_max_value", (6,), lambda L, n: L.ReLU(max_value=6.0, name=n), refused="ReLU")
_layer(
    "prelu_shared_axes",
    (4, 4, 3),
    lambda L, n: L.PReLU(shared_axes=[1, 2], name=n),
    refused="PReLU",
)
_layer(
    "upsample2d_bilinear",
    (3, 3, 2),
    lambda L, n: L.UpSampling2D(2, interpolation="bilinear", name=n),
    refused="UpSampling2D",
)
_add(
    "depthwise_1d_and_2d",
    [(10, 3), (6, 6, 2)],
    lambda L, n, xs: L.Concatenate(name=f"{n}_cat")(
        [
            L.Flatten(name=f"{n}_f1")(L.DepthwiseConv1D(3, name=f"{n}_1d")(xs[0])),
            L.Flatten(name=f"{n}_f2")(L.DepthwiseConv2D(3, name=n)(xs[1])),
        ]
    ),
    refused="DepthwiseConv2D",
    stream=False,  # io_stream compiles both kinds side by side: emulated there
)
#: activations hls4ml 1.3's C++ has no function for
MISSING_ACTIVATIONS = (
    "swish",
    "silu",
    "gelu",
    "hard_tanh",
    "hard_silu",
    "exponential",
    "mish",
    "celu",
    "log_sigmoid",
    "log_softmax",
)
for _act in MISSING_ACTIVATIONS:
    _layer(f"act_{_act}", (6,), lambda L, n, a=_act: L.Activation(a, name=n), refused="Activation")
    _layer(
        f"dense_{_act}",
        (6,),
        lambda L, n, a=_act: L.Dense(4, activation=a, name=n),
        refused="Dense",
    )
#: more activations without a C++ function, seen failing as ``Activation(name)``
MORE_MISSING_ACTIVATIONS = (
    "glu",
    "sparse_plus",
    "squareplus",
    "tanh_shrink",
    "soft_shrink",
    "hard_shrink",
    "sparsemax",
    "sparse_sigmoid",
    "threshold",
)
for _act in MORE_MISSING_ACTIVATIONS:
    _layer(f"act_{_act}", (6,), lambda L, n, a=_act: L.Activation(a, name=n), refused="Activation")


def emulated(io_type: str = "io_parallel") -> list[LayerCase]:
    """The cases compared with the C simulation in ``io_type``."""
    return [
        c for c in CASES.values() if c.refused is None and (io_type == "io_parallel" or c.stream)
    ]


def refused() -> list[LayerCase]:
    return [c for c in CASES.values() if c.refused is not None]


def _inputs_and_outputs(cases: list[LayerCase]) -> tuple[list[Any], list[Any]]:
    import keras

    inputs, outputs = [], []
    for case in cases:
        xs = [keras.Input(s, name=f"{case.name}_in{k}") for k, s in enumerate(case.shapes)]
        inputs += xs
        outputs.append(case.build(keras.layers, case.name, xs))
    return inputs, outputs


def _seed_weights(model: Any, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        new = [rng.normal(0.0, 0.6, w.shape) for w in ws]
        if type(layer).__name__ == "BatchNormalization":  # moving variance > 0
            new[3] = rng.uniform(0.5, 2.0, new[3].shape)
        layer.set_weights(new)
    return model


def tiny_model(case: LayerCase, seed: int = 0) -> Any:
    """The case alone: its inputs, its layers, one output."""
    return branch_model([case], seed)


def branch_model(cases: list[LayerCase], seed: int = 0) -> Any:
    """One model holding every case as its own branch (inputs and output, in case order)."""
    import keras

    inputs, outputs = _inputs_and_outputs(cases)
    model = keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0])
    return _seed_weights(model, seed)


def branch_config(cases: list[LayerCase]) -> dict[str, Any]:
    """`CONFIG` with every case's own LayerName entries."""
    names: dict[str, Any] = {}
    for case in cases:
        names.update(case.layer_config)
    return {**CONFIG, "LayerName": names} if names else dict(CONFIG)


def case_inputs(cases: list[LayerCase], n: int, seed: int = 1) -> list[np.ndarray]:
    """Seeded inputs of every case in order: normal values (the last quarter doubled, so the
    types overflow), or integer ids for an Embedding."""
    rng = np.random.default_rng(seed)
    out = []
    for case in cases:
        for shape in case.shapes:
            if case.ids is not None:
                out.append(rng.integers(0, case.ids, (n, *shape)).astype(np.float64))
                continue
            x = rng.normal(0.0, 1.5, (n, *shape))
            x[3 * n // 4 :] *= 2.0
            out.append(x)
    return out
