"""What hls4ml prints while it converts a model, sorted instead of shown raw.

hls4ml talks through ``print``: notes on stdout (which handler parsed each layer, ``da4ml not
installed ...``), warnings on stdout (``WARNING: Invalid ReuseFactor=7 ...``), and, each time its
Keras 3 parser tries the optional da4ml fallback for a layer it has no handler for
(BatchNormalization, ...), ``Function da_call requires da4ml<0.6,>=0.5.2, but package da4ml is
missing`` on stderr, from ``hls4ml.utils.dependency.requires``; the parser catches that
ImportError and uses its Keras 2 handler instead, so the line reports nothing wrong. Left alone,
these lines leak into ``aptune check``, ``tune`` and ``csim`` output and spoil ``--json``.

`quiet_hls4ml` is the one filter every hls4ml call of aptune that prints goes through:

- stdout: ``WARNING`` lines become ``warnings.warn("hls4ml: ...")`` (callers turn them into
  findings or let them show); every other line is a note and is dropped;
- stderr: the missing-optional-package note is dropped; anything else is written through to
  stderr, so a real message is never hidden;
- exceptions propagate unchanged (after stderr is written through).

>>> with quiet_hls4ml():                                    # doctest: +SKIP
...     hls_model = hls4ml.converters.convert_from_keras_model(model, ...)
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import warnings
from collections.abc import Iterator

__all__ = ["NOISE", "quiet_hls4ml"]

#: stderr lines hls4ml prints although nothing went wrong: an optional package (da4ml, ...)
#: missing for a fallback it then skips (``hls4ml.utils.dependency.requires``).
NOISE = re.compile(r"^(Function|Method) \S+ requires .*, but package \S+ is missing\.?\s*$")


@contextlib.contextmanager
def quiet_hls4ml() -> Iterator[None]:
    """Capture what hls4ml prints inside the block; keep warnings and real messages only."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield
    finally:
        kept = [line for line in err.getvalue().splitlines() if not NOISE.match(line)]
        if kept:
            print("\n".join(kept), file=sys.stderr)
    for line in out.getvalue().splitlines():
        if line.startswith("WARNING"):
            warnings.warn(f"hls4ml: {line}", stacklevel=3)
