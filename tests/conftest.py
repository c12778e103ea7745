"""Shared fixtures: where the real models are, and whether g++ is here."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parents[1]
REALDATA = Path(os.environ.get("APTUNE_REALDATA", REPO.parent / "shared" / "realdata"))
HAVE_GXX = shutil.which("g++") is not None

requires_gxx = pytest.mark.skipif(not HAVE_GXX, reason="g++ is not on PATH")
requires_realdata = pytest.mark.skipif(
    not REALDATA.is_dir(), reason=f"real models not found at {REALDATA}"
)


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The folder of the hls4ml community models; skips the test where it is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real models not found at {REALDATA}")
    return REALDATA
