"""Readers of hls4ml's objects: one layer as a plain `Node`, its precisions as `FixedType`s.

Shared by the two ways into a `Graph` (`emulation.graph.build_graph` from a Keras model,
`emulation.hls_model_graph.graph_from_hls_model` from a ModelGraph the user holds). The weight
values follow the C simulation: hls4ml writes each weight as decimal text with F = max(0, W - I)
digits after the point and the C++ reads that text back into the type (`decimal_text_values`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from emulation.errors import ConfigError, UnsupportedLayerError
from emulation.fixed import FLOAT_EXACT_WIDTH, FixedType, Overflow, Rounding
from emulation.layers.base import Node
from emulation.unsupported import COMPRESSED_DENSE

__all__ = [
    "BACKENDS",
    "backend_name",
    "decimal_text_values",
    "fixed_from_hls4ml",
    "node_from_layer",
]

#: hls4ml backends the emulator reproduces. For io_parallel, Vitis runs Vivado's optimizer
#: passes (plus checks that only warn or act on io_stream / RNNs) and overrides the conv and
#: pooling headers (``templates/vitis/nnet_utils``) with the same arithmetic: only pragmas,
#: indexing (``res[i]`` for ``*(res++)``, 2-D weight views) and a Resource fallback differ.
BACKENDS = ("Vivado", "Vitis")

# Above this many digits w * 10^F is no longer exact in float64 for float32 data (5^12 < 2^28).
_FAST_MAX_DIGITS = 12


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
        if not k.size or float(np.max(np.abs(k))) < 2.0**FLOAT_EXACT_WIDTH:
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


def node_from_layer(layer: Any) -> Node:
    """The plain `Node` of one hls4ml layer, its types and weights as the C++ holds them."""
    types = {
        key: fixed_from_hls4ml(t.precision, f"{layer.name}.{key}") for key, t in layer.types.items()
    }
    weights: dict[str, np.ndarray] = {}
    raw: dict[str, np.ndarray] = {}
    for key, var in layer.weights.items():
        # the backend wraps weights (StaticWeightVariable); hls4ml keeps the original class name
        weight_class = getattr(var, "weight_class", type(var).__name__)
        if weight_class == "CompressedWeightVariable" and layer.class_name == "Dense":
            raise UnsupportedLayerError(
                f"layer {layer.name!r} of class Dense stores {key!r} as a {weight_class} "
                f"(Compression: True): {COMPRESSED_DENSE}"
            )
        if weight_class != "WeightVariable":
            raise UnsupportedLayerError(
                f"layer {layer.name!r} of class {layer.class_name} stores {key!r} as a "
                f"{weight_class} (compressed or exponent weights); the emulator supports plain "
                "weights only: drop the Compression setting or the power-of-2 quantizer for "
                "that layer"
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
