"""A whole hls4ml project given as the config: its ``Backend`` and ``IOType`` choose what the
emulator reproduces (as `hls4ml convert -c` builds it), unless given explicitly."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulation import EmulatedModel
from emulation.config import dump_config, project_settings
from tests.support.models import mlp

HLS = {"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1}}


def _project(tmp_path: Path, **top: str) -> Path:
    path = tmp_path / "project.yml"
    path.write_text(dump_config(HLS, project={"OutputDir": "prj", "ProjectName": "p", **top}))
    return path


@pytest.mark.parametrize("as_file", [True, False])
def test_a_projects_backend_and_io_type_are_read(tmp_path: Path, as_file: bool) -> None:
    path = _project(tmp_path, Backend="Vitis", IOType="io_stream")
    source = path if as_file else {"Backend": "Vitis", "IOType": "io_stream", "HLSConfig": HLS}
    em = EmulatedModel(mlp([4, 3]), source)
    assert (em.graph.backend, em.graph.io_type) == ("Vitis", "io_stream")


def test_explicit_arguments_win_over_the_project(tmp_path: Path) -> None:
    path = _project(tmp_path, Backend="Vitis", IOType="io_stream")
    em = EmulatedModel(mlp([4, 3]), path, backend="Vivado", io_type="io_parallel")
    assert (em.graph.backend, em.graph.io_type) == ("Vivado", "io_parallel")


def test_a_bare_config_gets_hls4mls_defaults(tmp_path: Path) -> None:
    em = EmulatedModel(mlp([4, 3]), HLS)
    assert (em.graph.backend, em.graph.io_type) == ("Vivado", "io_parallel")
    assert project_settings(HLS) == {}
    assert project_settings(tmp_path / "missing.yml") == {}
