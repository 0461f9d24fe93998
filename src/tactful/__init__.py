"""Tactful: an open personalization engine for banks.

The loop is collect -> understand -> decide -> deliver -> measure -> learn; the sub-packages are
laid
out in that order (see docs/architecture.md).
"""

__version__ = "0.1.0"
