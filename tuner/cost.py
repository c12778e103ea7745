"""Hardware cost of an emulated network: bit operations, EBOPs and a DSP/LUT estimate.

All figures are per inference for hls4ml's Vivado backend with ``io_parallel``:

- **BOPs**: for every multiplication by a non-zero constant weight, the weight type's width
  times the input type's width (zero weights are pruned by HLS and cost nothing); a recurrent
  layer multiplies its input and its state by its two kernels at every time step.
- **EBOPs** (HGQ's effective BOPs): the same, but with the bits a constant weight really spans
  (its highest to its lowest non-zero bit); HGQ reports EBOPs ~ LUT + 55 x DSP after place and
  route, so aptune's figures sit beside its published ones.
- **LUT-equivalents** (``luteq``, the default objective): LUT + ``LUT_PER_DSP`` x DSP, the
  weighting HGQ uses to put both on one scale, so a config that moves multipliers from DSPs
  into fabric is not called cheaper for it.
- **DSP / LUT**: a coarse estimate for sizing, not a synthesis result. A multiplication is
  placed on DSP48 slices when both operands are wider than ``DSP_MIN_BITS`` and together wider
  than ``DSP_MIN_SUM``; a DSP48E2 multiplies 27 x 18 bits, wider products tile several. Narrower
  products are built in fabric at about ``LUT_PER_BIT_PRODUCT`` LUTs per bit product. Each
  addition into an accumulator costs about one LUT per two accumulator bits (carry chains).
  Parallel hardware is divided by the reuse factor. Lookup tables (sigmoid, tanh, softmax)
  are ROMs of ``entries x width`` bits, about one LUT per ``TABLE_BITS_PER_LUT`` bits.
  Calibrate against your synthesis reports before trusting absolute numbers; the tuner uses
  them only to rank candidates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from emulation.fixed import FixedType
from emulation.layers.base import Node

__all__ = ["OBJECTIVES", "RECURRENT_KINDS", "Cost", "LayerCost", "network_cost", "spanned_bits"]

# What the tuner can minimise (the first is the default).
OBJECTIVES = ("luteq", "bops", "ebops", "dsp", "lut")

DSP_MIN_BITS = 5
DSP_MIN_SUM = 16
DSP_A_BITS, DSP_B_BITS = 27, 18
LUT_PER_BIT_PRODUCT = 0.6
LUT_PER_ACCUM_BIT = 0.5
TABLE_BITS_PER_LUT = 64
# LUTs one DSP48 slice stands for in the LUT-equivalent figure (as HGQ weighs them)
LUT_PER_DSP = 55
# (type of the table, attribute holding its size) of each lookup table hls4ml generates
TABLES = (
    ("table_t", "table_size"),
    ("exp_table_t", "exp_table_size"),
    ("inv_table_t", "inv_table_size"),
)

# hls4ml layer classes whose 'weight' multiplies the input once per output position
MULTIPLYING_KINDS = frozenset(
    {
        "Dense",
        "Conv1D",
        "Conv2D",
        "PointwiseConv1D",
        "PointwiseConv2D",
        "DepthwiseConv1D",
        "DepthwiseConv2D",
        "SeparableConv1D",
        "SeparableConv2D",
    }
)


# hls4ml layer classes with an input and a recurrent kernel applied at every time step
RECURRENT_KINDS = frozenset({"LSTM", "GRU", "Bidirectional"})


@dataclass(frozen=True)
class LayerCost:
    """Cost of one layer; plain data for tuning.json."""

    layer: str
    multiplications: int
    bops: float
    ebops: float
    dsp: float
    lut: float


@dataclass(frozen=True)
class Cost:
    """Cost of the whole network and of each multiplying layer."""

    bops: float
    ebops: float
    dsp: float
    lut: float
    layers: tuple[LayerCost, ...]
    table_bits: int = 0

    @property
    def luteq(self) -> float:
        """LUT-equivalents: LUT + `LUT_PER_DSP` x DSP."""
        return self.lut + LUT_PER_DSP * self.dsp

    def objective(self, name: str) -> float:
        """The figure the tuner minimises: ``luteq``, ``bops``, ``ebops``, ``dsp`` or ``lut``."""
        return float(getattr(self, name))

    def to_dict(self) -> dict:
        """JSON-ready form (with the LUT-equivalents)."""
        return asdict(self) | {"luteq": self.luteq}


def spanned_bits(values: np.ndarray, t: FixedType) -> np.ndarray:
    """Bits each exact value of type ``t`` spans, from its highest to its lowest set bit.

    Zero spans 0 bits. The sign is not counted: a multiplier by a negative constant is a
    subtraction of the same shifted terms.
    """
    m = np.abs(np.round(np.ldexp(np.asarray(values, dtype=np.float64), t.fractional)))
    m = m.astype(np.uint64)
    out = np.zeros(m.shape, dtype=np.int64)
    nz = m != 0
    if np.any(nz):
        v = m[nz]
        high = np.floor(np.log2(v.astype(np.float64))).astype(np.int64)
        low = np.log2((v & (~v + np.uint64(1))).astype(np.float64)).astype(np.int64)
        out[nz] = high - low + 1
    return out


def _multiplier_dsp_lut(a_bits: int, b_bits: int) -> tuple[float, float]:
    """DSP slices and LUTs of one multiplier of ``a_bits`` x ``b_bits``."""
    a, b = max(a_bits, b_bits), min(a_bits, b_bits)
    if b >= DSP_MIN_BITS and a + b >= DSP_MIN_SUM:
        return float(math.ceil(a / DSP_A_BITS) * math.ceil(b / DSP_B_BITS)), 0.0
    return 0.0, LUT_PER_BIT_PRODUCT * a * b


def _kernel_cost(
    name: str,
    w: np.ndarray,
    w_t: FixedType,
    x_bits: int,
    positions: int,
    reuse: int,
    accum: FixedType | None,
) -> LayerCost:
    """Cost of one constant matrix applied ``positions`` times per inference to ``x_bits``-bit
    inputs, its multipliers built once and shared over ``reuse``."""
    w = np.asarray(w)
    nonzero = w != 0
    n_mult_const = int(np.count_nonzero(nonzero))  # multipliers per output position
    mults = n_mult_const * positions
    bops = float(mults * w_t.width * x_bits)
    ebops = float(np.sum(spanned_bits(w[nonzero], w_t)) * x_bits * positions)
    dsp_each, lut_each = _multiplier_dsp_lut(w_t.width, x_bits)
    # hls4ml io_parallel instantiates one multiplier per non-zero weight, shared over reuse
    instances = n_mult_const / max(reuse, 1)
    acc_lut = LUT_PER_ACCUM_BIT * (accum.width if accum else w_t.width + x_bits) * instances
    return LayerCost(
        layer=name,
        multiplications=mults,
        bops=bops,
        ebops=ebops,
        dsp=dsp_each * instances,
        lut=lut_each * instances + acc_lut,
    )


def _layer_cost(node: Node, input_type: FixedType) -> LayerCost:
    positions = int(np.prod(node.output_shape[:-1])) if len(node.output_shape) > 1 else 1
    reuse = max(int(node.attrs.get("reuse_factor", 1) or 1), 1)
    return _kernel_cost(
        node.name,
        node.weights["weight"],
        node.types["weight_t"],
        input_type.width,
        positions,
        reuse,
        node.types.get("accum_t"),
    )


def _recurrent_cost(node: Node) -> LayerCost:
    """An LSTM / GRU / Bidirectional: per time step (``lstm_stack`` loops over the steps on
    one set of multipliers), the input kernel on the input and the recurrent kernel on the
    state (result_t), for each direction; the few gate products are left out."""
    prefixes = ("forward_", "backward_") if node.kind == "Bidirectional" else ("",)
    steps = int(node.attrs.get("n_timesteps", 1))
    accum = node.types.get("accum_t")
    parts = []
    for p in prefixes:
        for key, x_t, rf in (
            (f"{p}weight", node.input_types[0], f"{p}reuse_factor"),
            (f"{p}recurrent_weight", node.types["result_t"], f"{p}recurrent_reuse_factor"),
        ):
            reuse = int(node.attrs.get(rf, node.attrs.get("reuse_factor", 1)) or 1)
            w_t = node.types[f"{key}_t"]
            parts.append(
                _kernel_cost(node.name, node.weights[key], w_t, x_t.width, steps, reuse, accum)
            )
    return LayerCost(
        layer=node.name,
        multiplications=sum(c.multiplications for c in parts),
        bops=sum(c.bops for c in parts),
        ebops=sum(c.ebops for c in parts),
        dsp=sum(c.dsp for c in parts),
        lut=sum(c.lut for c in parts),
    )


def table_bits(node: Node) -> int:
    """Bits of the lookup tables a layer uses (0 for layers without tables)."""
    activation = str(node.attrs.get("activation", "")).lower()
    if node.kind == "Activation" and activation in ("relu", "linear"):
        return 0  # hls4ml declares a table type for every activation; these compute directly
    total = 0
    for type_name, size_attr in TABLES:
        t = node.types.get(type_name)
        size = node.attrs.get(size_attr) or (node.attrs.get("table_size") if t else None)
        if t is not None and size:
            if node.kind == "Softmax" and type_name == "table_t":
                continue  # the softmax's own tables are exp_table_t and inv_table_t
            total += int(size) * t.width
    return total


def network_cost(nodes: Sequence[Node]) -> Cost:
    """Cost of the emulated network given its nodes in execution order."""
    layers = [
        _layer_cost(node, node.input_types[0])
        if node.kind in MULTIPLYING_KINDS
        else _recurrent_cost(node)
        for node in nodes
        if node.input_types
        and (
            (node.kind in MULTIPLYING_KINDS and "weight" in node.weights)
            or node.kind in RECURRENT_KINDS
        )
    ]
    bits = sum(table_bits(n) for n in nodes)
    return Cost(
        bops=sum(c.bops for c in layers),
        ebops=sum(c.ebops for c in layers),
        dsp=sum(c.dsp for c in layers),
        lut=sum(c.lut for c in layers) + bits / TABLE_BITS_PER_LUT,
        layers=tuple(layers),
        table_bits=bits,
    )
