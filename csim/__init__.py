"""C-simulation comparator: float Keras, aptune's emulator and hls4ml's C simulation.

>>> from csim import compare                                              # doctest: +SKIP
>>> result = compare(keras_model, "config.yml", X, labels=y)              # doctest: +SKIP
>>> result.agree, result.first_divergence                                 # doctest: +SKIP

Modules: `csim.hls4ml_sim` (convert, compile with g++, predict and trace; cached on disk by
`csim.cache`), `csim.hls_tool` (the vendor's Vivado/Vitis HLS C simulation through hls4ml's
testbench files), `csim.compare` (the three-way comparison, plain JSON-ready data).
"""

from __future__ import annotations

from typing import Any

__all__ = ["HLS_TOOLS", "CSimulation", "Comparison", "compare", "compile_sim"]

# Imported on first use: hls4ml and Keras take seconds to import.
_LAZY = {
    "HLS_TOOLS": "csim.compare",
    "Comparison": "csim.compare",
    "compare": "csim.compare",
    "CSimulation": "csim.hls4ml_sim",
    "compile_sim": "csim.hls4ml_sim",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
