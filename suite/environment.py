"""Where and with what a run happened: machine, library versions, git commit."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .export import OPSET

LIBRARIES = ("torch", "onnx", "onnxscript", "onnxruntime", "onnxruntime-gpu", "numpy")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_id() -> str | None:
    """The CPU's family, model and stepping: cloud machines often name the CPU only "AMD EPYC",
    which covers generations whose relative speeds differ."""
    try:
        first_cpu = Path("/proc/cpuinfo").read_text().split("\n\n")[0]
    except OSError:
        return None
    pairs = (line.partition(":") for line in first_cpu.splitlines())
    fields = {key.strip(): value.strip() for key, _, value in pairs}
    if "cpu family" not in fields or "model" not in fields:
        return None
    stepping = fields.get("stepping", "?")
    return f"family {fields['cpu family']} model {fields['model']} stepping {stepping}"


def machine(threads: int) -> dict:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return {
        "cpu": cpu_model(),
        "cpu_id": cpu_id(),
        "cores": os.cpu_count() or 1,
        "usable_cores": usable,
        "threads": threads,
        "arch": platform.machine(),
        "platform": platform.platform(),
        "hostname": platform.node(),
        "gpu": gpu(),
    }


def gpu() -> dict[str, Any] | None:
    """The CUDA device the GPU runtimes use (device 0), as torch and the driver name it, or
    None where torch sees none: what a GPU figure must be reported with."""
    import torch

    if not torch.cuda.is_available():
        return None
    properties = torch.cuda.get_device_properties(0)
    return {
        "name": properties.name,
        "capability": f"{properties.major}.{properties.minor}",
        "memory_gib": round(properties.total_memory / 2**30, 1),
        "cuda": torch.version.cuda,
        "cudnn": str(torch.backends.cudnn.version()),
        "driver": _nvidia_smi("driver_version"),
        "devices": torch.cuda.device_count(),
    }


def _nvidia_smi(field: str) -> str | None:
    try:
        done = subprocess.run(
            ["nvidia-smi", f"--query-gpu={field}", "--format=csv,noheader", "--id=0"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": sys.version.split()[0], "opset": str(OPSET)}
    for name in LIBRARIES:
        try:
            found[name.replace("-", "_")] = version(name)
        except PackageNotFoundError:
            found[name.replace("-", "_")] = None
    return found


def git_commit(where: Path) -> dict[str, str | bool | None]:
    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(
                ["git", *args], cwd=where, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return result.stdout.strip()

    commit = git("rev-parse", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(dirty) if commit else None}
