"""LSTM, GRU and Bidirectional of hls4ml 1.3's Vivado/Vitis templates (``nnet_recurrent.h``).

hls4ml runs ``lstm_static`` / ``gru_static`` once per time step (``lstm_stack``, ``gru_stack``;
io_stream reads one step per stream element and computes the same); ``static: false`` runs
``nnet::lstm`` / ``nnet::gru`` instead, the same arithmetic on the caller's state arrays (zero
at the first step too). The state ``h`` (and the LSTM cell ``s``) is held in the layer's
``result_t``, zero at the first step; every temporary is ``accum_t``; each assignment below is
one cast, the arithmetic before it exact:

- ``tmpres = nnet::dense(x_t)`` with ``weight_t``, ``bias_t``, and ``tmpres_state =
  nnet::dense(h)`` with ``recurrent_weight_t``, ``recurrent_bias_t`` (Keras: zeros for an LSTM),
  both accumulating in ``accum_t`` and returning ``accum_t`` (`emulation.layers.dense.dense`:
  Latency in input order, Resource and ResourceUnrolled (hls4ml's generated copy of the
  Resource loops) in its strided order with ``reuse_factor`` and ``recurrent_reuse_factor``);
- LSTM (Keras gate order i, f, c, o; hls4ml 1.3 compiles a plain LSTM only when its input
  type, accum_t and result_t are one type: ``lstm_stack`` instantiates the non-static
  ``nnet::lstm`` too, which passes accum_t and result_t arrays for each other): ``pre =
  tmpres + tmpres_state`` to accum_t; ``i, f, o = recurrent_activation(pre)`` and ``g =
  activation(pre_c)`` to accum_t; ``s = g*i + s*f`` to result_t; ``h = o * activation(s)``
  (the activation of a result_t value, to accum_t), to result_t;
- GRU (Keras order z, r, h; ``reset_after=True``): ``pre_zr = tmpres + tmpres_state`` to accum_t;
  ``z, r = recurrent_activation(pre_zr)``; ``rh = r * tmpres_state_h`` to accum_t; ``pre_h =
  tmpres_h + rh`` to accum_t; ``hh = activation(pre_h)``; ``h = hh * (1 - z) + h * z`` to
  result_t.

The activations are ``nnet::activation::{sigmoid, tanh, relu}`` (the only ones
``nnet_recr_activations.h`` defines): sigmoid and tanh read the layer's one ``table_t`` table of
``table_size`` entries (`emulation.layers.activation.table_activation`), the value then cast to
accum_t. A Bidirectional layer runs a forward and a backward layer of its own weights (sharing
``accum_t``, ``result_t`` and the table) and concatenates their states, the backward one
reversed back in time with ``return_sequences``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FLOAT_EXACT_WIDTH, INT64_BITS, FixedType
from emulation.layers.activation import table_activation
from emulation.layers.base import Context, Node, input_type, node_type, register
from emulation.layers.dense import SUM_STRATEGIES, dense, dense_sum_order
from emulation.layers.exact import Caster

__all__ = [
    "RECURRENT_ACTIVATIONS",
    "RecurrentCell",
    "gru_sequence",
    "lstm_sequence",
    "refuse_keras_recurrent",
]

#: Activations ``nnet_recr_activations.h`` defines; any other does not compile in hls4ml 1.3.
RECURRENT_ACTIVATIONS = ("sigmoid", "tanh", "relu")


@dataclass(frozen=True)
class RecurrentCell:
    """Weights (as the C++ constants hold them, Keras layout ``(n_in, gates * n)``) and types
    of one LSTM or GRU."""

    weight: np.ndarray
    recurrent_weight: np.ndarray
    bias: np.ndarray
    recurrent_bias: np.ndarray
    x_t: FixedType
    weight_t: FixedType
    recurrent_weight_t: FixedType
    bias_t: FixedType
    recurrent_bias_t: FixedType
    accum_t: FixedType
    result_t: FixedType
    table_t: FixedType
    table_size: int
    activation: str
    recurrent_activation: str
    order: np.ndarray | None = None
    recurrent_order: np.ndarray | None = None


def _raw(v: np.ndarray, t: FixedType) -> np.ndarray:
    """Mantissas of exact values of ``t`` (at most 53 bits): int64."""
    return np.ldexp(v, t.fractional).astype(np.int64)


def _sum_of_products(terms: list[tuple[np.ndarray, int, int]], bits: int) -> tuple[np.ndarray, int]:
    """The exact sum of products given as (mantissas, F, width bound): (mantissas, F), in int64
    when ``bits`` (the bound of every product's width) leaves room, else in Python ints."""
    f = max(t[1] for t in terms)
    wide = bits + f - min(t[1] for t in terms) + len(terms) > INT64_BITS
    total = None
    for m, frac, _ in terms:
        m = m.astype(object) if wide else m
        part = m * (1 << (f - frac))
        total = part if total is None else total + part
    return total, f


def _product(a: np.ndarray, a_t: FixedType, b: np.ndarray, b_t: FixedType) -> tuple:
    """``a * b`` of two exact fixed-point arrays as (mantissas, F, width)."""
    wide = a_t.width + b_t.width > INT64_BITS - 2
    ma, mb = _raw(a, a_t), _raw(b, b_t)
    if wide:
        ma, mb = ma.astype(object), mb.astype(object)
    return ma * mb, a_t.fractional + b_t.fractional, a_t.width + b_t.width


def _cast_products(terms: list[tuple], t: FixedType, cast: Caster, name: str) -> np.ndarray:
    bits = max(term[2] for term in terms)
    m, f = _sum_of_products(terms, bits)
    return cast.raw(m, f, t, name)


def _activate(function: str, x: np.ndarray, data_t: FixedType, cell: RecurrentCell, cast: Caster):
    """``nnet::activation::<function><data_T, accum_t>``: the table value (or relu) to accum_t."""
    if function == "relu":
        return cast(np.maximum(x, 0.0), cell.accum_t, "accum_t")
    table = table_activation(
        x,
        function,
        data_t=data_t,
        table_t=cell.table_t,
        table_size=cell.table_size,
        result_t=cell.table_t,  # the table's own values; the C++ casts them to accum_t
        cast=Caster(),
    )
    return cast(table, cell.accum_t, "accum_t")


def _dense(x, w, b, x_t, w_t, b_t, cell, order, scratch: Context) -> np.ndarray:
    return dense(
        x,
        w,
        b,
        x_t=x_t,
        w_t=w_t,
        b_t=b_t,
        accum_t=cell.accum_t,
        result_t=cell.accum_t,
        order=order,
        ctx=scratch,
        point="dense",
    )


def _step_products(x, h, cell: RecurrentCell, scratch: Context) -> tuple[np.ndarray, np.ndarray]:
    """``tmpres`` (input kernel) and ``tmpres_state`` (recurrent kernel) of one step."""
    tmpres = _dense(
        x, cell.weight, cell.bias, cell.x_t, cell.weight_t, cell.bias_t, cell, cell.order, scratch
    )
    w_r, b_r = cell.recurrent_weight, cell.recurrent_bias
    wr_t, br_t = cell.recurrent_weight_t, cell.recurrent_bias_t
    tmpres_state = _dense(
        h, w_r, b_r, cell.result_t, wr_t, br_t, cell, cell.recurrent_order, scratch
    )
    return tmpres, tmpres_state


def lstm_sequence(x: np.ndarray, cell: RecurrentCell, cast: Caster, scratch: Context) -> np.ndarray:
    """``lstm_stack`` over ``x`` ``(batch, seq, n_in)``: the state h of every step
    ``(batch, seq, n)``, values of result_t."""
    n = cell.recurrent_weight.shape[0]
    a_t, r_t = cell.accum_t, cell.result_t
    h = np.zeros((x.shape[0], n))
    s = np.zeros((x.shape[0], n))
    out = np.empty((x.shape[0], x.shape[1], n))
    for step in range(x.shape[1]):
        tmpres, tmpres_state = _step_products(x[:, step], h, cell, scratch)
        pre = cast(tmpres + tmpres_state, a_t, "accum_t")
        ifo = np.concatenate([pre[:, : 2 * n], pre[:, 3 * n :]], axis=1)
        ifo = _activate(cell.recurrent_activation, ifo, a_t, cell, cast)
        g = _activate(cell.activation, pre[:, 2 * n : 3 * n], a_t, cell, cast)
        i, f, o = ifo[:, :n], ifo[:, n : 2 * n], ifo[:, 2 * n :]
        terms = [_product(g, a_t, i, a_t), _product(s, r_t, f, a_t)]
        s = _cast_products(terms, r_t, cast, "result_t")
        s_act = _activate(cell.activation, s, r_t, cell, cast)
        h = _cast_products([_product(o, a_t, s_act, a_t)], r_t, cast, "result_t")
        out[:, step] = h
    return out


def _one_minus(z: np.ndarray, z_t: FixedType) -> tuple[np.ndarray, int, int]:
    """``1 - z`` (``int - ap_fixed``: exact) as (mantissas, F, width)."""
    f = max(0, z_t.fractional)
    m = (1 << f) - _raw(z, z_t) * (1 << (f - z_t.fractional))
    return m, f, max(z_t.width, z_t.integer + f, 32 + f) + 1


def gru_sequence(x: np.ndarray, cell: RecurrentCell, cast: Caster, scratch: Context) -> np.ndarray:
    """``gru_stack`` (reset_after, Keras order) over ``x`` ``(batch, seq, n_in)``: the state h
    of every step ``(batch, seq, n)``, values of result_t."""
    n = cell.recurrent_weight.shape[0]
    a_t, r_t = cell.accum_t, cell.result_t
    h = np.zeros((x.shape[0], n))
    out = np.empty((x.shape[0], x.shape[1], n))
    for step in range(x.shape[1]):
        tmpres, tmpres_state = _step_products(x[:, step], h, cell, scratch)
        pre_zr = cast(tmpres[:, : 2 * n] + tmpres_state[:, : 2 * n], a_t, "accum_t")
        zr = _activate(cell.recurrent_activation, pre_zr, a_t, cell, cast)
        z, r = zr[:, :n], zr[:, n:]
        rh = _cast_products([_product(r, a_t, tmpres_state[:, 2 * n :], a_t)], a_t, cast, "accum_t")
        pre_h = cast(tmpres[:, 2 * n :] + rh, a_t, "accum_t")
        hh = _activate(cell.activation, pre_h, a_t, cell, cast)
        m1, f1, w1 = _one_minus(z, a_t)
        mh = _raw(hh, a_t)
        if a_t.width + w1 > INT64_BITS - 2:
            mh, m1 = mh.astype(object), m1.astype(object)
        mixed = (mh * m1, a_t.fractional + f1, a_t.width + w1)
        h = _cast_products([mixed, _product(h, r_t, z, a_t)], r_t, cast, "result_t")
        out[:, step] = h
    return out


_SEQUENCES = {"LSTM": lstm_sequence, "GRU": gru_sequence}


def refuse_keras_recurrent(model: Any) -> None:
    """Refuse, before hls4ml converts ``model``, the recurrent Keras layers hls4ml 1.3 converts
    wrongly or not at all, naming the layer, its class and what to use instead."""
    for layer in getattr(model, "layers", []):
        cls = type(layer).__name__
        inner = getattr(layer, "forward_layer", layer) if cls == "Bidirectional" else layer
        inner_cls = type(inner).__name__
        where = f"layer {layer.name!r} of class {cls}" + (
            f"({inner_cls})" if inner is not layer else ""
        )
        if cls == "Bidirectional" and inner_cls == "GRU":
            raise UnsupportedLayerError(
                f"{where} is not supported: hls4ml 1.3's Keras 3 converter cannot read a "
                "bidirectional GRU (it fails with \"'NoneType' object has no attribute "
                "'shape'\"); use Bidirectional(LSTM) or a GRU"
            )
        if inner_cls == "GRU" and not getattr(inner, "reset_after", True):
            raise UnsupportedLayerError(
                f"{where} uses reset_after=False, which hls4ml 1.3 converts but does not "
                "implement (nnet::gru always applies the reset gate after the recurrent product)"
                "; use reset_after=True (Keras 3's default)"
            )
        if inner_cls in _SEQUENCES:
            for role in ("activation", "recurrent_activation"):
                act = getattr(getattr(inner, role, None), "__name__", "")
                if act and act not in RECURRENT_ACTIVATIONS:
                    raise UnsupportedLayerError(
                        f"{where} uses {role}={act!r}: hls4ml 1.3's nnet_recr_activations.h "
                        f"defines only {', '.join(RECURRENT_ACTIVATIONS)}, so its C++ does not "
                        "compile; use one of those"
                    )
        if inner is layer and inner_cls in _SEQUENCES and getattr(layer, "go_backwards", False):
            raise UnsupportedLayerError(
                f"{where} sets go_backwards=True, which hls4ml 1.3 ignores (its converter runs "
                "every LSTM and GRU forward); reverse the sequence before the layer, or use "
                "Bidirectional(LSTM)"
            )


def _check(node: Node, prefix: str = "") -> None:
    """Refuse what hls4ml 1.3 cannot compile or the emulator does not reproduce."""
    a = node.attrs
    kind = str(a.get(f"{prefix}class_name", node.kind))
    where = f"layer {node.name!r} of class {node.kind}" + (f" ({prefix}{kind})" if prefix else "")
    if kind == "GRU" and a.get(f"{prefix}apply_reset_gate", "after") != "after":
        raise UnsupportedLayerError(
            f"{where} uses reset_after=False, which hls4ml 1.3's nnet::gru does not implement "
            "(it always applies the reset gate after the recurrent product); use "
            "reset_after=True (Keras 3's default)"
        )
    for act in (str(a[f"{prefix}activation"]), str(a[f"{prefix}recurrent_activation"])):
        if act not in RECURRENT_ACTIVATIONS:
            raise UnsupportedLayerError(
                f"{where} uses activation {act!r}: hls4ml 1.3's nnet_recr_activations.h defines "
                f"only {', '.join(RECURRENT_ACTIVATIONS)}, so its C++ does not compile; use one "
                "of those"
            )
    strategy = str(node.attrs.get("strategy", "latency")).lower()
    if strategy not in SUM_STRATEGIES:
        raise UnsupportedLayerError(
            f"{where} uses strategy {strategy!r}, which the emulator does not reproduce for "
            "recurrent layers; set Strategy: Latency, Resource or ResourceUnrolled for it"
        )
    rf = int(a.get("reuse_factor", 1))
    if strategy == "resource_unrolled" and rf == 1:  # GenerateUnrolledDenseResource: R > 1
        raise UnsupportedLayerError(
            f"{where} uses strategy resource_unrolled with ReuseFactor 1 (hls4ml 1.3's nearest "
            "valid one to the requested), for which hls4ml writes no unrolled kernel, so its "
            "C++ does not compile; use Strategy: Resource, or a ReuseFactor above 1 that hls4ml "
            "lists as valid"
        )
    for key in ("accum_t", "result_t"):
        if node_type(node, key).width > FLOAT_EXACT_WIDTH:
            raise UnsupportedLayerError(
                f"{where} has {key} {node_type(node, key)} wider than {FLOAT_EXACT_WIDTH} bits, "
                "which the emulator does not carry: give it a narrower one"
            )


def _check_one_type(node: Node, why: str) -> None:
    """Refuse an LSTM whose input type, accum_t and result_t differ: ``nnet::lstm`` passes
    accum_t and result_t arrays for each other, so its C++ compiles only for one type."""
    types = (input_type(node), node_type(node, "accum_t"), node_type(node, "result_t"))
    if len(set(types)) > 1:
        raise UnsupportedLayerError(
            f"layer {node.name!r} of class {node.kind} has input type {types[0]}, accum_t "
            f"{types[1]} and result_t {types[2]}: hls4ml 1.3's {why}, which compiles only when "
            "the three are one type; give its input, accum and result the same precision"
        )


def _cell(node: Node, prefix: str, n_in: int, n_state: int) -> RecurrentCell:
    """The cell of ``node`` (``prefix`` '' or 'forward_' / 'backward_' of a Bidirectional)."""
    a = node.attrs
    w, wr = node.weights[f"{prefix}weight"], node.weights[f"{prefix}recurrent_weight"]
    if a.get("_weights_transposed", False):  # Resource strategy: hls4ml stores (n_out, n_in)
        w, wr = w.T, wr.T
    strategy = str(a.get("strategy", "latency")).lower()
    # the input kernel's config takes the layer's reuse_factor (a Bidirectional's too: its
    # template ignores forward_/backward_reuse_factor there), the recurrent one its own
    rf = int(a.get("reuse_factor", 1))
    rrf = int(a.get(f"{prefix}recurrent_reuse_factor", a.get("recurrent_reuse_factor", 1)))
    return RecurrentCell(
        weight=w.reshape(n_in, -1),
        recurrent_weight=wr.reshape(n_state, -1),
        bias=node.weights[f"{prefix}bias"].reshape(-1),
        recurrent_bias=node.weights[f"{prefix}recurrent_bias"].reshape(-1),
        x_t=input_type(node),
        weight_t=node_type(node, f"{prefix}weight_t"),
        recurrent_weight_t=node_type(node, f"{prefix}recurrent_weight_t"),
        bias_t=node_type(node, f"{prefix}bias_t"),
        recurrent_bias_t=node_type(node, f"{prefix}recurrent_bias_t"),
        accum_t=node_type(node, "accum_t"),
        result_t=node_type(node, "result_t"),
        table_t=node_type(node, "table_t"),
        table_size=int(a.get("table_size", 1024)),
        activation=str(a[f"{prefix}activation"]),
        recurrent_activation=str(a[f"{prefix}recurrent_activation"]),
        order=dense_sum_order(n_in, strategy, rf),
        recurrent_order=dense_sum_order(n_state, strategy, rrf),
    )


def _merge_dense_points(scratch: Context, cast: Caster) -> None:
    """The two kernels' accumulations count under the layer's ``accum_t``; their result cast
    (accum_t to accum_t) changes nothing and is not counted."""
    p = scratch.points.get("dense.accum_t")
    if p is not None:
        cast.count("accum_t", p.count, p.total, p.max_abs)


@register("LSTM", "GRU")
def recurrent_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    """LSTM / GRU node -> `lstm_sequence` / `gru_sequence`; the last state unless
    ``return_sequences``."""
    a = node.attrs
    _check(node)
    if node.kind == "LSTM":
        _check_one_type(node, "lstm_stack also instantiates the non-static nnet::lstm")
    seq, n_in, n_state = int(a["n_timesteps"]), int(a["n_in"]), int(a["n_out"])
    x = inputs[0].reshape(inputs[0].shape[0], seq, n_in)
    cast, scratch = Caster(ctx, node.name), Context()
    hs = _SEQUENCES[node.kind](x, _cell(node, "", n_in, n_state), cast, scratch)
    _merge_dense_points(scratch, cast)
    y = hs if a.get("return_sequences", False) else hs[:, -1]
    return y.reshape(inputs[0].shape[0], *node.output_shape)


@register("Bidirectional")
def bidirectional_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    """Bidirectional node -> the forward and backward sequences, concatenated."""
    a = node.attrs
    if a.get("merge_mode", "concat") != "concat":
        raise UnsupportedLayerError(
            f"layer {node.name!r} of class Bidirectional uses merge_mode={a['merge_mode']!r}: "
            "hls4ml 1.3's nnet::bidirectional_stack only concatenates; use merge_mode='concat'"
        )
    seq, n_in = int(a["n_timesteps"]), int(a["n_in"])
    x = inputs[0].reshape(inputs[0].shape[0], seq, n_in)
    cast, scratch = Caster(ctx, node.name), Context()
    parts = []
    if not a.get("static", True):
        _check_one_type(node, "non-static Bidirectional runs nnet::lstm")
    for prefix, steps in (("forward_", x), ("backward_", x[:, ::-1])):
        _check(node, prefix)
        kind = str(a[f"{prefix}class_name"])
        cell = _cell(node, prefix, n_in, int(a[f"{prefix}n_states"]))
        hs = _SEQUENCES[kind](steps, cell, cast, scratch)
        parts.append(hs if prefix == "forward_" else hs[:, ::-1])
    _merge_dense_points(scratch, cast)
    if a.get("return_sequences", False):
        y = np.concatenate(parts, axis=2)
    else:  # the last step of each direction: the backward one is at time 0
        y = np.concatenate([parts[0][:, -1], parts[1][:, 0]], axis=1)
    return y.reshape(inputs[0].shape[0], *node.output_shape)
