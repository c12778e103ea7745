"""Cache location and keys."""

from __future__ import annotations

from pathlib import Path

from csim.cache import CACHE_ENV, cache_root, sim_key
from tests.csim.small_models import BROKEN_AT_D2, CONFIG


class _FakeModel:
    def __init__(self, weights):
        self._w = weights

    def to_json(self) -> str:
        return '{"layers": []}'

    def get_weights(self):
        return self._w


def test_root_prefers_argument_then_environment(tmp_path, monkeypatch):
    """cache_dir beats APTUNE_CACHE_DIR, which beats the default under ~/.cache."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env"))
    assert cache_root(tmp_path / "arg") == tmp_path / "arg"
    assert cache_root() == tmp_path / "env"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_root() == Path.home() / ".cache" / "aptune" / "csim"


def test_key_changes_with_config_weights_and_tools():
    """Config, weights, hls4ml or g++ version each change the key; key order does not."""
    import numpy as np

    m = _FakeModel([np.ones((2, 2), np.float32)])
    base = sim_key(m, CONFIG, hls4ml="1.3.0", gxx="g++ 12")
    assert base == sim_key(m, dict(reversed(list(CONFIG.items()))), hls4ml="1.3.0", gxx="g++ 12")
    assert base != sim_key(m, BROKEN_AT_D2, hls4ml="1.3.0", gxx="g++ 12")
    assert base != sim_key(m, CONFIG, hls4ml="1.3.1", gxx="g++ 12")
    assert base != sim_key(m, CONFIG, hls4ml="1.3.0", gxx="g++ 13")
    other = _FakeModel([np.full((2, 2), 2, np.float32)])
    assert base != sim_key(other, CONFIG, hls4ml="1.3.0", gxx="g++ 12")
