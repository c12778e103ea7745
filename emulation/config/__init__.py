"""The one reader and writer of hls4ml's configuration schema (the ``HLSConfig`` section).

hls4ml 1.3 reads these sections (``hls4ml/model/graph.py``, ``HLSConfig``)::

    Model:      Precision (a type, or {default, maximum, <var>: type}), ReuseFactor, Strategy, ...
    LayerType:  {<Keras/hls4ml class name>: {Precision, ReuseFactor, Strategy, <attr>, <name>_t}}
    LayerName:  {<layer name>: same keys as LayerType}
    Flows, Optimizers, SkipOptimizers: lists of names

A layer's keys are matched to hls4ml attributes by their snake_case spelling (``TableSize`` is
``table_size``); a key ending in ``_t`` holding a string is a type (``table_t``, ``accum_t``).
:func:`read_config` checks every value hls4ml would trip on and raises :class:`ConfigError` naming
the key path; unknown keys are kept, as hls4ml keeps them, and listed by :func:`unknown_keys`.
:func:`write_config` writes what :func:`read_config` and hls4ml read back. Which key sets which
type at which level, the keys hls4ml ignores, and hls4ml's default config are
:mod:`emulation.config.keys`, the value checks :mod:`emulation.config.checks` and the YAML
:mod:`emulation.config.yaml_files`, all re-exported here: ask ``emulation.config`` for the schema.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from emulation.config.checks import (
    SECTIONS,
    STRATEGIES,
    parse_precision,
    snake_case,
    validate,
)
from emulation.config.keys import (
    IGNORED_PRECISION_KEYS,
    LAYER_LEVEL_TYPES,
    TABLE_SIZE_KEYS,
    config_section,
    configured_type,
    default_config,
    ignored_keys,
    layer_blocks,
    layer_setting,
    set_type,
    without_ignored_keys,
)
from emulation.config.yaml_files import KerasModelRef, dump_yaml, read_yaml
from emulation.errors import ConfigError
from emulation.fixed import FixedType
from emulation.io.atomic_files import atomic_write_text

__all__ = [
    "IGNORED_PRECISION_KEYS",
    "LAYER_LEVEL_TYPES",
    "MODEL_KEYS",
    "SECTIONS",
    "STRATEGIES",
    "TABLE_SIZE_KEYS",
    "KerasModelRef",
    "config_section",
    "configured_type",
    "default_config",
    "dump_config",
    "ignored_keys",
    "layer_blocks",
    "layer_setting",
    "parse_precision",
    "project_settings",
    "read_config",
    "read_yaml",
    "set_type",
    "unknown_keys",
    "without_ignored_keys",
    "write_config",
]

#: Keys hls4ml 1.3 reads from ``HLSConfig.Model`` (graph.py, converters, optimizer passes).
MODEL_KEYS = (
    "Precision",
    "ReuseFactor",
    "Strategy",
    "BramFactor",
    "TraceOutput",
    "TargetCycles",
    "ConvImplementation",
    "Compression",
    "PipelineStyle",
    "PipelineInterval",
    "BitExact",
    "AllowDAFallback",
    "AllowV2Fallback",
    "ChannelsLastConversion",
    "TransposeOutputs",
    "InputsChannelLast",
)

# Layer keys hls4ml reads through HLSConfig itself rather than as a layer attribute.
_LAYER_CONFIG_KEYS = frozenset(
    {
        "precision",
        "reuse_factor",
        "strategy",
        "target_cycles",
        "conv_implementation",
        "compression",
        "trace",
        "parallelization_factor",
        "implementation",
        "inv_table_size",
        "exp_table_size",
    }
)

_PROJECT_HINT_KEYS = frozenset(
    {"KerasModel", "KerasJson", "KerasH5", "OutputDir", "ProjectName", "Part", "XilinxPart"}
)


def _hls_section(data: Any, origin: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{origin}: got a {type(data).__name__}; expected a mapping with Model, LayerType "
            "or LayerName (or a project file with HLSConfig)"
        )
    if "HLSConfig" in data:
        section = data["HLSConfig"]
        if section is None:
            return {}
        if not isinstance(section, Mapping):
            raise ConfigError(
                f"{origin}: HLSConfig is a {type(section).__name__}; expected a mapping"
            )
        return dict(section)
    if not set(data) & set(SECTIONS) and set(data) & _PROJECT_HINT_KEYS:
        # A project file without HLSConfig: hls4ml then uses its defaults.
        return {}
    return dict(data)


def project_settings(source: Any) -> dict[str, Any]:
    """The top-level settings (``Backend``, ``IOType``, ``OutputDir``...) of an hls4ml project
    given as a dict or a YAML file; ``{}`` for a bare ``HLSConfig`` or anything else."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.suffix.lower() not in (".yml", ".yaml") or not path.is_file():
            return {}
        source = read_yaml(path)
    if not isinstance(source, Mapping):
        return {}
    if "HLSConfig" in source or (
        not set(source) & set(SECTIONS) and set(source) & _PROJECT_HINT_KEYS
    ):
        return {k: v for k, v in source.items() if k != "HLSConfig"}
    return {}


def read_config(source: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate an hls4ml ``HLSConfig``.

    Parameters
    ----------
    source : mapping, str or PathLike
        The HLSConfig dict itself, a YAML file holding it, or a whole hls4ml project file
        (dict or YAML) whose ``HLSConfig`` section is taken.

    Returns
    -------
    dict
        A deep copy of the section, values as given (unknown keys kept).

    Raises
    ------
    ConfigError
        Unreadable or malformed YAML, or a bad value; the message names the key path
        (``LayerName.dense_1.Precision.weight``), what was given and what is allowed.

    Examples
    --------
    >>> read_config({"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1}})["Model"]
    {'Precision': 'ap_fixed<16,6>', 'ReuseFactor': 1}
    """
    if isinstance(source, Mapping):
        cfg = _hls_section(copy.deepcopy(dict(source)), "config")
    else:
        cfg = _hls_section(read_yaml(source), str(source))
    validate(cfg)
    return cfg


@functools.cache
def _layer_keys() -> frozenset[str]:
    """snake_case names of every configurable attribute of hls4ml's Vivado layers."""
    import hls4ml  # deferred: only needed to list unknown keys

    backend = hls4ml.backends.get_backend("Vivado")
    names = set(_LAYER_CONFIG_KEYS)
    for layer_class in hls4ml.model.layers.layer_map.values():
        try:
            cls = backend.create_layer_class(layer_class)
        except Exception:  # a class the backend cannot wrap has no keys to add
            continue
        names.update(a.name for a in cls.expected_attributes if a.configurable)
    return frozenset(names)


def unknown_keys(cfg: Mapping[str, Any]) -> list[str]:
    """List the key paths of an HLSConfig that hls4ml 1.3 does not know.

    hls4ml keeps such keys and ignores them, so a typo (``ReuseFactr``) or a key at the wrong
    level (``Model.TableSize``: table sizes are read per layer only) silently does nothing.

    Examples
    --------
    >>> unknown_keys({"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactr": 2}})
    ['Model.ReuseFactr']
    """
    found = [key for key in cfg if key not in SECTIONS]
    model = cfg.get("Model")
    if isinstance(model, Mapping):
        found += [f"Model.{key}" for key in model if key not in MODEL_KEYS]
    known = _layer_keys()
    for section in ("LayerType", "LayerName"):
        entries = cfg.get(section)
        if not isinstance(entries, Mapping):
            continue
        for name, block in entries.items():
            if isinstance(block, Mapping):
                found += [
                    f"{section}.{name}.{key}" for key in block if snake_case(str(key)) not in known
                ]
    return found


# ---------------------------------------------------------------------------------------------
# Writing


def _plain(value: Any) -> Any:
    """Turn a config value into plain YAML data (types as the strings hls4ml parses)."""
    if isinstance(value, KerasModelRef):
        return value
    if isinstance(value, FixedType):
        return value.to_hls()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _ordered(mapping: Mapping[str, Any], first: tuple[str, ...]) -> dict[str, Any]:
    """Keys of ``first`` in that order, then the others sorted: the same text for equal dicts."""
    head = [k for k in first if k in mapping]
    tail = sorted(k for k in mapping if k not in first)
    return {k: mapping[k] for k in head + tail}


def _ordered_block(block: Any) -> Any:
    if not isinstance(block, Mapping):
        return block
    out = _ordered(block, ("Precision", "ReuseFactor", "Strategy"))
    if isinstance(out.get("Precision"), Mapping):
        out["Precision"] = _ordered(
            out["Precision"], ("default", "maximum", "weight", "bias", "result", "accum")
        )
    return out


def _canonical(cfg: Mapping[str, Any]) -> dict[str, Any]:
    plain = _plain(cfg)
    out = _ordered(plain, SECTIONS)
    if "Model" in out:
        out["Model"] = _ordered_block(out["Model"])
    for section in ("LayerType", "LayerName"):
        if isinstance(out.get(section), Mapping):
            # Layers keep their given order (the model's order when built from the graph).
            out[section] = {name: _ordered_block(b) for name, b in out[section].items()}
    return out


_PROJECT_ORDER = (
    "KerasModel",
    "KerasJson",
    "KerasH5",
    "OutputDir",
    "ProjectName",
    "Backend",
    "Part",
    "ClockPeriod",
    "IOType",
)


def dump_config(cfg: Mapping[str, Any], *, project: Mapping[str, Any] | None = None) -> str:
    """Render an HLSConfig (or, with ``project``, a whole hls4ml project file) as YAML text.

    Parameters
    ----------
    cfg : mapping
        The HLSConfig section; :class:`~emulation.fixed.FixedType` values are written with
        ``to_hls()`` and NumPy scalars as plain numbers.
    project : mapping, optional
        Project settings (``KerasModel``/``KerasJson``/``KerasH5``, ``OutputDir``, ``Part``...);
        when given, the text is a project file with ``cfg`` as its ``HLSConfig``. A
        :class:`KerasModelRef` value is written as ``!keras_model path``.

    Raises
    ------
    ConfigError
        ``cfg`` would not read back (validated as :func:`read_config` does).
    """
    body = _canonical(cfg)
    validate(body)
    if project is not None:
        settings = _ordered(
            _plain({k: v for k, v in project.items() if k != "HLSConfig"}), _PROJECT_ORDER
        )
        body = {**settings, "HLSConfig": body}
    return dump_yaml(body)


def write_config(
    cfg: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    project: Mapping[str, Any] | None = None,
) -> Path:
    """Write :func:`dump_config` text to ``path`` atomically; returns the path."""
    return atomic_write_text(path, dump_config(cfg, project=project))
