"""The task probe's arithmetic: a per-pixel linear classifier fitted in closed form, and its
scores on held-out scenes (mIoU, boundary F) with 95% bootstrap intervals over the scenes.

Fit: ridge least squares from the features (plus a constant) to the one-hot labels, in float64,
accumulated scene by scene (X'X and X'Y), so memory holds one scene at a time. The ridge penalty
of each channel is RIDGE times the number of pixels times that channel's variance: the fit is the
one on standardised features, so a gain on all channels, or on any one (within 10^5 of the
others), leaves the predictions as they are. The constant is not penalised.

Scores, pooled over the held-out scenes as a dataset's figure is:
- mIoU: the confusion matrices summed over the scenes; IoU = TP / (TP + FP + FN) per class that
  occurs (in truth or prediction); their mean.
- boundary F: a pixel is on a boundary where its label differs from its right or lower neighbour
  (a one-pixel-thin line). A predicted boundary pixel is matched where a true one lies within the
  tolerance (Euclidean distance, by ``scipy.ndimage.distance_transform_edt``), and the other way
  round; precision and recall are the matched shares of the pooled counts; F = 2PR / (P + R).
Intervals: the percentile bootstrap of the pooled figure over the held-out scenes, drawn with
replacement (``BOOTSTRAP_REPLICATES`` draws, seeded by the case's seed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import scipy.ndimage

from ..stats import BOOTSTRAP_REPLICATES, percentile_interval
from .errors import MetricError

#: Ridge penalty per channel, as a share of that channel's variance (the standardised fit's λ).
RIDGE = 1e-3
#: A channel's variance is floored at this share of the channels' mean square: a dead (constant)
#: channel then has a penalty, not float64's cancellation noise. Gains on single channels within
#: 10^5 of each other stay above the floor, so the invariance holds for them too.
VARIANCE_FLOOR = 1e-12
#: Boundary match tolerance in output pixels (a match lies at distance <= this). 0: the very
#: pixel. The scenes' edges are exact, and at 1 px nearest and bilinear x2 both read 0.997.
TOLERANCE_PX = 0.0


def _rows(features: np.ndarray) -> np.ndarray:
    """(C, H, W) features as (H·W, C) float64 rows."""
    return np.asarray(features, dtype=np.float64).reshape(features.shape[0], -1).T


def fit_probe(pairs: Iterable[tuple[np.ndarray, np.ndarray]], classes: int) -> np.ndarray:
    """The (C + 1, classes) weights, the last row the constant's, from (features (C, H, W),
    labels (H, W)) pairs; the sums of X'X and X'Y are kept with the constant as last column."""
    gram, cross = None, None
    for features, labels in pairs:
        x = _rows(features)
        onehot = np.eye(classes)[labels.ravel()]
        sums = x.sum(axis=0)
        part_gram = np.block([[x.T @ x, sums[:, None]], [sums[None], np.full((1, 1), len(x))]])
        part_cross = np.vstack([x.T @ onehot, onehot.sum(0)[None]])
        gram = part_gram if gram is None else gram + part_gram
        cross = part_cross if cross is None else cross + part_cross
    if gram is None or cross is None:
        raise MetricError("the probe has no training scenes")
    count = gram[-1, -1]
    mean = gram[:-1, -1] / count
    square = np.diag(gram)[:-1] / count
    variance = np.maximum(square - mean**2, VARIANCE_FLOOR * max(float(square.mean()), 1e-300))
    penalty = np.append(RIDGE * count * variance, 0.0)
    return np.linalg.solve(gram + np.diag(penalty), cross)


def predict(weights: np.ndarray, features: np.ndarray) -> np.ndarray:
    """The label map (H, W): the class of largest score per pixel."""
    scores = _rows(features) @ weights[:-1] + weights[-1]
    return scores.argmax(axis=1).reshape(features.shape[1:])


def confusion(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """(classes, classes) pixel counts: rows the true class, columns the predicted one."""
    flat = truth.ravel() * classes + predicted.ravel()
    return np.bincount(flat, minlength=classes * classes).reshape(classes, classes)


def boundary(labels: np.ndarray) -> np.ndarray:
    """Pixels whose label differs from the right or lower neighbour's (a one-pixel-thin line)."""
    edges = np.zeros(labels.shape, dtype=bool)
    edges[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edges[:-1, :] |= labels[:-1, :] != labels[1:, :]
    return edges


def _distance_to(edges: np.ndarray) -> np.ndarray:
    if not edges.any():
        return np.full(edges.shape, np.inf)
    return scipy.ndimage.distance_transform_edt(~edges)


def boundary_counts(truth: np.ndarray, predicted: np.ndarray, tolerance: float) -> np.ndarray:
    """[matched predicted, predicted, matched true, true] boundary pixels of one scene."""
    true_edges, predicted_edges = boundary(truth), boundary(predicted)
    matched_predicted = (_distance_to(true_edges)[predicted_edges] <= tolerance).sum()
    matched_true = (_distance_to(predicted_edges)[true_edges] <= tolerance).sum()
    return np.array(
        [matched_predicted, predicted_edges.sum(), matched_true, true_edges.sum()], dtype=np.int64
    )


def miou(confusions: np.ndarray) -> np.ndarray:
    """mIoU of pooled confusion matrices (..., K, K) over the classes that occur."""
    hits = np.diagonal(confusions, axis1=-2, axis2=-1).astype(np.float64)
    union = confusions.sum(axis=-1) + confusions.sum(axis=-2) - hits
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nanmean(np.where(union > 0, hits / union, np.nan), axis=-1)


def boundary_f(counts: np.ndarray) -> np.ndarray:
    """Boundary F of pooled counts (..., 4) (see ``boundary_counts``); 0 where nothing matched."""
    counts = counts.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.nan_to_num(counts[..., 0] / counts[..., 1])
        recall = np.nan_to_num(counts[..., 2] / counts[..., 3])
        return np.nan_to_num(2 * precision * recall / (precision + recall))


@dataclass(frozen=True)
class ProbeScores:
    """The probe's figures on the held-out scenes, each with its 95% interval."""

    miou: float
    miou_ci: list[float]
    boundary_f: float
    boundary_f_ci: list[float]
    tolerance_px: float
    held_out_scenes: int

    def record(self, prefix: str = "probe_") -> dict[str, float | list[float]]:
        """The figures as results.json would keep them, under ``prefix``."""
        return {
            f"{prefix}miou": self.miou,
            f"{prefix}miou_ci": self.miou_ci,
            f"{prefix}boundary_f": self.boundary_f,
            f"{prefix}boundary_f_ci": self.boundary_f_ci,
        }


def scores(
    confusions: np.ndarray, counts: np.ndarray, seed: int, tolerance: float = TOLERANCE_PX
) -> ProbeScores:
    """Pooled figures of per-scene confusions (S, K, K) and boundary counts (S, 4)."""
    scenes = len(confusions)
    draws = np.random.default_rng(seed).integers(scenes, size=(BOOTSTRAP_REPLICATES, scenes))
    return ProbeScores(
        miou=float(miou(confusions.sum(axis=0))),
        miou_ci=percentile_interval(miou(confusions[draws].sum(axis=1))),
        boundary_f=float(boundary_f(counts.sum(axis=0))),
        boundary_f_ci=percentile_interval(boundary_f(counts[draws].sum(axis=1))),
        tolerance_px=tolerance,
        held_out_scenes=scenes,
    )
