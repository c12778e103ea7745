"""The thin CLI: help, version, usage errors."""

from __future__ import annotations

import subprocess
import sys

from tuner.cli import main


def test_version_names_aptune_and_hls4ml(capsys):
    """`aptune --version` prints aptune's and hls4ml's versions and exits 0."""
    assert main(["--version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("aptune ")
    assert "hls4ml 1.3" in out


def test_help_lists_the_purpose(capsys):
    """`aptune --help` describes the tool and exits 0."""
    assert main(["--help"]) == 0
    assert "hls4ml" in capsys.readouterr().out


def test_unknown_command_is_a_one_line_usage_error(capsys):
    """An unknown subcommand exits 2 with one line on stderr, no traceback."""
    assert main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert "invalid choice: 'frobnicate'" in err
    assert "(choose from 'tune', " in err and "'check'" in err and "'aptune --help'" in err


def test_console_script_runs_without_tensorflow_import():
    """`python -m tuner.cli --version` works and does not import TensorFlow."""
    code = (
        "import sys; from tuner.cli import main; main(['--version']); "
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_tensorflow_start_up_lines_do_not_reach_the_terminal(tmp_path):
    """A command that loads a model prints none of TensorFlow's C++ start-up lines (absl,
    CUDA probes), which ignore TF_CPP_MIN_LOG_LEVEL."""
    import keras

    path = tmp_path / "tiny.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")]).save(path)
    out = subprocess.run(
        [sys.executable, "-m", "tuner.cli", "check", str(path)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr  # no finding above a note
    assert "types hls4ml will use" in out.stdout
    for noise in ("absl", "cuda", "cuInit", "I0000", "E0000"):
        assert noise not in out.stderr, out.stderr


def test_every_command_function_is_under_80_lines():
    """The CLI stays thin: no function in tuner/commands runs to 80 lines (issue #16)."""
    import ast
    from pathlib import Path

    import tuner.commands

    long = []
    for path in sorted(Path(tuner.commands.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines >= 80:
                    long.append(f"{path.name}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long
