"""Tests for emulation.io.data_files: input data and labels from disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emulation.errors import DataError
from emulation.io.data_files import load_data, load_labels

X = np.arange(12, dtype=np.float64).reshape(3, 4) / 8.0


def _dat(path: Path, rows: np.ndarray) -> Path:
    path.write_text("\n".join(" ".join(repr(float(v)) for v in row) for row in rows) + "\n")
    return path


def _assert_equal(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape, f"shape {got.shape} != {want.shape}"
    diff = np.argwhere(got != want)
    assert diff.size == 0, f"{len(diff)} values differ, first at {diff[:3].tolist()}"


# --- formats ---------------------------------------------------------------------------------


def test_npy(tmp_path: Path) -> None:
    """A .npy file loads as float64 with its shape."""
    np.save(tmp_path / "x.npy", X.astype(np.float32))
    got = load_data(tmp_path / "x.npy")
    assert got.dtype == np.float64
    _assert_equal(got, X)


def test_npz_single_array_needs_no_name(tmp_path: Path) -> None:
    """A one-array .npz loads without naming the array."""
    np.savez(tmp_path / "x.npz", features=X)
    _assert_equal(load_data(tmp_path / "x.npz"), X)


def test_npz_named_array(tmp_path: Path) -> None:
    """file.npz:name picks one array of several."""
    np.savez(tmp_path / "d.npz", x=X, y=np.arange(3))
    _assert_equal(load_data(f"{tmp_path / 'd.npz'}:x"), X)


def test_npz_several_arrays_without_name(tmp_path: Path) -> None:
    """An archive of several arrays without a name is an error listing the names."""
    np.savez(tmp_path / "d.npz", x=X, y=np.arange(3))
    with pytest.raises(DataError, match=r"holds 2 arrays \(x, y\)"):
        load_data(tmp_path / "d.npz")


def test_npz_unknown_name(tmp_path: Path) -> None:
    """A name the archive does not hold is an error listing the names it holds."""
    np.savez(tmp_path / "d.npz", x=X, y=np.arange(3))
    with pytest.raises(DataError, match="no array named 'z'; it holds: x, y"):
        load_data(f"{tmp_path / 'd.npz'}:z")


def test_dat(tmp_path: Path) -> None:
    """An hls4ml testbench .dat (whitespace, one sample a line) loads exactly."""
    _assert_equal(load_data(_dat(tmp_path / "tb.dat", X)), X)


def test_dat_single_line(tmp_path: Path) -> None:
    """A .dat of one line is one sample, not one value a sample."""
    assert load_data(_dat(tmp_path / "one.dat", X[:1])).shape == (1, 4)


def test_csv_with_header(tmp_path: Path) -> None:
    """A .csv with a header line skips it."""
    path = tmp_path / "x.csv"
    path.write_text("a,b,c,d\n" + "\n".join(",".join(str(v) for v in row) for row in X))
    _assert_equal(load_data(path), X)


def test_csv_without_header(tmp_path: Path) -> None:
    """A .csv without a header keeps its first row."""
    path = tmp_path / "x.csv"
    path.write_text("\n".join(",".join(str(v) for v in row) for row in X))
    _assert_equal(load_data(path), X)


def test_array_input() -> None:
    """An array is accepted and checked like a file."""
    _assert_equal(load_data(X.astype(np.float32)), X)


def test_1d_without_shape_is_one_value_a_sample(tmp_path: Path) -> None:
    """A 1-D array without an expected shape is n samples of one value."""
    np.save(tmp_path / "v.npy", np.arange(5.0))
    assert load_data(tmp_path / "v.npy").shape == (5, 1)


# --- shapes ----------------------------------------------------------------------------------


def test_reshape_flat_rows(tmp_path: Path) -> None:
    """Flat rows are reshaped to the per-sample shape when the size fits."""
    got = load_data(_dat(tmp_path / "x.dat", X), expected_shape=(2, 2))
    _assert_equal(got, X.reshape(3, 2, 2))


def test_keras_input_shape_accepted(tmp_path: Path) -> None:
    """A Keras input_shape with its leading None works as the expected shape."""
    got = load_data(_dat(tmp_path / "x.dat", X), expected_shape=(None, 4, 1))
    assert got.shape == (3, 4, 1)


def test_matching_shape_kept(tmp_path: Path) -> None:
    """Data already in the expected per-sample shape is returned as is."""
    np.save(tmp_path / "x.npy", X.reshape(3, 2, 2))
    _assert_equal(load_data(tmp_path / "x.npy", expected_shape=(2, 2)), X.reshape(3, 2, 2))


def test_flat_single_sample(tmp_path: Path) -> None:
    """A 1-D array the size of one sample is one sample."""
    np.save(tmp_path / "x.npy", np.arange(4.0))
    assert load_data(tmp_path / "x.npy", expected_shape=(4,)).shape == (1, 4)


def test_shape_mismatch(tmp_path: Path) -> None:
    """Rows whose size does not fit are an error saying expected and given."""
    with pytest.raises(DataError, match=r"shape \(4,\) \(4 values each, 3 samples\).*\(5,\)"):
        load_data(_dat(tmp_path / "x.dat", X), expected_shape=(5,))


# --- errors ----------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is a DataError naming it."""
    with pytest.raises(DataError, match="data file not found"):
        load_data(tmp_path / "nope.npy")


def test_unknown_format(tmp_path: Path) -> None:
    """An unknown suffix is an error listing the formats."""
    (tmp_path / "x.parquet").write_bytes(b"PAR1")
    with pytest.raises(DataError, match=r"unknown data format '\.parquet'.*\.npy, \.npz"):
        load_data(tmp_path / "x.parquet")


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_text_file(tmp_path: Path, content: str) -> None:
    """An empty (or blank) .dat is an error."""
    (tmp_path / "e.dat").write_text(content)
    with pytest.raises(DataError, match="is empty"):
        load_data(tmp_path / "e.dat")


def test_empty_array(tmp_path: Path) -> None:
    """An array without values is an error."""
    np.save(tmp_path / "e.npy", np.zeros((0, 4)))
    with pytest.raises(DataError, match=r"is empty \(shape \(0, 4\)\)"):
        load_data(tmp_path / "e.npy")


def test_nan_count_and_first_row(tmp_path: Path) -> None:
    """NaN values are counted and the first sample holding one is named."""
    bad = X.copy()
    bad[1, 2] = np.nan
    bad[2, 0] = np.nan
    with pytest.raises(DataError, match=r"2 NaN or infinite value\(s\), the first in sample 1"):
        load_data(_dat(tmp_path / "n.dat", bad))


def test_inf(tmp_path: Path) -> None:
    """Infinite values are refused like NaN."""
    bad = X.copy()
    bad[2, 3] = -np.inf
    np.save(tmp_path / "i.npy", bad)
    with pytest.raises(DataError, match=r"1 NaN or infinite value.*sample 2"):
        load_data(tmp_path / "i.npy")


def test_ragged_rows(tmp_path: Path) -> None:
    """Lines of different lengths are an error that says one sample a line."""
    (tmp_path / "r.dat").write_text("1 2 3\n4 5\n")
    with pytest.raises(DataError, match="one sample a line"):
        load_data(tmp_path / "r.dat")


def test_text_in_npy(tmp_path: Path) -> None:
    """A non-numeric array is refused."""
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    with pytest.raises(DataError, match="expected numbers"):
        load_data(tmp_path / "s.npy")


def test_corrupt_npz(tmp_path: Path) -> None:
    """A file that is not a zip archive is a DataError, not a raw zipfile error."""
    (tmp_path / "c.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="cannot read"):
        load_data(tmp_path / "c.npz")


def test_name_on_non_npz(tmp_path: Path) -> None:
    """An array name on a file that is not .npz does not silently pass."""
    np.save(tmp_path / "x.npy", X)
    with pytest.raises(DataError, match="data file not found"):
        load_data(f"{tmp_path / 'x.npy'}:x")


# --- labels ----------------------------------------------------------------------------------


def test_labels_class_ids(tmp_path: Path) -> None:
    """One column of ids loads as int64."""
    (tmp_path / "l.dat").write_text("0\n2\n1\n")
    got = load_labels(tmp_path / "l.dat", 3, 3)
    assert got.dtype == np.int64
    _assert_equal(got, np.array([0, 2, 1]))


def test_labels_one_hot(tmp_path: Path) -> None:
    """One-hot rows load as their argmax."""
    np.save(tmp_path / "l.npy", np.eye(4)[[3, 0, 1]])
    _assert_equal(load_labels(tmp_path / "l.npy", 3, 4), np.array([3, 0, 1]))


def test_labels_wrong_length(tmp_path: Path) -> None:
    """Labels must match the sample count."""
    (tmp_path / "l.dat").write_text("0\n1\n")
    with pytest.raises(DataError, match="2 labels for 3 input samples"):
        load_labels(tmp_path / "l.dat", 3)


def test_labels_one_hot_width(tmp_path: Path) -> None:
    """One-hot rows of the wrong width are an error."""
    np.save(tmp_path / "l.npy", np.eye(4)[[3, 0]])
    with pytest.raises(DataError, match="4 columns; the model has 5 classes"):
        load_labels(tmp_path / "l.npy", 2, 5)


def test_labels_out_of_range() -> None:
    """A class id beyond n_classes is an error naming it."""
    with pytest.raises(DataError, match="class id 3 at sample 1; the model has 3 classes"):
        load_labels(np.array([0, 3, 1]), 3, 3)


@pytest.mark.parametrize("bad", [[0.0, 1.5], [0.0, -1.0]])
def test_labels_not_class_ids(bad: list[float]) -> None:
    """Non-integer or negative ids are refused."""
    with pytest.raises(DataError, match="expected integers >= 0"):
        load_labels(np.array(bad), 2)


# --- real files ------------------------------------------------------------------------------


def test_real_iris_inputs_and_labels(realdata: Path) -> None:
    """The Iris testbench inputs and one-hot labels load together (150 samples, 3 classes)."""
    x = load_data(
        realdata / "iris_mlp" / "iris_all150_scaled_input_features.dat", expected_shape=(4,)
    )
    y = load_labels(realdata / "iris_mlp" / "iris_all150_truth_labels.dat", len(x), 3)
    assert x.shape == (150, 4)
    _assert_equal(np.bincount(y), np.array([50, 50, 50]))


def test_real_jet_binary_labels(realdata: Path) -> None:
    """The jet 1-layer truth labels (one 0/1 column) load as two classes."""
    y = load_labels(realdata / "jet_KERAS_3layer" / "KERAS_1layer_truth_labels.dat", None, 2)
    assert y.shape == (197362,)
    assert set(np.unique(y).tolist()) == {0, 1}


def test_real_mnist_labels_outnumber_inputs(realdata: Path) -> None:
    """The MNIST folder ships 10000 labels for 3 inputs: the length check catches it."""
    folder = realdata / "mnist_mlp"
    x = load_data(folder / "KERAS_mnist_mlp_inputs.dat", expected_shape=(784,))
    with pytest.raises(DataError, match="10000 labels for 3 input samples"):
        load_labels(folder / "KERAS_mnist_mlp_truth_labels.dat", len(x), 10)
