"""Every row of the README's claim tables names the tests that prove it, and those tests exist.

A row proves itself with an HTML comment in its last cell, invisible on the rendered page:
``<!-- proof: tests/emulation/test_dense.py::test_x tests/tuner/test_cli.py::test_y -->``.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import REPO

#: First header cell of each table whose rows are claims.
CLAIM_TABLES = ("command", "what you might expect", "hls4ml layer (Keras)")

_PROOF = re.compile(r"<!--\s*proof:(.*?)-->")


def claim_rows(markdown: str, first_header: str) -> list[str]:
    """The data rows of the table whose header row starts with ``| first_header |``."""
    lines = markdown.splitlines()
    for i, line in enumerate(lines):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_header:
            rows = []
            for row in lines[i + 2 :]:  # skip the |---| separator
                if not row.startswith("|"):
                    break
                rows.append(row)
            return rows
    raise AssertionError(f"README.md has no table headed '| {first_header} |'")


@cache
def _test_functions(path: Path) -> frozenset[str]:
    tree = ast.parse(path.read_text())
    return frozenset(
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    )


def proof_problems(row: str, root: Path) -> list[str]:
    """What is wrong with a row's proofs: none named, or a file or test that does not exist."""
    found = _PROOF.findall(row)
    refs = [ref for group in found for ref in group.split()]
    label = row[:60]
    if not refs:
        return [f"{label!r}: names no test (add <!-- proof: tests/...py::test_name -->)"]
    problems = []
    for ref in refs:
        path, _, name = ref.partition("::")
        file = root / path
        if not name or not path.startswith("tests/") or not path.endswith(".py"):
            problems.append(f"{label!r}: {ref!r} is not tests/<file>.py::<test>")
        elif not file.is_file():
            problems.append(f"{label!r}: {path} does not exist")
        elif name not in _test_functions(file):
            problems.append(f"{label!r}: {path} has no test {name}")
    return problems


@pytest.mark.parametrize("header", CLAIM_TABLES)
def test_every_claim_row_names_existing_tests(header: str) -> None:
    """Each row of the claim table names at least one test, and each named test exists."""
    rows = claim_rows((REPO / "README.md").read_text(), header)
    assert rows, f"the table '{header}' has no rows"
    problems = [p for row in rows for p in proof_problems(row, REPO)]
    assert not problems, "\n".join(problems)


def test_checker_catches_missing_and_wrong_proofs(tmp_path: Path) -> None:
    """A row without a proof, one naming a missing file and one naming a missing test fail."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_real():\n    assert 1 + 1 == 2\n")
    markdown = "\n".join(
        [
            "| command | what |",
            "|---|---|",
            "| ok | yes <!-- proof: tests/test_a.py::test_real --> |",
            "| none | claimed, unproven |",
            "| gone | <!-- proof: tests/test_b.py::test_real --> |",
            "| typo | <!-- proof: tests/test_a.py::test_reel --> |",
            "",
            "| other | table |",
        ]
    )
    rows = claim_rows(markdown, "command")
    assert [r.split("|")[1].strip() for r in rows] == ["ok", "none", "gone", "typo"]
    problems = [proof_problems(r, tmp_path) for r in rows]
    assert problems[0] == []
    assert "names no test" in problems[1][0]
    assert "tests/test_b.py does not exist" in problems[2][0]
    assert "tests/test_a.py has no test test_reel" in problems[3][0]
    with pytest.raises(AssertionError, match="no table headed"):
        claim_rows(markdown, "missing")
