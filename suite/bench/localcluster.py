"""The prepare phase's LocalCluster on 127.0.0.1 (``run --workers N``).

Dask's nanny sets ``OMP_NUM_THREADS=1`` (and MKL's, OpenBLAS's, ``MALLOC_TRIM_THRESHOLD_``) in
*this* process's environment before it spawns a worker, and leaves them there: every timing
process started afterwards would inherit them (seen: a bilinear + 1x1 case timed 6x slower on
torch). So the workers are spawned with nothing forced, as the serial path computes, and the
environment is put back as it was when the cluster closes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Set in every worker: the workers share the cores, each with the run's threads (as the serial
#: path computes, to the last bit), so an OpenMP thread that finished its part sleeps at once
#: instead of spinning on a core another worker's thread needs.
WORKER_ENVIRON = {"OMP_WAIT_POLICY": "PASSIVE"}


@contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """A LocalCluster of ``workers`` one-task processes on 127.0.0.1, spawned with none of the
    nanny's forced environment variables, and this process's environment as it was after."""
    import dask
    from distributed import LocalCluster

    forced = dask.config.get("distributed.nanny.pre-spawn-environ")  # None: not set
    with (
        environment_kept(),
        dask.config.set(
            {f"distributed.nanny.pre-spawn-environ.{k}": None for k in forced}
            | {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_ENVIRON.items()}
        ),
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            # None would serve the scheduler's HTTP routes on port 8787 whatever the host, and
            # fail (a warning, an error under the tests) where another Dask already holds it
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        ) as local,
    ):
        yield local


@contextmanager
def environment_kept() -> Iterator[None]:
    """``os.environ`` as it was on entry, again on exit, whatever ran inside changed."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
