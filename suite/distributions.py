"""Which installed distribution provides a library the suite imports by one module name."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def ort_package() -> str:
    """Which distribution provides the module: onnxruntime or onnxruntime-gpu."""
    for name in ("onnxruntime-gpu", "onnxruntime"):
        try:
            return f"{name} {version(name)}"
        except PackageNotFoundError:
            continue
    return "no onnxruntime package"
