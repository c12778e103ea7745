"""Configs and a model for the `emulation.check` tests: the findings of one code, a config with
an explicit narrow softmax input, and a small seeded MLP (Dense -> sigmoid -> Dense -> softmax)."""

from __future__ import annotations

BASE = {"Precision": "ap_fixed<16,6>", "ReuseFactor": 1, "Strategy": "Latency"}
NARROW = "ap_fixed<16,6>"


def codes(result, code: str) -> list:
    return [f for f in result.findings if f.code == code]


def check_mlp() -> object:
    """Dense 6-8 (sigmoid) -> Dense 4 -> softmax, seeded, logits well apart."""
    import keras

    keras.utils.set_random_seed(2)
    inp = keras.Input((6,), name="x")
    h = keras.layers.Dense(8, name="dense1")(inp)
    h = keras.layers.Activation("sigmoid", name="sig")(h)
    h = keras.layers.Dense(4, name="logits")(h)
    out = keras.layers.Activation("softmax", name="sm")(h)
    model = keras.Model(inp, out)
    logits = model.get_layer("logits")
    w, b = logits.get_weights()
    logits.set_weights([w * 8, b])  # clear margins: wide types agree with float on every sample
    return model


def safe(**layers) -> dict:
    """A config with an explicit narrow softmax input plus ``layers``."""
    return {"Model": BASE, "LayerName": {"logits": {"Precision": {"result": NARROW}}, **layers}}


def apply_fix(cfg: dict, fix: str) -> dict:
    """``cfg`` with the ``LayerName: {layer: {Precision: {var: T}}}`` and ``LayerName: {layer:
    {Key: N}}`` clauses of a fix text merged in (their types hold commas: not YAML)."""
    import re

    out = {**cfg, "LayerName": {k: dict(v) for k, v in (cfg.get("LayerName") or {}).items()}}
    for layer, var, t in re.findall(r"LayerName: \{(\w+): \{Precision: \{(\w+): ([^}]+)\}", fix):
        block = out["LayerName"].setdefault(layer, {})
        block["Precision"] = {**dict(block.get("Precision") or {}), var: t}
    for layer, key, n in re.findall(r"LayerName: \{(\w+): \{(\w+): (\d+)\}", fix):
        out["LayerName"].setdefault(layer, {})[key] = int(n)
    return out
