"""The literal texts a rule's regex cannot match without: a test that spares the one-row path
most of its calls to the regex engine.

A ``regex`` condition runs on Rust's linear-time engine (``conditions.regex_matches``), which the
one-row real-time path reaches through a Polars call of ~1 ms -- the whole categorize-one budget
(issue 21: p99 < 1 ms), paid for every new description the rules' other conditions leave in
the running. Most rule patterns are word lists (``\\b(RENT|MIETE|LOYER)\\b``): unless one of the
words occurs in the text, the pattern cannot match, and a substring test says so in
microseconds. The engine still decides every text that holds one of them, so a pattern's
answer never changes: this only skips calls whose answer is known to be no.

The literals are read from the pattern's syntax tree as Python's ``re`` parses it, which agrees
with Rust's syntax on the constructs used here (literals, groups, alternation, repetition,
anchors). A pattern with syntax the two read differently (POSIX or nested classes, class set
operations, Rust's word-start and word-end assertions, verbose mode) gets no literals, and so
no shortcut: a wrong literal would silently turn a rule off.
"""

from __future__ import annotations

# Python's own regex parser (``sre_parse`` before 3.11); only its syntax tree is used, never
# its backtracking matcher.
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parser  # type: ignore[attr-defined]
from typing import Any, Final

__all__ = ["required_literals"]

_READ_DIFFERENTLY: Final = ("[[", "[:", "&&", "--", "~~", "\\<", "\\>", "\\b{", "\\B{", "(?x",
                            "\\p", "\\P", "\\Q")
"""Syntax Rust's engine and Python's parser read differently (or Python's not at all)."""

_GROUPS: Final = frozenset({sre_constants.SUBPATTERN, getattr(sre_constants, "ATOMIC_GROUP",
                                                              sre_constants.SUBPATTERN)})
_REPEATS: Final = frozenset({sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT,
                             getattr(sre_constants, "POSSESSIVE_REPEAT",
                                     sre_constants.MAX_REPEAT)})


def required_literals(pattern: str) -> frozenset[str] | None:
    """Upper-case ASCII texts one of which occurs, ignoring case, in every ASCII text
    ``pattern`` matches; None when the pattern promises none.

    >>> sorted(required_literals(r"\\b(RENT|Miete|LOYER)\\b"))
    ['LOYER', 'MIETE', 'RENT']
    >>> sorted(required_literals(r"^(?:FASTER PAYMENTS? FROM|ZELLE(?: PAYMENT)? FROM)"))
    ['FASTER PAYMENT', 'ZELLE']
    >>> sorted(required_literals(r"^[A-Z]\\.? [A-Z'-]+$"))  # the space
    [' ']
    >>> required_literals(r"(RENT|)") is None  # the empty branch matches anything
    True
    >>> required_literals(r"[[:alpha:]]+X") is None  # a POSIX class: read differently
    True
    """
    if any(part in pattern for part in _READ_DIFFERENTLY):
        return None
    try:
        tree = sre_parser.parse(pattern)
    except Exception:  # Rust syntax Python's parser refuses: no literals
        return None
    found = _sequence(list(tree))
    return frozenset(found) if found else None


def _sequence(items: list[tuple[Any, Any]]) -> set[str] | None:
    """The best literal set a sequence of nodes requires: every node of it must match, so any
    one node's set will do; the one whose shortest literal is longest is kept."""
    best: set[str] | None = None
    run: list[str] = []

    def close() -> None:
        nonlocal best
        if run:
            best = _better(best, _ascii_piece("".join(run)))
            run.clear()

    for op, av in items:
        if op is sre_constants.LITERAL:
            run.append(chr(av))
            continue
        close()
        best = _better(best, _node(op, av))
    close()
    return best


def _node(op: Any, av: Any) -> set[str] | None:
    if op in _GROUPS:
        body = av[-1] if op is sre_constants.SUBPATTERN else av
        return _sequence(list(body))
    if op is sre_constants.BRANCH:
        branches = [_sequence(list(b)) for b in av[1]]
        if any(b is None for b in branches):
            return None  # a branch that needs no literal: the alternation needs none
        return set().union(*branches)  # type: ignore[arg-type]
    if op in _REPEATS:
        low, _high, body = av
        return _sequence(list(body)) if low >= 1 else None
    return None  # a class, any character, an anchor: no literal


def _ascii_piece(text: str) -> set[str] | None:
    """The longest ASCII piece of a literal run, upper-cased: on ASCII text, an ASCII pattern
    letter matches only its own two cases (the non-ASCII letters that fold to K and S cannot
    occur), and a non-ASCII one nothing at all."""
    pieces = "".join(ch if ch.isascii() else "\0" for ch in text).split("\0")
    longest = max(pieces, key=len)
    return {longest.upper()} if longest else None


def _better(a: set[str] | None, b: set[str] | None) -> set[str] | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if min(map(len, a)) >= min(map(len, b)) else b
