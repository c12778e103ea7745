"""No import cycle inside a package: every module can be read (and imported) after the ones it
uses. Function-level imports count (they run); TYPE_CHECKING imports do not."""

from __future__ import annotations

import sys

import pytest

from tests.support.import_cycles import import_cycles
from tests.support.scratch import PACKAGES, REPO, copy_packages, run_in


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle(package):
    cycles = import_cycles(package)
    assert not cycles, f"import cycles in {package}: " + "; ".join(cycles)


def test_an_import_cycle_fails_the_suite(tmp_path):
    """A function-level import of graph from a module graph imports, in a scratch copy."""
    tree = copy_packages(tmp_path)
    target = tree / "emulation" / "hls_nodes.py"
    target.write_text(
        target.read_text() + "\n\ndef _later() -> None:\n    import emulation.graph  # noqa: F401\n"
    )
    finder = REPO / "tests" / "support" / "import_cycles.py"
    out = run_in([sys.executable, str(finder), "emulation"], tree)
    assert out.returncode == 1, out.stdout + out.stderr[-2000:]
    assert "emulation.graph -> emulation.hls_nodes -> emulation.graph" in out.stdout, out.stdout
