"""The C library's ``expf`` and ``tanhf`` over an array, in one compiled loop (numba).

The activation and softmax tables are filled with the C library's float functions, as the C
simulation fills them (glibc's are not correctly rounded, so NumPy's cannot stand in). Called
through ctypes that is one Python call per entry; here the same symbols are called from a
loop numba compiles (and caches), so a table of 2^16 entries takes microseconds, not tens of
milliseconds. `emulation.layers.tables` falls back to ctypes when numba or the library is
missing; the tests compare both.
"""

from __future__ import annotations

import numpy as np

try:  # numba is a declared dependency; without it the ctypes loop runs
    import llvmlite.binding as llvm
    import numba
    from numba import types
except ImportError:  # pragma: no cover - exercised only where numba is missing
    numba = None

__all__ = ["available", "c_float_apply", "load", "warm_up"]

_FUNCTIONS = ("expf", "tanhf")
_loops: dict[str, object] = {}
available = numba is not None


def load(library_path: str) -> bool:
    """Make the library's symbols visible to compiled code and build the loops; False when
    numba is missing (the ctypes loop then runs)."""
    if not available:
        return False
    if _loops:
        return True
    llvm.load_library_permanently(library_path)
    for name in _FUNCTIONS:
        fn = types.ExternalFunction(name, types.float32(types.float32))
        _loops[name] = numba.njit(cache=True, nogil=True)(_make_loop(fn))
    return True


def _make_loop(fn):
    def loop(x, out):
        for i in range(x.size):
            out[i] = fn(x[i])

    return loop


def c_float_apply(name: str, x: np.ndarray) -> np.ndarray:
    """``name`` (``expf`` or ``tanhf``) of every float32 value of ``x`` (`load` must be True)."""
    flat = np.ascontiguousarray(x, dtype=np.float32).ravel()
    out = np.empty_like(flat)
    _loops[name](flat, out)
    return out.reshape(np.shape(x))


def warm_up() -> None:
    """Compile (or load from the cache) both loops now, not in the first table built."""
    for name in _loops:
        c_float_apply(name, np.zeros(1, dtype=np.float32))
