"""hls4ml's own ModelGraph of a Keras model, as an ordered list of plain `Node`s.

hls4ml decides the graph: `build_graph` runs ``hls4ml.converters.convert_from_keras_model``
(Vivado or Vitis backend, ``io_parallel`` or ``io_stream``), which applies hls4ml's optimizer
passes and config precedence in milliseconds and writes or compiles nothing, then copies what the
generated C++ will use:

- every precision the layer's C++ names (``layer.types``: ``result_t``, ``accum_t``,
  ``weight_t``, ``table_t``, ...) as a `FixedType`, 'auto' already resolved by hls4ml;
- every weight twice: ``raw_weights`` as hls4ml holds it, and ``weights`` as the C++ constant
  holds it. hls4ml writes each weight as decimal text with F = max(0, W - I) digits after the
  point (``WeightVariable.update_precision``: ``'{:.{F}f}'``, ``'{:.0f}'`` for integer types) and
  the C simulation reads that text back into the type (``load_weights_from_txt``: ``>> double``,
  then the type's own conversion). So the value used is ``Q(float(text(w)))``: weights are
  rounded twice. Weights keep hls4ml's layout (Dense under Resource strategy is transposed to
  ``(n_out, n_in)``; ``attrs['_weights_transposed']`` says so);
- every other attribute as plain values (``reuse_factor`` and ``strategy`` as hls4ml really uses
  them, after it replaced an invalid ReuseFactor), plus ``product_type`` (the ``nnet::product``
  class hls4ml selects) and ``fused_batchnorm`` (the Keras BatchNormalization layers hls4ml
  folded into a Dense or Conv node, read from the graph).
"""

from __future__ import annotations

import copy
import dataclasses
import os
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emulation.errors import ConfigError, UnsupportedLayerError
from emulation.fixed import FixedType, Overflow, Rounding
from emulation.hls4ml_output import quiet_hls4ml
from emulation.layers.base import Node
from emulation.unsupported import refuse_unsupported

__all__ = [
    "BACKENDS",
    "Graph",
    "backend_name",
    "build_graph",
    "decimal_text_values",
    "fixed_from_hls4ml",
]

#: hls4ml backends the emulator reproduces. For io_parallel, Vitis runs Vivado's optimizer
#: passes (plus checks that only warn or act on io_stream / RNNs) and overrides the conv and
#: pooling headers (``templates/vitis/nnet_utils``) with the same arithmetic: only pragmas,
#: indexing (``res[i]`` for ``*(res++)``, 2-D weight views) and a Resource fallback differ.
BACKENDS = ("Vivado", "Vitis")

# Above this many digits w * 10^F is no longer exact in float64 for float32 data (5^12 < 2^28).
_FAST_MAX_DIGITS = 12


@dataclass(frozen=True)
class Graph:
    """hls4ml's graph as plain data: nodes in execution order, model inputs and outputs."""

    nodes: list[Node]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    backend: str = "Vivado"
    io_type: str = "io_parallel"

    def node(self, name: str) -> Node:
        """The node called ``name``."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)


def fixed_from_hls4ml(precision: Any, where: str = "") -> FixedType:
    """The `FixedType` of an hls4ml precision (FixedPrecisionType, IntegerPrecisionType).

    Rounding, saturation and saturation bits are kept. ``ap_int``/``ap_uint`` become
    `FixedType.integer_type` (C conversion: toward zero, modulo 2^W). Anything else (binary,
    exponent or floating-point types) raises `UnsupportedLayerError` naming the type and
    ``where`` it was found.
    """
    from hls4ml.model.types import (
        ExponentPrecisionType,
        FixedPrecisionType,
        IntegerPrecisionType,
        XnorPrecisionType,
    )

    # Xnor and Exponent types subclass IntegerPrecisionType-like bases; reject them first.
    if isinstance(precision, (XnorPrecisionType, ExponentPrecisionType)) or not isinstance(
        precision, (FixedPrecisionType, IntegerPrecisionType)
    ):
        place = f" in {where}" if where else ""
        raise UnsupportedLayerError(
            f"precision {precision} ({type(precision).__name__}){place} is not supported by the "
            "emulator; supported: ap_fixed, ap_ufixed, ap_int, ap_uint. Give that layer a "
            "fixed-point precision in the config"
        )
    if isinstance(precision, IntegerPrecisionType):
        return FixedType.integer_type(int(precision.width), bool(precision.signed))
    return FixedType(
        int(precision.width),
        int(precision.integer),
        bool(precision.signed),
        Rounding[precision.rounding_mode.name],
        Overflow[precision.saturation_mode.name],
        int(precision.saturation_bits or 0),
    )


def decimal_text_values(data: np.ndarray, digits: int) -> np.ndarray:
    """``float(f"{w:.{digits}f}")`` for every ``w`` of ``data``, as float64.

    This is what the C simulation reads back from hls4ml's weight text. For float32 (or
    narrower) data and up to 12 digits it is computed without text: ``w * 10^digits`` is exact
    in float64 (24 + 28 bits), ``rint`` rounds half to even exactly as the formatter rounds the
    exact binary value, and dividing two exact doubles is correctly rounded like ``float(text)``.
    Otherwise every value is formatted and parsed.
    """
    a = np.asarray(data)
    if digits < 0:
        raise ValueError(f"digits must be >= 0; got {digits}")
    if a.dtype.kind == "f" and a.dtype.itemsize <= 4 and digits <= _FAST_MAX_DIGITS:
        scale = 10.0**digits
        k = np.rint(a.astype(np.float64) * scale)
        # k must be an exact integer of float64 for the division to be correctly rounded
        if not k.size or float(np.max(np.abs(k))) < 2.0**53:
            return k / scale
    fmt = f"{{:.{digits}f}}"
    flat = [float(fmt.format(v)) for v in a.ravel().tolist()]
    return np.asarray(flat, dtype=np.float64).reshape(a.shape)


def _written_value(var: Any, t: FixedType) -> np.ndarray:
    """Exact value of a weight constant in the C simulation (text, then the type's cast)."""
    from hls4ml.model.types import FixedPrecisionType

    precision = var.type.precision
    digits = max(0, int(precision.fractional)) if isinstance(precision, FixedPrecisionType) else 0
    return t.quantize(decimal_text_values(np.asarray(var.data), digits))


def _plain(value: Any) -> Any:
    """A plain Python/NumPy value, or None for hls4ml objects the emulator does not read."""
    if isinstance(value, (str, bool, int, float, type(None))):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (list, tuple)):
        items = [_plain(v) for v in value]
        return (
            None
            if any(i is None and v is not None for i, v in zip(items, value, strict=True))
            else items
        )
    if isinstance(value, Mapping):
        items = {k: _plain(v) for k, v in value.items()}
        return None if any(items[k] is None and value[k] is not None for k in items) else items
    return None


def _attributes(layer: Any) -> dict[str, Any]:
    from hls4ml.model.types import NamedType, Source, TensorVariable, WeightVariable

    attrs: dict[str, Any] = {}
    for key, value in layer.attributes.items():
        if isinstance(value, (NamedType, TensorVariable, WeightVariable, Source)):
            continue
        plain = _plain(value)
        if plain is not None or value is None:
            attrs[key] = plain
    return attrs


def _product_type(layer: Any) -> str | None:
    """The ``nnet::product`` class hls4ml picks for the layer's multiplications, if any."""
    from hls4ml.backends import get_backend

    key = "weight" if "weight" in layer.weights else "scale" if "scale" in layer.weights else None
    if key is None or not layer.inputs:
        return None
    try:
        data_t = layer.get_input_variable().type.precision
        return get_backend("vivado").product_type(data_t, layer.weights[key].type.precision)
    except AssertionError:  # exponent-typed data: hls4ml itself refuses it
        return None


def _node(layer: Any) -> Node:
    types = {
        key: fixed_from_hls4ml(t.precision, f"{layer.name}.{key}") for key, t in layer.types.items()
    }
    weights: dict[str, np.ndarray] = {}
    raw: dict[str, np.ndarray] = {}
    for key, var in layer.weights.items():
        # the backend wraps weights (StaticWeightVariable); hls4ml keeps the original class name
        if getattr(var, "weight_class", type(var).__name__) != "WeightVariable":
            raise UnsupportedLayerError(
                f"layer {layer.name!r} of class {layer.class_name} stores {key!r} as a "
                f"{type(var).__name__} (compressed or "
                "exponent weights); the emulator supports plain weights only: drop the "
                "compression/exponent setting for that layer"
            )
        t = fixed_from_hls4ml(var.type.precision, f"{layer.name}.{key} ({var.type.name})")
        raw[key] = np.asarray(var.data)
        weights[key] = _written_value(var, t)
    attrs = _attributes(layer)
    attrs["product_type"] = _product_type(layer)
    kind = layer.class_name
    inputs = () if kind == "Input" else tuple(layer.inputs)
    input_types = tuple(
        fixed_from_hls4ml(layer.get_input_variable(i).type.precision, f"input {i} of {layer.name}")
        for i in inputs
    )
    return Node(
        name=layer.name,
        kind=kind,
        inputs=inputs,
        output_shape=tuple(int(s) for s in layer.get_output_variable().shape),
        attrs=attrs,
        weights=weights,
        raw_weights=raw,
        types=types,
        input_types=input_types,
    )


def backend_name(backend: str) -> str:
    """hls4ml's spelling of a supported backend name (any case); `ConfigError` otherwise."""
    for name in BACKENDS:
        if str(backend).lower() == name.lower():
            return name
    raise ConfigError(
        f"backend {backend!r} is not emulated; expected one of {', '.join(BACKENDS)} (hls4ml's "
        "names): convert for one of them"
    )


def _target(hls_config: Any, backend: str | None, io_type: str | None) -> tuple[str, str]:
    """hls4ml's spelling of the backend and io type: as given, else a project file's ``Backend``
    and ``IOType`` (``hls_config`` given as a whole project), else Vivado and io_parallel."""
    from emulation.config import project_settings
    from emulation.hls_model_graph import io_type_name

    project = project_settings(hls_config) if backend is None or io_type is None else {}
    backend = backend if backend is not None else project.get("Backend", "Vivado")
    io_type = io_type if io_type is not None else project.get("IOType", "io_parallel")
    return backend_name(str(backend)), io_type_name(str(io_type))


def _read_hls_config(hls_config: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    from emulation.config import read_config

    return read_config(hls_config)


def _keras_parent(layer: Any) -> str | None:
    """Name of the Keras layer feeding ``layer`` (single input), or None."""
    try:
        history = layer.input._keras_history
        return history.operation.name
    except (AttributeError, ValueError, IndexError):
        return None


def _mark_fused_batchnorm(model: Any, nodes: list[Node]) -> list[Node]:
    """Record on each Dense/Conv node the Keras BatchNormalization layers hls4ml folded into it."""
    names = {n.name for n in nodes}
    fused: dict[str, list[str]] = {}
    for layer in getattr(model, "layers", []):
        if type(layer).__name__ != "BatchNormalization" or layer.name in names:
            continue
        parent = _keras_parent(layer)
        if parent in names:
            fused.setdefault(parent, []).append(layer.name)
    return [
        dataclasses.replace(n, attrs={**n.attrs, "fused_batchnorm": tuple(fused.get(n.name, ()))})
        for n in nodes
    ]


def convert(
    model: Any,
    hls_config: Mapping[str, Any] | str | os.PathLike[str],
    *,
    output_dir: str | os.PathLike[str] | None = None,
    backend: str | None = None,
    io_type: str | None = None,
) -> Any:
    """hls4ml's ModelGraph of ``model`` for ``backend`` and ``io_type``, compiled nowhere.

    Without ``output_dir`` nothing is written either (hls4ml only needs a path to write to
    later). What hls4ml prints goes through `quiet_hls4ml`: its printed warnings (an invalid
    ReuseFactor it replaced, ...) become Python warnings, its notes are dropped; its conversion
    failures become `ConfigError` or `UnsupportedLayerError`.
    """
    import hls4ml

    backend, io_type = _target(hls_config, backend, io_type)
    config = copy.deepcopy(_read_hls_config(hls_config))
    refuse_unsupported(model, config, io_type)
    if output_dir is None:
        output_dir = Path(tempfile.gettempdir()) / f"aptune-unwritten-{uuid.uuid4().hex}"
    try:
        with quiet_hls4ml():
            hls_model = hls4ml.converters.convert_from_keras_model(
                model,
                hls_config=config,
                backend=backend,
                io_type=io_type,
                output_dir=str(output_dir),
            )
    except UnsupportedLayerError:
        raise
    except Exception as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        if "nsupported" in message:
            raise UnsupportedLayerError(
                f"hls4ml cannot convert this model: {message}; replace or remove that layer"
            ) from exc
        raise ConfigError(
            f"hls4ml could not convert the model with this config: {message}"
        ) from exc
    return hls_model


def build_graph(
    model: Any,
    hls_config: Mapping[str, Any] | str | os.PathLike[str],
    *,
    backend: str | None = None,
    io_type: str | None = None,
) -> Graph:
    """hls4ml's graph of a Keras model under an hls4ml config, as plain `Node`s.

    Parameters
    ----------
    model : keras.Model
    hls_config : the ``HLSConfig`` dict (``Model`` / ``LayerType`` / ``LayerName``), a YAML
        file holding it, or a whole hls4ml project file (read by `emulation.config.read_config`).
    backend : ``"Vivado"`` or ``"Vitis"`` (any case), as hls4ml names them; None: a project
        file's ``Backend``, else Vivado.
    io_type : ``"io_parallel"`` or ``"io_stream"``; None: a project file's ``IOType``, else
        io_parallel.

    Returns
    -------
    Graph
        Nodes in execution order (the order of the generated C++), model input and output names.
    """
    backend, io_type = _target(hls_config, backend, io_type)
    hls_model = convert(model, hls_config, backend=backend, io_type=io_type)
    if hls_model.config.get_config_value("IOType") == "io_stream":
        from emulation.hls_model_graph import graph_from_hls_model

        graph = graph_from_hls_model(hls_model)
        return dataclasses.replace(graph, nodes=_mark_fused_batchnorm(model, graph.nodes))
    nodes = [_node(layer) for layer in hls_model.get_layers()]
    nodes = _mark_fused_batchnorm(model, nodes)
    return Graph(
        nodes=nodes,
        inputs=tuple(hls_model.inputs),
        outputs=tuple(hls_model.outputs),
        backend=backend_name(backend),
    )
