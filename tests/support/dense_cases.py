"""Dense operands of the tests: seeded exact values of three small types, and the C++ loop of
``dense_latency`` written out (one product, one cast and one sum at a time)."""

from __future__ import annotations

import numpy as np

from emulation.fixed import FixedType

X_T = FixedType.parse("ap_fixed<10,4>")
W_T = FixedType.parse("ap_fixed<8,1>")
B_T = FixedType.parse("ap_fixed<8,3>")


def dense_operands(seed: int, batch: int = 300, n_in: int = 24, n_out: int = 7):
    """Exact random values of X_T, W_T and B_T."""
    rng = np.random.default_rng(seed)
    x = X_T.quantize(rng.normal(0, 3, (batch, n_in)))
    w = W_T.quantize(rng.normal(0, 0.5, (n_in, n_out)))
    b = B_T.quantize(rng.normal(0, 1, n_out))
    return x, w, b


def reference_dense(x, w, b, accum_t, result_t, order=None):
    """The C++ loop written out literally: one product, one cast and one sum at a time."""
    acc = np.broadcast_to(accum_t.quantize(b), (x.shape[0], w.shape[1])).copy()
    for i in range(x.shape[1]) if order is None else order:
        acc = accum_t.quantize(acc + accum_t.quantize(x[:, i, None] * w[None, i, :]))
    return result_t.quantize(acc)
