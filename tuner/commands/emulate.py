"""``aptune emulate``: run the bit-exact emulator on data and save its outputs.

Writes the emulated outputs (what hls4ml's C simulation returns for float64 inputs) to one
``.npy`` file, and with ``--trace DIR`` every layer's output as ``DIR/<layer>.npy``. No compiler
needed.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = [
    "add_backend_argument",
    "add_io_type_argument",
    "add_model_arguments",
    "backend_of",
    "io_type_of",
    "load_inputs",
    "load_model_and_config",
    "register",
    "run",
]


def add_backend_argument(p: argparse.ArgumentParser) -> None:
    """``--backend``, shared by every command that converts the model."""
    p.add_argument(
        "--backend",
        metavar="Vivado|Vitis",
        help="hls4ml backend; default: the project file's Backend, else Vivado",
    )


def add_io_type_argument(p: argparse.ArgumentParser) -> None:
    """``--io-type``, shared by every command that converts the model."""
    p.add_argument(
        "--io-type",
        metavar="io_parallel|io_stream",
        help="hls4ml io type; default: the project file's IOType, else io_parallel",
    )


def _project_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The top-level settings of a project file given as MODEL (``Backend``, ``IOType``)."""
    from emulation.config import project_settings

    model = getattr(args, "model", None)
    return project_settings(model) if model else {}


def io_type_of(args: argparse.Namespace) -> str:
    """``--io-type``, else the ``IOType`` of a project file given as MODEL, else io_parallel."""
    from emulation.hls_model_graph import io_type_name

    given = getattr(args, "io_type", None)
    return io_type_name(given if given else _project_settings(args).get("IOType", "io_parallel"))


def backend_of(args: argparse.Namespace) -> str:
    """``--backend``, else the ``Backend`` of a project file given as MODEL, else Vivado."""
    from emulation.hls_nodes import backend_name

    given = getattr(args, "backend", None)
    return backend_name(given if given else _project_settings(args).get("Backend", "Vivado"))


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """MODEL, --config and --data, shared by ``emulate`` and ``csim``."""
    p.add_argument(
        "model",
        metavar="MODEL",
        help=".keras, full-model .h5, Keras JSON (weights .h5 beside it) or an hls4ml project "
        "YAML (which then also serves as the config)",
    )
    p.add_argument(
        "-c",
        "--config",
        metavar="CFG",
        help="hls4ml config YAML (HLSConfig or a whole project file); optional when MODEL is a "
        "project file",
    )
    p.add_argument(
        "--data",
        metavar="X",
        required=True,
        help="input samples: .npy, .npz (file.npz:name), .dat (hls4ml testbench text) or .csv",
    )


def load_model_and_config(model_path: str, config_path: str | None) -> tuple[Any, dict[str, Any]]:
    """The Keras model and the hls4ml config: ``--config`` if given, else the project's own."""
    from emulation.config import read_config
    from emulation.errors import ConfigError
    from emulation.io import keras_files as keras_io

    model, project_config = keras_io.load(model_path)
    if config_path:
        return model, read_config(config_path)
    if project_config is None:
        raise ConfigError(
            f"{model_path} is a model file without an hls4ml config: pass --config CFG.yml "
            "(an HLSConfig or an hls4ml project file)"
        )
    return model, project_config


def load_inputs(model: Any, spec: str) -> Any:
    """The input samples, reshaped to the model's (single) input."""
    from emulation.errors import DataError
    from emulation.io.data_files import load_data

    if isinstance(model.input_shape, list):
        raise DataError(
            f"the model has {len(model.input_shape)} inputs; the command line takes one input "
            "array: use the Python API (EmulatedModel, csim.compare) with a list of arrays"
        )
    return load_data(spec, expected_shape=model.input_shape)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``emulate`` subcommand."""
    p = subparsers.add_parser(
        "emulate",
        help="compute hls4ml's C-simulation outputs bit for bit, without a compiler",
        description=(
            "Run aptune's bit-exact NumPy emulation of hls4ml's generated C++ (Vivado or "
            "Vitis, io_parallel or io_stream) on the data and save the outputs: the values "
            "hls4ml's compiled C simulation would return for float64 inputs."
        ),
    )
    add_model_arguments(p)
    add_backend_argument(p)
    add_io_type_argument(p)
    p.add_argument(
        "-o",
        "--output",
        metavar="Y.npy",
        type=Path,
        required=True,
        help="where to write the emulated outputs (samples x output values, float64)",
    )
    p.add_argument(
        "--trace",
        metavar="DIR",
        type=Path,
        help="also write every layer's output as DIR/<layer>.npy",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load, emulate, write; print what was written and any overflowing cast points."""
    import numpy as np

    from emulation.io.atomic_files import atomic_save_npy
    from emulation.model import EmulatedModel

    backend, io_type = backend_of(args), io_type_of(args)
    model, config = load_model_and_config(args.model, args.config)
    X = load_inputs(model, args.data)
    from emulation.io.atomic_files import prepare_folder

    prepare_folder(args.output.parent)
    if args.trace is not None:
        prepare_folder(args.trace, "trace")
    em = EmulatedModel(model, config, backend=backend, io_type=io_type)
    if args.trace is not None:
        traces = em.trace(X)
        for name, values in traces.items():
            atomic_save_npy(args.trace / f"{name}.npy", values)
    Y = em.predict(X)
    out = np.concatenate([y.reshape(len(X), -1) for y in (Y if isinstance(Y, list) else [Y])], 1)
    atomic_save_npy(args.output, out)
    print(f"wrote {args.output}: {out.shape[0]} samples x {out.shape[1]} values (emulated)")
    if args.trace is not None:
        print(f"wrote {len(traces)} layer outputs to {args.trace}/")
    hits = [(k, p) for k, p in sorted(em.overflows.items()) if p.count]
    for key, point in hits:
        print(
            f"overflow at {key}: {point.count} of {point.total} values (largest |value| "
            f"{point.max_abs:.6g})"
        )
    return 0
