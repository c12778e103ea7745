"""hls4ml's YAML files, read and written safely, its ``!keras_model`` tag kept as text."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from emulation.errors import ConfigError

__all__ = ["KerasModelRef", "dump_yaml", "read_yaml"]


class KerasModelRef(str):
    """The model path of an hls4ml ``!keras_model path`` YAML tag, kept as text."""

    __slots__ = ()


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that also reads hls4ml's ``!keras_model`` tag, without loading Keras."""


class _Dumper(yaml.SafeDumper):
    """Safe YAML dumper that writes :class:`KerasModelRef` back as ``!keras_model``."""


_Loader.add_constructor(
    "!keras_model", lambda loader, node: KerasModelRef(loader.construct_scalar(node))
)
_Dumper.add_representer(
    KerasModelRef, lambda dumper, value: dumper.represent_scalar("!keras_model", str(value))
)


def read_yaml(path: str | os.PathLike[str]) -> Any:
    """Parse a YAML file safely (hls4ml's ``!keras_model`` tag becomes a :class:`KerasModelRef`).

    Raises
    ------
    ConfigError
        The file is missing, unreadable or not valid YAML (with the line and column).
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {file}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {file}: {exc}") from exc
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{file} is not valid YAML{where}: {problem}; fix the file (indentation, quotes)"
        ) from exc


def dump_yaml(data: Any) -> str:
    """YAML text of plain data, keys in the given order (a :class:`KerasModelRef` as its tag)."""
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )
