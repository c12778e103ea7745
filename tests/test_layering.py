"""CI enforces the house rules: the import-layer contracts and ruff run with the suite."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.support.scratch import REPO, copy_packages, run_in


def _tool(name: str) -> str:
    """The console script of the running interpreter's environment, else the one on PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed: pip install -e '.[test]'")
    return found


def test_import_layer_contracts_hold():
    """`lint-imports` keeps every contract of pyproject.toml (emulation is the core, ...)."""
    out = run_in([_tool("lint-imports")], REPO)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


@pytest.mark.parametrize(
    ("module", "upward", "contract"),
    [
        (
            "emulation/errors.py",
            "tuner.cli",
            "emulation is the core: it imports no other aptune package",
        ),
        ("reports/html.py", "tuner.space", "csim and reports may use emulation, never tuner"),
        ("csim/cache.py", "reports.html", "csim and reports are independent of each other"),
    ],
)
def test_a_layering_violation_fails_the_suite(tmp_path, module, upward, contract):
    """An import against the layers, added in a scratch copy, breaks its contract."""
    tree = copy_packages(tmp_path)
    target = tree / module
    target.write_text(target.read_text() + f"\nimport {upward}  # noqa: E402,F401\n")
    out = run_in([_tool("lint-imports")], tree)
    assert out.returncode != 0
    assert f"{contract} BROKEN" in out.stdout, out.stdout[-3000:]


def test_ruff_finds_nothing():
    """`ruff check` and `ruff format --check` are clean over the repository."""
    ruff = _tool("ruff")
    check = run_in([ruff, "check", "--no-cache", "."], REPO)
    assert check.returncode == 0, check.stdout[-3000:]
    fmt = run_in([ruff, "format", "--check", "--no-cache", "."], REPO)
    assert fmt.returncode == 0, fmt.stdout[-3000:]
