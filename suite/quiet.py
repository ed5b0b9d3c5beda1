"""Silence libraries that print (the ONNX exporter above all) and keep what they said."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator

NOISY_LOGGERS = ("torch.onnx", "torch.export", "torch._export", "torch._dynamo", "onnxscript")


class Captured:
    """What was printed inside ``captured_output()``, readable after the block ends."""

    text: str = ""


@contextlib.contextmanager
def captured_output() -> Iterator[Captured]:
    """Redirect file descriptors 1 and 2 (so C++ output is caught too), Python's streams, the
    noisy loggers and warnings into a buffer. Nothing reaches the user's terminal."""
    captured = Captured()
    levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            for name in NOISY_LOGGERS:
                logging.getLogger(name).setLevel(logging.ERROR)
            with (
                warnings.catch_warnings(),
                contextlib.redirect_stdout(sys.__stdout__),
                contextlib.redirect_stderr(sys.__stdout__),
            ):
                warnings.simplefilter("ignore")
                yield captured
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)
            sink.seek(0)
            captured.text = sink.read().decode("utf-8", errors="replace")
