"""EinsumDense as hls4ml 1.3 lowers it (``nnet_einsum_dense.h``, io_parallel, Latency).

hls4ml reduces the equation to four sizes (``n_free_data`` L0, ``n_free_kernel`` L1,
``n_contract`` C, ``n_inplace`` I) and two transposes (``inp_tpose_idxs`` of ``inp_shape``,
``out_tpose_idxs`` of ``out_interpert_shape``). The C++ transposes the input to (I, L0, C), runs
one ``nnet::dense`` (DenseLatency: bias to ``accum_t``, each product cast to ``accum_t`` and
added in input order, the sum cast to ``result_t``) per (i, l0) with the weights ``(I, C, L1)``
of slice i and the biases ``(I, L0, L1)`` of (i, l0), then transposes the (I, L0, L1) result back.
"""

from __future__ import annotations

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.layers.base import Context, Node, register
from emulation.layers.dense import dense

__all__ = ["einsum_dense_adapter"]


@register("EinsumDense")
def einsum_dense_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    """EinsumDense node -> one `dense` per (in-place index, free data index)."""
    a = node.attrs
    strategy = str(a.get("strategy", "latency")).lower()
    product = a.get("product_type") or "mult"
    if strategy != "latency" or product != "mult":
        raise UnsupportedLayerError(
            f"layer {node.name!r} of class EinsumDense uses strategy {strategy!r} and "
            f"nnet::product::{product}; the emulator supports Latency with fixed-point weights: "
            "set Strategy: Latency and a fixed-point weight precision for it"
        )
    n_l0, n_l1 = int(a["n_free_data"]), int(a["n_free_kernel"])
    n_c, n_i = int(a["n_contract"]), int(a["n_inplace"])
    batch = inputs[0].shape[0]
    x = inputs[0].reshape(batch, *a["inp_shape"])
    x = np.transpose(x, (0, *(1 + np.asarray(a["inp_tpose_idxs"])))).reshape(batch, n_i, n_l0, n_c)
    w = node.weights["weight"].reshape(n_i, n_c, n_l1)
    b = node.weights["bias"].reshape(n_i, n_l0, n_l1)
    types = {
        "x_t": node.input_types[0],
        "w_t": node.types["weight_t"],
        "b_t": node.types["bias_t"],
        "accum_t": node.types["accum_t"],
        "result_t": node.types["result_t"],
    }
    out = np.empty((batch, n_i, n_l0, n_l1))
    for i in range(n_i):  # slices of the layer, each one vectorised over the batch
        for l0 in range(n_l0):
            out[:, i, l0] = dense(x[:, i, l0], w[i], b[i, l0], ctx=ctx, point=node.name, **types)
    y = out.reshape(batch, *a["out_interpert_shape"])
    y = np.transpose(y, (0, *(1 + np.asarray(a["out_tpose_idxs"]))))
    return y.reshape(batch, *node.output_shape)
