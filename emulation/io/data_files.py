"""Input data and labels from disk: ``.npy``, ``.npz``, hls4ml testbench ``.dat`` and ``.csv``.

A data spec is a path, or ``file.npz:name`` for one array of an ``.npz`` archive (an archive
holding a single array needs no name). Samples run along the first axis. Everything returned is
float64 (labels: int64), finite, and never empty; anything else is a :class:`DataError` that says
what was given and what was expected.
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from emulation.errors import DataError

__all__ = ["SUPPORTED_DATA", "load_data", "load_labels"]

SUPPORTED_DATA = ".npy, .npz (file.npz:name), .dat (whitespace text) or .csv"

Spec = str | os.PathLike[str]


def _split_spec(spec: Spec) -> tuple[Path, str | None]:
    """Split ``file.npz:name`` into the path and the array name."""
    text = os.fspath(spec)
    head, sep, name = text.rpartition(":")
    if sep and head.lower().endswith(".npz") and name and "/" not in name and "\\" not in name:
        return Path(head), name
    return Path(text), None


def _read_npz(path: Path, name: str | None) -> np.ndarray:
    with np.load(path, allow_pickle=False) as archive:
        names = list(archive.files)
        if not names:
            raise DataError(f"{path} is empty: it holds no arrays")
        if name is None:
            if len(names) > 1:
                listed = ", ".join(names)
                raise DataError(
                    f"{path} holds {len(names)} arrays ({listed}): name one as {path}:{names[0]}"
                )
            name = names[0]
        if name not in names:
            raise DataError(f"{path} has no array named {name!r}; it holds: {', '.join(names)}")
        return archive[name]


def _first_line(path: Path) -> str:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.strip():
                return line
    return ""


def _is_header(line: str) -> bool:
    try:
        [float(cell) for cell in line.split(",") if cell.strip()]
    except ValueError:
        return True
    return False


def _read_text(path: Path, *, csv: bool) -> np.ndarray:
    first = _first_line(path)
    if not first:
        raise DataError(f"{path} is empty: expected one sample a line")
    skip = 1 if csv and _is_header(first) else 0
    try:
        # numpy's C reader: about 1 s for 200k lines of 16 values; reports the bad line.
        return np.loadtxt(
            path, delimiter="," if csv else None, skiprows=skip, ndmin=2, dtype=np.float64
        )
    except ValueError as exc:
        kind = "comma-separated numbers" if csv else "whitespace-separated numbers"
        raise DataError(
            f"cannot read {path}: {exc}; expected {kind}, one sample a line, "
            "each line with the same count"
        ) from exc


def _read_raw(path: Path, name: str | None) -> np.ndarray:
    suffix = path.suffix.lower()
    if name is not None and suffix != ".npz":
        raise DataError(f"{path}: only .npz archives take an array name (given {name!r})")
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if suffix == ".npz":
            return _read_npz(path, name)
        if suffix in (".dat", ".txt"):
            return _read_text(path, csv=False)
        if suffix == ".csv":
            return _read_text(path, csv=True)
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    raise DataError(
        f"unknown data format {suffix or '(no suffix)'!r} for {path}: expected {SUPPORTED_DATA}"
    )


def _check_finite(data: np.ndarray, where: str) -> None:
    bad = ~np.isfinite(data)
    count = int(np.count_nonzero(bad))
    if count:
        row = int(np.argmax(bad.reshape(len(data), -1).any(axis=1)))
        raise DataError(
            f"{where} holds {count} NaN or infinite value(s), the first in sample {row} "
            "(0-based): remove or impute them"
        )


def _per_sample(expected_shape: Sequence[int | None]) -> tuple[int, ...]:
    shape = tuple(expected_shape)
    # Accept a Keras input_shape as well: (None, 16) means 16 values per sample.
    if shape and shape[0] is None:
        shape = shape[1:]
    if any(d is None or int(d) <= 0 for d in shape):
        raise ValueError(f"expected_shape must hold positive sizes, got {tuple(expected_shape)}")
    return tuple(int(d) for d in shape)


def _fit_shape(data: np.ndarray, shape: tuple[int, ...], where: str) -> np.ndarray:
    size = math.prod(shape)
    if data.ndim == 1:
        # One value a sample, or one single sample stored flat.
        data = data.reshape(-1, 1) if size == 1 else data.reshape(1, -1)
    per_sample = math.prod(data.shape[1:])
    if data.shape[1:] == shape:
        return data
    if per_sample == size:
        return data.reshape((len(data), *shape))
    raise DataError(
        f"{where} has samples of shape {data.shape[1:]} ({per_sample} values each, "
        f"{len(data)} samples); the model expects {shape} ({size} values each)"
    )


def load_data(
    spec: Spec | np.ndarray, *, expected_shape: Sequence[int | None] | None = None
) -> np.ndarray:
    """Load input samples as a float64 array of shape ``(n_samples, *sample_shape)``.

    Parameters
    ----------
    spec : str, PathLike or ndarray
        ``.npy``; ``.npz`` (``file.npz:name``, the name optional for a one-array archive);
        ``.dat`` (hls4ml testbench text: whitespace-separated, one sample a line); ``.csv``
        (comma-separated, one optional header line). An array is checked like a file.
    expected_shape : sequence of int, optional
        Shape of one sample (a Keras ``input_shape`` with its leading ``None`` also works).
        Flat rows are reshaped to it when their size fits.

    Returns
    -------
    ndarray of float64

    Raises
    ------
    DataError
        Missing, unreadable, empty or unknown-format file; a sample size that does not fit
        ``expected_shape``; NaN or infinite values (the count and the first sample).

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "x.dat"
    >>> _ = f.write_text("1 2 3 4\\n5 6 7 8\\n")
    >>> load_data(f, expected_shape=(2, 2)).shape
    (2, 2, 2)
    """
    if isinstance(spec, np.ndarray):
        where, raw = "the input array", spec
    else:
        path, name = _split_spec(spec)
        where = f"{path}:{name}" if name else str(path)
        if not path.is_file():
            raise DataError(f"data file not found: {path}")
        raw = _read_raw(path, name)
    if raw.dtype.kind not in "biuf":
        raise DataError(f"{where} holds {raw.dtype} values; expected numbers")
    data = np.asarray(raw, dtype=np.float64)
    if data.ndim == 0:
        raise DataError(f"{where} holds a single scalar; expected one sample a row")
    if data.size == 0:
        raise DataError(f"{where} is empty (shape {data.shape}); expected at least one sample")
    if expected_shape is not None:
        data = _fit_shape(data, _per_sample(expected_shape), where)
    elif data.ndim == 1:
        data = data.reshape(-1, 1)
    _check_finite(data, where)
    return data


def load_labels(
    spec: Spec | np.ndarray, n_samples: int | None, n_classes: int | None = None
) -> np.ndarray:
    """Load class labels as an int64 array of shape ``(n_samples,)``.

    Parameters
    ----------
    spec : str, PathLike or ndarray
        Any format :func:`load_data` reads. One column (or a 1-D array) holds class ids;
        several columns are one-hot rows (or scores) and the class is their argmax.
    n_samples : int or None
        The number of input samples; the labels must match it (None skips the check).
    n_classes : int, optional
        The model's class count: one-hot rows must have that many columns and class ids
        must lie in ``[0, n_classes)``. A single-output (sigmoid) model has 2 classes.

    Raises
    ------
    DataError
        Wrong length, non-integer or out-of-range ids, a one-hot width that is not
        ``n_classes``, or anything :func:`load_data` refuses.
    """
    data = load_data(spec)
    where = "the label array" if isinstance(spec, np.ndarray) else os.fspath(spec)
    if data.ndim > 2:
        raise DataError(
            f"{where} has labels of shape {data.shape[1:]}; expected one class id or one "
            "one-hot row per sample"
        )
    if data.shape[1] == 1:
        ids = data[:, 0]
        if not np.array_equal(ids, np.round(ids)) or ids.min() < 0:
            bad = int(np.argmax((ids != np.round(ids)) | (ids < 0)))
            raise DataError(
                f"{where} holds class id {ids[bad]!r} at sample {bad}; expected integers >= 0"
            )
        labels = ids.astype(np.int64)
        if n_classes is not None and labels.max() >= n_classes:
            bad = int(np.argmax(labels >= n_classes))
            raise DataError(
                f"{where} holds class id {labels[bad]} at sample {bad}; the model has "
                f"{n_classes} classes (ids 0 to {n_classes - 1})"
            )
    else:
        if n_classes is not None and data.shape[1] != n_classes:
            raise DataError(
                f"{where} has one-hot rows of {data.shape[1]} columns; the model has "
                f"{n_classes} classes"
            )
        labels = np.argmax(data, axis=1).astype(np.int64)
    if n_samples is not None and len(labels) != n_samples:
        raise DataError(
            f"{where} holds {len(labels)} labels for {n_samples} input samples: "
            "give one label per sample"
        )
    return labels
