"""What `csim.compare.compare` returns: plain dataclasses whose ``to_dict()`` is JSON-ready.

A `Comparison` holds the emulator against the C simulation (bit-identical output values, LSB
differences, one `LayerAgreement` per traced layer and the first `Divergence`) and each side
against float Keras (`VsFloat`); the report figures are drawn from its ``to_dict()``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["Comparison", "Divergence", "LayerAgreement", "VsFloat"]


@dataclass(frozen=True)
class VsFloat:
    """One fixed-point side (emulator or C simulation) against float Keras.

    Attributes
    ----------
    top_class_agreement : share of samples whose top class is float Keras's (single-output
        models: the same side of 0.5).
    max_abs_error, mean_abs_error : over every output value.
    accuracy : share of samples whose top class is the label (None without labels).
    """

    top_class_agreement: float
    max_abs_error: float
    mean_abs_error: float
    accuracy: float | None = None


@dataclass(frozen=True)
class Divergence:
    """The first place where emulator and C simulation differ.

    Attributes
    ----------
    layer, kind : hls4ml's layer name and class.
    sample : index of the first sample whose value differs in that layer.
    index : position of the first differing value in that sample's layer output.
    emulator, csim : the two values there.
    lsb_difference : their difference in LSBs of the layer's type (None when unknown).
    emulator_type, csim_type : the layer's result type on each side (they differ when the
        two were handed different configs).
    differing, total : values of the layer (all samples) that differ, and all of them.
    """

    layer: str
    kind: str
    sample: int
    index: list[int]
    emulator: float
    csim: float
    lsb_difference: float | None
    emulator_type: str | None
    csim_type: str | None
    differing: int
    total: int


@dataclass(frozen=True)
class LayerAgreement:
    """How one traced layer's outputs compare, over every sample."""

    name: str
    kind: str
    type: str | None
    identical: int
    total: int
    max_lsb_difference: float | None


@dataclass
class Comparison:
    """Result of `compare`; ``to_dict()`` gives the JSON form.

    Attributes
    ----------
    n_samples : samples compared.
    n_values : output values compared (samples x outputs per sample).
    identical : output values bit-identical between emulator and C simulation.
    output_type : the C++ type of the (first) output layer.
    max_lsb_difference : largest |emulator - C simulation| in LSBs of the output type.
    max_abs_difference : the same in absolute terms.
    first_divergence : where the two first differ (None when every traced value agrees, or
        when the C simulation gives outputs only).
    layers : per traced layer, in execution order.
    float_accuracy : float Keras against the labels (None without labels).
    emulator, csim : each side against float Keras.
    overflows : the emulator's ``{"<layer>.<type>": {count, total, share, max_abs}}``.
    histograms : the difference distributions the report plots.
    hls_tool : 'gxx', 'vivado' or 'vitis'.
    cached : the compiled C simulation came from the cache.
    timings : seconds per stage (float, emulate, convert, compile, csim).
    project_dir : the hls4ml project that was simulated.
    notes : anything the reader should know (e.g. a vendor run reports outputs only).
    """

    n_samples: int
    n_values: int
    identical: int
    output_type: str | None
    max_lsb_difference: float | None
    max_abs_difference: float
    first_divergence: Divergence | None
    layers: list[LayerAgreement]
    float_accuracy: float | None
    emulator: VsFloat
    csim: VsFloat
    overflows: dict[str, dict[str, float | int]]
    histograms: dict[str, Any]
    hls_tool: str = "gxx"
    cached: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    project_dir: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def identical_share(self) -> float:
        """Share of output values that are bit-identical."""
        return self.identical / self.n_values if self.n_values else 1.0

    @property
    def layers_agree(self) -> bool:
        """Every traced layer value is identical."""
        return all(layer.identical == layer.total for layer in self.layers)

    @property
    def agree(self) -> bool:
        """Every output value and every traced layer value is identical."""
        return self.identical == self.n_values and self.layers_agree

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (lists, numbers, strings, None)."""
        out = asdict(self)
        out["identical_share"] = self.identical_share
        out["agree"] = self.agree
        return _jsonable(out)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
