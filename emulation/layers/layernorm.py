"""LayerNormalization of hls4ml's Vivado/Vitis io_parallel template (``nnet_layernorm.h``).

hls4ml 1.3 takes (seq_len, dim) inputs normalised over the last axis. Per row, in ``accum_t``
(every assignment a cast to it, the arithmetic before it exact):

1. ``sum += (accum_t) x_i`` in input order; ``mean = sum * k_inv`` with ``k_inv = (accum_t)
   (1.0 / dim)``;
2. ``d_i = (accum_t) x_i - mean``; ``sum2 += d_i * d_i`` in order; ``var = sum2 * k_inv``;
3. ``index = int(var * table_size * 2^p)`` (toward zero) clamped to [0, table_size - 1], and
   ``inv = table[index]``: the table holds ``1.0 / sqrtf(min + step * i)`` (float arithmetic,
   ``min = (float) pow(10, -epsilon_power_of_10)``, ``step = 2^-p / table_size``) in ``table_t``;
4. ``res_i = d_i * inv * scale_i + bias_i`` exact, cast to ``result_t``.
"""

from __future__ import annotations

import functools

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FLOAT_EXACT_WIDTH, FixedType
from emulation.layers.base import Context, Node, node_type, register
from emulation.layers.exact import Caster

__all__ = ["invert_sqrt_table", "layernorm"]


@functools.cache
def invert_sqrt_table(size: int, epsilon_power_of_10: int, range_power2: int, table_t: FixedType):
    """``init_invert_sqr_table``: entry i is ``1.0 / sqrt(float in_val)`` cast to ``table_t``."""
    min_val = np.float32(10.0 ** -int(epsilon_power_of_10))
    step = np.float32(2.0 ** -int(range_power2)) / np.float32(size)
    in_val = min_val + step * np.arange(size, dtype=np.float32)
    return table_t.quantize(1.0 / np.sqrt(in_val).astype(np.float64))


def _m(v: np.ndarray, t: FixedType) -> np.ndarray:
    """Exact mantissas (Python ints) of values of ``t``, at its own LSB."""
    return np.asarray(t.quantize_raw(v)).astype(object)


def layernorm(
    x: np.ndarray,
    scale: np.ndarray,
    bias: np.ndarray,
    *,
    accum_t: FixedType,
    table_t: FixedType,
    scale_t: FixedType,
    bias_t: FixedType,
    result_t: FixedType,
    table_size: int,
    epsilon_power_of_10: int,
    range_power2: int = 0,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::layernorm_1d`` on every row of ``x`` (``(..., dim)``, exact input values; the
    C++ casts each to ``accum_t`` first, so the input type itself plays no further part)."""
    cast = cast or Caster()
    f = accum_t.fractional
    dim = x.shape[-1]

    def to_accum(m: np.ndarray, frac: int) -> np.ndarray:
        return _m(cast.raw(m, frac, accum_t, "accum_t"), accum_t)

    k_inv = int(_m(accum_t.quantize(np.float64(1.0 / dim)), accum_t))
    xa = _m(cast(x, accum_t, "accum_t"), accum_t)
    total = np.zeros(x.shape[:-1], dtype=object)
    for i in range(dim):  # sum_cache += x_i: one cast per addition, in order
        total = to_accum(total + xa[..., i], f)
    mean = to_accum(total * k_inv, 2 * f)
    d = to_accum(xa - mean[..., None], f)
    total2 = np.zeros(x.shape[:-1], dtype=object)
    for i in range(dim):
        sq = to_accum(d[..., i] * d[..., i], 2 * f)
        total2 = to_accum(total2 + sq, f)
    var = to_accum(total2 * k_inv, 2 * f)
    scaled = var * (int(table_size) << int(range_power2))  # exact, at the LSB 2^-f
    index = (np.abs(scaled) // (1 << f)) * np.sign(scaled)  # int(): toward zero
    index = np.clip(index.astype(np.int64), 0, int(table_size) - 1)
    inv = invert_sqrt_table(int(table_size), int(epsilon_power_of_10), int(range_power2), table_t)
    m_inv = _m(inv[index], table_t)[..., None]
    prod = d * m_inv * _m(np.broadcast_to(scale, x.shape), scale_t)
    f_prod = f + table_t.fractional + scale_t.fractional
    frac = max(f_prod, bias_t.fractional)  # the exact sum's LSB
    m_bias = _m(np.broadcast_to(bias, x.shape), bias_t)
    total = prod * (1 << (frac - f_prod)) + m_bias * (1 << (frac - bias_t.fractional))
    return cast.raw(total, frac, result_t, "result_t")


@register("LayerNormalization")
def _layernorm_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    accum_t = node_type(node, "accum_t")
    if accum_t.width > FLOAT_EXACT_WIDTH:
        raise UnsupportedLayerError(
            f"layer {node.name!r} of class LayerNormalization has accum_t {accum_t} wider than "
            f"{FLOAT_EXACT_WIDTH} bits, which the emulator does not carry: give it a narrower accum"
        )
    seq, dim = int(node.attrs["seq_len"]), int(node.attrs["n_in"]) // int(node.attrs["seq_len"])
    x = inputs[0].reshape(inputs[0].shape[0], seq, dim)
    y = layernorm(
        x,
        node.weights["scale"].reshape(dim),
        node.weights["bias"].reshape(dim),
        accum_t=accum_t,
        table_t=node_type(node, "table_t"),
        scale_t=node_type(node, "scale_t"),
        bias_t=node_type(node, "bias_t"),
        result_t=node_type(node, "result_t"),
        table_size=int(node.attrs.get("table_size", 4096)),
        epsilon_power_of_10=int(node.attrs.get("epsilon_power_of_10", 3)),
        range_power2=int(node.attrs.get("table_range_power2", 0)),
        cast=Caster(ctx, node.name),
    )
    return y.reshape(inputs[0].shape[0], *node.output_shape)
