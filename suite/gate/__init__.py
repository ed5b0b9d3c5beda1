"""Regression gating: a baseline made from a run, and checks that compare a new run with it."""
