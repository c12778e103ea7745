"""`EmulatedModel`: hls4ml's C simulation of a Keras model, bit for bit, in NumPy.

>>> em = EmulatedModel(keras_model, {"Model": {"Precision": "ap_fixed<16,6>"}})  # doctest: +SKIP
>>> y = em.predict(X)            # == hls_model.predict(X) for float64 X, value for value
>>> layers = em.trace(X)         # {layer name: (n, *shape)}, hls4ml's trace names
>>> em.overflows["dense.accum_t"].share                                         # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

import emulation.layers  # noqa: F401  (registers every adapter)
from emulation.errors import DataError
from emulation.fixed import FixedType
from emulation.graph import build_graph
from emulation.layers import conv, conv_compiled, dense_compiled, tables
from emulation.layers.base import Context, Graph, Node, QuantPoint, adapter_for

__all__ = ["EmulatedModel", "cast_type", "default_batch_size", "warm_up"]

DEFAULT_BATCH_SIZE = 4096
# A model whose widest layer holds few values a sample takes bigger batches, up to this many
# samples, while a batch's widest array stays within `BATCH_VALUES` values (4 MiB of float64):
# every layer pays fixed costs per call (its casts' set-up, the Python between them), which a
# small model's batch of 4096 does not amortise (Iris: 30 % of its time).
MAX_BATCH_SIZE, BATCH_VALUES = 65536, 1 << 19
# glibc malloc: arrays up to this size come from the heap, and up to the trim size of freed
# heap is kept for reuse (see `_keep_freed_memory`)
_MMAP_BYTES, _TRIM_BYTES = 32 << 20, 128 << 20
_malloc_tuned = False
#: BLAS threads while `EmulatedModel.predict` / `trace` run (None: leave BLAS as it is). The
#: emulator's products are a batch times a few hundred values, where OpenBLAS's threads cost
#: more than they save on a shared machine (a small MLP 2.9x, the MNIST MLP 1.5x slower with
#: two threads on a busy 2-core machine), and the C simulation it replaces is one thread too.
BLAS_THREADS: int | None = 1


@functools.cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()  # reads the loaded libraries once (milliseconds)


def _blas_limit() -> contextlib.AbstractContextManager[Any]:
    if BLAS_THREADS is None:
        return contextlib.nullcontext()
    return _blas().limit(limits=BLAS_THREADS, user_api="blas")


def _keep_freed_memory() -> None:
    """Let glibc's malloc reuse freed memory instead of handing it back to the system.

    Every layer allocates arrays of a batch's size (megabytes) and frees them a layer later.
    By default glibc maps such blocks afresh or trims the freed heap, so the next layer pays a
    page fault per 4 KiB it touches: 40 % of the time of a small MLP's predict. Raising the
    mmap and trim thresholds (process-wide, once) keeps up to `_TRIM_BYTES` of freed memory
    for reuse; peak memory is unchanged. No effect where the C library has no ``mallopt``.
    """
    global _malloc_tuned
    if _malloc_tuned:
        return
    _malloc_tuned = True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):  # not glibc (macOS, Windows, musl without it)
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's <malloc.h>
    mallopt(m_mmap_threshold, _MMAP_BYTES)
    mallopt(m_trim_threshold, _TRIM_BYTES)


def warm_up(graph: Graph | None = None) -> None:
    """Compile (or load from numba's cache) the emulator's compiled loops, once per process;
    with a ``graph``, only the loops its layers use (the convolution loops are a second to
    load even from the cache, which a Dense-only model need not pay).

    A first use compiles them (about a second, once per installation; later processes load
    them in milliseconds). Whoever times emulations, as the tuner times its candidates,
    calls this first, so that the set-up is not counted as one emulation's time.
    """
    dense_compiled.warm_up()
    if graph is None or any(n.kind in conv.KINDS for n in graph.nodes):
        conv_compiled.warm_up()
    tables.warm_up()


def default_batch_size(graph: Graph) -> int:
    """Samples per batch by default: `DEFAULT_BATCH_SIZE`, or more, up to `MAX_BATCH_SIZE`,
    while the widest layer's values of a batch stay within `BATCH_VALUES`."""
    widest = max((math.prod(n.output_shape) for n in graph.nodes), default=1)
    size = DEFAULT_BATCH_SIZE
    while 2 * size <= MAX_BATCH_SIZE and 2 * size * max(1, widest) <= BATCH_VALUES:
        size *= 2
    return size


def cast_type(graph: Graph, point: str) -> FixedType | None:
    """The type of the emulator's cast point ``"<layer>.<type name>"``: the layer's own type,
    or one hls4ml derives in the C++ (the stable softmax's ``inp_norm_t``); None if unknown."""
    layer, _, type_name = point.rpartition(".")
    node = next((n for n in graph.nodes if n.name == layer), None)
    if node is None:
        return None
    if type_name in node.types:
        return node.types[type_name]
    if type_name == "inp_norm_t" and node.kind == "Softmax" and node.input_types:
        from emulation.layers.softmax import softmax_sizes

        return softmax_sizes(node.attrs, node.input_types[0])["inp_norm_t"]
    return None


class EmulatedModel:
    """A Keras model as hls4ml 1.3 (Vivado or Vitis, io_parallel or io_stream) computes it in
    C simulation.

    Parameters
    ----------
    model : keras.Model
    hls_config : hls4ml config (``Model`` / ``LayerType`` / ``LayerName``), a YAML file holding
        it, or a whole hls4ml project file (its ``HLSConfig``).
    backend : hls4ml's backend, ``"Vivado"`` or ``"Vitis"``; by default a project file's
        ``Backend``, else Vivado.
    io_type : hls4ml's ``"io_parallel"`` or ``"io_stream"``; by default a project file's
        ``IOType``, else io_parallel.

    The graph, every type and every weight are read once from hls4ml's own conversion
    (`emulation.graph`); `predict` and `trace` then run the layer functions batch by batch.

    Raises
    ------
    UnsupportedLayerError : a layer the emulator (or hls4ml) cannot reproduce.
    ConfigError : a config hls4ml cannot use.
    """

    def __init__(
        self,
        model: Any,
        hls_config: Mapping[str, Any] | str | os.PathLike[str],
        *,
        backend: str | None = None,
        io_type: str | None = None,
    ) -> None:
        self._setup(build_graph(model, hls_config, backend=backend, io_type=io_type))

    @classmethod
    def from_hls_model(cls, hls_model: Any) -> EmulatedModel:
        """An emulator of an hls4ml ``ModelGraph`` as it stands (any frontend, edits made on
        the graph included): its ``predict`` equals ``hls_model.predict`` once compiled."""
        from emulation.hls_model_graph import graph_from_hls_model

        return cls.from_graph(graph_from_hls_model(hls_model))

    @classmethod
    def from_graph(cls, graph: Graph) -> EmulatedModel:
        """An emulator of an already converted graph (no Keras or hls4ml needed: plain data,
        so it can be built in a worker process)."""
        em = cls.__new__(cls)
        em._setup(graph)
        return em

    def _setup(self, graph: Graph) -> None:
        _keep_freed_memory()
        self.graph: Graph = graph
        self._adapters = [adapter_for(node) for node in self.graph.nodes]
        self._input_nodes = {n.name: n for n in self.graph.nodes if n.kind == "Input"}
        # after which node each value is no longer needed (frees memory within a batch)
        last: dict[str, int] = {}
        for k, node in enumerate(self.graph.nodes):
            for name in node.inputs:
                last[name] = k
        self._last_use = last
        self._overflows: dict[str, QuantPoint] = {}
        self.default_batch_size = default_batch_size(graph)

    # ----------------------------------------------------------------------------- views
    @property
    def nodes(self) -> list[Node]:
        """hls4ml's layers in execution order, as plain `Node`s."""
        return self.graph.nodes

    @property
    def input_shapes(self) -> list[tuple[int, ...]]:
        """Per-sample shape of each model input, in hls4ml's input order."""
        return [self._input_nodes[name].output_shape for name in self.graph.inputs]

    @property
    def overflows(self) -> dict[str, QuantPoint]:
        """Overflow accounting of the last `predict` or `trace` call, per cast point.

        Keys are ``"<layer>.<type name>"`` (``"dense.accum_t"``, ``"dense.result_t"``, ...);
        each `QuantPoint` holds the count of values that overflowed, the number cast, their
        share and the largest |value| before the cast (``to_dict()`` for JSON).
        """
        return dict(self._overflows)

    def __repr__(self) -> str:
        kinds = ", ".join(f"{n.name}:{n.kind}" for n in self.graph.nodes)
        return f"EmulatedModel([{kinds}])"

    # ----------------------------------------------------------------------------- inputs
    def _prepare(self, X: Any) -> tuple[list[np.ndarray], int]:
        """Inputs as float64 arrays of shape (n, *input_shape), and n."""
        names = self.graph.inputs
        if len(names) == 1:
            xs = [X]
        elif isinstance(X, (list, tuple)) and len(X) == len(names):
            xs = list(X)
        else:
            got = f"{len(X)} arrays" if isinstance(X, (list, tuple)) else "one array"
            raise DataError(
                f"the model has {len(names)} inputs ({', '.join(names)}); got {got}: pass a "
                "list with one array per input, in that order"
            )
        out: list[np.ndarray] = []
        counts = []
        for name, x in zip(names, xs, strict=True):
            shape = self._input_nodes[name].output_shape
            try:
                a = np.asarray(x, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise DataError(f"input {name!r} is not numeric: {exc}") from None
            size = math.prod(shape)
            if a.shape == shape:
                a = a[None]
            elif a.ndim >= 1 and a.shape[1:] == shape:
                pass
            elif a.ndim == 2 and a.shape[1] == size:
                a = a.reshape(a.shape[0], *shape)
            else:
                dims = ", ".join(map(str, shape))
                flat = f" or (n, {size})" if len(shape) > 1 else ""
                raise DataError(
                    f"input {name!r} has shape {a.shape}; expected (n, {dims}){flat}: "
                    "reshape the data to the model's input"
                )
            if a.shape[0] == 0:
                raise DataError(f"input {name!r} holds no samples: pass at least one")
            finite = np.isfinite(a)
            if not finite.all():
                where = tuple(int(i) for i in np.argwhere(~finite)[0])
                raise DataError(
                    f"input {name!r} holds NaN or infinity (first at index {where}): "
                    "clean or impute the data first"
                )
            out.append(a)
            counts.append(a.shape[0])
        if len(set(counts)) != 1:
            raise DataError(
                f"the inputs hold different numbers of samples ({counts}); give each the same"
            )
        return out, counts[0]

    # ------------------------------------------------------------------------------- runs
    def _run(self, xs: list[np.ndarray], ctx: Context, keep: set[str]) -> dict[str, np.ndarray]:
        """Run every node on one batch; return the values named in ``keep``."""
        values: dict[str, np.ndarray] = {}
        feeds = dict(zip(self.graph.inputs, xs, strict=True))
        kept: dict[str, np.ndarray] = {}
        for k, (node, adapter) in enumerate(zip(self.graph.nodes, self._adapters, strict=True)):
            if node.kind == "Input":
                args = [feeds[node.name]]
            else:
                args = [values[name] for name in node.inputs]
            y = adapter(node, args, ctx)
            values[node.name] = y
            if node.name in keep:
                kept[node.name] = y
            for name in node.inputs:
                if self._last_use.get(name) == k:
                    values.pop(name, None)
        return kept

    def _batches(self, X: Any, batch_size: int | None) -> tuple[list[np.ndarray], int, int]:
        xs, n = self._prepare(X)
        size = self.default_batch_size if batch_size is None else int(batch_size)
        if size < 1:
            raise DataError(f"batch_size must be a positive int; got {batch_size!r}")
        return xs, n, size

    def predict(self, X: Any, batch_size: int | None = None) -> np.ndarray | list[np.ndarray]:
        """The C simulation's outputs for ``X``, exactly (``hls_model.predict`` with float64).

        Parameters
        ----------
        X : (n, *input_shape) or (n, input_size) array (a list of them for several inputs);
            a single sample of shape ``input_shape`` is accepted, as hls4ml accepts it.
        batch_size : samples per batch (memory stays bounded for any n); default
            `default_batch_size` (4096, more for a model of narrow layers).

        Returns
        -------
        What hls4ml returns: a float64 array ``(n, output_size)`` (outputs flattened) for one
        output, a list of them for several, and for a single sample the same without the
        batch axis.
        """
        xs, n, size = self._batches(X, batch_size)
        ctx = Context()
        names = self.graph.outputs
        outs = [np.empty((n, math.prod(self.graph.node(o).output_shape))) for o in names]
        with _blas_limit():
            for start in range(0, n, size):
                kept = self._run([x[start : start + size] for x in xs], ctx, set(names))
                for out, name in zip(outs, names, strict=True):
                    out[start : start + size] = kept[name].reshape(kept[name].shape[0], -1)
        self._overflows = ctx.points
        if n == 1:
            outs = [o[0] for o in outs]
        return outs[0] if len(outs) == 1 else outs

    def trace(self, X: Any, batch_size: int | None = None) -> dict[str, np.ndarray]:
        """Every layer's output: ``{layer name: (n, *output_shape) float64}``.

        The names and shapes of hls4ml's ``ModelGraph.trace`` (each layer that emits C++, so not
        the input layer), with tracing enabled on every layer.
        """
        xs, n, size = self._batches(X, batch_size)
        ctx = Context()
        traced = [node for node in self.graph.nodes if node.attrs.get("function_cpp")]
        result = {node.name: np.empty((n, *node.output_shape)) for node in traced}
        with _blas_limit():
            for start in range(0, n, size):
                kept = self._run([x[start : start + size] for x in xs], ctx, set(result))
                for name, value in kept.items():
                    result[name][start : start + size] = value
        self._overflows = ctx.points
        return result

    def layer_names(self) -> Sequence[str]:
        """Names of hls4ml's layers, in execution order."""
        return [n.name for n in self.graph.nodes]
