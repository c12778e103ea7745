"""io_stream: the nodes of hls4ml 1.3's stream graph the emulator reproduces, and how.

Read from hls4ml's stream passes and ``nnet_*_stream.h`` templates. What io_stream changes:

- the graph: ``ZeroPadding1D/2D`` nodes before padded convolutions (the conv is then 'valid'),
  ``Clone`` nodes for an output read by several layers, a ``Repack`` for a Reshape that is not a
  flatten (a cast to the Reshape's result_t; a flatten stays in place). FIFO depths and the conv
  implementation (line buffer or encoded) change no value;
- the softmax: it normalises each stream element (the last axis), where io_parallel's
  ``Activation('softmax')`` on a feature map normalises all its values;
- the selu: its lambda is cast to the input's type (io_parallel: ``ap_ufixed<16,1>``), marked
  on the node as ``selu_lambda_in_input_type``;
- arithmetic in average pooling (`emulation.layers.pooling_stream`): its nodes get the kind
  ``<class>Stream``. Dense, convolutions (each output pixel is ``dense_latency`` /
  ``dense_resource`` over the window, as in io_parallel), activations, batch normalization,
  merges and padding compute what io_parallel computes; so do LSTM and GRU (``lstm_stack`` /
  ``gru_stack`` read one time step per stream element).

Any other layer is refused in io_stream with its name, class and the alternative: Dot,
LayerNormalization and Bidirectional (`STREAM_REFUSED`: hls4ml 1.3 converts them in io_stream
on Vivado but its C++ does not compile), the relu6 activation (`STREAM_REFUSED_ACTIVATIONS`: no
stream function); hls4ml itself refuses EinsumDense and Permute (and, on Vitis, Bidirectional)
in io_stream at conversion.
"""

from __future__ import annotations

import dataclasses
import math

from emulation.errors import UnsupportedLayerError
from emulation.layers.base import Graph, Node
from emulation.layers.im2col import layer_geometry

__all__ = ["STREAM_KINDS", "STREAM_REFUSED", "STREAM_REFUSED_ACTIVATIONS", "stream_graph"]

#: hls4ml layer classes checked against hls4ml's io_stream C simulation.
STREAM_KINDS = frozenset(
    {
        "Input",
        "Dense",
        "Activation",
        "ParametrizedActivation",
        "PReLU",
        "HardActivation",
        "Softmax",
        "BatchNormalization",
        "Conv1D",
        "Conv2D",
        "PointwiseConv1D",
        "PointwiseConv2D",
        "DepthwiseConv1D",
        "DepthwiseConv2D",
        "Pooling1D",
        "Pooling2D",
        "GlobalPooling1D",
        "GlobalPooling2D",
        "Merge",
        "Concatenate",
        "Reshape",
        "Repack",
        "Clone",
        "ZeroPadding1D",
        "ZeroPadding2D",
        "Cropping1D",
        "Cropping2D",
        "Resize",
        "Embedding",
        "LSTM",
        "GRU",
    }
)

_NO_STREAM = (
    "hls4ml 1.3 has no io_stream implementation of it (its C++ does not compile); emulate the "
    "model in io_parallel, where it is emulated"
)
#: hls4ml layer classes hls4ml 1.3 converts in io_stream but cannot compile there.
STREAM_REFUSED = {
    "Dot": _NO_STREAM,
    "LayerNormalization": _NO_STREAM,
    "Bidirectional": (
        "hls4ml 1.3 has no io_stream bidirectional_stack (on Vivado its C++ does not compile, "
        "Vitis refuses it at conversion); emulate the model in io_parallel, where it is emulated"
    ),
}
#: activations hls4ml 1.3 converts in io_stream but has no stream function for.
STREAM_REFUSED_ACTIVATIONS = {
    "relu6": (
        "hls4ml 1.3's nnet_activation_stream.h has no relu6 (its C++ does not compile); use "
        "relu, or emulate the model in io_parallel, where relu6 is emulated"
    )
}

_POOLING = ("Pooling1D", "Pooling2D", "GlobalPooling1D", "GlobalPooling2D")


def _check_stream_pooling(node: Node) -> None:
    """hls4ml's stream pooling asserts a window without padding and a stride equal to the pool
    size (its C simulation aborts otherwise)."""
    kernel, strides, pads, _ = layer_geometry(node)
    if any(pads) or tuple(kernel) != tuple(strides):
        raise UnsupportedLayerError(
            f"layer {node.name!r} of class {node.kind} pools {tuple(kernel)} with strides "
            f"{tuple(strides)} and padding {tuple(pads)}: hls4ml's io_stream pooling asserts "
            "strides equal to the pool size and no padding (its C simulation aborts); use "
            "padding='valid' with strides = pool_size, or io_parallel"
        )


def _stream_softmax(node: Node) -> Node:
    """The stream softmax normalises each stream element (``data_T::size`` values: the last
    axis, or the packs of the layer before an in-place flatten), whatever the layer's axis."""
    n_in = math.prod(node.output_shape)
    pack = node.attrs.get("stream_pack")
    if int(node.attrs.get("n_inner", 1)) > 1 or not pack or pack[1] != 1 or n_in % pack[0]:
        raise UnsupportedLayerError(
            f"layer {node.name!r} of class Softmax normalises over an axis other than the last "
            f"(or packs {pack}) in io_stream, where hls4ml's stream softmax asserts axis=-1; "
            "use axis=-1 or io_parallel"
        )
    if tuple(node.attrs.get("stream_out_pack") or ()) != tuple(pack):
        raise UnsupportedLayerError(
            f"layer {node.name!r} of class Softmax reads {pack[0]}-value stream elements but "
            f"writes {node.attrs.get('stream_out_pack')} (it follows an in-place Flatten): "
            "hls4ml's stream softmax then reads past its input (undefined values in its C "
            "simulation); apply the softmax before the Flatten, put a Dense between, or use "
            "io_parallel"
        )
    return dataclasses.replace(node, attrs={**node.attrs, "n_outer": n_in // pack[0], "n_inner": 1})


def _stream_node(node: Node) -> Node:
    if node.kind in STREAM_REFUSED:
        raise UnsupportedLayerError(
            f"layer {node.name!r} of class {node.kind} is not supported in io_stream: "
            f"{STREAM_REFUSED[node.kind]}"
        )
    if node.kind not in STREAM_KINDS:
        raise UnsupportedLayerError(
            f"layer {node.name!r} of class {node.kind} is not emulated in io_stream; emulate the "
            "model in io_parallel (where it is), or use hls4ml's own C simulation"
        )
    if node.kind == "Softmax":
        return _stream_softmax(node)
    activation = str(node.attrs.get("activation", "")).lower()
    if node.kind == "Activation" and activation in STREAM_REFUSED_ACTIVATIONS:
        raise UnsupportedLayerError(
            f"layer {node.name!r} of class Activation ({activation}) is not supported in "
            f"io_stream: {STREAM_REFUSED_ACTIVATIONS[activation]}"
        )
    if node.kind == "Activation" and activation == "selu":
        return dataclasses.replace(node, attrs={**node.attrs, "selu_lambda_in_input_type": True})
    if node.kind in ("Pooling1D", "Pooling2D"):
        _check_stream_pooling(node)
    if node.kind in _POOLING and str(node.attrs.get("pool_op", "")).lower() == "average":
        return dataclasses.replace(node, kind=f"{node.kind}Stream")
    return node


def stream_graph(graph: Graph) -> Graph:
    """``graph`` (read from an io_stream ModelGraph) with stream average pooling given its own
    kind; `UnsupportedLayerError` for a layer not checked in io_stream."""
    return dataclasses.replace(graph, nodes=[_stream_node(n) for n in graph.nodes])
