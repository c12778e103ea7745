"""Bit-accurate NumPy emulation of hls4ml's generated fixed-point C++.

>>> from emulation import EmulatedModel, load_model                     # doctest: +SKIP
>>> em = EmulatedModel(load_model("model.keras"), "hls_config.yml")      # doctest: +SKIP
>>> y = em.predict(X)                                                   # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from emulation.errors import (
    AptuneError,
    ConfigError,
    DataError,
    ModelLoadError,
    ToolError,
    UnsupportedLayerError,
)

__all__ = [
    "AptuneError",
    "ConfigError",
    "DataError",
    "EmulatedModel",
    "ModelLoadError",
    "ToolError",
    "UnsupportedLayerError",
    "load_model",
]

# Imported on first use: the model loader pulls in Keras, which takes seconds.
_LAZY = {"EmulatedModel": "emulation.model", "load_model": "emulation.io.keras_files"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
