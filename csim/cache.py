"""Where compiled C simulations live on disk, and the key that says when one can be reused.

A compiled simulation is an hls4ml project folder ``<root>/<key>/`` holding the shared library
and the weight text files it reads at its first call. The key hashes everything that changes
the library: the model's JSON and weight bytes, the hls4ml config, hls4ml's version, g++'s
version and a format number of our own. The root is, first found: the ``cache_dir`` argument,
the ``APTUNE_CACHE_DIR`` environment variable, ``$XDG_CACHE_HOME/aptune/csim``,
``~/.cache/aptune/csim``.

The library bakes the absolute path of its weights folder in at compile time, so a project is
built in its final place, never moved. A lock file per key keeps two processes from building
the same one at once; a project counts as built only once its manifest (``aptune-csim.json``,
written last and atomically) exists.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CACHE_ENV", "FORMAT", "MANIFEST", "cache_root", "lock", "model_digest", "sim_key"]

CACHE_ENV = "APTUNE_CACHE_DIR"
MANIFEST = "aptune-csim.json"
#: Bumped whenever what we build or record changes, so old entries are never misread.
FORMAT = 1


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding every cached simulation (not created here)."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "aptune" / "csim"


def model_digest(model: Any) -> str:
    """SHA-256 of a Keras model's architecture JSON and weight bytes (dtype and shape too)."""
    h = hashlib.sha256()
    h.update(model.to_json().encode())
    for w in model.get_weights():
        a = np.ascontiguousarray(w)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _canonical_json(value: Any) -> str:
    # sorted keys: the same config written in another order shares a compile
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def sim_key(model: Any, config: Mapping[str, Any], **versions: str) -> str:
    """The cache key of (model, config) under the given tool versions (hls4ml, g++, ...)."""
    h = hashlib.sha256()
    h.update(f"aptune-csim-format-{FORMAT}\n".encode())
    h.update(model_digest(model).encode())
    h.update(_canonical_json(dict(config)).encode())
    h.update(_canonical_json(versions).encode())
    return h.hexdigest()[:24]


@contextlib.contextmanager
def lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the block.

    POSIX ``flock``; where it does not exist the block runs unlocked (one process at a time is
    then the user's affair).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
