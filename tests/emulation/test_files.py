"""Tests for emulation.io.atomic_files: atomic writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from emulation.io import atomic_files as files
from emulation.io.atomic_files import atomic_save_npy, atomic_write_bytes, atomic_write_text


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_write_text_creates_parents(tmp_path: Path) -> None:
    """Missing parent folders are created and the text is written whole."""
    target = tmp_path / "a" / "b" / "c.yml"
    assert atomic_write_text(target, "Model: {}\n") == target
    assert target.read_text() == "Model: {}\n"


def test_write_text_replaces(tmp_path: Path) -> None:
    """A second write replaces the first entirely (no appended or stale bytes)."""
    target = tmp_path / "c.txt"
    atomic_write_text(target, "a much longer first content")
    atomic_write_text(target, "short")
    assert target.read_text() == "short"


def test_write_text_encoding(tmp_path: Path) -> None:
    """Text is UTF-8 by default."""
    target = tmp_path / "u.txt"
    atomic_write_text(target, "µ ≤ 2⁻⁸")
    assert target.read_bytes() == "µ ≤ 2⁻⁸".encode()


def test_write_bytes(tmp_path: Path) -> None:
    """Bytes are written exactly."""
    data = bytes(range(256)) * 3
    target = tmp_path / "b.bin"
    atomic_write_bytes(target, data)
    assert target.read_bytes() == data


def test_no_temp_file_left(tmp_path: Path) -> None:
    """After a write only the target remains in the folder."""
    atomic_write_text(tmp_path / "x.txt", "x")
    atomic_write_bytes(tmp_path / "y.bin", b"y")
    atomic_save_npy(tmp_path / "z.npy", np.zeros(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.txt", "y.bin", "z.npy"]


def test_failed_write_keeps_old_file(tmp_path: Path) -> None:
    """A write that fails half way leaves the old content and no temp file."""
    target = tmp_path / "keep.npy"
    atomic_save_npy(target, np.arange(4.0))
    with pytest.raises(ValueError, match="pickle"):
        atomic_save_npy(target, np.array([{"not": "numeric"}], dtype=object))
    assert np.array_equal(np.load(target), np.arange(4.0))
    assert _leftovers(tmp_path) == []


def test_failed_replace_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the final rename fails the target is untouched and the temp file is removed."""
    target = tmp_path / "t.txt"
    atomic_write_text(target, "old")

    def broken_replace(self: Path, other: Path) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(Path, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_new_file_mode_follows_umask(tmp_path: Path) -> None:
    """A new file gets the mode a plain open() gives, not the temp file's 0600."""
    target = tmp_path / "m.txt"
    atomic_write_text(target, "m")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~files._UMASK


def test_existing_file_mode_kept(tmp_path: Path) -> None:
    """Overwriting keeps the target's permission bits."""
    target = tmp_path / "m.txt"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write_text(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_save_npy_round_trip(tmp_path: Path) -> None:
    """The .npy file reads back equal, dtype and shape included, at exactly the path given."""
    array = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    target = tmp_path / "sub" / "arr.data"
    atomic_save_npy(target, array)
    loaded = np.load(target)
    assert loaded.dtype == np.int16
    assert np.array_equal(loaded, array)
    assert not Path(os.fspath(target) + ".npy").exists()
