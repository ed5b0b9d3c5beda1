"""Machine classes: what a latency is comparable within (``suite/machines.py``)."""

from __future__ import annotations

import torch

from suite.environment import machine
from suite.machines import machine_class

CPU = {"cpu": "AMD EPYC", "cpu_id": "family 26 model 2 stepping 1", "cores": 4}
CPU |= {"usable_cores": 2, "threads": 2, "arch": "x86_64"}


def test_the_class_names_the_cpu_its_cores_threads_and_architecture():
    assert machine_class(CPU) == (
        "AMD EPYC (family 26 model 2 stepping 1) | 2 cores | 2 threads | x86_64"
    )
    assert machine_class({**CPU, "threads": 1}) != machine_class(CPU)
    assert machine_class({**CPU, "gpu": None}) == machine_class(CPU)


def test_a_gpu_is_part_of_the_class_with_its_cuda_and_driver():
    gpu = {"name": "NVIDIA H200", "cuda": "13.0", "driver": "580.65"}
    klass = machine_class({**CPU, "gpu": gpu})
    assert klass.endswith("| x86_64 | NVIDIA H200 (CUDA 13.0, driver 580.65)")
    assert klass != machine_class({**CPU, "gpu": {**gpu, "driver": "575.1"}})


def test_this_machine_records_its_gpu_or_none():
    record = machine(2)
    if torch.cuda.is_available():
        assert record["gpu"]["name"] and record["gpu"]["cuda"] == torch.version.cuda
    else:
        assert record["gpu"] is None
