"""Every module reads in one sitting: each .py file of the packages and the tests is under 400
lines. Split a longer one along its themes (shared helpers into ``tests/support``)."""

from __future__ import annotations

from pathlib import Path

from tests.support.scratch import PACKAGES, REPO

LIMIT = 400


def too_long(root: Path, folders: tuple[str, ...]) -> dict[str, int]:
    """``path: lines`` of each .py file under ``root/<folder>`` of ``LIMIT`` lines or more."""
    lengths = {
        str(path.relative_to(root)): len(path.read_text(encoding="utf-8").splitlines())
        for folder in folders
        for path in sorted((root / folder).rglob("*.py"))
    }
    return {path: n for path, n in lengths.items() if n >= LIMIT}


def test_every_module_is_under_400_lines():
    long = too_long(REPO, (*PACKAGES, "tests"))
    assert not long, f"modules of {LIMIT} lines or more (split them): {long}"


def test_a_long_module_fails(tmp_path):
    (tmp_path / "emulation").mkdir()
    (tmp_path / "emulation" / "short.py").write_text("x = 1\n" * (LIMIT - 1))
    (tmp_path / "emulation" / "long.py").write_text("x = 1\n" * LIMIT)
    assert too_long(tmp_path, ("emulation",)) == {"emulation/long.py": LIMIT}
