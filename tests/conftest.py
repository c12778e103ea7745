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


@pytest.fixture(scope="session")
def csim_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of compiled C simulations for the session: tests with the same model and
    config share one compile (the library and the command line alike)."""
    return tmp_path_factory.mktemp("csim-cache")


@pytest.fixture(scope="session")
def small_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small Dense 6-8-8-4 softmax classifier saved as .keras (see tests/csim/small_models)."""
    from tests.csim.small_models import small_model

    path = tmp_path_factory.mktemp("small-model") / "small.keras"
    small_model().save(path)
    return path
