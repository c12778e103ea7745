"""emulation.config: unknown and ignored keys, writing HLSConfig (deterministic, canonical,
validated), and hls4ml reading what aptune writes."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from emulation.config import (
    KerasModelRef,
    dump_config,
    ignored_keys,
    read_config,
    read_yaml,
    unknown_keys,
    write_config,
)
from emulation.errors import ConfigError
from emulation.fixed import FixedType, Rounding
from tests.support.sample_config import sample_config

# --- unknown and ignored keys ----------------------------------------------------------------


def test_unknown_keys_reported() -> None:
    """Typos and keys at the wrong level are listed by key path."""
    cfg = {
        "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactr": 1, "IOType": "io_stream"},
        "LayerName": {"d": {"Precison": {"weight": "ap_fixed<8,2>"}, "TableSize": 64}},
        "LayerType": {"Dense": {"ReuseFactor": 2, "Stratgy": "Latency"}},
        "Backend": "Vivado",
    }
    assert unknown_keys(cfg) == [
        "Backend",
        "Model.ReuseFactr",
        "Model.IOType",
        "LayerType.Dense.Stratgy",
        "LayerName.d.Precison",
    ]


def test_known_keys_not_reported() -> None:
    """Every key used in hls4ml-style configs is known, in either spelling."""
    cfg = {
        "Model": {
            "Precision": "ap_fixed<16,6>",
            "ReuseFactor": 1,
            "Strategy": "Latency",
            "BramFactor": 10**9,
            "TraceOutput": False,
            "BitExact": None,
        },
        "LayerName": {
            "sm": {
                "Precision": {"result": "ap_fixed<16,6>"},
                "exp_table_t": "ap_fixed<18,8>",
                "InvTableT": "ap_fixed<18,8>",
                "TableSize": 1024,
                "InvTableSize": 512,
                "Implementation": "stable",
                "Trace": True,
                "ParallelizationFactor": 1,
                "ConvImplementation": "LineBuffer",
            }
        },
        "Flows": [],
    }
    assert unknown_keys(cfg) == []


def test_ignored_table_precisions() -> None:
    """Table types under Precision, which hls4ml never reads, are listed."""
    cfg = {
        "LayerName": {
            "sm": {"Precision": {"result": "auto", "exp_table": "ap_fixed<18,8>", "table": "auto"}}
        }
    }
    assert ignored_keys(cfg) == ["LayerName.sm.Precision.exp_table", "LayerName.sm.Precision.table"]


# --- writing ---------------------------------------------------------------------------------


def test_round_trip(tmp_path: Path) -> None:
    """Writing then reading gives the same dict."""
    path = write_config(sample_config(), tmp_path / "out" / "cfg.yml")
    assert read_config(path) == sample_config()


def test_dump_deterministic() -> None:
    """The same config gives the same text whatever order its keys were inserted in."""
    a = {"Model": {"ReuseFactor": 1, "Precision": "ap_fixed<16,6>", "Strategy": "Latency"}}
    b = {"Model": {"Strategy": "Latency", "Precision": "ap_fixed<16,6>", "ReuseFactor": 1}}
    assert dump_config(a) == dump_config(b)
    assert dump_config(a).startswith("Model:\n  Precision: ap_fixed<16,6>\n  ReuseFactor: 1\n")


def test_dump_sections_in_canonical_order() -> None:
    """Sections come out as Model, LayerType, LayerName; layers keep their given order."""
    cfg = {
        "LayerName": {"z": {"ReuseFactor": 1}, "a": {"ReuseFactor": 1}},
        "Model": {"Precision": "ap_fixed<16,6>"},
        "LayerType": {"Dense": {"ReuseFactor": 1}},
    }
    lines = [ln for ln in dump_config(cfg).splitlines() if not ln.startswith("    ")]
    assert lines == [
        "Model:",
        "  Precision: ap_fixed<16,6>",
        "LayerType:",
        "  Dense:",
        "LayerName:",
        "  z:",
        "  a:",
    ]


def test_dump_fixed_types_and_numpy() -> None:
    """FixedType values are written as hls4ml strings and NumPy scalars as plain numbers."""
    cfg = {
        "Model": {"Precision": FixedType(16, 6), "ReuseFactor": np.int32(4)},
        "LayerName": {"d": {"Precision": {"weight": FixedType(8, 2, rounding=Rounding.RND)}}},
    }
    back = yaml.safe_load(dump_config(cfg))
    assert back == {
        "Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 4},
        "LayerName": {"d": {"Precision": {"weight": "ap_fixed<8,2,AP_RND>"}}},
    }


def test_dump_refuses_invalid() -> None:
    """A config that would not read back is not written."""
    with pytest.raises(ConfigError, match=r"Model\.ReuseFactor"):
        dump_config({"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 0}})


def test_write_project_file(tmp_path: Path) -> None:
    """With project settings the file is a whole project, model tag included, that reads back."""
    path = tmp_path / "prj" / "hls4ml_config.yml"
    project = {
        "OutputDir": "prj",
        "KerasModel": KerasModelRef("prj/keras_model.keras"),
        "IOType": "io_parallel",
    }
    write_config(sample_config(), path, project=project)
    text = path.read_text()
    assert text.startswith("KerasModel: !keras_model 'prj/keras_model.keras'\nOutputDir: prj\n")
    assert read_config(path) == sample_config()
    assert read_yaml(path)["IOType"] == "io_parallel"


# --- hls4ml accepts what aptune writes -------------------------------------------------------


@pytest.fixture(scope="module")
def small_model() -> Any:
    """A 4-3-2 softmax MLP with layers named as in sample_config()."""
    keras = pytest.importorskip("keras")
    inputs = keras.Input((4,), name="x")
    hidden = keras.layers.Dense(3, activation="relu", name="fc1")(inputs)
    outputs = keras.layers.Dense(2, name="fc2")(hidden)
    outputs = keras.layers.Activation("softmax", name="fc2_softmax")(outputs)
    return keras.Model(inputs, outputs)


def test_hls4ml_reads_written_config(small_model: Any, tmp_path: Path) -> None:
    """hls4ml converts with the written text and applies every precision, reuse and table size."""
    hls4ml = pytest.importorskip("hls4ml")
    text = dump_config(sample_config())
    with contextlib.redirect_stdout(io.StringIO()):
        graph = hls4ml.converters.convert_from_keras_model(
            small_model,
            hls_config=yaml.safe_load(text),
            backend="Vivado",
            io_type="io_parallel",
            output_dir=str(tmp_path / "prj"),
        )
    layers = {layer.name: layer for layer in graph.get_layers()}
    fc1, fc2, sm = layers["fc1"], layers["fc2"], layers["fc2_softmax"]
    assert str(fc1.get_attr("weight_t").precision) == "fixed<8,2,RND,SAT,0>"
    assert fc1.get_attr("reuse_factor") == 2
    assert str(fc2.get_output_variable().type.precision) == "fixed<12,4,TRN,WRAP,0>"
    assert fc2.get_attr("strategy") == "resource"
    assert str(sm.get_attr("exp_table_t").precision) == "fixed<18,8,RND,SAT,0>"
    assert sm.get_attr("table_size") == 512


def test_config_from_keras_model_reads_clean(small_model: Any) -> None:
    """hls4ml's own generated config passes validation and has no unknown keys."""
    hls4ml = pytest.importorskip("hls4ml")
    cfg = hls4ml.utils.config_from_keras_model(small_model, granularity="name", backend="Vivado")
    got = read_config(cfg)
    assert unknown_keys(got) == []
    assert "LayerName.fc2_softmax.Precision.exp_table" in ignored_keys(got)
