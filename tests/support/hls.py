"""hls4ml C simulation for tests: compile once per session, predict and trace exactly.

Usage::

    from tests.support.hls import hls_predict, hls_trace

    @requires_gxx
    @pytest.mark.csim
    def test_something(model, config):
        y = hls_predict(model, config, X)          # == hls_model.predict(X), float64
        t = hls_trace(model, config, X)            # {layer name: (n, *shape) float64}

``model`` is a Keras model, ``hls_config`` an hls4ml config dict (``Model`` / ``LayerType`` /
``LayerName``) or the path of a YAML file holding one. The model is converted exactly as the
emulator's reference is (``backend='Vivado'`` unless ``backend=`` says ``'Vitis'``,
``io_type='io_parallel'`` unless ``io_type=`` says ``'io_stream'``) and compiled with g++.

Compiled models are cached for the whole pytest session, keyed by a hash of the model's JSON, its
weight bytes, the config (as YAML) and the hls4ml version, so two tests asking for the same model
and config share one compile (about 7 s of g++ each on 2 cores). Every cached model is compiled
with trace hooks on every layer: the hooks do nothing until `hls_trace` turns tracing on, so the
same library serves `hls_predict` and `hls_trace` (hls4ml's own ``ModelGraph.trace`` would
recompile). Projects go to one temporary directory per session, removed at exit.

Inputs are passed as float64, so hls4ml calls the ``double`` entry point and its outputs are
exact for every type up to 53 bits. The g++ flags are hls4ml's own (``-O3``): measured on a
16-32-8 Dense model, ``-O0`` compiles in 5.7 s against 6.9 s but runs 15 times slower (6.1 s
against 0.4 s for 10,000 samples) and ``-O1`` saves nothing, so the build script is left as is.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import ctypes
import hashlib
import io
import json
import shutil
import tempfile
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

__all__ = [
    "COMPILE_SECONDS",
    "assert_equal_to_csim",
    "dense_types",
    "hls_compile",
    "hls_predict",
    "hls_trace",
    "mismatch_report",
    "narrow_config",
    "overflowing_inputs",
]

_CACHE: dict[str, Any] = {}
_SESSION_DIR: Path | None = None

#: Seconds spent in g++ per cache key (for reports and timing tests).
COMPILE_SECONDS: dict[str, float] = {}


def _session_dir() -> Path:
    global _SESSION_DIR
    if _SESSION_DIR is None:
        _SESSION_DIR = Path(tempfile.mkdtemp(prefix="aptune-hls-"))
        atexit.register(shutil.rmtree, _SESSION_DIR, ignore_errors=True)
    return _SESSION_DIR


def _read_config(hls_config: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    if isinstance(hls_config, (str, Path)):
        with Path(hls_config).open() as f:
            return yaml.safe_load(f)
    return copy.deepcopy(dict(hls_config))


def _cache_key(
    model: Any, config: Mapping[str, Any], backend: str = "Vivado", io_type: str = "io_parallel"
) -> str:
    import hls4ml

    h = hashlib.sha256()
    if backend != "Vivado":  # keys of Vivado compiles stay as they were
        h.update(backend.encode())
    if io_type != "io_parallel":
        h.update(io_type.encode())
    h.update(model.to_json().encode())
    for w in model.get_weights():
        a = np.ascontiguousarray(w)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    # yaml with sorted keys so equal configs written in another order share a compile
    h.update(yaml.safe_dump(json.loads(json.dumps(config, default=str)), sort_keys=True).encode())
    h.update(hls4ml.__version__.encode())
    return h.hexdigest()[:20]


def hls_compile(
    model: Any,
    hls_config: Mapping[str, Any] | str | Path,
    *,
    trace: bool = False,
    backend: str = "Vivado",
    io_type: str = "io_parallel",
) -> Any:
    """The compiled hls4ml ``ModelGraph`` of ``model`` under ``hls_config``, cached per session.

    ``trace`` is accepted for readability at call sites: every cached model already carries
    trace hooks on all layers (inert until `hls_trace` runs), so tracing needs no second compile.
    """
    import hls4ml

    del trace  # every compile has trace hooks; see the module docstring
    config = _read_config(hls_config)
    key = _cache_key(model, config, backend, io_type)
    if key in _CACHE:
        return _CACHE[key]
    out = _session_dir() / key
    # hls4ml prints its passes and the topology, and trips a NumPy 2 deprecation reading
    # Keras variables; keep the test log readable
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept")
        hls_model = hls4ml.converters.convert_from_keras_model(
            model,
            hls_config=config,
            backend=backend,
            io_type=io_type,
            output_dir=str(out),
        )
        hls_model.config.trace_output = True
        for layer in hls_model.get_layers():
            layer.set_attr("trace", True)
        start = time.perf_counter()
        hls_model.compile()
    COMPILE_SECONDS[key] = time.perf_counter() - start
    _CACHE[key] = hls_model
    return hls_model


def _as_float64(X: Any) -> Any:
    if isinstance(X, (list, tuple)):
        return [np.ascontiguousarray(x, dtype=np.float64) for x in X]
    return np.ascontiguousarray(X, dtype=np.float64)


def hls_predict(
    model: Any,
    hls_config: Mapping[str, Any] | str | Path,
    X: Any,
    *,
    backend: str = "Vivado",
    io_type: str = "io_parallel",
) -> Any:
    """``hls_model.predict(X)`` with ``X`` as float64 (the exact ``double`` entry point).

    Returns what hls4ml returns: ``(n, output size)`` for one output, a list for several, and
    one sample's outputs without the batch axis when ``X`` holds a single sample.
    """
    hls_model = hls_compile(model, hls_config, backend=backend, io_type=io_type)
    with contextlib.redirect_stdout(io.StringIO()):
        return hls_model.predict(_as_float64(X))


class _TraceData(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("data", ctypes.c_void_p)]


def hls_trace(
    model: Any,
    hls_config: Mapping[str, Any] | str | Path,
    X: Any,
    *,
    backend: str = "Vivado",
    io_type: str = "io_parallel",
) -> dict[str, np.ndarray]:
    """Every layer's output in the C simulation: ``{layer name: (n, *shape) float64}``.

    Same names and values as hls4ml's ``ModelGraph.trace`` (layers that emit C++ code; the
    input layer has none), read from the cached library without recompiling.
    """
    hls_model = hls_compile(model, hls_config, trace=True, backend=backend, io_type=io_type)
    xs = _as_float64(X)
    xlist = xs if isinstance(xs, list) else [xs]
    top, ctype = hls_model._get_top_function(xlist[0] if len(xlist) == 1 else xlist)
    n = hls_model._compute_n_samples(xlist[0] if len(xlist) == 1 else xlist)
    in_vars = hls_model.get_input_variables()
    xlist = [x.reshape(n, int(v.size())) for x, v in zip(xlist, in_vars, strict=True)]
    out_sizes = [int(v.size()) for v in hls_model.get_output_variables()]

    shapes: dict[str, tuple[int, ...]] = {}
    for layer in hls_model.get_layers():
        if layer.get_attr("function_cpp", None) and layer.get_attr("trace", False):
            shapes[layer.name] = tuple(layer.get_output_variable().shape)
    # one trace entry per layer name: io_stream's Clone saves each copy under the same name
    n_traced = len(shapes)
    lib = hls_model._top_function_lib
    lib.collect_trace_output.argtypes = [ctypes.POINTER(_TraceData)]
    lib.collect_trace_output.restype = None
    lib.allocate_trace_storage.argtypes = [ctypes.c_size_t]
    lib.allocate_trace_storage.restype = None
    lib.free_trace_storage.argtypes = None
    lib.free_trace_storage.restype = None

    result = {name: np.empty((n, *shape)) for name, shape in shapes.items()}
    data = (_TraceData * n_traced)()
    lib.allocate_trace_storage(ctypes.sizeof(ctype))
    try:
        for i in range(n):
            outs = [np.zeros(s, dtype=np.float64) for s in out_sizes]
            top(*[np.ascontiguousarray(x[i]) for x in xlist], *outs)
            lib.collect_trace_output(data)
            for item in data:
                name = item.name.decode()
                ptr = ctypes.cast(item.data, ctypes.POINTER(ctypes.c_double))
                result[name][i] = np.ctypeslib.as_array(ptr, shape=shapes[name])
    finally:
        lib.free_trace_storage()
    return result


def mismatch_report(
    actual: Any, expected: Any, *, inputs: np.ndarray | None = None, types: Any = None
) -> str:
    """How two arrays differ: count, the first few (index, actual, expected[, input row])."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        return f"shapes differ: {a.shape} vs {e.shape}"
    bad = np.argwhere(a != e)
    lines = [f"{len(bad)} of {a.size} values differ; types: {types}"]
    for idx in bad[:5]:
        k = tuple(int(i) for i in idx)
        line = f"  at {k}: emulator {a[k]!r}, C simulation {e[k]!r}"
        if inputs is not None:
            line += f", input row {np.asarray(inputs)[k[0]][:8].tolist()}"
        lines.append(line)
    return "\n".join(lines)


def narrow_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """hls4ml's default config with every precision narrowed: rounding, saturating accumulators
    narrower than the products (so each product is cast on its own), 6-bit weights."""
    cfg = copy.deepcopy(dict(config))
    cfg["Model"]["Precision"] = {"default": "ap_fixed<10,4,AP_RND,AP_SAT>"}
    narrow = {
        "accum": "ap_fixed<12,5,AP_RND_CONV,AP_SAT>",
        "weight": "ap_fixed<6,1,AP_RND>",
        "bias": "ap_fixed<10,4,AP_RND,AP_SAT>",
        "result": "ap_fixed<10,4,AP_RND,AP_SAT>",
    }
    for layer in cfg["LayerName"].values():
        precision = layer.get("Precision")
        if isinstance(precision, dict):
            for key in precision:
                precision[key] = narrow.get(key, precision[key])
    return cfg


def assert_equal_to_csim(
    model: Any, hls_config: Mapping[str, Any], X: np.ndarray, *, same_layers: bool = False
) -> tuple[Any, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The emulator's outputs (each of a multi-output model) and every layer the C simulation
    traces equal hls4ml's C simulation (``==``); ``same_layers``: the emulator also traces
    exactly those layers. Returns the `EmulatedModel`, its traces and the C simulation's."""
    from emulation.model import EmulatedModel

    em = EmulatedModel(model, hls_config)
    got, want = em.trace(X), hls_trace(model, hls_config, X)
    assert want, "the C simulation traced no layer"
    if same_layers:
        assert sorted(got) == sorted(want), f"traced layers: {sorted(got)} != {sorted(want)}"
    for name, w in want.items():
        g = got[name].reshape(w.shape)
        if not np.array_equal(g, w):
            types = em.graph.node(name).types
            raise AssertionError(f"{name}: " + mismatch_report(g, w, inputs=X, types=types))
    y, y_hls = em.predict(X), hls_predict(model, hls_config, X)
    ys, ys_hls = (y, y_hls) if isinstance(y_hls, list) else ([y], [y_hls])
    assert len(ys) == len(ys_hls), f"{len(ys)} outputs != {len(ys_hls)}"
    for k, (a, e) in enumerate(zip(ys, ys_hls, strict=True)):
        a = np.asarray(a).reshape(np.shape(e))
        assert np.array_equal(a, e), f"output {k}: " + mismatch_report(a, e, inputs=X)
    return em, got, want


def overflowing_inputs(seed: int, shape: tuple[int, ...], scale: float = 1.5) -> np.ndarray:
    """Seeded normal inputs of ``shape`` (samples first), the last quarter doubled so that
    narrow types overflow."""
    x = np.random.default_rng(seed).normal(0.0, scale, shape)
    x[3 * shape[0] // 4 :] *= 2.0
    return x


def dense_types(node: Any) -> dict[str, Any]:
    """The keyword types of `emulation.layers.dense.dense` for the Dense ``node``."""
    return {
        "x_t": node.input_types[0],
        "w_t": node.types["weight_t"],
        "b_t": node.types["bias_t"],
        "accum_t": node.types["accum_t"],
        "result_t": node.types["result_t"],
    }
