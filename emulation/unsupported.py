"""Keras layers and config settings refused before hls4ml converts the model.

hls4ml 1.3 crashes on these with messages that name neither the layer nor a fix (a
SeparableConv: "'SeparableConv2D' object has no attribute 'kernel'"; a dilated convolution:
"array split does not result in an equal division"; distributed arithmetic without da4ml:
"No module named 'da4ml'"), so they are caught here, by layer name and class, with the fix.
Layers hls4ml converts but the emulator does not reproduce yet (`NOT_EMULATED`) are refused here
too, before the conversion, each with the nearest supported alternative.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulation.config import config_section
from emulation.errors import UnsupportedLayerError

__all__ = ["NOT_EMULATED", "refuse_unsupported"]

_DA = ("distributedarithmetic", "da")

_SIMPLE_RNN = (
    "hls4ml 1.3 has no Vivado or Vitis template for SimpleRNN (only Quartus and oneAPI have "
    "one): it converts and compiles the model but writes no code for this layer, so the C "
    "simulation never sets its output; use an LSTM or a GRU, which are emulated"
)
#: Keras classes hls4ml 1.3 converts that the emulator does not reproduce: why, and what to use.
NOT_EMULATED = {
    "SimpleRNN": _SIMPLE_RNN,
}


def _strategy(config: Mapping[str, Any], layer: Any) -> tuple[str, str] | None:
    """(where it is set, value) of the Strategy that applies to ``layer``, most specific first
    (names matched as hls4ml matches them, ignoring case)."""
    cls = type(layer).__name__
    for where, block in (
        (f"LayerName.{layer.name}", config_section(config, "LayerName").get(layer.name.lower())),
        (f"LayerType.{cls}", config_section(config, "LayerType").get(cls.lower())),
        ("Model", config.get("Model")),
    ):
        if isinstance(block, Mapping) and "Strategy" in block:
            return f"{where}.Strategy", str(block["Strategy"])
    return None


def refuse_unsupported(model: Any, config: Mapping[str, Any]) -> None:
    """Raise `UnsupportedLayerError` for the first layer of ``model`` the emulator refuses.

    Refused: SeparableConv1D/2D, convolutions with a dilation rate above 1, layers whose
    Strategy is ``distributed_arithmetic`` (``da``), and the classes of `NOT_EMULATED`. Each
    message names the layer, its class and what to use instead.
    """
    for layer in getattr(model, "layers", []):
        cls = type(layer).__name__
        if cls in NOT_EMULATED:
            raise UnsupportedLayerError(
                f"layer {layer.name!r} of class {cls} is not supported: {NOT_EMULATED[cls]}"
            )
        if cls.startswith("SeparableConv"):
            dims = cls.removeprefix("SeparableConv")
            raise UnsupportedLayerError(
                f"layer {layer.name!r} of class {cls} is not supported: hls4ml 1.3's Keras 3 "
                f"converter cannot read it; build it as a DepthwiseConv{dims} followed by a "
                f"Conv{dims} with kernel size 1 (the same products), which are supported"
            )
        dilation = getattr(layer, "dilation_rate", None)
        if dilation is not None and any(int(d) != 1 for d in tuple(dilation)):
            raise UnsupportedLayerError(
                f"layer {layer.name!r} of class {cls} uses dilation_rate={tuple(dilation)}: "
                "hls4ml 1.3 ignores dilation (its windows would not match Keras); use "
                "dilation_rate=1"
            )
        if not (hasattr(layer, "kernel") or hasattr(layer, "depthwise_kernel")):
            continue
        strategy = _strategy(config, layer)
        if strategy and strategy[1].lower().replace("_", "") in _DA:
            raise UnsupportedLayerError(
                f"layer {layer.name!r} of class {cls} uses {strategy[0]} {strategy[1]!r} "
                "(distributed arithmetic), which the emulator does not reproduce; set "
                f"Strategy: Latency (or Resource) for it, e.g. LayerName: {{{layer.name}: "
                "{Strategy: Latency}}"
            )
