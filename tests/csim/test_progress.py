"""The progress bar: on stderr, only for a terminal, never with progress=False."""

from __future__ import annotations

import io
import sys

from csim.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_hidden_when_stderr_is_not_a_terminal(monkeypatch):
    """Piped stderr (logs, CI) gets no bar."""
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with Progress(True) as bar:
        bar.stage("C simulation", total=3, unit="sample")
        bar.update(3)
        assert not bar.shown
    assert sys.stderr.getvalue() == ""


def test_hidden_when_disabled(monkeypatch):
    """progress=False draws nothing even on a terminal."""
    monkeypatch.setattr(sys, "stderr", _Terminal())
    with Progress(False) as bar:
        bar.stage("compiling (g++)")
        bar.done()
        assert not bar.shown
    assert sys.stderr.getvalue() == ""


def test_shown_on_a_terminal_with_the_stage_name(monkeypatch):
    """On a terminal the bar is drawn on stderr and names its stage."""
    monkeypatch.setattr(sys, "stderr", _Terminal())
    with Progress(True) as bar:
        assert bar.shown
        bar.stage("compiling (g++)")
        bar.done()
    assert "compiling (g++)" in sys.stderr.getvalue()
