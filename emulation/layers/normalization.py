"""BatchNormalization as a layer of its own (``nnet_batchnorm.h``, ``nnet::normalize``).

hls4ml folds a BatchNormalization into the Dense or Conv before it when that layer's result
type is 'auto' (`emulation.graph` records it as ``fused_batchnorm``); otherwise it stays a node
that computes, per element::

    res[i] = (result_t) (data[i] * scale[c] + bias[c])      # c = i % n_filt, or i

The product ``data * scale`` and the sum with ``bias`` are exact ap_fixed arithmetic (no cast
in between); the only cast is the one to result_t.
"""

from __future__ import annotations

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FLOAT_EXACT_WIDTH, INT64_BITS, FixedType, product_type, sum_type
from emulation.fixed.kernels_int import raw_to_float
from emulation.layers.base import Context, Node, register
from emulation.layers.exact import Caster

__all__ = ["batchnorm"]

_FLOAT_BITS = FLOAT_EXACT_WIDTH
_INT64_BITS = INT64_BITS


def batchnorm(
    x: np.ndarray,
    scale: np.ndarray,
    bias: np.ndarray,
    *,
    x_t: FixedType,
    scale_t: FixedType,
    bias_t: FixedType,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "batchnorm",
) -> np.ndarray:
    """``nnet::normalize`` on exact values: ``(result_t)(x * scale + bias)``.

    Parameters
    ----------
    x : (batch, ..., channels) or (batch, n) exact values of ``x_t``; ``scale`` and ``bias``
        broadcast against its trailing axis (per channel) or match it element-wise.
    ctx, point : the one cast, to result_t, is recorded under ``"<point>.result_t"``.
    """
    cast = Caster(ctx, point)
    x = np.asarray(x, dtype=np.float64)
    s_t = sum_type(product_type(x_t, scale_t), bias_t)
    if s_t.width <= _FLOAT_BITS:
        # every product and sum is a value of s_t: exact in float64
        y = x * scale
        y += bias
        lo, hi = (float(y.min()), float(y.max())) if y.size else (0.0, 0.0)
        if result_t.fractional >= s_t.fractional and result_t.min <= lo and hi <= result_t.max:
            # result_t holds every value as it is (its grid is finer, its range covers them):
            # the cast is the identity and overflows nowhere
            cast.record("result_t", np.broadcast_to(np.False_, y.shape), max(hi, -lo))
            return y
        return cast(y, result_t, "result_t")
    dtype = np.int64 if s_t.width <= _INT64_BITS else object
    mx = np.asarray(x_t.quantize_raw(x)).astype(dtype)
    ms = np.asarray(scale_t.quantize_raw(scale)).astype(dtype)
    mb = np.asarray(bias_t.quantize_raw(bias)).astype(dtype)
    # align the bias to the product's grid (both are finer or equal to s_t's LSB)
    shift_p = s_t.fractional - (x_t.fractional + scale_t.fractional)
    shift_b = s_t.fractional - bias_t.fractional
    total = mx * ms * (1 << shift_p) + mb * (1 << shift_b)
    raw, over = result_t.requantize_raw(total, s_t, return_overflow=True)
    top = float(np.max(np.abs(raw_to_float(total, s_t.fractional)), initial=0))
    cast.record("result_t", over, top)
    return raw_to_float(raw, result_t.fractional)


@register("BatchNormalization")
def batchnorm_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    """BatchNormalization node -> `batchnorm` (scale and bias per ``n_filt`` channel)."""
    product = node.attrs.get("product_type") or "mult"
    if product != "mult":
        raise UnsupportedLayerError(
            f"layer {node.name!r} uses nnet::product::{product}; the emulator supports mult for "
            "BatchNormalization: give its scale a fixed-point type wider than 2 bits"
        )
    batch = inputs[0].shape[0]
    x = inputs[0].reshape(batch, -1)
    scale, bias = node.weights["scale"].ravel(), node.weights["bias"].ravel()
    n_filt = int(node.attrs.get("n_filt", -1))
    if n_filt not in (-1, x.shape[1]):
        # index i % n_filt of the flat (channels-last) array is the channel
        reps = x.shape[1] // n_filt
        scale, bias = np.tile(scale, reps), np.tile(bias, reps)
    y = batchnorm(
        x,
        scale,
        bias,
        x_t=node.input_types[0],
        scale_t=node.types["scale_t"],
        bias_t=node.types["bias_t"],
        result_t=node.types["result_t"],
        ctx=ctx,
        point=node.name,
    )
    return y.reshape(batch, *node.output_shape)
