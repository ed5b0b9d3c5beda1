"""Artifact analysis: probe images, FFT checkerboard metrics, spectral deviation and
hypercolumn-reconstruction error. Each metric is a function of arrays, documented with its unit
and direction; ``analyse.py`` runs them on a case's outputs."""
