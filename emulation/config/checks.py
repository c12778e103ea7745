"""The checks of an ``HLSConfig``: every value hls4ml would trip on raises a :class:`ConfigError`
naming the key path, what was given and what is allowed; one precision parsed as hls4ml would.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from emulation.errors import ConfigError
from emulation.fixed import FixedType

__all__ = [
    "SECTIONS",
    "SOFTMAX_STRATEGIES",
    "STRATEGIES",
    "parse_precision",
    "snake_case",
    "validate",
]

#: Top-level sections of HLSConfig, in the order aptune writes them.
SECTIONS = ("Model", "LayerType", "LayerName", "Flows", "Optimizers", "SkipOptimizers")

#: Strategy names hls4ml's Vivado/Vitis backends act on, in snake_case (case-insensitive).
STRATEGIES = ("latency", "resource", "resource_unrolled", "distributed_arithmetic", "da")
#: Softmax implementation names written as a Strategy (hls4ml's own test_softmax.py does):
#: hls4ml 1.3 accepts them but reads a softmax's implementation only from ``Implementation``
#: (the layer stays ``stable``), and every other layer takes such a Strategy as Latency.
SOFTMAX_STRATEGIES = ("stable", "argmax", "legacy")

_POSITIVE_INT_KEYS = frozenset({"table_size", "inv_table_size", "exp_table_size", "target_cycles"})

_PRECISION_ALLOWED = "ap_[u]fixed<W,I[,Q[,O[,N]]]>, ap_[u]int<W> (also without 'ap_') or 'auto'"


def snake_case(name: str) -> str:
    """hls4ml's snake_case of a key (``TableSize`` -> ``table_size``), as it matches keys."""
    # hls4ml.utils.string_utils.convert_to_snake_case, copied to avoid importing hls4ml here.
    return re.sub(r"_{2,}", "_", re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower())


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
    snake = snake_case(value) if isinstance(value, str) else None
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
        snake = snake_case(key)
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


def validate(cfg: Mapping[str, Any]) -> None:
    """Raise a :class:`ConfigError` for the first value of ``cfg`` hls4ml would trip on."""
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
