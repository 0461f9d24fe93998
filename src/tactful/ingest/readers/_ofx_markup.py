"""OFX markup as a tree: ofxtools' tag-soup parser, made strict where a silent guess would move
money and lenient where banks' files really differ from the spec.

Strict: a misnested end tag or an element never closed is a ``ParseError`` (the reader then
reads the file one transaction at a time). Lenient: an SGML element with neither value nor end
tag is closed at once, a missing ``</BANKTRANLIST>`` ends with the statement's balances, and a
truncated file can be closed with only its complete parts kept.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import ofxtools.models
from ofxtools.Parser import ParseError, TreeBuilder

__all__ = ["ParseError", "parse"]


class _Builder(TreeBuilder):
    """ofxtools' parser, made to notice the structural errors it lets through.

    The stock builder accepts a misnested end tag (it pops whatever is open) and an element
    that is never closed; both silently shift transactions into the wrong place. An SGML
    element with no value and no end tag (``<MEMO>`` followed by the next tag) is closed
    at once unless ofxtools knows it as an aggregate; the end tag of an element its value
    already closed, wherever it comes, closes nothing (it is ignored).
    """

    def __init__(self) -> None:
        super().__init__()
        self._open: list[str] = []
        self._implied: set[str] = set()
        self._valued: set[str] = set()  # elements that held a value, so ended at once

    def start(self, tag: Any, attrs: Any) -> ET.Element:
        if self._open and self._open[-1] in _ENDS_WITH_PARENT and tag not in _LIST_ITEMS:
            self.end(self._open[-1])  # <LEDGERBAL> after a list with no </BANKTRANLIST>
        self._open.append(tag)
        return super().start(tag, attrs)

    def end(self, tag: Any) -> ET.Element:
        if tag not in self._open and tag in self._implied:
            return ET.Element(tag)  # a proprietary aggregate taken for an empty element
        if tag not in self._open and tag in self._valued:
            # the end tag of a value element that its value already ended: American Express
            # downloads close every element, values included, after what follows it
            # (<NAME>PRUNE <MEMO>RESTAURANT </MEMO> </NAME>); it closes nothing that is open
            return ET.Element(tag)
        while (
            tag in self._open[:-1] and self._open[-1] in _ENDS_WITH_PARENT
        ):  # </CCSTMTRS> with no </BANKTRANLIST> before it: the list ends with its statement
            self.end(self._open[-1])
        if not self._open or self._open[-1] != tag:
            inside = f"<{self._open[-1]}>" if self._open else "nothing"
            raise ParseError(f"end tag </{tag}> does not close {inside}")
        self._open.pop()
        return super().end(tag)

    def _start(self, tag: str, text: str | None, closetag: str | None) -> None:
        if text:
            self._valued.add(tag)
        if text is None and closetag is None and not hasattr(ofxtools.models, tag):
            self._implied.add(tag)
            self.start(tag, {})
            self.end(tag)
            return
        super()._start(tag, text, closetag)

    def close_truncated(self) -> ET.Element:
        """Close what a truncated file left open. The statement and its transaction list are
        kept (their account and complete entries are whole); any other element still open
        (a LEDGERBAL cut in the middle) is dropped, since its content is not all there."""
        cut: list[ET.Element] = []
        while self._open:
            tag = self._open[-1]
            element = self.end(tag)
            if tag not in _KEPT_WHEN_CUT:
                cut.append(element)
        root = super().close()
        if root is None:
            raise ParseError("no elements")
        for parent in list(root.iter()):
            for child in list(parent):
                if any(child is c for c in cut):
                    parent.remove(child)
        return root

    def close(self) -> ET.Element:
        if self._open:
            raise ParseError(f"<{self._open[-1]}> is never closed")
        root = super().close()
        if root is None:
            raise ParseError("no elements")
        return root


# Lists whose end tag banks leave out; the end of the statement around them ends them too. A
# transaction never ends that way: two transactions would become one.
_ENDS_WITH_PARENT = frozenset({"BANKTRANLIST"})
_LIST_ITEMS = frozenset({"DTSTART", "DTEND", "STMTTRN"})
_KEPT_WHEN_CUT = frozenset(
    {
        "OFX",
        "BANKMSGSRSV1",
        "CREDITCARDMSGSRSV1",
        "STMTTRNRS",
        "CCSTMTTRNRS",
        "STMTRS",
        "CCSTMTRS",
        "BANKTRANLIST",
    }
)


def parse(markup: str, truncated: bool = False) -> ET.Element:
    builder = _Builder()
    if truncated:
        markup = _complete_part(markup)
    try:
        builder.feed(markup)
    except ET.ParseError as exc:  # the stdlib builder's own complaint: a second root element
        raise ParseError(str(exc)) from exc
    return builder.close_truncated() if truncated else builder.close()


def _complete_part(markup: str) -> str:
    """``markup`` without the tag or value the cut may have broken: the file can end inside a
    tag (``<BAL``) or inside an SGML value (``<BALAMT>-14`` of ``-1432.18``). Only an end tag
    proves that what precedes it is whole."""
    last = markup.rfind("<")
    if last < 0:
        return markup
    tail = markup[last:]
    closed = tail.startswith("</") and tail.rstrip().endswith(">")
    return markup if closed else markup[:last]
