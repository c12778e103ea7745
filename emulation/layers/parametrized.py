"""Activations with a parameter, of hls4ml's Vivado io_parallel templates (``nnet_activation.h``).

hls4ml classes ``ParametrizedActivation`` (``leakyrelu``, ``thresholdedrelu``, ``elu``, with the
scalar ``activ_param``) and ``PReLU`` (one alpha per element). hls4ml 1.3 spells the same C++
function two ways: the ``LeakyReLU`` layer gives ``leakyrelu``, ``Activation('leaky_relu')`` (and
``activation='leaky_relu'``) gives ``leaky_relu``; ``ReLU(threshold=t)`` gives
``thresholdedrelu``; ``Activation('elu')`` and ``ELU`` give ``elu``. The scalar parameter is a
double literal in the C++ call, converted to ``param_t`` (by default the input's type).
"""

from __future__ import annotations

import numpy as np

from emulation.errors import UnsupportedLayerError
from emulation.fixed import FixedType, product_type
from emulation.layers.activation import c_int_of_quotient
from emulation.layers.base import Context, Node, input_type, node_type, register
from emulation.layers.exact import Caster, cast_exact, exact_product, select_exact
from emulation.layers.tables import elu_table

__all__ = ["elu", "leaky_relu", "prelu", "thresholded_relu"]


# ------------------------------------------------------------------------------- functions
def leaky_relu(
    x: np.ndarray,
    alpha: float,
    *,
    data_t: FixedType,
    param_t: FixedType,
    result_t: FixedType,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::leaky_relu``: ``res = data > 0 ? data : alpha * data``.

    ``alpha`` is the double literal hls4ml writes, converted to ``param_t`` at the call; the
    product ``alpha * data`` is exact; each result is cast to ``result_t``.
    """
    cast = cast or Caster()
    a = param_t.quantize(np.float64(alpha))
    neg = exact_product(x, data_t, np.broadcast_to(a, x.shape), param_t)
    neg_t = product_type(data_t, param_t)
    return cast_exact(select_exact(x > 0, x, data_t, neg, neg_t), result_t, cast, "result_t")


def thresholded_relu(
    x: np.ndarray,
    theta: float,
    *,
    param_t: FixedType,
    result_t: FixedType,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::thresholded_relu``: ``res = data > theta ? data : 0``, cast to ``result_t``.

    ``theta`` is the double literal converted to ``param_t`` (hls4ml: the input's type by
    default); the comparison is exact.
    """
    cast = cast or Caster()
    t = param_t.quantize(np.float64(theta))
    return cast(np.where(x > t, x, 0.0), result_t, "result_t")


def prelu(
    x: np.ndarray,
    alpha: np.ndarray,
    *,
    data_t: FixedType,
    param_t: FixedType,
    result_t: FixedType,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::prelu``: ``res[i] = data[i] > 0 ? data[i] : alpha[i] * data[i]``.

    ``alpha`` holds the exact ``param_t`` constants (one per element, flattened like the data);
    the product is exact; each result is cast to ``result_t``.
    """
    cast = cast or Caster()
    a = np.broadcast_to(np.asarray(alpha, dtype=np.float64).reshape(x.shape[1:]), x.shape)
    neg = exact_product(x, data_t, a, param_t)
    neg_t = product_type(data_t, param_t)
    return cast_exact(select_exact(x > 0, x, data_t, neg, neg_t), result_t, cast, "result_t")


def elu(
    x: np.ndarray,
    alpha: float,
    *,
    data_t: FixedType,
    param_t: FixedType,
    table_t: FixedType,
    table_size: int,
    result_t: FixedType,
    cast: Caster | None = None,
) -> np.ndarray:
    """``nnet::elu``: ``res = data >= 0 ? data : alpha * table[index]``.

    ``index = int(data * N / -8)``, limited to N - 1 by an unsigned comparison (a wrapped,
    negative int reads the last entry); the table holds ``exp(x) - 1`` in ``table_t``
    (`elu_table`); ``alpha`` is the double literal converted to ``param_t``; the product is
    exact; both branches are cast to ``result_t``.
    """
    cast = cast or Caster()
    n = int(table_size)
    a = param_t.quantize(np.float64(alpha))
    q = c_int_of_quotient(x, data_t, n, -8)
    index = np.where(q < 0, n - 1, np.minimum(q, n - 1))
    table = elu_table(n, table_t)[index]
    neg = exact_product(table, table_t, np.broadcast_to(a, x.shape), param_t)
    neg_t = product_type(table_t, param_t)
    return cast_exact(select_exact(x >= 0, x, data_t, neg, neg_t), result_t, cast, "result_t")


# -------------------------------------------------------------------------------- adapters
def _param(node: Node, default: float = 1.0) -> float:
    # hls4ml formats the attribute with str() into the C++ source: read it back the same way
    return float(str(node.attrs.get("activ_param", default)))


_PARAMETRIZED = ("leakyrelu", "thresholdedrelu", "elu")
# hls4ml's spellings of the same functions: Activation('leaky_relu') and activation='leaky_relu'
# keep the Keras name (``ParametrizedActivation._get_act_function_name`` maps both to the C++)
_ALIASES = {"leaky_relu": "leakyrelu", "thresholded_relu": "thresholdedrelu"}


@register("ParametrizedActivation")
def _parametrized_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    x = inputs[0]
    act = str(node.attrs.get("activation", "")).lower()
    act = _ALIASES.get(act, act)
    cast = Caster(ctx, node.name)
    result_t = node_type(node, "result_t")
    param_t = node_type(node, "param_t")
    if act == "leakyrelu":
        return leaky_relu(
            x,
            _param(node),
            data_t=input_type(node),
            param_t=param_t,
            result_t=result_t,
            cast=cast,
        )
    if act == "thresholdedrelu":
        return thresholded_relu(x, _param(node), param_t=param_t, result_t=result_t, cast=cast)
    if act == "elu":
        return elu(
            x,
            _param(node),
            data_t=input_type(node),
            param_t=param_t,
            table_t=node_type(node, "table_t"),
            table_size=int(node.attrs.get("table_size", 1024)),
            result_t=result_t,
            cast=cast,
        )
    raise UnsupportedLayerError(
        f"layer {node.name!r} of class ParametrizedActivation: activation {act!r} is not "
        f"supported; supported: {', '.join(_PARAMETRIZED)} (also spelled leaky_relu, "
        "thresholded_relu): use one of these"
    )


@register("PReLU")
def _prelu_adapter(node: Node, inputs: list[np.ndarray], ctx: Context) -> np.ndarray:
    alpha_size, n_in = np.size(node.weights["param"]), int(np.prod(node.output_shape))
    if alpha_size != n_in:
        # a Keras PReLU(shared_axes=...): nnet::prelu reads alpha[i] for every input value
        raise UnsupportedLayerError(
            f"layer {node.name!r} of class PReLU holds {alpha_size} alphas for {n_in} values "
            "(shared_axes): hls4ml 1.3's nnet::prelu reads one alpha per input value, past the "
            "array; use PReLU() without shared_axes"
        )
    return prelu(
        inputs[0],
        node.weights["param"],
        data_t=input_type(node),
        param_t=node_type(node, "param_t"),
        result_t=node_type(node, "result_t"),
        cast=Caster(ctx, node.name),
    )
