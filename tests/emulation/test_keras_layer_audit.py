"""The Keras layer audit: every case of `keras_layer_cases` is refused or equals the C simulation.

Refused cases raise `UnsupportedLayerError` naming the layer and its class before hls4ml converts
anything (checked by making the conversion itself fail the test), so they cost no compile.

Emulated cases are compiled as branch models (one input and one output per case, so one compile
checks many): in CI a representative subset, one model per io_type (``CI_CASES``, 14 cases, and
a DepthwiseConv1D beside them in io_stream: two compiles, about 30 s on 2 cores); with
``APTUNE_FULL_AUDIT=1`` every emulated case (69 in io_parallel, in two models; 60 in io_stream,
in one: 36 s and 20 s on 2 idle cores, 55 s and 50 s with them shared). Every output of a
branch model must equal the C simulation (``==``); a failure lists the cases that differ. Cases
emulated in io_parallel that hls4ml cannot run in io_stream are refused there (converted only,
no compile).
"""

from __future__ import annotations

import contextlib
import io
import os

import numpy as np
import pytest

from emulation import EmulatedModel, UnsupportedLayerError
from tests.conftest import requires_gxx
from tests.emulation.keras_layer_cases import (
    CASES,
    LayerCase,
    branch_config,
    branch_model,
    case_inputs,
    emulated,
    refused,
    tiny_model,
)
from tests.support.hls import hls_predict, mismatch_report

FULL = os.environ.get("APTUNE_FULL_AUDIT") == "1"
N = 200
#: the CI subset: one case per layer family (and the io_stream selu, which once differed)
CI_CASES = (
    "dense_resource",
    "batchnorm",
    "act_selu",
    "act_sigmoid",
    "prelu",
    "conv1d_same",
    "conv2d_strided",
    "depthwise2d",
    "averagepool2d",
    "global_maxpool1d",
    "concatenate",
    "multiply",
    "embedding",
    "upsample2d",
)
#: what each refusal must offer instead, by the refused class
ALTERNATIVES = {
    "SeparableConv1D": "DepthwiseConv1D followed by a Conv1D",
    "SeparableConv2D": "DepthwiseConv2D followed by a Conv2D",
    "Conv1D": "use dilation_rate=1",
    "SimpleRNN": "use an LSTM or a GRU",
    "Conv1DTranspose": "use UpSampling1D followed by a Conv1D",
    "Conv2DTranspose": "use UpSampling2D followed by a Conv2D",
    "Conv3D": "use Conv2D",
    "MaxPooling3D": "use MaxPooling2D",
    "AveragePooling3D": "use AveragePooling2D",
    "GlobalMaxPooling3D": "use GlobalMaxPooling2D",
    "GlobalAveragePooling3D": "use GlobalAveragePooling2D",
    "TimeDistributed": "apply the wrapped layer directly",
    "MultiHeadAttention": "EinsumDense projections, Dot and Softmax",
    "GaussianNoise": "remove it",
    "RepeatVector": "Reshape to (1, features) followed by UpSampling1D",
    "UnitNormalization": "use LayerNormalization or BatchNormalization",
    "ReLU": "use Activation('relu6') for a ceiling of 6, or ReLU() without max_value",
    "PReLU": "use PReLU() without shared_axes",
    "UpSampling2D": "use interpolation='nearest'",
    "DepthwiseConv2D": "use a DepthwiseConv2D with kernel (k, 1) for 'depthwise_1d_and_2d_1d'",
    "Activation": "which hls4ml 1.3's C++ has no function for (the project does not compile); use",
    "Dense": "which hls4ml 1.3's C++ has no function for (the project does not compile); use",
}
DEPTHWISE_1D = ("depthwise1d",)


#: every refused case in io_parallel, and in io_stream unless it is refused in io_parallel only
REFUSED_RUNS = [
    (c, io_type)
    for c in refused()
    for io_type in ("io_parallel", "io_stream")
    if c.stream or io_type == "io_parallel"
]


@pytest.mark.parametrize(
    ("case", "io_type"), REFUSED_RUNS, ids=[f"{c.name}-{io}" for c, io in REFUSED_RUNS]
)
def test_refused_cases_name_the_layer_and_class_before_hls4ml_converts(
    case: LayerCase, io_type: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case hls4ml (or the emulator) cannot handle is refused before any conversion."""
    import hls4ml

    def no_conversion(*args, **kwargs):
        raise AssertionError("hls4ml converted a model the emulator refuses")

    monkeypatch.setattr(hls4ml.converters, "convert_from_keras_model", no_conversion)
    model = tiny_model(case)
    with pytest.raises(UnsupportedLayerError) as info:
        EmulatedModel(model, branch_config([case]), io_type=io_type)
    message = str(info.value)
    assert message.startswith(f"layer '{case.name}' of class {case.refused} "), message
    assert ALTERNATIVES[case.refused] in message, message


def test_a_shared_axes_prelu_graph_from_hls4ml_is_refused_naming_the_layer(tmp_path) -> None:
    """The ModelGraph of a PReLU(shared_axes) (hls4ml converts it; its C++ reads past the
    alphas) is refused by `EmulatedModel.from_hls_model` too, not crashed on."""
    import hls4ml

    case = CASES["prelu_shared_axes"]
    with contextlib.redirect_stdout(io.StringIO()):  # hls4ml prints its passes
        hls_model = hls4ml.converters.convert_from_keras_model(
            tiny_model(case), hls_config=branch_config([case]), output_dir=str(tmp_path)
        )
    with pytest.raises(UnsupportedLayerError) as info:
        EmulatedModel.from_hls_model(hls_model).predict(case_inputs([case], 2)[0])
    assert str(info.value).startswith(
        "layer 'prelu_shared_axes' of class PReLU holds 3 alphas for 48 values (shared_axes)"
    )


@pytest.mark.parametrize("case", [c for c in emulated() if not c.stream], ids=lambda c: c.name)
def test_cases_hls4ml_cannot_run_in_io_stream_are_refused_there(case: LayerCase) -> None:
    """Emulated in io_parallel, refused in io_stream (conversion only, no compile), naming the
    layer, its class and the way out."""
    model, config = tiny_model(case), branch_config([case])
    with pytest.raises(UnsupportedLayerError) as info:
        EmulatedModel(model, config, io_type="io_stream")
    message = str(info.value)
    assert message.startswith(f"layer '{case.name}' of class "), message
    assert "io_parallel" in message or "padding='valid'" in message, message


def _groups(io_type: str) -> list[list[LayerCase]]:
    """The branch models to compile: the CI subset, or (full audit) every emulated case, with
    the 1-D depthwise convolutions apart in io_parallel (hls4ml 1.3 cannot compile a
    DepthwiseConv1D beside a DepthwiseConv2D there: nnet_sepconv1d_latency.h and
    nnet_sepconv2d_latency.h share one include guard); io_stream also gets a DepthwiseConv1D
    beside the CI subset's DepthwiseConv2D."""
    if io_type == "io_stream":  # where both depthwise kinds compile side by side
        return [[CASES[n] for n in (*CI_CASES, *DEPTHWISE_1D)] if not FULL else emulated(io_type)]
    if not FULL:
        return [[CASES[n] for n in CI_CASES]]
    cases = emulated(io_type)
    return [
        [c for c in cases if c.name not in DEPTHWISE_1D],
        [c for c in cases if c.name in DEPTHWISE_1D],
    ]


def differing_cases(cases: list[LayerCase], io_type: str) -> dict[str, str]:
    """{case name: how it differs} for the cases of one branch model against the C simulation."""
    model, config = branch_model(cases), branch_config(cases)
    X = case_inputs(cases, N)
    X = X[0] if len(X) == 1 else X
    got = EmulatedModel(model, config, io_type=io_type).predict(X)
    want = hls_predict(model, config, X, io_type=io_type)
    got, want = (got, want) if len(cases) > 1 else ([got], [want])
    bad = {}
    for case, g, w in zip(cases, got, want, strict=True):
        g = np.reshape(g, np.shape(w))
        if not np.array_equal(g, w):
            bad[case.name] = mismatch_report(g, w)
    return bad


@requires_gxx
@pytest.mark.csim
@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_emulated_cases_equal_the_c_simulation(io_type: str) -> None:
    """Every output of each branch model equals hls4ml's C simulation (the CI subset, or every
    emulated case with APTUNE_FULL_AUDIT=1)."""
    bad: dict[str, str] = {}
    for group in _groups(io_type):
        bad.update(differing_cases(group, io_type))
    assert not bad, "\n".join(f"{name}: {why}" for name, why in bad.items())
