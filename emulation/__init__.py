"""Bit-accurate NumPy emulation of hls4ml's generated fixed-point C++."""

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
    "ModelLoadError",
    "ToolError",
    "UnsupportedLayerError",
]
