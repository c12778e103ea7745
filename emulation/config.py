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
:mod:`emulation.config_keys`, re-exported here: ask ``emulation.config`` for the schema.
"""

from __future__ import annotations

import copy
import functools
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from emulation.config_keys import (
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
from emulation.errors import ConfigError
from emulation.files import atomic_write_text
from emulation.fixed import FixedType

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
    "read_config",
    "read_yaml",
    "set_type",
    "unknown_keys",
    "without_ignored_keys",
    "write_config",
]

#: Top-level sections of HLSConfig, in the order aptune writes them.
SECTIONS = ("Model", "LayerType", "LayerName", "Flows", "Optimizers", "SkipOptimizers")

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

#: Strategy names hls4ml's Vivado/Vitis backends act on, in snake_case (case-insensitive).
STRATEGIES = ("latency", "resource", "resource_unrolled", "distributed_arithmetic", "da")
#: Softmax implementation names written as a Strategy (hls4ml's own test_softmax.py does):
#: hls4ml 1.3 accepts them but reads a softmax's implementation only from ``Implementation``
#: (the layer stays ``stable``), and every other layer takes such a Strategy as Latency.
SOFTMAX_STRATEGIES = ("stable", "argmax", "legacy")

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

_POSITIVE_INT_KEYS = frozenset({"table_size", "inv_table_size", "exp_table_size", "target_cycles"})

_PROJECT_HINT_KEYS = frozenset(
    {"KerasModel", "KerasJson", "KerasH5", "OutputDir", "ProjectName", "Part", "XilinxPart"}
)

_PRECISION_ALLOWED = "ap_[u]fixed<W,I[,Q[,O[,N]]]>, ap_[u]int<W> (also without 'ap_') or 'auto'"


def _snake(name: str) -> str:
    # hls4ml.utils.string_utils.convert_to_snake_case, copied to avoid importing hls4ml here.
    return re.sub(r"_{2,}", "_", re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower())


# ---------------------------------------------------------------------------------------------
# YAML


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


# ---------------------------------------------------------------------------------------------
# Validation


def _normalise_precision(text: str) -> str:
    """Spell an hls4ml-accepted ap type the canonical way: ``ap_`` prefix, ``AP_`` modes."""
    compact = text.replace(" ", "")
    if compact.startswith(("fixed<", "ufixed<", "int<", "uint<")):
        compact = "ap_" + compact
    match = re.fullmatch(r"(ap_u?(?:fixed|int))<(.*)>", compact)
    if not match:
        return compact
    kind, args = match.groups()
    fields = args.split(",")
    n_size = 2 if kind.endswith("fixed") else 1
    for i in range(n_size, min(len(fields), n_size + 2)):
        # hls4ml's RoundingMode/SaturationMode.from_string accept 'RND', 'rnd' and 'AP_RND'.
        mode = fields[i].upper()
        fields[i] = mode if mode.startswith("AP_") else "AP_" + mode
    return f"{kind}<{','.join(fields)}>"


def parse_precision(text: Any, where: str = "precision") -> FixedType | None:
    """Parse one precision value as hls4ml would accept it; ``None`` for ``'auto'``.

    Parameters
    ----------
    text : str
        ``ap_fixed<16,6>``, ``fixed<16,6,RND,SAT>``, ``ap_uint<8>``, ``auto``, ...
    where : str
        Key path used in the error message, e.g. ``LayerName.dense_1.Precision.weight``.

    Raises
    ------
    ConfigError
        Not a string, a float/ac type aptune cannot emulate, or a malformed ap type.

    Examples
    --------
    >>> parse_precision("auto") is None
    True
    """
    if isinstance(text, FixedType):
        return text
    if not isinstance(text, str):
        raise ConfigError(
            f"{where}: got {text!r} ({type(text).__name__}); expected a precision string: "
            f"{_PRECISION_ALLOWED}"
        )
    stripped = text.strip()
    if stripped.lower() == "auto":
        return None
    if stripped.startswith(("ac_", "float", "double", "half", "bfloat", "std_float", "ap_float")):
        raise ConfigError(
            f"{where}: got {text!r}; aptune emulates fixed-point types only: {_PRECISION_ALLOWED}"
        )
    try:
        return FixedType.parse(_normalise_precision(stripped))
    except (ValueError, TypeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"{where}: cannot use {text!r}: {detail} (allowed: {_PRECISION_ALLOWED})"
        ) from exc


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and value > 0


def _check_positive_int(value: Any, where: str) -> None:
    if not _is_positive_int(value):
        raise ConfigError(f"{where}: got {value!r}; expected a positive integer (1, 2, 3, ...)")


def _check_precision_block(value: Any, where: str, *, model: bool) -> None:
    if isinstance(value, Mapping):
        for var, precision in value.items():
            if not isinstance(var, str):
                raise ConfigError(f"{where}: key {var!r} is not a string; expected variable names")
            parsed = parse_precision(precision, f"{where}.{var}")
            if model and var == "default" and parsed is None:
                raise ConfigError(
                    f"{where}.default: got 'auto'; the model default must be a concrete type "
                    "such as ap_fixed<16,6>"
                )
    else:
        parsed = parse_precision(value, where)
        if model and parsed is None:
            raise ConfigError(
                f"{where}: got 'auto'; the model default must be a concrete type such as "
                "ap_fixed<16,6>"
            )


def _check_strategy(value: Any, path: str) -> None:
    """A Strategy hls4ml acts on; a softmax implementation name is accepted with a warning."""
    snake = _snake(value) if isinstance(value, str) else None
    if snake in SOFTMAX_STRATEGIES:
        warnings.warn(
            f"{path}: {value!r} is a softmax implementation; hls4ml 1.3 accepts it as a Strategy "
            "but does not read it (a softmax stays 'stable', other layers use Latency): to "
            f"choose the softmax, write Implementation: {snake}",
            stacklevel=4,
        )
    elif snake not in STRATEGIES:
        # hls4ml snake-cases the name: 'DA' becomes 'd_a' and silently means Latency.
        allowed = "Latency, Resource, ResourceUnrolled, DistributedArithmetic (or da)"
        raise ConfigError(
            f"{path}: got {value!r}; expected one of {allowed} (or, for a softmax, "
            "Implementation: stable, latency, argmax or legacy)"
        )


def _check_block(block: Any, where: str, *, model: bool) -> None:
    """Check a Model, LayerType.<cls> or LayerName.<layer> mapping."""
    if block is None:
        return
    if not isinstance(block, Mapping):
        raise ConfigError(
            f"{where}: got {block!r}; expected a mapping of keys such as Precision, ReuseFactor"
        )
    for key, value in block.items():
        path = f"{where}.{key}"
        if not isinstance(key, str):
            raise ConfigError(f"{where}: key {key!r} is not a string")
        snake = _snake(key)
        if key == "Precision":
            _check_precision_block(value, path, model=model)
        elif snake.endswith("reuse_factor") or snake in _POSITIVE_INT_KEYS:
            _check_positive_int(value, path)
        elif snake == "strategy":
            _check_strategy(value, path)
        elif snake.endswith("_t") and not model:
            parse_precision(value, path)


def _check_name_list(value: Any, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: got {value!r}; expected a list of names")


def _validate(cfg: Mapping[str, Any]) -> None:
    for key in cfg:
        if not isinstance(key, str):
            raise ConfigError(f"HLSConfig: key {key!r} is not a string; expected Model, LayerType")
    _check_block(cfg.get("Model"), "Model", model=True)
    for section in ("LayerType", "LayerName"):
        entries = cfg.get(section)
        if entries is None:
            continue
        if not isinstance(entries, Mapping):
            what = "class" if section == "LayerType" else "layer"
            raise ConfigError(
                f"{section}: got {entries!r}; expected a mapping of {what} name to settings"
            )
        for name, block in entries.items():
            _check_block(block, f"{section}.{name}", model=False)
    for section in ("Flows", "Optimizers", "SkipOptimizers"):
        _check_name_list(cfg.get(section), section)
    if cfg.get("Optimizers") is not None and cfg.get("SkipOptimizers") is not None:
        raise ConfigError(
            "Optimizers and SkipOptimizers are both set; hls4ml accepts one or the other: "
            "remove one"
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
    _validate(cfg)
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
                    f"{section}.{name}.{key}" for key in block if _snake(str(key)) not in known
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
    _validate(body)
    if project is not None:
        settings = _ordered(
            _plain({k: v for k, v in project.items() if k != "HLSConfig"}), _PROJECT_ORDER
        )
        body = {**settings, "HLSConfig": body}
    return yaml.dump(
        body, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True
    )


def write_config(
    cfg: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    project: Mapping[str, Any] | None = None,
) -> Path:
    """Write :func:`dump_config` text to ``path`` atomically; returns the path."""
    return atomic_write_text(path, dump_config(cfg, project=project))
