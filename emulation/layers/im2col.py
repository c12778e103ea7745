"""The windows of hls4ml's io_parallel convolutions and poolings (``fill_buffer``, im2col).

One home for the geometry both `emulation.layers.conv` and `emulation.layers.pooling` read: a
node's kernel, strides and padding (`layer_geometry`), the output size they give
(`output_size`) and the im2col rows themselves (`windows_2d`), ordered kernel row, kernel
column, channel as hls4ml's generated ``fill_buffer`` copies them.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from emulation.errors import UnsupportedLayerError
from emulation.layers.base import Node

__all__ = ["Pads", "layer_geometry", "output_size", "windows_2d"]


# Values of one im2col block (samples x pixels x window): 4 Mi float64 = 32 MiB.
_BLOCK = 1 << 22

Pads = tuple[int, int, int, int]


def windows_2d(
    x: np.ndarray,
    kernel: tuple[int, int],
    strides: tuple[int, int],
    pads: Pads,
    pad_value: float = 0.0,
) -> np.ndarray:
    """im2col of ``(batch, height, width, chan)``: ``(batch, out_h, out_w, kh * kw * chan)``.

    Rows are the windows of hls4ml's ``fill_buffer`` (``_compute_conv2d_im2col``), ordered
    kernel row, kernel column, channel; ``pads`` is (top, bottom, left, right), filled with
    ``pad_value``. The output height is ``(h + top + bottom - kh) // stride_h + 1`` (width
    alike). Returns a new array (a copy, not a view).
    """
    kh, kw = kernel
    sh, sw = strides
    top, bottom, left, right = pads
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=pad_value)
    # (batch, oh, ow, chan, kh, kw) -> (batch, oh, ow, kh, kw, chan)
    win = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    batch, oh, ow, chan = win.shape[:4]
    return np.ascontiguousarray(win.transpose(0, 1, 2, 4, 5, 3)).reshape(
        batch, oh, ow, kh * kw * chan
    )


def _samples_per_block(pixels: int, n_in: int) -> int:
    return max(1, _BLOCK // max(1, pixels * n_in))


def output_size(
    size: tuple[int, ...], kernel: tuple[int, int], strides: tuple[int, int], pads: Pads
) -> tuple[int, int]:
    """Output (height, width) of hls4ml's im2col (``_compute_conv2d_im2col``, no dilation)."""
    h = (size[0] + pads[0] + pads[1] - kernel[0]) // strides[0] + 1
    w = (size[1] + pads[2] + pads[3] - kernel[1]) // strides[1] + 1
    return h, w


def _refuse(node: Node, what: str, fix: str) -> UnsupportedLayerError:
    return UnsupportedLayerError(f"layer {node.name!r} ({node.kind}) {what}; {fix}")


def layer_geometry(node: Node) -> tuple[tuple[int, int], tuple[int, int], Pads, tuple[int, int]]:
    """Kernel, strides, pads and output (height, width) of a 1D or 2D conv/pool node."""
    a = node.attrs
    if a.get("data_format", "channels_last") != "channels_last":
        raise _refuse(
            node,
            f"uses data_format={a.get('data_format')!r}",
            "the emulator reproduces channels_last only (hls4ml's io_parallel convolutions "
            "have no channels_first kernels): use channels_last",
        )
    two_d = "2D" in node.kind
    kernel = (
        int(a.get("filt_height", a.get("pool_height", 1))) if two_d else 1,
        int(a.get("filt_width", a.get("pool_width", 1))),
    )
    strides = (int(a.get("stride_height", 1)) if two_d else 1, int(a["stride_width"]))
    pads = (
        int(a.get("pad_top", 0)) if two_d else 0,
        int(a.get("pad_bottom", 0)) if two_d else 0,
        int(a.get("pad_left", 0)),
        int(a.get("pad_right", 0)),
    )
    out = (node.output_shape[0], node.output_shape[1]) if two_d else (1, node.output_shape[0])
    return kernel, strides, pads, out
