"""Atomic file writes: a reader sees the old file or the new one, never half of either.

Every writer in aptune goes through here. Each function writes to a temporary file in the
target's own folder (so the final rename never crosses a file system), flushes and fsyncs it,
then renames it over the target with :func:`os.replace`, which is atomic on POSIX and Windows.
Missing parent folders are created.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import numpy as np

__all__ = [
    "FileSet",
    "atomic_save_npy",
    "atomic_write_bytes",
    "atomic_write_text",
    "prepare_folder",
]


def _read_umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any worker threads.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


@contextlib.contextmanager
def _atomic_open(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Yield a binary file that replaces ``path`` when the block ends without error."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates the file 0600; give it the mode a plain open() would have given.
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_UMASK
        tmp.chmod(mode)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def prepare_folder(folder: str | os.PathLike[str], what: str = "output") -> bool:
    """Make sure ``folder`` exists and can be written, before any long work starts.

    Returns whether it was created. Raises `ConfigError` (one line naming the folder, the
    reason and the fix) when it cannot be created or written, so that nothing is computed
    only to be lost.
    """
    from emulation.errors import ConfigError

    target = Path(folder)
    created = not target.exists()
    try:
        if target.exists() and not target.is_dir():
            raise NotADirectoryError(f"{target} is a file")
        target.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".aptune-probe-", dir=target)
        os.close(fd)
        Path(probe).unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            f"cannot write the {what} to {target}: {reason}; choose a folder you can write to"
        ) from None
    return created


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible on every platform, hence best effort.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically.

    Parameters
    ----------
    path : str or PathLike
        Target file; its parent folders are created when missing.
    data : bytes
        The whole new content.

    Returns
    -------
    Path
        The path written.
    """
    with _atomic_open(path) as handle:
        handle.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8 unless told otherwise).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_text(folder / "a" / "b.txt", "hello").read_text()
    'hello'
    """
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_save_npy(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Save ``array`` in NumPy ``.npy`` format to exactly ``path``, atomically.

    Unlike :func:`numpy.save`, no ``.npy`` suffix is appended, and object arrays are refused
    (``allow_pickle=False``), so the file can be read back with ``numpy.load`` safely.
    """
    with _atomic_open(path) as handle:
        np.save(handle, np.asarray(array), allow_pickle=False)
    return Path(path)


class FileSet:
    """The outputs of one run, replaced together: each file is staged beside its target, and
    `commit` renames them all into place with Ctrl-C held off until the last rename, so an
    interrupt at any moment leaves either every old file or every new one. Leaving the
    ``with`` block without `commit` (an error, an interrupt) removes what was staged."""

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []

    def __enter__(self) -> FileSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def write_bytes(self, path: str | os.PathLike[str], data: bytes) -> Path:
        return self.write_with(path, lambda tmp: tmp.write_bytes(data))

    def write_text(self, path: str | os.PathLike[str], text: str) -> Path:
        return self.write_bytes(path, text.encode("utf-8"))

    def write_with(self, path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
        """Stage ``path`` by calling ``write(staging_path)`` (for writers that want a path,
        such as ``keras.Model.save``); the staging name keeps the target's suffix."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=f".staged{target.suffix}", dir=target.parent
        )
        os.close(fd)
        tmp = Path(name)
        self._staged.append((tmp, target))
        tmp.unlink()  # some writers refuse to overwrite; the name stays reserved by us
        write(tmp)
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_UMASK
        tmp.chmod(mode)
        return target

    def commit(self) -> None:
        """Rename every staged file into place (Ctrl-C waits until the last one)."""
        with _sigint_held():
            for tmp, target in self._staged:
                tmp.replace(target)
            for folder in {target.parent for _, target in self._staged}:
                _fsync_dir(folder)
            self._staged = []

    def discard(self) -> None:
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged = []


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Defer SIGINT to the end of the block (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[object] = []
    previous = signal.signal(signal.SIGINT, lambda *a: caught.append(a))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt
