"""One module per layer family; importing this package registers every adapter in `ADAPTERS`.

Modules written in parallel are imported when present, so a missing family only makes its
layers unsupported (`adapter_for` names them); an error inside a present module is raised.
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings

from emulation.layers.base import ADAPTERS, Context, Node, QuantPoint, adapter_for, register

__all__ = ["ADAPTERS", "Context", "Node", "QuantPoint", "adapter_for", "register"]

_FAMILIES = (
    "core",
    "dense",
    "normalization",
    "activation",
    "parametrized",
    "softmax",
    "conv",
    "pooling",
    "merge",
    "reshape",
    "embedding",
    "einsum_dense",
    "layernorm",
)

for _family in _FAMILIES:
    if importlib.util.find_spec(f"{__name__}.{_family}") is None:
        continue
    try:
        importlib.import_module(f"{__name__}.{_family}")
    except ModuleNotFoundError as _exc:
        # a family that needs another family not written yet: skip it, loudly
        if not (_exc.name or "").startswith(f"{__name__}."):
            raise
        warnings.warn(
            f"layer family {_family!r} not loaded: it needs {_exc.name}, which is missing",
            stacklevel=2,
        )
