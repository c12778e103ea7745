"""Evaluating candidates on a Dask cluster (``--cluster tcp://HOST:PORT`` or ``local:N``).

The main process keeps Keras and hls4ml (it builds each candidate's graph in milliseconds);
workers get the plain reference data once (scattered to every worker) and one plain graph per
task, and run only the emulator: they never import TensorFlow. Each result is handed back as it
arrives, so the checkpoint records it at once. A worker that dies mid-batch costs a retry: the
scheduler reruns its tasks elsewhere, and when data the tasks needed died with it, the data is
scattered again and the unfinished tasks resubmitted (at most `RETRIES` times).

Dask is an optional extra (``pip install 'aptune[cluster]'``). A library user enters a cluster
the way the command line does::

    with connect("local:2"):
        tune(model, x, labels, TuneOptions(jobs=2))
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from emulation.errors import ConfigError, ToolError
from emulation.layers.base import Graph
from tuner.active import Active

__all__ = ["RETRIES", "Cluster", "active", "connect", "require"]

RETRIES = 3
EXTRA = "pip install 'aptune[cluster]'"


def active() -> Cluster | None:
    """The cluster entered with ``with cluster:`` (None outside one)."""
    return Cluster.current()


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ConfigError(f"--cluster needs Dask's distributed scheduler: {EXTRA}") from None
    return distributed


def require(spec: str) -> int | None:
    """Check ``spec`` and that Dask is installed, without connecting: the number of local
    workers for ``local:N``, None for a scheduler's address."""
    kind, _, rest = spec.partition(":")
    if kind == "local":
        n = int(rest) if rest.isdigit() else 0
        if n < 1:
            raise ConfigError(f"--cluster local:N needs a positive number of workers; got {spec!r}")
    elif "://" not in spec:
        raise ConfigError(
            f"--cluster expects tcp://HOST:PORT (a Dask scheduler) or local:N; got {spec!r}"
        )
    _distributed()
    return n if kind == "local" else None


def connect(spec: str, *, timeout: float = 30.0) -> Cluster:
    """A `Cluster` for ``spec``: ``tcp://HOST:PORT`` (an existing scheduler) or ``local:N``
    (a `LocalCluster` of N single-threaded worker processes on the local machine)."""
    n = require(spec)
    distributed = _distributed()
    if n is not None:
        local = distributed.LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        return Cluster(distributed.Client(local), local)
    try:
        client = distributed.Client(spec, timeout=timeout)
    except OSError as exc:
        raise ConfigError(
            f"no Dask scheduler answers at {spec} ({exc}): start one "
            "(dask scheduler; dask worker ADDRESS) or use --cluster local:N"
        ) from None
    return Cluster(client)


def _lean(graph: Graph | None) -> Graph | None:
    """The graph without the float weights only profiling reads (half the bytes sent)."""
    if graph is None:
        return None
    return replace(graph, nodes=[replace(n, raw_weights={}) for n in graph.nodes])


class Cluster(Active):
    """A ``distributed.Client`` (and the `LocalCluster` it owns, if any) that evaluates."""

    def __init__(self, client: Any, owned: Any = None):
        self.client, self._owned = client, owned
        self._scattered: dict[int, tuple[Any, Any]] = {}  # id(data) -> (data, future)

    @property
    def workers(self) -> int:
        """Worker threads the scheduler has now (at least 1): how many tasks run at once."""
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        return max(1, sum(w.get("nthreads", 1) for w in info.values()))

    def _data(self, data: Any, again: bool = False) -> Any:
        key = id(data)
        if again or key not in self._scattered:
            future = self.client.scatter(data, broadcast=True, hash=False)
            self._scattered[key] = (data, future)  # holds ``data``: its id stays unique
        return self._scattered[key][1]

    def map(
        self,
        fn: Callable[..., Any],
        graphs: Sequence[Graph | None],
        data: Any,
        args: tuple,
        arrived: Callable[[int, Any], None],
    ) -> None:
        """``fn(graph, data, *args)`` for every graph on the workers; ``arrived(i, result)`` is
        called in this process as each result comes back."""
        distributed = _distributed()
        # CancelledError: a future whose data died with its worker
        lost = (concurrent.futures.CancelledError, distributed.KilledWorker)
        todo = list(range(len(graphs)))
        for attempt in range(RETRIES + 1):
            remote = self._data(data, again=attempt > 0)
            futures = {
                self.client.submit(fn, _lean(graphs[i]), remote, *args, pure=False): i for i in todo
            }
            failed = []
            for future in distributed.as_completed(futures):
                i = futures[future]
                try:
                    result = future.result()
                except lost:
                    failed.append(i)
                    continue
                arrived(i, result)
            if not failed:
                return
            todo = sorted(failed)
        raise ToolError(
            f"the cluster lost workers {RETRIES + 1} times in a row while evaluating; "
            "check its workers (or run without --cluster)"
        )

    def close(self) -> None:
        self.client.close()
        if self._owned is not None:
            self._owned.close()
