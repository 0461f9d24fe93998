"""Message variants: the same decision said another way, for message-variant experiments.

An experiment arm may name a variant (``Arm.variant``); a message whose decision logged that
arm is rewritten by it when it is enqueued, so what the customer reads differs between arms and
an experiment measures the wording, not a label. Two axes, one variant each:

- tone ``friendly``: a warm opening in the customer's language before the title, and a line
  offering help after the body;
- format ``short``: the body cut to its first sentence (the call to action and the explanation
  -- why the customer receives it -- stay: the short form drops detail, never the reason).

Pure: :func:`apply` takes a :class:`~tactful.deliver.content.Content` and returns another.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Final

from tactful.deliver.content import Content
from tactful.measure.assignment import VARIANTS

__all__ = ["VARIANTS", "apply"]

_OPENING: Final[Mapping[str, str]] = {"en": "Good to know: ", "de": "Gut zu wissen: "}
_CLOSING: Final[Mapping[str, str]] = {
    "en": "We are here if you would like to talk it through.",
    "de": "Wir sind für Sie da, wenn Sie darüber sprechen möchten.",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ0-9])")


def first_sentence(text: str) -> str:
    """The text up to its first sentence end followed by a new sentence.

    >>> first_sentence("Rent is due on 5 March. It was £900 last month.")
    'Rent is due on 5 March.'
    >>> first_sentence("About £1.5k left.")
    'About £1.5k left.'
    """
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0]


def apply(content: Content, variant: str | None) -> Content:
    """``content`` as ``variant`` says it (None: unchanged).

    >>> c = Content("de", "de_DE", "Miete fällig", "Die Miete ist fällig. Letzten Monat 900 €.",
    ...             "Ansehen", "Weil Sie monatlich zahlen.")
    >>> apply(c, "short").body
    'Die Miete ist fällig.'
    >>> apply(c, "friendly").title
    'Gut zu wissen: Miete fällig'
    """
    if variant is None:
        return content
    if variant not in VARIANTS:
        raise ValueError(f"unknown message variant {variant!r}; known: {', '.join(VARIANTS)}")
    if variant == "short":
        return replace(content, body=first_sentence(content.body))
    language = content.language if content.language in _OPENING else "en"
    return replace(content, title=_OPENING[language] + content.title,
                   body=f"{content.body} {_CLOSING[language]}".strip())
