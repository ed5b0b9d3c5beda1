"""upsampling-bench: choose, export and ship an upsampling layer with numbers, not folklore.

A run takes declarative cases (``cases/*.toml``), builds each in torch, exports it to ONNX, runs it
on every onnxruntime execution provider that is present, checks parity against torch and times
everything with pytest-benchmark, then writes a versioned ``results.json``.
"""

__version__ = "0.1.0"
