"""Tests for emulation.config: reading, validating and writing hls4ml's HLSConfig."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from emulation.config import KerasModelRef, parse_precision, read_config, read_yaml
from emulation.errors import ConfigError
from emulation.fixed import FixedType, Overflow, Rounding
from tests.support.sample_config import sample_config

# --- reading ---------------------------------------------------------------------------------


def test_read_dict_is_a_copy() -> None:
    """A dict reads back equal, and changing the result leaves the source alone."""
    source = sample_config()
    got = read_config(source)
    assert got == sample_config()
    got["LayerName"]["fc1"]["ReuseFactor"] = 99
    assert source["LayerName"]["fc1"]["ReuseFactor"] == 2


def test_read_yaml_file(tmp_path: Path) -> None:
    """A YAML file holding the HLSConfig section reads as that dict."""
    path = tmp_path / "c.yml"
    path.write_text(yaml.safe_dump(sample_config()))
    assert read_config(path) == sample_config()


def test_read_project_file_takes_hls_config(tmp_path: Path) -> None:
    """A whole project file (with hls4ml's !keras_model tag) gives its HLSConfig."""
    path = tmp_path / "hls4ml_config.yml"
    path.write_text(
        "KerasModel: !keras_model 'prj/keras_model.keras'\nOutputDir: prj\nIOType: io_parallel\n"
        "HLSConfig:\n  Model:\n    Precision: ap_fixed<16,6>\n    ReuseFactor: 1\n"
    )
    assert read_config(path) == {"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1}}


def test_read_yaml_keeps_keras_model_tag(tmp_path: Path) -> None:
    """The !keras_model tag reads as a KerasModelRef holding the path, without Keras."""
    path = tmp_path / "p.yml"
    path.write_text("KerasModel: !keras_model 'prj/keras_model.keras'\n")
    value = read_yaml(path)["KerasModel"]
    assert isinstance(value, KerasModelRef)
    assert value == "prj/keras_model.keras"


def test_project_without_hls_config_is_empty(tmp_path: Path) -> None:
    """A project file without HLSConfig reads as an empty config (hls4ml's defaults)."""
    path = tmp_path / "p.yml"
    path.write_text("KerasH5: m.h5\nOutputDir: out\n")
    assert read_config(path) == {}


def test_empty_file_is_empty(tmp_path: Path) -> None:
    """An empty YAML file is an empty config."""
    (tmp_path / "e.yml").write_text("")
    assert read_config(tmp_path / "e.yml") == {}


def test_unknown_keys_kept() -> None:
    """Unknown keys survive reading, as hls4ml keeps them."""
    cfg = {"Model": {"Precision": "ap_fixed<16,6>", "Foo": 3}, "Extra": [1]}
    assert read_config(cfg) == cfg


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("ap_fixed<16,6>", FixedType(16, 6)),
        ("fixed<16,6>", FixedType(16, 6)),
        ("ap_fixed<16, 6>", FixedType(16, 6)),
        ("ap_fixed<16,6,RND,SAT>", FixedType(16, 6, rounding=Rounding.RND, overflow=Overflow.SAT)),
        (
            "ap_ufixed<8,0,AP_RND_CONV,AP_SAT_SYM>",
            FixedType(8, 0, False, Rounding.RND_CONV, Overflow.SAT_SYM),
        ),
        ("ap_fixed<18,8,AP_RND,AP_SAT,2>", FixedType(18, 8, True, Rounding.RND, Overflow.SAT, 2)),
        ("ap_int<8>", FixedType.integer_type(8)),
        ("uint<4>", FixedType.integer_type(4, signed=False)),
        ("ap_fixed<4,-2>", FixedType(4, -2)),
    ],
)
def test_accepted_precisions(text: str, parsed: FixedType) -> None:
    """Every spelling hls4ml parses is accepted in a layer precision, kept as written, and
    means the type hls4ml gives it."""
    cfg = read_config({"LayerName": {"d": {"Precision": {"weight": text}}}})
    assert cfg["LayerName"]["d"]["Precision"]["weight"] == text
    assert parse_precision(text) == parsed


def test_parse_precision_modes() -> None:
    """Bare mode names parse to the same type as their AP_ spelling."""
    t = parse_precision("fixed<10,3,rnd,sat>")
    assert t == FixedType(10, 3, rounding=Rounding.RND, overflow=Overflow.SAT)


@pytest.mark.parametrize(
    ("strategy", "meant"),
    [
        ("Latency", "latency"),
        ("latency", "latency"),
        ("Resource", "resource"),
        ("Resource_Unrolled", "resource_unrolled"),
        ("ResourceUnrolled", "resource_unrolled"),
        ("da", "da"),
    ],
)
def test_accepted_strategies(strategy: str, meant: str) -> None:
    """hls4ml's strategies are accepted in the spellings it recognises, kept as written, and
    mean the strategy hls4ml's snake-casing makes of them."""
    from hls4ml.utils.string_utils import convert_to_snake_case

    cfg = read_config({"Model": {"Precision": "ap_fixed<16,6>", "Strategy": strategy}})
    assert cfg["Model"]["Strategy"] == strategy
    assert convert_to_snake_case(strategy).lower() == meant


def test_strategy_da_upper_case_refused() -> None:
    """'DA' is refused: hls4ml snake-cases it to 'd_a' and silently uses Latency."""
    with pytest.raises(ConfigError, match=r"Model\.Strategy: got 'DA'"):
        read_config({"Model": {"Precision": "ap_fixed<16,6>", "Strategy": "DA"}})


# --- errors ----------------------------------------------------------------------------------


def _error(cfg: Any) -> str:
    with pytest.raises(ConfigError) as info:
        read_config(cfg)
    message = str(info.value)
    assert "\n" not in message, "errors are one line"
    return message


def test_bad_precision_names_key_path() -> None:
    """A malformed precision names its key path, the value and what is allowed."""
    cfg = sample_config()
    cfg["LayerName"]["fc1"]["Precision"]["weight"] = "ap_fixd<16,6>"
    message = _error(cfg)
    assert message.startswith("LayerName.fc1.Precision.weight:")
    assert "'ap_fixd<16,6>'" in message
    assert "ap_[u]fixed<W,I" in message


def test_bad_model_precision_string() -> None:
    """A malformed model precision string names Model.Precision."""
    assert _error({"Model": {"Precision": "ap_fixed<16>"}}).startswith("Model.Precision:")


def test_bad_layer_type_key() -> None:
    """A bad value under LayerType names LayerType.<class>."""
    message = _error({"LayerType": {"Dense": {"ReuseFactor": 0}}})
    assert message.startswith("LayerType.Dense.ReuseFactor: got 0")


def test_bad_table_type() -> None:
    """A *_t layer key is checked as a precision."""
    message = _error({"LayerName": {"sm": {"inv_table_t": "ap_fixed<18>"}}})
    assert message.startswith("LayerName.sm.inv_table_t:")


def test_precision_not_a_string() -> None:
    """A number where a precision belongs says a string is expected."""
    assert "expected a precision string" in _error({"Model": {"Precision": 16}})


def test_float_type_refused() -> None:
    """Float types hls4ml knows but aptune cannot emulate are refused with the reason."""
    message = _error({"LayerName": {"d": {"Precision": {"result": "float"}}}})
    assert "fixed-point types only" in message


def test_auto_model_default_refused() -> None:
    """'auto' as the model default is refused (hls4ml cannot resolve it)."""
    assert "model default must be a concrete type" in _error({"Model": {"Precision": "auto"}})
    message = _error({"Model": {"Precision": {"default": "auto"}}})
    assert message.startswith("Model.Precision.default:")


@pytest.mark.parametrize("value", [0, -1, 1.5, "2", True, None])
def test_bad_reuse_factor(value: Any) -> None:
    """ReuseFactor must be a positive int; the message shows the value given."""
    message = _error({"LayerName": {"d": {"ReuseFactor": value}}})
    assert message == (
        f"LayerName.d.ReuseFactor: got {value!r}; expected a positive integer (1, 2, 3, ...)"
    )


def test_numpy_reuse_factor_accepted() -> None:
    """A NumPy integer is a valid ReuseFactor (the tuner computes them), kept as its value."""
    cfg = read_config({"Model": {"Precision": "ap_fixed<16,6>", "ReuseFactor": np.int64(4)}})
    assert cfg["Model"]["ReuseFactor"] == 4


def test_bad_strategy() -> None:
    """An unknown strategy lists the allowed ones."""
    message = _error({"Model": {"Precision": "ap_fixed<16,6>", "Strategy": "Fast"}})
    assert message.startswith("Model.Strategy: got 'Fast'; expected one of Latency, Resource")


@pytest.mark.parametrize("key", ["TableSize", "InvTableSize"])
def test_bad_table_size(key: str) -> None:
    """Table sizes must be positive ints."""
    assert _error({"LayerName": {"sm": {key: 0}}}).startswith(f"LayerName.sm.{key}: got 0")


def test_optimizers_and_skip_optimizers() -> None:
    """Optimizers and SkipOptimizers together are refused, as hls4ml refuses them."""
    assert "one or the other" in _error({"Optimizers": ["a"], "SkipOptimizers": ["b"]})


def test_layer_name_not_a_mapping() -> None:
    """LayerName must map layer names to settings."""
    assert _error({"LayerName": ["fc1"]}).startswith("LayerName: got ['fc1']")


def test_flows_not_a_list() -> None:
    """Flows must be a list of names."""
    assert _error({"Flows": "vivado:ip"}).startswith("Flows:")


def test_top_level_not_a_mapping(tmp_path: Path) -> None:
    """A YAML file holding a list is refused."""
    (tmp_path / "l.yml").write_text("- a\n- b\n")
    assert "expected a mapping" in _error(tmp_path / "l.yml")


def test_malformed_yaml_gives_line(tmp_path: Path) -> None:
    """Malformed YAML names the file and the line."""
    path = tmp_path / "bad.yml"
    path.write_text("Model:\n  Precision: ap_fixed<16,6>\n ReuseFactor: [1\n")
    message = _error(path)
    assert "bad.yml is not valid YAML at line" in message


def test_missing_file(tmp_path: Path) -> None:
    """A missing config file is a ConfigError naming it."""
    assert "config file not found" in _error(tmp_path / "none.yml")
