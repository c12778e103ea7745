"""Errors a user can cause, each with a message that names the fix.

Hierarchy::

    AptuneError                      base; the CLI prints it in one line and exits non-zero
    ├── ConfigError(ValueError)      malformed precision string, YAML or config key
    ├── ModelLoadError(OSError)      missing, unreadable or unsupported model file
    ├── UnsupportedLayerError        a layer the emulator does not implement
    ├── DataError(ValueError)        input data of the wrong shape, empty, NaN or infinite
    └── ToolError(RuntimeError)      g++, vivado_hls or vitis_hls missing or failing
"""

from __future__ import annotations

__all__ = [
    "AptuneError",
    "ConfigError",
    "DataError",
    "ModelLoadError",
    "ToolError",
    "UnsupportedLayerError",
]


class AptuneError(Exception):
    """Base class of every error aptune raises on purpose."""


class ConfigError(AptuneError, ValueError):
    """A precision string, config key or YAML file that cannot be used as given."""


class ModelLoadError(AptuneError, OSError):
    """A model file that is missing, unreadable or in a format aptune cannot load."""


class UnsupportedLayerError(AptuneError, NotImplementedError):
    """A layer kind the emulator does not reproduce."""


class DataError(AptuneError, ValueError):
    """Input data that does not fit the model: shape, emptiness, NaN or infinity."""


class ToolError(AptuneError, RuntimeError):
    """An external tool that is missing or failed (g++, Vivado HLS, Vitis HLS)."""
