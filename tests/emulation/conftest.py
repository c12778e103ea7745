"""Fixtures of the emulation tests shared by several files."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulation.layers import conv_compiled, dense_compiled


@pytest.fixture(scope="module")
def legacy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of Keras 1/2 files (JSON + weights, full-model .h5) written with h5py."""
    from tests.support.keras_files import write_legacy_folder

    return write_legacy_folder(tmp_path_factory.mktemp("legacy"))


@pytest.fixture(scope="module")
def keras3_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the same MLP saved by Keras 3: .keras, .h5, JSON + .weights.h5."""
    from tests.support.keras_files import write_keras3_folder

    return write_keras3_folder(tmp_path_factory.mktemp("keras3"))


@pytest.fixture(scope="module")
def mlp() -> object:
    """The `emulation.check` tests' MLP (`tests.support.check_models.check_mlp`)."""
    from tests.support.check_models import check_mlp

    return check_mlp()


@pytest.fixture(params=["compiled", "numpy"] if conv_compiled.available else ["numpy"])
def conv_path(request, monkeypatch) -> str:
    """Each test runs on the compiled loop (`conv_compiled`) and on the NumPy reference."""
    monkeypatch.setattr(conv_compiled, "enabled", request.param == "compiled")
    return request.param


@pytest.fixture(
    params=[
        "numpy",
        pytest.param(
            "numba",
            marks=pytest.mark.skipif(not dense_compiled.available, reason="numba not installed"),
        ),
    ]
)
def dense_kernel(request, monkeypatch) -> str:
    """Rounded products of `emulation.layers.dense` through the NumPy reference blocks or the
    compiled loop."""
    monkeypatch.setattr(dense_compiled, "enabled", request.param == "numba")
    return request.param
