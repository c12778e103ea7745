"""The model's input layers: the data cast to the input type.

The C simulation's ``double`` entry point converts each input value with the input layer's own
type and modes (``nnet::convert_data``: ``input_t(double)``; by default AP_TRN, AP_WRAP: floor
and wrap, not round). hls4ml keeps no other pass-through node for plain Keras models: Dropout and
its relatives become a linear Activation that an optimizer pass removes, unless its precision
differs from its input's, in which case it is a cast (an ``Activation`` node, see
`emulation.layers.activation`).
"""

from __future__ import annotations

import numpy as np

from emulation.layers.base import Context, Node, register
from emulation.layers.exact import Caster

__all__ = ["input_adapter"]


@register("Input")
def input_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    """The float64 data cast to the input layer's ``result_t``."""
    cast = Caster(ctx, node.name)
    return cast(inputs[0], node.types["result_t"], "result_t", from_double=True)
