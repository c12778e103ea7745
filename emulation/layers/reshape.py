"""Layers that move values without arithmetic: Reshape (and Flatten), zero padding, cropping,
transposition and nearest-neighbour resizing (hls4ml's Vivado io_parallel templates).

Only the cast to the layer's ``result_t`` can change a value here, and only where the C++ writes
``res[i] = (res_T) data[j]``:

============== ============================= ===================================================
hls4ml class   template                      cast
============== ============================= ===================================================
Reshape        none (io_parallel: in place)  none: the output *is* the input array, its type too
ZeroPadding1D  ``zeropad1d_cl``              every copied value to result_t; padding is 0
ZeroPadding2D  ``zeropad2d_cl``              same
Cropping1D     ``cropping1d_cl``             every kept value to result_t
Cropping2D     ``cropping2d_cl``             same
Transpose      ``transpose``                 every value to result_t
Resize         ``resize_nearest``            none: the output array has the input's type
============== ============================= ===================================================

hls4ml builds ZeroPadding, Cropping, Transpose and Resize with their input's precision object,
so a result precision in the config is silently ignored and the cast is usually the identity.
It is not when the input was 'auto' at that moment: ZeroPadding, Transpose and Resize then
follow the input's inferred type, but Cropping gets the model default (a real cast). A Resize
whose result type differs from its input's (after a Reshape) does not compile in hls4ml and is
refused here.

Keras ``Flatten`` and ``Reshape`` both become hls4ml ``Reshape``; a Reshape that ends the model
is removed by hls4ml. Keras ``Permute`` becomes ``Transpose``, ``UpSampling1D/2D`` become
``Resize``. Only channels-last data is reproduced (the io_parallel channels-first variants are
either missing or differ): a channels-first layer raises `UnsupportedLayerError`.
"""

from __future__ import annotations

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FixedType
from emulation.layers.base import Context, Node, register
from emulation.layers.exact import Caster

__all__ = [
    "crop_1d",
    "crop_2d",
    "resize_nearest",
    "transpose",
    "zero_pad_1d",
    "zero_pad_2d",
]


def zero_pad_1d(
    x: np.ndarray,
    pad_left: int,
    pad_right: int,
    *,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "layer",
) -> np.ndarray:
    """Zero padding along the width of ``(batch, width, chan)``.

    The copied values are cast to ``result_t`` (``*(res++) = (res_T) *(data++)``); the padding is
    0, exact in every type (nnet_padding.h ``zeropad1d_cl``).
    """
    y = Caster(ctx, point)(x, result_t, "result_t")
    return np.pad(y, ((0, 0), (pad_left, pad_right), (0, 0)))


def zero_pad_2d(
    x: np.ndarray,
    pads: tuple[int, int, int, int],
    *,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "layer",
) -> np.ndarray:
    """Zero padding of ``(batch, height, width, chan)``; ``pads`` is (top, bottom, left, right).

    Copied values are cast to ``result_t``, the padding is 0 (nnet_padding.h ``zeropad2d_cl``).
    """
    top, bottom, left, right = pads
    y = Caster(ctx, point)(x, result_t, "result_t")
    return np.pad(y, ((0, 0), (top, bottom), (left, right), (0, 0)))


def crop_1d(
    x: np.ndarray,
    crop_left: int,
    crop_right: int,
    *,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "layer",
) -> np.ndarray:
    """Cropping along the width of ``(batch, width, chan)``; kept values cast to ``result_t``.

    nnet_cropping.h ``cropping1d_cl``: ``*(res++) = (res_T) *(data++)``.
    """
    width = x.shape[1]
    return Caster(ctx, point)(x[:, crop_left : width - crop_right], result_t, "result_t")


def crop_2d(
    x: np.ndarray,
    crops: tuple[int, int, int, int],
    *,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "layer",
) -> np.ndarray:
    """Cropping of ``(batch, height, width, chan)``; ``crops`` is (top, bottom, left, right).

    Kept values are cast to ``result_t`` (nnet_cropping.h ``cropping2d_cl``).
    """
    top, bottom, left, right = crops
    h, w = x.shape[1:3]
    return Caster(ctx, point)(x[:, top : h - bottom, left : w - right], result_t, "result_t")


def transpose(
    x: np.ndarray,
    perm: tuple[int, ...],
    *,
    result_t: FixedType,
    ctx: Context | None = None,
    point: str = "layer",
) -> np.ndarray:
    """Permute the per-sample axes by ``perm`` (no batch axis); values cast to ``result_t``.

    nnet_transpose.h ``transpose``: ``res[i] = data[transfer_idx(i)]``, an assignment to res_T.
    """
    y = np.transpose(x, (0, *(p + 1 for p in perm)))
    return Caster(ctx, point)(np.ascontiguousarray(y), result_t, "result_t")


def _nearest_index(n_in: int, n_out: int) -> np.ndarray:
    # nnet_image.h: ratio = ((n_in << 16) / n_out) + 1, source = (i * ratio) >> 16, in int
    ratio = ((n_in << 16) // n_out) + 1
    return (np.arange(n_out, dtype=np.int64) * ratio) >> 16


def resize_nearest(x: np.ndarray, out_height: int, out_width: int) -> np.ndarray:
    """Nearest-neighbour resize of ``(batch, height, width, chan)``; no cast.

    Source pixels follow the template's 16-bit fixed-point ratio (nnet_image.h
    ``resize_nearest``), which equals ``i // factor`` for Keras's integer upsampling factors.
    """
    rows = _nearest_index(x.shape[1], out_height)
    cols = _nearest_index(x.shape[2], out_width)
    return x[:, rows][:, :, cols]


# --- adapters ---------------------------------------------------------------------------------


def _require_channels_last(node: Node) -> None:
    if node.attrs.get("data_format", "channels_last") != "channels_last":
        raise UnsupportedLayerError(
            f"layer {node.name!r} ({node.kind}) uses data_format="
            f"{node.attrs.get('data_format')!r}; the emulator reproduces channels_last only. "
            "Convert the model with channels_last data."
        )


@register("Reshape")
def _reshape_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    # io_parallel reshapes in place: the output variable is the input's, with its type
    x = inputs[0]
    return x.reshape(x.shape[0], *node.output_shape)


@register("ZeroPadding1D")
def _zero_pad_1d_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    _require_channels_last(node)
    a = node.attrs
    return zero_pad_1d(
        inputs[0],
        int(a["pad_left"]),
        int(a["pad_right"]),
        result_t=node.types["result_t"],
        ctx=ctx,
        point=node.name,
    )


@register("ZeroPadding2D")
def _zero_pad_2d_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    _require_channels_last(node)
    a = node.attrs
    pads = (int(a["pad_top"]), int(a["pad_bottom"]), int(a["pad_left"]), int(a["pad_right"]))
    return zero_pad_2d(inputs[0], pads, result_t=node.types["result_t"], ctx=ctx, point=node.name)


@register("Cropping1D")
def _crop_1d_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    a = node.attrs
    return crop_1d(
        inputs[0],
        int(a["crop_left"]),
        int(a["crop_right"]),
        result_t=node.types["result_t"],
        ctx=ctx,
        point=node.name,
    )


@register("Cropping2D")
def _crop_2d_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    _require_channels_last(node)
    a = node.attrs
    crops = (int(a["crop_top"]), int(a["crop_bottom"]), int(a["crop_left"]), int(a["crop_right"]))
    return crop_2d(inputs[0], crops, result_t=node.types["result_t"], ctx=ctx, point=node.name)


@register("Transpose")
def _transpose_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    perm = tuple(int(p) for p in node.attrs["perm"])
    x = inputs[0]
    if len(perm) != x.ndim - 1:
        # hls4ml turns a one-axis "transpose" into a copy
        perm = tuple(range(x.ndim - 1))
    return transpose(x, perm, result_t=node.types["result_t"], ctx=ctx, point=node.name)


@register("Resize")
def _resize_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    _require_channels_last(node)
    algorithm = node.attrs.get("algorithm", "nearest")
    if algorithm != "nearest":
        raise UnsupportedLayerError(
            f"layer {node.name!r} (Resize) uses interpolation {algorithm!r}; hls4ml's io_parallel "
            "Resize implements 'nearest' only. Use interpolation='nearest'."
        )
    if node.input_types and node.types["result_t"] != node.input_types[0]:
        raise UnsupportedLayerError(
            f"layer {node.name!r} (Resize) has result type {node.types['result_t']} but input "
            f"type {node.input_types[0]}; hls4ml's resize_nearest takes one type for both, so "
            "this model does not compile in hls4ml either (it happens after a Reshape whose "
            "configured precision differs from its input's). Give the layer before the Reshape "
            "and the Reshape the same precision"
        )
    x = inputs[0]
    if x.ndim == 3:  # UpSampling1D: (batch, width, chan) seen as one row
        y = resize_nearest(x[:, None], 1, int(node.attrs["out_width"]))
        return y[:, 0]
    return resize_nearest(x, int(node.attrs["out_height"]), int(node.attrs["out_width"]))


@register("Clone")
def _clone_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    # io_stream copies a stream read by several layers (nnet::clone_stream): same values
    return inputs[0]


@register("Repack")
def _repack_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    # io_stream's Reshape (nnet::repack_stream) copies each value into the Reshape's result_t
    x = inputs[0].reshape(inputs[0].shape[0], *node.output_shape)
    return Caster(ctx, node.name)(x, node.types["result_t"], "result_t")
