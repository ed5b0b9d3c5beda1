"""Reaching a real cluster's scheduler (``run --cluster ADDRESS`` or ``--scheduler-file F``)
and Dask's own version check of what answers, each problem one line (``UsageError``).

Dask waits without end for a scheduler file that does not exist yet (a scheduler being started
writes it), and only warns, in a multi-line table, when the client, the scheduler and the
workers run different versions of Python, Dask or its serialisers. A run waits
``CONNECT_TIMEOUT_S`` for the file and as long for the scheduler, and refuses a mismatch: its
tasks would be pickled by one version and read by another.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from typing import Any

from ..errors import UsageError, first_line

#: how long a run waits for the scheduler file to appear and for the scheduler to answer
CONNECT_TIMEOUT_S = 20.0


def option(address: str | None) -> str:
    """The command-line option the user reached the scheduler with."""
    return "--cluster" if address else "--scheduler-file"


def scheduler_address(scheduler_file: str | Path, timeout_s: float) -> str:
    """The address in a Dask scheduler file, waiting up to ``timeout_s`` for a scheduler
    being started to write it."""
    path = Path(scheduler_file)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            address = json.loads(path.read_text(encoding="utf-8"))["address"]
            if not isinstance(address, str):
                raise TypeError(f"its address is {address!r}, not a string")
            return address
        except FileNotFoundError:
            problem = f"does not exist (waited {timeout_s:g} s for a scheduler to write it)"
        except (OSError, ValueError, KeyError, TypeError) as exc:  # maybe half written
            what = "no address" if isinstance(exc, KeyError) else first_line(exc)
            problem = f"is not a Dask scheduler file ({what})"
        if time.monotonic() >= deadline:
            raise UsageError(f"--scheduler-file: {path} {problem}")
        time.sleep(0.1)


def connect(address: str | None, scheduler_file: str | None) -> tuple[Any, str]:
    """(a Dask client, where it is connected: the address, or the file that named it) once
    the scheduler answers and Dask's version check passes; else one line."""
    from distributed import Client
    from distributed.versions import VersionMismatchWarning

    flag = option(address)
    if address is None:
        address = scheduler_address(scheduler_file, CONNECT_TIMEOUT_S)
        where = f"the scheduler in {scheduler_file} ({address})"
    else:
        where = address
    with warnings.catch_warnings():
        # Dask's table of mismatched versions: checked below, and refused in one line
        warnings.simplefilter("ignore", VersionMismatchWarning)
        try:
            client = Client(address, timeout=f"{CONNECT_TIMEOUT_S:g}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(f"{flag}: cannot reach {where}: {first_line(exc)}") from None
    try:
        check_dask_versions(client.get_versions(), flag, where)
    except BaseException:
        client.close()
        raise
    return client, where


def check_dask_versions(found: dict[str, Any], flag: str, where: str) -> None:
    """Dask's own check (``distributed.versions.error_message``) of the client's, the
    scheduler's and the workers' packages (``Client.get_versions``); a mismatch is refused,
    naming the first package that differs from this run's and who has it."""
    from distributed.versions import error_message, scheduler_relevant_packages

    client, scheduler, workers = found["client"], found["scheduler"], found["workers"]
    if not error_message(scheduler, workers, client)["warning"]:
        return
    mine = _packages(client)
    # the scheduler's packages count only where Dask's check counts them
    others = [(f"the scheduler at {where}", _packages(scheduler), scheduler_relevant_packages)]
    others += [
        (f"worker {w} at {where}", _packages(info), None) for w, info in sorted(workers.items())
    ]
    for who, theirs, counted in others:
        for name in sorted({*mine, *theirs}):
            if counted is not None and name not in counted:
                continue
            if theirs.get(name, "MISSING") != mine.get(name, "MISSING"):
                raise UsageError(
                    f"{flag}: Dask's version check: {who} has {name} "
                    f"{theirs.get(name, 'MISSING')}, this run {mine.get(name, 'MISSING')}"
                )
    raise UsageError(f"{flag}: Dask's version check: {where} runs other versions than this run")


def _packages(versions: Any) -> dict[str, Any]:
    """A ``get_versions`` entry's packages; none where a worker could not answer."""
    return (versions.get("packages") or {}) if isinstance(versions, dict) else {}
