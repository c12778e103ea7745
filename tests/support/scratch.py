"""A scratch copy of the packages, and tools run on it, for tests that show a check can fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("emulation", "tuner", "csim", "reports")


def copy_packages(dest: Path) -> Path:
    """The packages and pyproject.toml under ``dest``, without tests or caches."""
    for name in PACKAGES:
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", dest / "pyproject.toml")
    return dest


def run_in(
    args: list[str], cwd: Path, pythonpath: str | None = None
) -> subprocess.CompletedProcess:
    """``args`` run in ``cwd``, the running interpreter's tools first on PATH, ``cwd`` (or
    ``pythonpath``) importable."""
    env = {
        "PATH": str(Path(sys.executable).parent),
        "PYTHONPATH": pythonpath or str(cwd),
        "HOME": str(cwd),
    }
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
