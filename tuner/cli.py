"""The ``aptune`` command: parse arguments, call the library, print a short summary.

Every error a user can cause is an `AptuneError`; it is printed on one line as
``aptune: ErrorType: message`` and mapped to exit code 2. Nothing here does numerical work.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from importlib import metadata

from emulation.errors import AptuneError

__all__ = ["main"]

EXIT_OK, EXIT_MISMATCH, EXIT_USAGE = 0, 1, 2

Command = Callable[[argparse.Namespace], int]


def _version() -> str:
    """aptune's version and the hls4ml it targets, without importing TensorFlow."""
    try:
        own = metadata.version("aptune")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        own = "unknown"
    try:
        hls = metadata.version("hls4ml")
    except metadata.PackageNotFoundError:
        hls = "not installed"
    return f"aptune {own} (hls4ml {hls})"


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so usage errors share the one-line format."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    """The full command-line grammar; each subcommand module adds its own arguments."""
    parser = _Parser(
        prog="aptune",
        description=(
            "Precision auto-tuner and C-simulation comparator for hls4ml: pick minimal "
            "per-layer ap_fixed types that meet an accuracy target, and check them against "
            "hls4ml's C simulation before synthesis."
        ),
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for register in _command_modules():
        register(sub)
    return parser


def _command_modules() -> list[Callable[[argparse._SubParsersAction], None]]:
    """The ``register(subparsers)`` functions of every subcommand, in help order."""
    from tuner import commands

    return commands.REGISTRARS


def _start_tensorflow_quietly() -> None:
    """Import TensorFlow with file descriptor 2 pointed at /dev/null.

    TensorFlow's C++ start-up lines (absl's "All log messages before absl::InitializeLog()",
    "Could not find cuda drivers", "failed call to cuInit") ignore TF_CPP_MIN_LOG_LEVEL in
    recent releases and would precede every command's output. Python errors raised by the
    import itself still reach the user: the descriptor is restored before they propagate.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no descriptor 2 (a detached process): nothing to hide
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    sys.stderr.flush()
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe that prints at first use
    except ImportError:
        pass  # the command reports the missing dependency in its own words
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``aptune`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help and --version end parsing with a code of their own
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    run: Command = args.run
    if getattr(args, "uses_keras", True):
        _start_tensorflow_quietly()
    try:
        return run(args)
    except AptuneError as exc:
        print(f"aptune: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("aptune: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
