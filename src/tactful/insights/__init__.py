"""Understand: detectors of what matters in a customer's money, their messages and lifecycle."""
