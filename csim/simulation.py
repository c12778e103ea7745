"""A compiled hls4ml C simulation: its manifest and the ctypes calls that run it, exactly.

`csim.hls4ml_sim.compile_sim` builds (or finds in the cache) a project and returns a
`CSimulation`; everything a run needs (entry point, input and output sizes, traced layers) is
read from the project's `Manifest`, so running it calls no hls4ml code. Inputs go to the
``double`` entry point, one ctypes call per sample, so outputs are exact for every type up to
53 bits.
"""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from csim.cache import FORMAT
from csim.progress import Progress
from emulation.errors import DataError, ToolError

__all__ = ["CSimulation", "Manifest"]


# -------------------------------------------------------------------------------- manifest
@dataclass(frozen=True)
class Manifest:
    """What a compiled project is and how to call it; stored as ``aptune-csim.json``.

    Attributes
    ----------
    key : the cache key.
    library : the shared library, relative to the project folder.
    project_name : hls4ml's ``ProjectName`` (entry point ``<name>_double``).
    inputs, outputs : ``[name, size]`` of each model input and output, in hls4ml's order.
    traced : ``[name, shape]`` of each layer with trace hooks, in execution order.
    n_traced : entries hls4ml's trace collects per sample.
    types : the result type of each traced layer, as the C++ names it.
    weight_files : the weight text files the library reads at its first call.
    hls4ml, gxx : tool versions the project was built with.
    convert_seconds, compile_seconds : time spent converting and in g++.
    """

    key: str
    library: str
    project_name: str
    inputs: list[list[Any]]
    outputs: list[list[Any]]
    traced: list[list[Any]]
    n_traced: int
    types: dict[str, str]
    weight_files: list[str]
    hls4ml: str
    gxx: str
    convert_seconds: float
    compile_seconds: float
    format: int = FORMAT

    @classmethod
    def read(cls, path: Path) -> Manifest | None:
        """The manifest at ``path``, or None when missing, unreadable or of another format."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            manifest = cls(**data)
        except (OSError, ValueError, TypeError):
            return None
        return manifest if manifest.format == FORMAT else None


def _usable(project_dir: Path, manifest: Manifest | None) -> bool:
    """Whether ``project_dir`` holds the manifest's library and every weight file it reads."""
    if manifest is None or not (project_dir / manifest.library).is_file():
        return False
    weights = project_dir / "firmware" / "weights"
    # the library exits the whole process when a weight file is missing: check them all first
    return all((weights / name).is_file() for name in manifest.weight_files)


# -------------------------------------------------------------------------------- running
class _TraceData(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("data", ctypes.c_void_p)]


class CSimulation:
    """A compiled hls4ml C simulation, ready to run.

    Attributes
    ----------
    project_dir : the hls4ml project folder (in the cache).
    manifest : what was built and how to call it.
    cached : True when the library came from the cache (nothing converted or compiled).
    """

    def __init__(self, project_dir: Path, manifest: Manifest, *, cached: bool) -> None:
        self.project_dir = project_dir
        self.manifest = manifest
        self.cached = cached
        self._lib: Any = None

    def __repr__(self) -> str:
        return f"CSimulation({self.project_dir}, cached={self.cached})"

    @property
    def library(self) -> Path:
        """The compiled shared library."""
        return self.project_dir / self.manifest.library

    def _load(self) -> Any:
        if self._lib is None:
            if not _usable(self.project_dir, self.manifest):
                raise ToolError(
                    f"the compiled simulation in {self.project_dir} is incomplete (library or "
                    "weight files missing): delete that folder and run again"
                )
            self._lib = ctypes.CDLL(str(self.library))
        return self._lib

    def _inputs(self, X: Any) -> tuple[list[np.ndarray], int]:
        specs = self.manifest.inputs
        xs = list(X) if isinstance(X, (list, tuple)) else [X]
        if len(xs) != len(specs):
            raise DataError(
                f"the C simulation has {len(specs)} inputs; got {len(xs)} arrays: pass one "
                "array per input, in hls4ml's order"
            )
        out, counts = [], []
        for (name, size), x in zip(specs, xs, strict=True):
            a = np.asarray(x, dtype=np.float64)
            n, rem = divmod(a.size, size)
            if rem or a.ndim == 0 or n != a.shape[0]:
                raise DataError(
                    f"input {name!r} has shape {a.shape}; expected (n, ...) with {size} values "
                    "per sample"
                )
            out.append(np.ascontiguousarray(a.reshape(n, size)))
            counts.append(n)
        if len(set(counts)) != 1:
            raise DataError(f"the inputs hold different numbers of samples ({counts})")
        return out, counts[0]

    def run(
        self, X: Any, *, trace: bool = False, progress: Progress | None = None
    ) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
        """Run every sample through the library (``double`` entry point: exact).

        Parameters
        ----------
        X : (n, ...) array, or a list of them for several inputs.
        trace : also collect every traced layer's output.
        progress : the bar to count samples on.

        Returns
        -------
        outputs : one float64 ``(n, size)`` array per model output.
        traces : ``{layer name: (n, *shape) float64}`` (empty without ``trace``).
        """
        lib = self._load()
        xs, n = self._inputs(X)
        double_p = np.ctypeslib.ndpointer(ctypes.c_double, flags="C_CONTIGUOUS")
        top = getattr(lib, f"{self.manifest.project_name}_double")
        top.restype = None
        top.argtypes = [double_p] * (len(xs) + len(self.manifest.outputs))
        outputs = [np.zeros((n, size)) for _, size in self.manifest.outputs]
        shapes = {name: tuple(shape) for name, shape in self.manifest.traced}
        traces = {name: np.empty((n, *shape)) for name, shape in shapes.items()} if trace else {}
        if progress:
            progress.stage("C simulation", total=n, unit="sample")
        data = (_TraceData * self.manifest.n_traced)()
        if trace:
            _declare_trace_api(lib)
            lib.allocate_trace_storage(ctypes.sizeof(ctypes.c_double))
        try:
            for i in range(n):
                top(*[x[i] for x in xs], *[o[i] for o in outputs])
                if trace:
                    lib.collect_trace_output(data)
                    for item in data:
                        if not item.name:  # an io_stream Clone saves its two copies under one name
                            continue
                        name = item.name.decode()
                        ptr = ctypes.cast(item.data, ctypes.POINTER(ctypes.c_double))
                        traces[name][i] = np.ctypeslib.as_array(ptr, shape=shapes[name])
                if progress:
                    progress.update()
        finally:
            if trace:
                lib.free_trace_storage()
        return outputs, traces

    def predict(self, X: Any) -> np.ndarray | list[np.ndarray]:
        """The C simulation's outputs: ``(n, size)`` float64, a list of them for several."""
        outputs, _ = self.run(X)
        return outputs[0] if len(outputs) == 1 else outputs

    def trace(self, X: Any) -> dict[str, np.ndarray]:
        """Every traced layer's output: ``{layer name: (n, *shape) float64}``."""
        return self.run(X, trace=True)[1]


def _declare_trace_api(lib: Any) -> None:
    lib.collect_trace_output.argtypes = [ctypes.POINTER(_TraceData)]
    lib.collect_trace_output.restype = None
    lib.allocate_trace_storage.argtypes = [ctypes.c_size_t]
    lib.allocate_trace_storage.restype = None
    lib.free_trace_storage.argtypes = []
    lib.free_trace_storage.restype = None
