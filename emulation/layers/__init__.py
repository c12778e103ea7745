"""One module per layer family; importing this package registers every adapter in `ADAPTERS`.

Each family is imported by name below, in registration order (the order `ADAPTERS` lists the
supported kinds in); a new family is one more import line. A family that fails to import is an
error, never a silently unsupported layer.
"""

from __future__ import annotations

# isort: off
# Imported for their @register side effect, in this order.
from emulation.layers import core  # noqa: F401
from emulation.layers import dense  # noqa: F401
from emulation.layers import normalization  # noqa: F401
from emulation.layers import activation  # noqa: F401
from emulation.layers import parametrized  # noqa: F401
from emulation.layers import softmax  # noqa: F401
from emulation.layers import conv  # noqa: F401
from emulation.layers import pooling  # noqa: F401
from emulation.layers import pooling_stream  # noqa: F401
from emulation.layers import merge  # noqa: F401
from emulation.layers import reshape  # noqa: F401
from emulation.layers import embedding  # noqa: F401
from emulation.layers import einsum_dense  # noqa: F401
from emulation.layers import layernorm  # noqa: F401
from emulation.layers import recurrent  # noqa: F401

# isort: on
from emulation.layers.base import ADAPTERS, Context, Node, QuantPoint, adapter_for, register

__all__ = ["ADAPTERS", "Context", "Node", "QuantPoint", "adapter_for", "register"]
