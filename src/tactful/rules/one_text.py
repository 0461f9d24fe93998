"""A rule's regex on one text, in RE2: the one-row path's engine where it reads the pattern as
Rust's does.

A ``regex`` condition runs on Rust's linear-time engine, through Polars, in the batch. On one
row a Polars call costs ~0.26 ms at least and often over 1 ms after other work, the whole
categorize-one budget (issue 21: p99 < 1 ms). RE2 (``google-re2``) is the engine Rust's was
modelled on, also linear in the text whatever the pattern, and answers a search in microseconds.
On ASCII text the two agree on the syntax rules use: literals, classes, ``\\d``, ``\\w`` and
``\\b`` (both ASCII there), groups, alternation, repetition, anchors (``$`` at the very end,
in both), ``(?i)``.

Where they could differ, the Polars engine decides, as in the batch: a text that is not
ASCII, a pattern RE2 refuses, and syntax RE2 accepts but reads otherwise (Rust's class set
operations and nested classes, its word-start and word-end assertions, ``{,n}``, verbose
mode). The
categorize-one equality test holds every row of a simulated bank to the batch answer, and
``tests/rules/test_one_text.py`` holds RE2 to the Polars engine on every default rule.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Final

__all__ = ["search"]

_READ_DIFFERENTLY: Final = ("[[", "&&", "--", "~~", "\\<", "\\>", "\\b{", "\\B{", "(?x", "{,")
"""Syntax RE2 accepts but reads otherwise than Rust's engine, or where it is safer to let
the engine of the batch decide."""


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> Callable[[str], bool] | None:
    if any(part in pattern for part in _READ_DIFFERENTLY):
        return None
    import re2  # type: ignore[import-untyped]

    try:
        regex = re2.compile(pattern)
    except re2.error:
        return None
    return lambda text: regex.search(text) is not None


def search(pattern: str, text: str) -> bool | None:
    """Whether ``pattern`` matches somewhere in ``text``, by RE2; None where the Polars engine
    must decide (see the module's docstring).

    >>> search(r"(?i)\\b(RENT|MIETE)\\b", "STANDING ORDER RENT MAY")
    True
    >>> search(r"(?i)\\b(RENT|MIETE)\\b", "PARENTS")
    False
    >>> search(r"(?i)\\bRENT", "CAFÉ RENT") is None  # not ASCII: the batch's engine decides
    True
    """
    if not text.isascii():
        return None
    run = _compiled(pattern)
    return None if run is None else run(text)
