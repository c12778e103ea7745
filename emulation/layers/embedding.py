"""Embedding of hls4ml's Vivado/Vitis io_parallel template (``nnet_embed.h``).

For each input position j and output i the C++ reads
``res[j * n_out + i] = embeddings[data[j] * n_out + i]``: ``data[j] * n_out`` is an exact
``ap_fixed`` product, converted to an array index (the integer part; the ids are meant to be
non-negative integers, and a fractional id therefore shifts the row by ``frac * n_out``
entries), and the ``embeddings_t`` constant is cast to ``result_t``. An index outside the
table reads past it in the C++ (undefined): refused here with the layer and the fix.
"""

from __future__ import annotations

import numpy as np

from emulation.errors import DataError
from emulation.layers.base import Context, Node, node_type, register
from emulation.layers.exact import Caster

__all__ = ["embedding"]


def embedding(
    x: np.ndarray,
    table: np.ndarray,
    *,
    result_t: object,
    cast: Caster | None = None,
    name: str = "embedding",
) -> np.ndarray:
    """``nnet::embedding``: rows of ``table`` (``(vocab, n_out)``, exact ``embeddings_t``
    values) picked by the ids ``x`` (``(batch, n_in)``, exact input values), cast to
    ``result_t``; returns ``(batch, n_in, n_out)``."""
    cast = cast or Caster()
    vocab, n_out = table.shape
    flat = np.asarray(table, dtype=np.float64).ravel()
    # x * n_out is exact in float64 (an input type of at most 53 - log2(n_out) bits)
    start = np.floor(np.asarray(x, dtype=np.float64) * n_out)
    if start.size and (start.min() < 0 or start.max() > (vocab - 1) * n_out):
        bad = float(x.ravel()[np.argmax((start < 0) | (start > (vocab - 1) * n_out)).item()])
        raise DataError(
            f"layer {name!r} of class Embedding: input id {bad!r} is outside [0, {vocab - 1}], "
            "where the C++ reads past its table: give ids the embedding was built for"
        )
    index = start.astype(np.int64)[..., None] + np.arange(n_out)
    return cast(flat[index], result_t, "result_t")


@register("Embedding")
def _embedding_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    x = inputs[0].reshape(inputs[0].shape[0], -1)
    table = node.weights["embeddings"].reshape(int(node.attrs["vocab_size"]), -1)
    y = embedding(
        x,
        table,
        result_t=node_type(node, "result_t"),
        cast=Caster(ctx, node.name),
        name=node.name,
    )
    return y.reshape(x.shape[0], *node.output_shape)
