"""An hls4ml `ModelGraph` the user already holds, as the emulator's plain `Graph`.

`emulation.graph.build_graph` converts a Keras model itself; this reads a ModelGraph made by
any frontend (Keras, PyTorch, ONNX, QONNX) and possibly edited after its conversion (a layer's
precision, reuse factor or strategy set on the graph), exactly as it stands: the generated C++
is written from this same object, so what it holds is what the C simulation computes.

Four things are read differently from a fresh conversion:

- a type's precision is the one the writer gives its *name*: one typedef per name, the first
  met in layer order, so an edit to one ``model_default_t`` of many changes nothing in the C++;
- a weight's decimal text follows the variable's own format (``precision_fmt``), which hls4ml
  updates only through ``update_precision``: a precision assigned directly to ``var.type`` keeps
  the old number of digits in the text, then is cast to the new type;
- in io_stream every node records ``stream_pack`` and ``stream_out_pack``, the (n_elem, n_pack)
  of its input and output streams (a flatten stays in place, so a layer after it reads its
  input's packs);
- io_stream inserts ``Clone`` layers (one output read by several layers) whose outputs are
  named ``<output>_cpy<i>``; every such name is mapped back to the Clone node, an identity.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np

from emulation.errors import ConfigError, UnsupportedLayerError
from emulation.hls_nodes import (
    backend_name,
    decimal_text_values,
    fixed_from_hls4ml,
    node_from_layer,
)
from emulation.layers.base import Graph, Node
from emulation.stream import stream_graph
from emulation.unsupported import NOT_EMULATED

__all__ = ["IO_TYPES", "graph_from_hls_model", "io_type_name"]

#: hls4ml's io types the emulator reproduces.
IO_TYPES = ("io_parallel", "io_stream")

_DIGITS = re.compile(r"\{:\.(\d+)f\}")
_DA = ("distributedarithmetic", "da")


def io_type_name(io_type: str) -> str:
    """hls4ml's spelling of a supported io type (any case); `ConfigError` otherwise."""
    for name in IO_TYPES:
        if str(io_type).lower() == name:
            return name
    raise ConfigError(
        f"io_type {io_type!r} is not emulated; expected one of {', '.join(IO_TYPES)} "
        "(hls4ml's names)"
    )


def _text_digits(var: Any) -> int | None:
    """Digits after the point of the weight's C++ text, from its own format."""
    match = _DIGITS.fullmatch(str(getattr(var, "precision_fmt", "")))
    return int(match.group(1)) if match else None


def _pack(t: Any) -> tuple[int, int] | None:
    """(n_elem, n_pack) of a stream's packed type: the values one stream element carries."""
    n_elem = getattr(t, "n_elem", None)
    return None if n_elem is None else (int(n_elem), int(getattr(t, "n_pack", 1)))


def _refuse(layer: Any) -> None:
    """Refuse, naming the layer, what `emulation.unsupported` refuses before a conversion."""
    cls = layer.class_name
    if cls in NOT_EMULATED:
        raise UnsupportedLayerError(
            f"layer {layer.name!r} of class {cls} is not supported: {NOT_EMULATED[cls]}"
        )
    strategy = str(layer.get_attr("strategy", "") or "")
    if strategy.lower().replace("_", "") in _DA:
        raise UnsupportedLayerError(
            f"layer {layer.name!r} of class {cls} uses strategy {strategy!r} (distributed "
            "arithmetic), which the emulator does not reproduce; use Strategy: Latency (or "
            "Resource) for it"
        )


def _written_precisions(layers: list[Any]) -> dict[str, Any]:
    """The precision the C++ gives each type name: the writer emits one typedef per name, the
    first it meets in layer order (``write_defines``), so an edit to a later type of a shared
    name (``model_default_t``) does not reach the C++."""
    first: dict[str, Any] = {}
    for layer in layers:
        for t in layer.types.values():
            first.setdefault(t.name, t.precision)
    return first


def _layer_node(layer: Any, written: dict[str, Any]) -> Node:
    _refuse(layer)
    node = node_from_layer(layer)

    def fixed(t: Any, where: str) -> Any:
        return fixed_from_hls4ml(written.get(t.name, t.precision), f"{layer.name}.{where}")

    types = {key: fixed(t, key) for key, t in layer.types.items()}
    input_types = tuple(fixed(layer.get_input_variable(i).type, f"input {i}") for i in node.inputs)
    weights = dict(node.weights)
    for key, var in layer.weights.items():
        digits = _text_digits(var)
        if digits is not None:
            t = fixed(var.type, key)
            weights[key] = t.quantize(decimal_text_values(np.asarray(var.data), digits))
    attrs = {**node.attrs, "fused_batchnorm": ()}
    return dataclasses.replace(
        node, types=types, input_types=input_types, weights=weights, attrs=attrs
    )


def graph_from_hls_model(hls_model: Any) -> Graph:
    """The plain `Graph` of an hls4ml ``ModelGraph`` (Vivado or Vitis, io_parallel or
    io_stream), read as it stands; `UnsupportedLayerError` for a layer the emulator refuses."""
    backend = backend_name(getattr(hls_model.config.backend, "name", hls_model.config.backend))
    io_type = io_type_name(hls_model.config.get_config_value("IOType", "io_parallel"))
    layers = list(hls_model.get_layers())
    alias: dict[str, str] = {}  # output variable name -> node name
    for layer in layers:
        for out in layer.outputs:
            alias[out] = layer.name
    written = _written_precisions(layers)
    nodes = []
    for layer in layers:
        node = _layer_node(layer, written)
        inputs = tuple(alias.get(i, i) for i in node.inputs)
        attrs = node.attrs
        if io_type == "io_stream" and node.inputs:
            packs = {
                "stream_pack": _pack(layer.get_input_variable().type),
                "stream_out_pack": _pack(layer.get_output_variable().type),
            }
            attrs = {**attrs, **packs}
        nodes.append(dataclasses.replace(node, inputs=inputs, attrs=attrs))
    graph = Graph(
        nodes=nodes,
        inputs=tuple(alias.get(i, i) for i in hls_model.inputs),
        outputs=tuple(alias.get(o, o) for o in hls_model.outputs),
        backend=backend,
        io_type=io_type,
    )
    return stream_graph(graph) if io_type == "io_stream" else graph
