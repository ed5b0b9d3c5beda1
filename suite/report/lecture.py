"""The lecture's figures (../shared/seed/upsampling-and-channel-mixing.txt), drawn from the run's
own outputs of the cases in ``cases/seed.toml``: nothing here is computed, only shown."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .context import NoData, ReportContext
from .plots import plot, stretch

SECTION = "lecture"
TRANSPOSED = "lecture-transposed-447"
UPCONV = "lecture-upconv-5x5"
BILINEAR = "lecture-bilinear-2x2"
MIXING = "lecture-bilinear-mix-448"
DECODERS = (
    ("lecture-decoder-deconv-last-two", "Deconv in last two layers"),
    ("lecture-decoder-deconv-last", "Deconv only in last layer"),
    ("lecture-decoder-resize-conv", "All layers use resize-convolution"),
)


def _need(ctx: ReportContext, case_id: str, *names: str) -> tuple[int, list[np.ndarray]]:
    index = ctx.case_by_id(case_id)
    if index is None:
        raise NoData(f"case {case_id!r} (cases/seed.toml) is not in this run")
    images = [ctx.sample(index, name) for name in names]
    if any(image is None for image in images):
        raise NoData(f"case {case_id!r} kept no {', '.join(names)} samples")
    return index, images


def _show(ax, image: np.ndarray, title: str, cmap: str = "gray") -> None:
    ax.imshow(stretch(image), cmap=cmap)
    ax.set_title(title, fontsize=8)
    ax.set_axis_off()


def _annotated(ax, image: np.ndarray, title: str, cmap: str) -> None:
    ax.imshow(image, cmap=cmap)
    low, high = float(image.min()), float(image.max())
    for (row, column), value in np.ndenumerate(image):
        bright = (value - low) / (high - low or 1.0) > 0.6  # viridis turns light above ~0.6
        colour = "black" if bright else "white"
        ax.text(column, row, f"{value:.3g}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


@plot(
    "lecture-transposed-447",
    "A 224×224 photograph through a 3x3 stride-2 transposed convolution: 447×447",
    "The lecture's first figure, with random weights; the zoom shows the checkerboard of "
    "uneven overlap, period 2.",
    SECTION,
)
def transposed_447(ctx: ReportContext) -> plt.Figure:
    _, (source, output) = _need(ctx, TRANSPOSED, "input", "output")
    figure, axes = plt.subplots(1, 3, figsize=(11, 3.9))
    _show(axes[0], source, f"original {source.shape[0]}×{source.shape[1]}")
    _show(axes[1], output, f"transposed convolution {output.shape[0]}×{output.shape[1]}")
    h, w = output.shape
    zoom = output[h // 2 - 16 : h // 2 + 16, w // 2 - 16 : w // 2 + 16]
    _show(axes[2], zoom, "centre, 32×32 px of the output")
    return figure


@plot(
    "lecture-upconv-5x5",
    "Upconvolution of 3x3, stride 1, padded with zeros: 3×3 to 5×5",
    "Input 10, 20, …, 90. With all-ones weights each output pixel is the sum of the inputs its "
    "taps overlap: the corners see one input, the centre all nine.",
    SECTION,
)
def upconv(ctx: ReportContext) -> plt.Figure:
    found = [(i, case.id) for i, case in enumerate(ctx.records) if case.id.startswith(UPCONV)]
    if not found:
        raise NoData(f"no case {UPCONV}* (cases/seed.toml) is in this run")
    figure, axes = plt.subplots(1, 1 + len(found), figsize=(3.6 * (1 + len(found)), 3.6))
    first = ctx.sample(found[0][0], "input")
    if first is None:
        raise NoData(f"case {found[0][1]!r} kept no samples")
    _annotated(axes[0], first, f"input {first.shape[0]}×{first.shape[1]}", "viridis")
    for ax, (index, case_id) in zip(axes[1:], found, strict=True):
        output = ctx.sample(index, "output")
        if output is not None:
            _annotated(ax, output, f"{case_id}\n{output.shape[0]}×{output.shape[1]}", "viridis")
    return figure


@plot(
    "lecture-bilinear-2x2",
    "Bilinear interpolation in PyTorch: [[10, 20], [30, 40]] to 4×4, align_corners=True",
    "The lecture's example in the jet colormap: the corners keep 10, 20, 30 and 40, the "
    "pixels between are weighted means.",
    SECTION,
)
def bilinear_2x2(ctx: ReportContext) -> plt.Figure:
    _, (source, output) = _need(ctx, BILINEAR, "input", "output")
    figure, axes = plt.subplots(1, 2, figsize=(7.5, 3.6))
    low, high = float(source.min()), float(source.max())
    for ax, image, title in ((axes[0], source, "input 2×2"), (axes[1], output, "output 4×4")):
        ax.imshow(image, cmap="jet", vmin=low, vmax=high)
        for (row, column), value in np.ndenumerate(image):
            ax.text(column, row, f"{value:.4g}", ha="center", va="center", fontsize=8)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    return figure


@plot(
    "lecture-bilinear-mix-448",
    "Upsampling and channel mixing with 1x1 convs: 1 → 64 → 1 channels, 224 to 448",
    "Four of the 64 convolution outputs, their bilinear ×2 versions and the 1x1 convolution's "
    "mix of all 64: no checkerboard.",
    SECTION,
)
def mixing_block(ctx: ReportContext) -> plt.Figure:
    _, (source, features, upsampled, output) = _need(
        ctx, MIXING, "input", "features", "features_upsampled", "output"
    )
    count = features.shape[0]
    figure, axes = plt.subplots(2, count + 1, figsize=(2.4 * (count + 1), 5.2))
    _show(axes[0, 0], source, f"original {source.shape[0]}×{source.shape[1]}")
    _show(axes[1, 0], output, f"final output (1x1 conv) {output.shape[0]}×{output.shape[1]}")
    for k in range(count):
        _show(axes[0, k + 1], features[k], f"conv output {k} of 64, {features.shape[1]}²")
        _show(axes[1, k + 1], upsampled[k], f"upsampled {k}, {upsampled.shape[1]}²")
    return figure


@plot(
    "lecture-decoders",
    "The checkerboard artifact from deconvolution: three decoders, 56 to 448",
    "Zooms (48×48 px) below: deconvolution in the last two layers gives artifacts of "
    "frequency 2 and 4, in the last layer only of frequency 2, resize-convolution none.",
    SECTION,
)
def decoders(ctx: ReportContext) -> plt.Figure:
    figure, axes = plt.subplots(2, len(DECODERS), figsize=(3.6 * len(DECODERS), 7.4))
    drawn = 0
    for k, (case_id, title) in enumerate(DECODERS):
        try:
            index, (output,) = _need(ctx, case_id, "output")
        except NoData:
            axes[0, k].set_axis_off()
            axes[1, k].set_axis_off()
            continue
        drawn += 1
        families = ctx.records[index].metrics.get("checkerboard_families")
        scores = ", ".join(f"p{p}: {v:.2g}%" for p, v in (families or {}).items())
        _show(axes[0, k], output, f"{title}\n{scores}")
        h, w = output.shape
        _show(axes[1, k], output[h // 2 - 24 : h // 2 + 24, w // 2 - 24 : w // 2 + 24], "zoom")
    if not drawn:
        raise NoData("no lecture decoder case (cases/seed.toml) is in this run")
    return figure


@plot(
    "lecture-hypercolumns",
    "Hypercolumns: pyramid levels brought back to full size and mixed by a fitted 1x1 conv",
    "A held-out photograph; each level (channel 0 shown) is upsampled by the case's own "
    "upsampler, and the 1x1 convolution of the stacked levels reconstructs the image.",
    SECTION,
)
def hypercolumns(ctx: ReportContext) -> plt.Figure:
    index = ctx.case_by_id(MIXING)
    candidates = [index] if index is not None else []
    candidates += [i for i in range(len(ctx.records)) if i not in candidates]
    for index in candidates:
        if ctx.sample(index, "hypercolumn_target") is not None:
            break
    else:
        raise NoData("no case kept a hypercolumn illustration")
    prefix = "hypercolumn_level"
    levels = sorted(
        int(name[len(prefix) :])
        for name in ctx.records[index].samples
        if name.startswith(prefix) and not name.endswith("_upsampled")
    )
    figure, axes = plt.subplots(2, len(levels) + 1, figsize=(3.2 * (len(levels) + 1), 6.4))
    psnr = ctx.records[index].metrics.get("hypercolumn_psnr_db")
    _show(axes[0, 0], ctx.sample(index, "hypercolumn_target"), "target (luminance)")
    _show(
        axes[1, 0],
        ctx.sample(index, "hypercolumn_prediction"),
        f"1x1 mix of the hypercolumns\n{ctx.records[index].id}"
        + (f", mean PSNR {psnr:.1f} dB" if psnr else ""),
    )
    for k, level in enumerate(levels):
        low = ctx.sample(index, f"hypercolumn_level{level}")
        high = ctx.sample(index, f"hypercolumn_level{level}_upsampled")
        _show(axes[0, k + 1], low, f"level {level}: {low.shape[0]}² features")
        passes = "once" if level == 1 else f"{level} times"
        _show(axes[1, k + 1], high, f"level {level} through the upsampler {passes}")
    return figure
