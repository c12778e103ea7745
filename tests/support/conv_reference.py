"""Convolution helpers of the tests: the C++ loops of ``conv_2d_*_cl`` written out (the slow
reference every fast path must equal), seeded values of a type, and the real conv models."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emulation.fixed import FixedType

#: The community conv models under the realdata folder, by a short key.


REAL_CONV_MODELS = {
    "conv1d_small": "conv1d/KERAS_conv1d_small.json",
    "conv2d_model": "conv2d/KERAS_conv2d_model.json",
    "jet_conv2d_small": "conv2d/jetTagger_Conv2D_Small.json",
    "jet_conv2d_small_nobn": "conv2d/jetTagger_Conv2D_Small_NoBatchNorm.json",
}


def reference_conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    strides: tuple[int, int],
    pads: tuple[int, int, int, int],
    accum_t: FixedType,
    result_t: FixedType,
    order: Sequence[int] | None = None,
) -> np.ndarray:
    """conv_2d_*_cl written as the C++ loops (vectorised over samples only), one cast a step."""
    kh, kw, _, n_filt = w.shape
    top, bottom, left, right = pads
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    oh = (xp.shape[1] - kh) // strides[0] + 1
    ow = (xp.shape[2] - kw) // strides[1] + 1
    w2 = w.reshape(-1, n_filt)
    out = np.zeros((x.shape[0], oh, ow, n_filt))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * strides[0], j * strides[1]
            rows = xp[:, r0 : r0 + kh, c0 : c0 + kw].reshape(x.shape[0], -1)  # kh, kw, chan
            for f in range(n_filt):
                acc = accum_t.quantize(np.full(x.shape[0], b[f]))
                for k in range(rows.shape[1]) if order is None else order:
                    p = accum_t.quantize(rows[:, k] * w2[k, f])
                    acc = accum_t.quantize(acc + p)
                out[:, i, j, f] = result_t.quantize(acc)
    return out


def draw_fixed(
    rng: np.random.Generator, shape: tuple[int, ...], t: FixedType, spread: float
) -> np.ndarray:
    return t.quantize(rng.normal(0.0, spread, shape))
