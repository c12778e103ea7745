"""The keys of hls4ml's config schema: which key sets which type of a layer, at which level, and
which keys hls4ml silently ignores; hls4ml's own default config.

hls4ml 1.3 applies a layer's settings from ``LayerName.<layer>``, else ``LayerType.<class>``,
else ``Model`` (`layer_blocks`, `layer_setting`, `configured_type`). Table types are set only by
the layer keys ``table_t``, ``exp_table_t``, ``inv_table_t`` and ``inv_inp_t``: the
``Precision: {table: ...}`` entries ``config_from_keras_model`` writes are never read
(`IGNORED_PRECISION_KEYS`). The tuner writes types through `set_type` only, so what it writes is
what hls4ml reads. `emulation.config` (the reader and writer) re-exports all of these.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from emulation.fixed import FixedType

__all__ = [
    "IGNORED_PRECISION_KEYS",
    "LAYER_LEVEL_TYPES",
    "TABLE_SIZE_KEYS",
    "config_section",
    "configured_type",
    "default_config",
    "ignored_keys",
    "layer_blocks",
    "layer_setting",
    "set_type",
    "without_ignored_keys",
]

#: Precision sub-keys that config_from_keras_model writes but hls4ml 1.3 never reads, each with
#: the layer key that does set that type (tables take their types only from layer keys).
IGNORED_PRECISION_KEYS = {
    "table": "table_t",
    "exp_table": "exp_table_t",
    "inv_table": "inv_table_t",
    "inv_inp": "inv_inp_t",
}
#: Types set only by a key of the layer itself (``table_t: ...``), never through ``Precision``.
LAYER_LEVEL_TYPES = frozenset(IGNORED_PRECISION_KEYS.values())
#: Layer keys that size the lookup tables (softmax: ``TableSize`` sets both, ``InvTableSize``
#: the inverse one).
TABLE_SIZE_KEYS = ("TableSize", "InvTableSize")


def config_section(cfg: Mapping[str, Any], name: str) -> dict[str, Mapping[str, Any]]:
    """A LayerName/LayerType section keyed by lower-case name (hls4ml matches that way)."""
    entries = cfg.get(name)
    if not isinstance(entries, Mapping):
        return {}
    return {str(k).lower(): v for k, v in entries.items() if isinstance(v, Mapping)}


def ignored_keys(cfg: Mapping[str, Any]) -> list[str]:
    """List known-looking keys that hls4ml 1.3 silently ignores: table types under Precision.

    ``Precision: {table: ...}`` (also ``exp_table``, ``inv_table``, ``inv_inp``) is written by
    ``config_from_keras_model`` but never read; the working keys are the layer's own
    ``table_t``, ``exp_table_t``, ``inv_table_t`` and ``inv_inp_t``.
    """
    blocks: list[tuple[str, Any]] = [("Model", cfg.get("Model"))]
    for section in ("LayerType", "LayerName"):
        entries = cfg.get(section)
        if isinstance(entries, Mapping):
            blocks += [(f"{section}.{name}", block) for name, block in entries.items()]
    found = []
    for where, block in blocks:
        precision = block.get("Precision") if isinstance(block, Mapping) else None
        if isinstance(precision, Mapping):
            found += [f"{where}.Precision.{k}" for k in precision if k in IGNORED_PRECISION_KEYS]
    return found


# ---------------------------------------------------------------------------------------------
# Precedence: which block sets a layer's key


def layer_blocks(cfg: Mapping[str, Any], layer: str, kind: str) -> list[Mapping[str, Any]]:
    """The blocks that configure one layer, most specific first: ``LayerName.<layer>``, then
    ``LayerType.<kind>`` (hls4ml's class name), both matched case-insensitively as hls4ml does.
    ``Model`` comes after both (see `layer_setting`)."""
    found = []
    for section, key in (("LayerName", layer), ("LayerType", kind)):
        block = config_section(cfg, section).get(key.lower())
        if block is not None:
            found.append(block)
    return found


def layer_setting(cfg: Mapping[str, Any], layer: str, kind: str, key: str, default: Any = None):
    """The value of ``key`` (``ReuseFactor``, ``Strategy``...) that applies to one layer: from
    its LayerName block, else its LayerType block, else ``Model``, else ``default``."""
    for block in layer_blocks(cfg, layer, kind):
        if key in block:
            return block[key]
    model = cfg.get("Model")
    return model.get(key, default) if isinstance(model, Mapping) else default


def configured_type(cfg: Mapping[str, Any], layer: str, kind: str, type_name: str) -> str | None:
    """The precision text the config gives one type of one layer (``'auto'`` included), or
    None when no LayerName/LayerType block sets it (the model default then applies).

    In each block, most specific first: the layer key ``<type_name>`` itself, a ``Precision``
    string, then ``Precision.<var>`` or ``Precision.default`` (never for a table type: those
    sub-keys are `IGNORED_PRECISION_KEYS`).
    """
    var = type_name.removesuffix("_t")
    for block in layer_blocks(cfg, layer, kind):
        if isinstance(block.get(type_name), str):
            return block[type_name]
        precision = block.get("Precision")
        if isinstance(precision, str):
            return precision
        if isinstance(precision, Mapping) and var not in IGNORED_PRECISION_KEYS:
            for key in (var, "default"):
                if isinstance(precision.get(key), str):
                    return precision[key]
    return None


def set_type(layer_cfg: dict[str, Any], type_name: str, t: FixedType | str) -> None:
    """Set one type (``result_t``, ``table_t``...) in one layer's block, in place, through the
    key hls4ml honours: the layer key for `LAYER_LEVEL_TYPES`, ``Precision.<var>`` otherwise."""
    text = t.to_config() if isinstance(t, FixedType) else t
    if type_name in LAYER_LEVEL_TYPES:
        layer_cfg[type_name] = text
    else:
        layer_cfg.setdefault("Precision", {})[type_name.removesuffix("_t")] = text


def without_ignored_keys(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``cfg`` without the `IGNORED_PRECISION_KEYS` (at every level), which only
    mislead a reader: the types they name come from the layer keys."""
    out = copy.deepcopy(dict(cfg))
    blocks = [out.get("Model")]
    for section in ("LayerType", "LayerName"):
        entries = out.get(section)
        if isinstance(entries, Mapping):
            blocks += list(entries.values())
    for block in blocks:
        precision = block.get("Precision") if isinstance(block, Mapping) else None
        if isinstance(precision, dict):
            for key in IGNORED_PRECISION_KEYS:
                precision.pop(key, None)
    return out


def default_config(
    model: Any, *, granularity: str = "name", default_precision: str | None = None
) -> dict[str, Any]:
    """hls4ml's own default config of a Keras model: ``config_from_keras_model`` for the
    Vivado backend (``granularity='name'``: one LayerName block per layer), its notes quieted.

    ``default_precision`` replaces hls4ml's ``ap_fixed<16,6>`` as the model default.
    """
    import warnings

    import hls4ml

    from emulation.io.hls4ml_output import quiet_hls4ml

    options = {} if default_precision is None else {"default_precision": default_precision}
    with warnings.catch_warnings(), quiet_hls4ml():
        warnings.simplefilter("ignore")
        return hls4ml.utils.config_from_keras_model(
            model, granularity=granularity, backend="Vivado", **options
        )
