"""The contract between the graph, the layer functions and the model.

`emulation.graph` turns hls4ml's ModelGraph into an ordered list of `Node`s. Each layer module
registers, per hls4ml layer class, one adapter ``(node, inputs, ctx) -> output`` that reads the
node's attributes and calls the module's pure NumPy function. `emulation.model` runs the nodes
in order through `ADAPTERS`.

Values travel between layers as float64 arrays of shape ``(batch, *node.output_shape)`` holding
exact fixed-point values (every type of width <= 53 is exact in float64).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FixedType

__all__ = [
    "ADAPTERS",
    "Context",
    "Graph",
    "Node",
    "QuantPoint",
    "adapter_for",
    "input_type",
    "node_type",
    "register",
]


@dataclass(frozen=True)
class Node:
    """One layer of hls4ml's ModelGraph, as plain data.

    Attributes
    ----------
    name : hls4ml's layer name; also the key of `EmulatedModel.trace`.
    kind : hls4ml's layer class name (``"Dense"``, ``"Activation"``, ``"Softmax"``, ...).
    inputs : names of the nodes whose outputs feed this one, in hls4ml's order.
    output_shape : per-sample shape of the output, as hls4ml has it.
    attrs : hls4ml's layer attributes as plain values (``n_in``, ``activation``,
        ``table_size``, ``strategy``, ``reuse_factor``, ``implementation``, ...), hls4ml's names.
    weights : exact float64 values of the C++ constants (after hls4ml's decimal text and the
        weight type's own cast), keyed by hls4ml's variable name (``"weight"``, ``"bias"``, ...).
    raw_weights : the float values hls4ml holds before writing them (for profiling).
    types : every precision the generated C++ uses for this layer, keyed by hls4ml's type name
        (``"result_t"``, ``"accum_t"``, ``"weight_t"``, ``"bias_t"``, ``"table_t"``, ...).
    input_types : the result types of the nodes in ``inputs``, in the same order (the C++
        template's ``data_T``); empty for the model's input layers.
    """

    name: str
    kind: str
    inputs: tuple[str, ...]
    output_shape: tuple[int, ...]
    attrs: Mapping[str, Any] = field(default_factory=dict)
    weights: Mapping[str, np.ndarray] = field(default_factory=dict)
    raw_weights: Mapping[str, np.ndarray] = field(default_factory=dict)
    types: Mapping[str, FixedType] = field(default_factory=dict)
    input_types: tuple[FixedType, ...] = ()


@dataclass(frozen=True)
class Graph:
    """hls4ml's graph as plain data: nodes in execution order, model inputs and outputs.

    Built by `emulation.graph.build_graph` (from Keras) or
    `emulation.hls_model_graph.graph_from_hls_model` (from a ModelGraph).
    """

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


@dataclass
class QuantPoint:
    """Overflow accounting of one cast point (``"<layer>.<type name>"``)."""

    count: int = 0
    total: int = 0
    max_abs: float = 0.0

    @property
    def share(self) -> float:
        """Share of the values cast here that overflowed (wrapped or saturated)."""
        return self.count / self.total if self.total else 0.0

    def to_dict(self) -> dict[str, float | int]:
        """Plain, JSON-serialisable form: count, total, share and max_abs."""
        return {
            "count": self.count,
            "total": self.total,
            "share": self.share,
            "max_abs": self.max_abs,
        }


@dataclass
class Context:
    """What an adapter needs besides its inputs: the cast that also counts overflows."""

    points: dict[str, QuantPoint] = field(default_factory=dict)

    def cast(
        self,
        x: np.ndarray,
        t: FixedType,
        point: str,
        *,
        from_double: bool = False,
        source: FixedType | None = None,
    ) -> np.ndarray:
        """Quantize ``x`` to ``t`` and record overflows under ``point``.

        ``from_double``: ``x`` is C++ ``double`` data (the model inputs), not a fixed-point
        value; it matters for ``ap_int`` targets (see `FixedType.quantize`). ``source``: the
        type whose exact values ``x`` holds, when known; if ``t`` holds all of them the cast is
        the identity (no pass over the values but the largest |x|).
        """
        top = max(float(x.max()), -float(x.min())) if x.size else 0.0
        if source is not None and not from_double and t.holds(source):
            self.count(point, 0, x.size, top)
            return x
        y, overflow = t.quantize(x, return_overflow=True, from_double=from_double)
        self.record(point, overflow, top)
        return y

    def count(self, point: str, overflowed: int, total: int, max_abs: float) -> None:
        """Add ``overflowed`` of ``total`` casts and the largest |value| under ``point``."""
        p = self.points.setdefault(point, QuantPoint())
        p.count += overflowed
        p.total += total
        p.max_abs = max(p.max_abs, max_abs)

    def record(self, point: str, overflow: np.ndarray, max_abs: float) -> None:
        """Count the casts of ``overflow`` (a bool mask) and the largest |value| under ``point``.

        For adapters that cast integer mantissas (`FixedType.requantize_raw`) themselves.
        """
        self.count(point, int(np.count_nonzero(overflow)), int(np.size(overflow)), max_abs)


Adapter = Callable[[Node, list[np.ndarray], Context], np.ndarray]
ADAPTERS: dict[str, Adapter] = {}


def register(*kinds: str) -> Callable[[Adapter], Adapter]:
    """Register an adapter for one or more hls4ml layer classes."""

    def deco(fn: Adapter) -> Adapter:
        for kind in kinds:
            if kind in ADAPTERS:
                raise RuntimeError(f"two adapters registered for {kind!r}")
            ADAPTERS[kind] = fn
        return fn

    return deco


def adapter_for(node: Node) -> Adapter:
    """The adapter for ``node``, or an error naming the layer and the supported kinds."""
    try:
        return ADAPTERS[node.kind]
    except KeyError:
        supported = ", ".join(sorted(ADAPTERS))
        raise UnsupportedLayerError(
            f"layer {node.name!r} of class {node.kind} is not supported by the emulator; "
            f"supported: {supported}"
        ) from None


def node_type(node: Node, key: str) -> FixedType:
    """The layer's type ``key`` (``result_t``...), or an error naming the types it has."""
    try:
        return node.types[key]
    except KeyError:
        raise UnsupportedLayerError(
            f"layer {node.name!r} ({node.kind}) has no {key}; the emulator needs hls4ml's "
            f"types of this layer, got {', '.join(sorted(node.types)) or 'none'}"
        ) from None


def input_type(node: Node) -> FixedType:
    """The type of the layer's (first) input: ``data_T`` of the C++ call."""
    if not node.input_types:
        raise UnsupportedLayerError(
            f"layer {node.name!r} ({node.kind}) does not carry the type of its input, which its "
            "C++ template depends on; build nodes with emulation.graph"
        )
    return node.input_types[0]
