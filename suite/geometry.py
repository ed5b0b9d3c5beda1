"""Convolution arithmetic (Dumoulin & Visin, "A guide to convolution arithmetic", 2016).

Every function returns the output length along one axis and raises ``ParamError`` naming the key
to blame and the formula's value when the arithmetic forbids the geometry.
"""

from __future__ import annotations

from .errors import ParamError


def conv_out(length: int, kernel: int, padding: tuple[int, int], stride: int = 1) -> int:
    """o = floor((i + p_lo + p_hi - k) / s) + 1 for a convolution."""
    total = length + padding[0] + padding[1] - kernel
    if total < 0:
        raise ParamError(
            "kernel",
            f"convolution output = ({length} + {padding[0]} + {padding[1]} - {kernel}) / {stride}"
            f" + 1 = {total / stride + 1:g} < 1: the kernel is larger than the padded input",
        )
    return total // stride + 1


def transposed_out(length: int, kernel: int, stride: int, padding: int, output_padding: int) -> int:
    """o = (i - 1)·s - 2p + k + output_padding for a transposed convolution (dilation 1)."""
    if output_padding >= stride:
        raise ParamError(
            "output_padding",
            f"output_padding = {output_padding} must be smaller than stride = {stride}",
        )
    out = (length - 1) * stride - 2 * padding + kernel + output_padding
    if out < 1:
        raise ParamError(
            "padding",
            f"transposed output = ({length} - 1)·{stride} - 2·{padding} + {kernel}"
            f" + {output_padding} = {out} < 1",
        )
    return out


def exact_scale_padding(kernel: int, stride: int) -> tuple[int, int]:
    """(padding, output_padding) that make a transposed convolution's output exactly stride × input.

    From o = (i - 1)·s - 2p + k + op = s·i it follows that 2p - op = k - s; take the smallest
    non-negative p with 0 <= op < s.
    """
    excess = kernel - stride
    if excess < 0:
        return 0, -excess
    padding, output_padding = (excess + 1) // 2, excess % 2
    if output_padding >= stride:  # stride 1 with an even kernel: one side would need more
        raise ParamError(
            "padding",
            f"no symmetric padding makes a {kernel}x{kernel} kernel at stride {stride} give exactly"
            f" {stride}× the input (2p - output_padding = {excess} needs output_padding = 1 <"
            f" stride); give padding",
        )
    return padding, output_padding


def same_padding(kernel: int) -> tuple[int, int]:
    """(before, after) zero padding that keeps a stride-1 convolution's size; even kernels pad one
    more after than before, as torch's ``padding='same'`` does."""
    return (kernel - 1) // 2, kernel // 2


def conv_padding(kernel: int, padding: int | None) -> tuple[int, int]:
    """(before, after) padding of a stride-1 convolution: symmetric when given, else "same"."""
    return same_padding(kernel) if padding is None else (padding, padding)
