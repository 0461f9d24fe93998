"""Measure and learn: feedback, experiments and off-policy evaluation."""
