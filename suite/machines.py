"""Machine classes: latencies are comparable within one class only. Torch-free, so that the
gate and the report can read a run's classes without importing it."""

from __future__ import annotations

from typing import Any


def machine_class(machine: dict[str, Any]) -> str:
    """What makes latencies comparable, from a machine record (``environment.machine``): CPU
    model (with family, model and stepping where known), usable cores, threads, architecture,
    and the GPU where there is one. Every latency records the class it was timed on; the gate
    compares a latency only within its class."""
    cores = machine.get("usable_cores", machine["cores"])
    arch = machine.get("arch", "?")
    cpu = machine["cpu"] + (f" ({machine['cpu_id']})" if machine.get("cpu_id") else "")
    klass = f"{cpu} | {cores} cores | {machine['threads']} threads | {arch}"
    if gpu := machine.get("gpu"):  # a GPU runtime's latency is the GPU's
        klass += f" | {gpu['name']} (CUDA {gpu.get('cuda')}, driver {gpu.get('driver')})"
    return klass
