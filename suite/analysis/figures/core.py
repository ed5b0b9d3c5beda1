"""The suite's own figures, in the order the report shows them. Each is computed by one of
``analysis/analyse.py``'s shared passes (they share the probe outputs and the bootstrap draws),
so none has a ``compute`` hook; a figure of one's own gives one (docs/contributing.md).

Verdict thresholds, justified by the calibration battery (``battery.py``; docs/metrics.md,
"Calibration"):

- ``checkerboard_pct`` ≤ 1: a phase-locked pattern of at most 1% of the output's RMS. The battery
  reads an injected 1% pattern back as 0.99 to 1.00 at every size from 48 to 384 px, and clean
  interpolators (bilinear, bicubic, Lanczos) as under 0.02; a 1% gain mismatch between phases
  reads about 0.4. A 1% modulation at the checkerboard frequency is near the contrast threshold
  of human vision at those frequencies.
- ``flat_ripple`` ≤ 0.01: the same 1% on the flat field (std over RMS; exact for one weight
  seed, so no interval unless the case pools ``seeds``).
- ``phase_energy_pct`` ≤ 30: the phases' local detail energies differ by at most 30% (RMS).
  Linear interpolation itself reaches 24% at ×4 (its phases sit 1/8 and 3/8 of a pixel from the
  samples and smooth differently), bicubic and nearest ×4 7 to 8%; a Laplacian-sharpened phase
  reads over 100%, a random 3x3 transposed convolution 57%.
"""

from __future__ import annotations

from ..registry import GAIN, HIGHER, LOWER, MEDIAN, PROBE, SEED, SIZE, ZERO, Metric, register

register(
    Metric(
        "flat_ripple",
        "flat ripple",
        "std / rms",
        LOWER,
        "uneven overlap on a constant input: the output's deviation from flat over its RMS, "
        "energy weighted over channels (exact for linear cases)",
        (SIZE, GAIN),
        1e-4,
        ".3f",
        threshold=0.01,
        verdict_rule="a flat-field ripple of at most {threshold:g}",
        verdict_column="worst ripple",
        witnesses=("random-transposed", "added-pattern"),
    )
)
register(
    Metric(
        "checkerboard_pct",
        "checkerboard %",
        "% of the output's RMS",
        LOWER,
        "RMS of the phase-locked (periodic) pattern of the worst period family on photographs, "
        "with the estimator's chance level removed",
        (SIZE, GAIN, PROBE),
        0.05,
        ".2f",
        summary=True,
        threshold=1.0,
        verdict_rule="a phase-locked pattern of at most {threshold:g}% of the output's RMS on "
        "photographs (95% interval)",
        verdict_column="worst checkerboard %",
        breakdown="checkerboard_families",
        witnesses=("random-transposed", "added-pattern"),
    )
)
register(
    Metric(
        "phase_energy_pct",
        "phase energy %",
        "% of the mean detail energy",
        LOWER,
        "how much the phases' local detail energy differs (RMS over phases): signal-dependent "
        "patterns that keep a flat field flat",
        (SIZE, GAIN, PROBE),
        0.5,
        ".1f",
        threshold=30.0,
        verdict_rule="phase detail energies within {threshold:g}%",
        verdict_column="worst phase energy %",
        witnesses=("random-transposed", "laplacian-phase"),
    )
)
register(
    Metric(
        "spectral_fidelity_db",
        "fidelity dB",
        "dB against the original",
        ZERO,
        "mean log-power difference from the high-resolution original over the upper half of "
        "the band the input represents: < 0 detail lost, > 0 boosted",
        (GAIN,),
        0.05,
        "+.1f",
    )
)
register(
    Metric(
        "spectral_leakage_db",
        "leakage dB",
        "dB against the original",
        ZERO,
        "the same above the input's Nyquist, out to the corners: > 0 imaging (more energy than "
        "the original had there), < 0 less",
        (GAIN,),
        0.05,
        "+.1f",
    )
)
register(
    Metric(
        "hypercolumn_psnr_db",
        "hypercolumn PSNR dB",
        "dB",
        HIGHER,
        "PSNR of the luminance reconstructed from hypercolumns upsampled by the case, on "
        "held-out photographs",
        (GAIN,),
        0.05,
        ".1f",
        summary=True,
        verdict_column="hypercolumn PSNR dB",
        column_summary=MEDIAN,
    )
)
register(
    Metric(
        "hypercolumn_ssim",
        "hypercolumn SSIM",
        "unitless",
        HIGHER,
        "SSIM of the same reconstructions (Wang et al.'s Gaussian window, σ = 1.5)",
        (GAIN,),
        1e-3,
        ".3f",
    )
)
register(
    Metric(
        "checkerboard_gain",
        "checkerboard gain",
        "|G(f)| / |G(0)|",
        LOWER,
        "exact, linear cases: the effective filter's largest gain at a checkerboard frequency "
        "over its DC gain (0: a flat field stays flat)",
        (SIZE, GAIN, PROBE, SEED),
        1e-6,
        ".3g",
        path="linear.checkerboard_gain",
        interval=False,
        witnesses=("random-transposed", "resize-conv"),
    )
)
register(
    Metric(
        "imaging_ratio",
        "imaging ratio",
        "energy ratio",
        LOWER,
        "exact, linear cases: the effective filter's energy above the input's Nyquist over "
        "its energy below",
        (SIZE, GAIN, PROBE),
        1e-6,
        ".3g",
        path="linear.imaging_ratio",
        interval=False,
        witnesses=("random-transposed", "resize-conv"),
    )
)
