"""Compressed Dense kernels (``Compression: True``): hls4ml 1.3 never compiles one, so the
emulator refuses them with hls4ml's reasons, and these tests pin each reason down.

hls4ml stores a compressed kernel as (row, col, weight) triplets (``CompressedWeightVariable``)
for ``nnet::dense_compressed`` (``nnet_dense_compressed.h``), but in 1.3 nothing reaches that
kernel for Vivado or Vitis, in io_parallel or io_stream: with Strategy Resource the backend sets
strategy 'compressed', for which the Dense config template picks no kernel (the conversion
raises KeyError 'dense_function'); with Latency the weights stay triplets and ``DenseLatency``
multiplies the data by the struct (g++ fails); and in both the struct's typedef spells its index
type ``uint<N>`` (``str`` of the precision, not its C++ definition), which g++ rejects too. If a
later hls4ml compiles it, the fact tests fail: that is the time to emulate the kernel.

One model, two Dense layers with kernels about half zeros, the second with ReuseFactor 3; one
g++ run (the Latency case, which fails).
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from emulation import EmulatedModel
from emulation.errors import UnsupportedLayerError
from tests.conftest import requires_gxx

BACKENDS = ("Vivado", "Vitis")
IO_TYPES = ("io_parallel", "io_stream")
STRATEGIES = ("Latency", "Resource")


def pruned_model(seed: int = 15) -> object:
    """10 -> Dense(6) -> Dense(5), each kernel about 50 % zeros."""
    import keras

    rng = np.random.default_rng(seed)
    inp = keras.Input((10,), name="x")
    d1, d2 = keras.layers.Dense(6, name="d1"), keras.layers.Dense(5, name="d2")
    model = keras.Model(inp, d2(d1(inp)))
    for layer, shape in ((d1, (10, 6)), (d2, (6, 5))):
        w = rng.uniform(-1.0, 1.0, shape)
        w[rng.random(shape) < 0.5] = 0.0
        layer.set_weights([w, rng.normal(0.0, 0.3, shape[1])])
    return model


def compressed_config(strategy: str) -> dict:
    return {
        "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": strategy},
        "LayerName": {
            "d1": {"Compression": True, "Precision": {"accum": "ap_fixed<12,4,AP_RND,AP_SAT>"}},
            "d2": {"Compression": True, "ReuseFactor": 3},
        },
    }


@pytest.fixture(scope="module")
def model() -> object:
    return pruned_model()


def _convert(model: object, strategy: str, backend: str, io_type: str, out: Path) -> object:
    import hls4ml

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept")
        return hls4ml.converters.convert_from_keras_model(
            model,
            hls_config=compressed_config(strategy),
            backend=backend,
            io_type=io_type,
            output_dir=str(out),
        )


def _assert_names_hls4mls_reasons(message: str) -> None:
    assert "\n" not in message
    assert ": hls4ml 1.3 cannot compile it for Vivado or Vitis: " in message
    assert "KeyError 'dense_function'" in message and "'uint<N>'" in message
    assert message.endswith("drop the Compression setting for that layer")


@pytest.mark.parametrize("io_type", IO_TYPES)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_compressed_dense_is_refused_with_hls4mls_reasons(
    model: object, strategy: str, backend: str, io_type: str
) -> None:
    """Every backend, io_type and strategy, before hls4ml converts: one line naming the layer,
    the setting, why hls4ml 1.3 cannot compile it, and the fix."""
    with pytest.raises(UnsupportedLayerError) as info:
        EmulatedModel(model, compressed_config(strategy), backend=backend, io_type=io_type)
    message = str(info.value)
    assert message.startswith("layer 'd1' of class Dense sets LayerName.d1.Compression True: ")
    _assert_names_hls4mls_reasons(message)


@pytest.mark.parametrize(
    ("setting", "where"),
    [
        ({"LayerType": {"Dense": {"Compression": 1}}}, "LayerType.Dense.Compression 1"),
        ({"Model": {"Compression": True}}, "Model.Compression True"),
    ],
    ids=["layer-type", "model"],
)
def test_compression_set_for_all_dense_layers_is_refused(
    model: object, setting: dict, where: str
) -> None:
    """Compression by layer type or for the whole model (as hls4ml reads it, any true value)."""
    config = {"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1}}
    for section, value in setting.items():
        config.setdefault(section, {}).update(value)
    with pytest.raises(UnsupportedLayerError) as info:
        EmulatedModel(model, config)
    assert str(info.value).startswith(f"layer 'd1' of class Dense sets {where}: ")


@pytest.mark.parametrize("value", [False, None], ids=["false", "none"])
def test_the_fix_in_the_refusal_runs(model: object, value: object) -> None:
    """Compression False or None (hls4ml: unset) is plain Dense: the emulator runs it."""
    config = compressed_config("Resource")
    config["Model"]["Compression"] = True
    for layer in config["LayerName"].values():
        layer["Compression"] = value
    if value is None:  # unset per layer: the model-wide True applies
        with pytest.raises(UnsupportedLayerError, match=r"Model\.Compression True"):
            EmulatedModel(model, config)
        del config["Model"]["Compression"]
    assert EmulatedModel(model, config).predict(np.ones((2, 10))).shape == (2, 5)


def test_a_compressed_hls_model_is_refused_too(model: object, tmp_path: Path) -> None:
    """`EmulatedModel.from_hls_model` on a ModelGraph hls4ml converted (Latency: Resource does
    not convert) finds the triplets on the layer: the same reasons."""
    hls_model = _convert(model, "Latency", "Vivado", "io_parallel", tmp_path / "prj")
    with pytest.raises(UnsupportedLayerError) as info:
        EmulatedModel.from_hls_model(hls_model)
    message = str(info.value)
    assert message.startswith(
        "layer 'd1' of class Dense stores 'weight' as a CompressedWeightVariable "
        "(Compression: True): "
    )
    _assert_names_hls4mls_reasons(message)


@pytest.mark.parametrize("io_type", IO_TYPES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_hls4ml_cannot_convert_a_compressed_resource_dense(
    model: object, backend: str, io_type: str, tmp_path: Path
) -> None:
    """hls4ml 1.3 fact: Resource + Compression makes the layer's strategy 'compressed', and the
    Dense config template has no kernel for it: the conversion itself raises KeyError."""
    with pytest.raises(KeyError, match="dense_function") as info:
        _convert(model, "Resource", backend, io_type, tmp_path / "prj")
    raised_in = Path(str(info.traceback[-1].path))
    assert raised_in.name == "core_templates.py" and raised_in.parent.parent.name == "vivado"


@pytest.mark.csim
@requires_gxx
def test_hls4ml_cannot_compile_a_compressed_latency_dense(model: object, tmp_path: Path) -> None:
    """hls4ml 1.3 fact: Latency + Compression writes a project g++ rejects: the triplet struct's
    index type is spelled ``uint<N>`` and DenseLatency multiplies the data by the struct."""
    out = tmp_path / "prj"
    hls_model = _convert(model, "Latency", "Vivado", "io_parallel", out)
    with contextlib.redirect_stdout(io.StringIO()):
        hls_model.write()
    defines = (out / "firmware" / "defines.h").read_text()
    assert re.search(r"typedef struct compressed_\w+ \{uint<\d+> row_index;", defines)
    assert "nnet::DenseLatency" in (out / "firmware" / "parameters.h").read_text()
    printed = io.StringIO()  # hls4ml prints g++'s output before raising
    with contextlib.redirect_stdout(printed), pytest.raises(Exception, match="Failed to compile"):
        hls_model.compile()
    # g++ quotes with ' or with typographic quotes, depending on the locale
    gxx = re.sub("[\u2018\u2019]", "'", printed.getvalue())
    assert re.search(r"'uint'.* is not a template", gxx)
    assert re.search(
        r"no match for 'operator\*' \(operand types are 'ap_fixed<16, 6>' and "
        r"'compressed_\w+'\)",
        gxx,
    )


def test_no_hls4ml_template_calls_dense_compressed() -> None:
    """hls4ml 1.3 fact: ``nnet::dense_compressed`` is defined but no Vivado or Vitis header or
    generated kernel calls it (``nnet::dense`` dispatches to ``CONFIG_T::kernel``)."""
    import hls4ml

    root = Path(hls4ml.__file__).parent
    headers = [path for b in ("vivado", "vitis") for path in (root / "templates" / b).rglob("*.h")]
    passes = [path for b in ("vivado", "vitis") for path in (root / "backends" / b).rglob("*.py")]
    assert any("void dense_compressed(" in path.read_text() for path in headers)
    calls = [
        path.name
        for path in headers + passes
        if re.search(r"dense_compressed\s*<", path.read_text(errors="replace"))
    ]
    assert calls == []
