"""io_stream (Vivado and Vitis) against hls4ml's C simulation built with ``io_type='io_stream'``.

Three models carry the families: the two-input model of `test_vitis` (conv1d, conv2d with 'same'
padding, so an inserted ZeroPadding2D, max and average pooling, concatenate, dense with Latency
and Resource, Clone nodes, add, relu, sigmoid, softmax) and `stream_model` (strided and
depthwise convolutions, pointwise conv, batch normalization, tanh / elu / leaky_relu /
hard_sigmoid, average pooling whose saturating accumulator shows the stream adder tree, global
pooling, multiply, the stable softmax, a softmax over the channels of a 1-D feature map and a
non-flatten Reshape, a Repack), and `reshaping_model` (cropping, upsampling, an encoded conv,
subtract / maximum / average, a 3-D concatenate, a Flatten output). Each is compiled under a
narrow and a wide config for each backend: twelve compiles.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulation.errors import ConfigError, UnsupportedLayerError
from tests.conftest import requires_gxx
from tests.emulation.test_vitis import NARROW, WIDE, families_inputs, families_model
from tests.support.nnet_harness import assert_exact

N = 300
BACKENDS = ("Vivado", "Vitis")


def stream_model(seed: int = 41) -> object:
    """(14, 14, 3) -> strided conv, BN, tanh, avg pool, depthwise 'same', pointwise, leaky,
    global avg -> dense; (16, 4) -> conv 'same', elu, avg pool -> channel softmax and a global
    max -> dense; the dense heads multiplied, hard_sigmoid and a stable softmax."""
    import keras

    L = keras.layers
    a_in = keras.Input((14, 14, 3), name="img")
    b_in = keras.Input((16, 4), name="seq")
    a = L.Conv2D(4, 3, strides=2, name="cs")(a_in)  # 6 x 6
    a = L.Activation("tanh", name="th")(L.BatchNormalization(name="bn")(a))
    a = L.AveragePooling2D(2, name="ap2")(a)  # 3 x 3
    a = L.DepthwiseConv2D(3, padding="same", name="dw")(a)
    a = L.LeakyReLU(0.2, name="lk")(L.Conv2D(5, 1, name="pw")(a))
    a = L.Dense(6, name="da")(L.GlobalAveragePooling2D(name="gap")(a))
    b = L.Conv1D(3, 3, padding="same", name="c1")(b_in)
    b = L.AveragePooling1D(4, name="ap1")(L.Activation("elu", name="el")(b))  # 4 x 3
    chan_sm = L.Activation("softmax", name="csm")(b)
    flat = L.Reshape((2, 6), name="rs")(b)
    g = L.Dense(6, name="db")(L.GlobalMaxPooling1D(name="gmp")(b))
    m = L.Multiply(name="mul")([a, g])
    outs = [
        L.Activation("softmax", name="ssm")(m),
        L.Activation("hard_sigmoid", name="hs")(m),
        chan_sm,
        flat,
    ]
    model = keras.Model([a_in, b_in], outs)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.get_weights():
            ws = [rng.normal(0.0, 0.5, w.shape) for w in layer.get_weights()]
            if layer.name == "bn":  # moving variance > 0
                ws[3] = rng.uniform(0.5, 2.0, ws[3].shape)
            layer.set_weights(ws)
    return model


def _stream_config(narrow: bool) -> dict:
    names: dict = {
        "ssm": {"Strategy": "stable"},
        "pw": {"Strategy": "Resource", "ReuseFactor": 2},
        "da": {"Strategy": "Resource", "ReuseFactor": 5},
    }
    default = "ap_fixed<24,10>"
    if narrow:
        default = "ap_fixed<10,4,AP_RND,AP_SAT>"
        names["img"] = {"Precision": {"result": "ap_fixed<8,3,AP_RND>"}}
        names["seq"] = {"Precision": {"result": "ap_fixed<8,3,AP_RND_CONV,AP_SAT>"}}
        names["cs"] = {"Precision": {"accum": "ap_fixed<10,3,AP_RND,AP_SAT>"}}
        names["ap2"] = {"Precision": {"accum": "ap_fixed<7,1,AP_RND,AP_SAT>"}}
        names["ap1"] = {"Precision": {"accum": "ap_fixed<8,2,AP_TRN,AP_SAT>"}}
        names["gap"] = {"Precision": {"accum": "ap_fixed<9,2,AP_RND,AP_SAT>"}}
        names["pw"]["Precision"] = {"accum": "ap_fixed<10,3,AP_RND,AP_SAT>"}
        names["ssm"]["Precision"] = {"result": "ap_ufixed<8,0,AP_RND,AP_SAT>"}
        names["rs"] = {"Precision": {"result": "ap_fixed<6,2,AP_RND,AP_SAT>"}}
    return {
        "Model": {"Precision": default, "ReuseFactor": 1, "Strategy": "Latency"},
        "LayerName": names,
    }


STREAM_NARROW, STREAM_WIDE = _stream_config(True), _stream_config(False)


def stream_inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(42)
    xs = [rng.normal(0.0, 1.5, (N, 14, 14, 3)), rng.normal(0.0, 1.5, (N, 16, 4))]
    for x in xs:
        x[3 * N // 4 :] *= 2.5
    return xs


def reshaping_model(seed: int = 3) -> object:
    """Cropping1D/2D, UpSampling1D/2D (Resize), an encoded Conv1D, DepthwiseConv1D, PReLU, a
    pointwise Conv1D, a Resource Conv2D, two
    convolutions on one input (Clone), subtract / maximum / average, a 3-D concatenate, global
    max pooling and a Flatten as model output (a Repack)."""
    import keras

    L = keras.layers
    a_in = keras.Input((12, 3), name="s")
    b_in = keras.Input((6, 6, 2), name="im")
    a = L.UpSampling1D(2, name="up1")(L.Cropping1D((1, 2), name="cr1")(a_in))  # 18 x 3
    a = L.DepthwiseConv1D(3, name="dw1")(L.Conv1D(4, 3, name="ca")(a))  # 14 x 4
    a = L.Flatten(name="fl")(L.Conv1D(2, 1, name="pw1")(L.PReLU(name="pr")(a)))
    b = L.UpSampling2D(2, name="up2")(L.Cropping2D(((1, 0), (0, 1)), name="cr2")(b_in))
    b1, b2 = L.Conv2D(3, 3, name="cb1")(b), L.Conv2D(3, 3, name="cb2")(b)
    s = L.Subtract(name="sub")([b1, b2])
    av = L.Average(name="av")([L.Maximum(name="mx")([b1, s]), b2])
    cat = L.Concatenate(name="cat3")([av, s])
    g = L.Dense(4, name="dg")(L.GlobalMaxPooling2D(name="gm")(cat))
    model = keras.Model([a_in, b_in], [a, g])
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.get_weights():
            layer.set_weights([rng.normal(0.0, 0.5, w.shape) for w in layer.get_weights()])
    return model


RESHAPING_NARROW = {
    "Model": {"Precision": "ap_fixed<10,4,AP_RND,AP_SAT>", "ReuseFactor": 1, "Strategy": "Latency"},
    "LayerName": {
        "ca": {"ConvImplementation": "Encoded"},
        "cb1": {"Strategy": "Resource", "ReuseFactor": 3},
        "sub": {"Precision": {"result": "ap_fixed<7,3,AP_RND,AP_SAT>"}},
    },
}
RESHAPING_WIDE = {
    "Model": {"Precision": "ap_fixed<24,10>", "ReuseFactor": 1, "Strategy": "Latency"}
}


def reshaping_inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(4)
    return [rng.normal(0.0, 1.5, (N, 12, 3)), rng.normal(0.0, 1.5, (N, 6, 6, 2))]


def assert_stream_matches_csim(model: object, config: dict, X: list, backend: str) -> object:
    """Every output and traced layer of the io_stream emulator equals hls4ml's C simulation."""
    from emulation.model import EmulatedModel
    from tests.support.hls import hls_predict, hls_trace

    em = EmulatedModel(model, config, backend=backend, io_type="io_stream")
    got = em.predict(X)
    want = hls_predict(model, config, X, backend=backend, io_type="io_stream")
    got, want = (got, want) if isinstance(got, list) else ([got], [want])
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        assert_exact(np.reshape(g, np.shape(w)), w, f"output {k} ({em.graph.outputs[k]})")
    te, th = em.trace(X), hls_trace(model, config, X, backend=backend, io_type="io_stream")
    assert sorted(te) == sorted(th)
    for name in th:
        node = em.graph.node(name)
        assert_exact(te[name].reshape(th[name].shape), th[name], f"trace {name} ({node.types})")
    return em


@pytest.fixture(scope="module")
def families() -> object:
    return families_model()


@pytest.fixture(scope="module")
def streamed() -> object:
    return stream_model()


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("config", [NARROW, WIDE], ids=["narrow", "wide"])
def test_families_match_csim_in_io_stream(families: object, config: dict, backend: str) -> None:
    """Dense, conv1d/2d, pooling, merge, activation and softmax families, in io_stream."""
    em = assert_stream_matches_csim(families, config, families_inputs(), backend)
    assert (em.graph.backend, em.graph.io_type) == (backend, "io_stream")
    kinds = {n.kind for n in em.nodes}
    assert {"Conv1D", "Conv2D", "Pooling1D", "Pooling2DStream", "Dense", "Merge"} <= kinds
    assert {"Clone", "ZeroPadding2D", "Concatenate", "Activation", "Softmax"} <= kinds


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("config", [STREAM_NARROW, STREAM_WIDE], ids=["narrow", "wide"])
def test_stream_layers_match_csim(streamed: object, config: dict, backend: str) -> None:
    """Strided/depthwise/pointwise conv, BN, pooling in stream order, multiply, softmaxes."""
    em = assert_stream_matches_csim(streamed, config, stream_inputs(), backend)
    kinds = {n.kind for n in em.nodes}
    assert {"Pooling1DStream", "Pooling2DStream", "GlobalPooling2DStream", "Repack"} <= kinds
    assert {"DepthwiseConv2D", "PointwiseConv2D", "GlobalPooling1D", "Merge"} <= kinds


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("config", [RESHAPING_NARROW, RESHAPING_WIDE], ids=["narrow", "wide"])
def test_reshaping_layers_match_csim(config: dict, backend: str) -> None:
    """Cropping, upsampling, encoded and Resource convolutions, merges, a Flatten output."""
    em = assert_stream_matches_csim(reshaping_model(), config, reshaping_inputs(), backend)
    kinds = {n.kind for n in em.nodes}
    assert {"Cropping1D", "Cropping2D", "Resize", "Repack", "Clone", "Merge"} <= kinds
    assert {"DepthwiseConv1D", "PReLU", "PointwiseConv1D"} <= kinds


def test_a_softmax_after_an_in_place_flatten_is_refused() -> None:
    """hls4ml's stream softmax after a Flatten reads past its 4-value input packs (undefined
    values in its C simulation): refused, naming the layer and the way out."""
    import keras

    from emulation.model import EmulatedModel

    inp = keras.Input((6, 2), name="s")
    x = keras.layers.Flatten(name="fl")(keras.layers.Conv1D(4, 3, name="c")(inp))
    model = keras.Model(inp, keras.layers.Activation("softmax", name="sm")(x))
    with pytest.raises(UnsupportedLayerError, match=r"'sm' of class Softmax .*before the Flatten"):
        EmulatedModel(model, RESHAPING_WIDE, io_type="io_stream")


def test_stream_average_saturates_in_hls4ml_tree_order() -> None:
    """Five cells summed as ((a + b) + (c + d)) + e under a saturating accum_t: the tree's
    partial sums saturate where io_parallel's left-to-right sum does not."""
    from emulation.fixed import FixedType, Overflow
    from emulation.layers.base import Context
    from emulation.layers.pooling_stream import window_average

    acc = FixedType(6, 3, True, overflow=Overflow.SAT)  # [-4, 3.875], LSB 0.125
    x = np.array([[3.0, 3.0, -3.0, -3.0, 1.0]])[..., None]
    y = window_average(x, accum_t=acc, result_t=FixedType(16, 6), ctx=Context(), point="p")
    # tree: (3.875 + -4) + 1 = 0.875, / 5 -> 0.125; left to right: -1.125 / 5 -> -0.125
    assert y[0, 0] == 0.125


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize("backend", BACKENDS)
def test_embedding_matches_csim_in_io_stream(backend: str) -> None:
    """Embedding (nnet_embed_stream.h) with integer and fractional ids, saturating results."""
    from tests.emulation import test_embedding as emb

    assert_stream_matches_csim(emb.embedding_model(), emb.NARROW, emb.embedding_inputs(), backend)


@pytest.mark.csim
@requires_gxx
@pytest.mark.parametrize("implementation", ["legacy", "argmax"])
def test_softmax_implementations_match_csim_in_io_stream(implementation: str) -> None:
    """The legacy and argmax stream softmaxes on a Dense output (latency and stable: above)."""
    import keras

    L = keras.layers
    inp = keras.Input((8,), name="x")
    model = keras.Model(inp, L.Activation("softmax", name="sm")(L.Dense(6, name="d")(inp)))
    rng = np.random.default_rng(9)
    model.get_layer("d").set_weights([rng.normal(0.0, 0.8, (8, 6)), rng.normal(0.0, 0.8, 6)])
    config = {
        "Model": {"Precision": "ap_fixed<12,5,AP_RND,AP_SAT>", "ReuseFactor": 1},
        "LayerName": {
            "sm": {
                "Implementation": implementation,
                "Precision": {"result": "ap_ufixed<8,0,AP_RND,AP_SAT>"},
            }
        },
    }
    assert_stream_matches_csim(model, config, rng.normal(0.0, 2.0, (N, 8)), "Vivado")


def test_layers_hls4ml_cannot_compile_in_io_stream_are_refused_so() -> None:
    """Dot and LayerNormalization: hls4ml converts them in io_stream but cannot compile them."""
    from emulation.layers.base import Graph, Node
    from emulation.stream import stream_graph

    graph = Graph(nodes=[Node("dot", "Dot", (), (1,))], inputs=(), outputs=("dot",))
    with pytest.raises(UnsupportedLayerError, match=r"'dot' of class Dot .*does not compile"):
        stream_graph(graph)


def test_an_unverified_layer_is_refused_in_io_stream() -> None:
    """A node kind not checked in io_stream is refused with its name, class and the way out."""
    from emulation.layers.base import Graph, Node
    from emulation.stream import stream_graph

    graph = Graph(nodes=[Node("gn", "GarNet", (), (4,))], inputs=(), outputs=("gn",))
    with pytest.raises(UnsupportedLayerError, match=r"'gn' of class GarNet .* io_parallel"):
        stream_graph(graph)


def test_an_unknown_io_type_is_a_config_error() -> None:
    from emulation.hls_model_graph import io_type_name

    assert io_type_name("IO_STREAM") == "io_stream"
    with pytest.raises(ConfigError, match=r"'io_serial' is not emulated"):
        io_type_name("io_serial")


def test_emulate_takes_io_type_from_the_flag_or_the_project(
    small_model_file, tmp_path, monkeypatch
) -> None:
    """``aptune emulate --io-type io_stream`` and a project's ``IOType: io_stream`` emulate the
    io_stream graph (the flag wins over the project; the other commands:
    tests/tuner/test_cli_io_stream.py)."""
    import yaml

    import emulation.model
    from emulation.config import write_config
    from tests.csim.small_models import CONFIG, small_inputs
    from tuner.cli import main

    seen: list[str] = []
    real = emulation.model.build_graph

    def spy(model, cfg, **kwargs):
        seen.append(kwargs.get("io_type", "io_parallel"))
        return real(model, cfg, **kwargs)

    monkeypatch.setattr(emulation.model, "build_graph", spy)
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "x.npy", small_inputs(40))
    cfg = str(write_config(CONFIG, tmp_path / "cfg.yml"))
    project = {"KerasModel": str(small_model_file), "IOType": "io_stream", "HLSConfig": CONFIG}
    (tmp_path / "prj.yml").write_text(yaml.safe_dump(project))
    args = ["--data", "x.npy", "-o", "y.npy"]
    assert main(["emulate", str(small_model_file), "--config", cfg, *args]) == 0
    assert (
        main(["emulate", str(small_model_file), "--config", cfg, *args, "--io-type", "io_stream"])
        == 0
    )
    assert main(["emulate", "prj.yml", *args]) == 0
    assert main(["emulate", "prj.yml", *args, "--io-type", "io_parallel"]) == 0
    assert seen == ["io_parallel", "io_stream", "io_stream", "io_parallel"]


@requires_gxx
@pytest.mark.csim
@pytest.mark.realdata
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("model_key", ["conv1d_small", "conv2d_model", "jet_conv2d_small"])
def test_real_conv_models_match_csim_in_io_stream(realdata, model_key: str, backend: str) -> None:
    """The community CNNs in io_stream, under hls4ml's own name-granularity config narrowed."""
    import hls4ml

    from emulation.io.keras_files import load_model
    from tests.support.conv_reference import REAL_CONV_MODELS
    from tests.support.hls import narrow_config

    model = load_model(realdata / REAL_CONV_MODELS[model_key])
    config = narrow_config(
        hls4ml.utils.config_from_keras_model(model, granularity="name", backend=backend)
    )
    X = np.abs(np.random.default_rng(5).normal(0.0, 1.0, (200, *model.input_shape[1:])))
    assert_stream_matches_csim(model, config, X, backend)
