"""What an import could not read, grouped by cause, with the mapping line that would fix it.

The rejects file lists every row; the bank's data team needs the few causes behind them, an
example of each (identifiers masked: the report is printed and shared), and what to change. So
each reject reason is matched against the causes below, in order; the first that matches gives
its title and the fix, filled with what the reason named (the header, the value).

>>> c = cause_of("sign 'X' is neither a debit nor a credit word; map it under [values.sign]")
>>> c.title, c.fix
('unknown debit/credit sign', '[values.sign] "X" = "debit"')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tactful.trust.privacy import mask

__all__ = ["Cause", "Unread", "cause_of", "masked"]


@dataclass(frozen=True, slots=True)
class Cause:
    title: str
    fix: str


@dataclass(slots=True)
class Unread:
    """One cause's count and a few masked examples (``file: location: reason``)."""

    title: str
    fix: str
    count: int = 0
    examples: list[str] = field(default_factory=list)


_RULES: tuple[tuple[str, str, str], ...] = (
    (r"sign '(?P<v>[^']*)' is neither", "unknown debit/credit sign",
     '[values.sign] "{v}" = "debit"'),
    (r"both debit .* and credit", "debit and credit both filled", "fix the row in the export"),
    (r"does not say its currency", "no currency", '[constants] currency = "EUR"  (or --currency)'),
    (r"has no ACCTID", "no account", '[constants] account_id = "..."  (or --account)'),
    (r"cannot tell which records these columns hold \('(?P<v>[^']*)'",
     "columns not recognized", '[columns] "{v}" = "booked_at"  (name each column\'s field)'),
    (r"running balance does not reconcile", "running balance does not add up",
     '[source] on_balance_mismatch = "flag"  (only once the amounts are checked)'),
    (r"decimal mark", "decimal mark undecidable", '[source] decimal = ","'),
    (r"date order", "date order undecidable", "[source] day_first = true"),
    (r"both map to (?P<v>\w+)", "two columns for one field",
     '[columns] "<one of them>" = "ignore"'),
    (r"unknown ISO 4217 currency code '(?P<v>[^']*)'", "unknown currency",
     '[values.currency] "{v}" = "EUR"'),
    (r"unknown value\(s\) (?P<v>[^ ]+)", "unknown code value", '[values.<field>] "{v}" = "..."'),
    (r"is not an amount", "not an amount", '[columns] "<header>" = "ignore"  (or fix the column)'),
    (r"has more decimal places", "more decimals than the currency allows",
     '[constants] currency = "<the right one>"'),
    (r"expected \d+ fields", "ragged rows", '[source] delimiter = ";"  (or fix the quoting)'),
    (r"duplicate id", "one id, two contents", "--on-conflict replace, or fix the export"),
    (r"missing value", "required value missing", "[constants] <field> = \"...\""),
    (r"cannot decode|not UTF-8", "encoding", '[source] encoding = "cp852"'),
)  # fmt: skip
_COMPILED = [(re.compile(p), Cause(t, f)) for p, t, f in _RULES]
_IDENTIFIER = re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{8,30}\b|\b\d{6,}\b")


def cause_of(reason: str) -> Cause:
    """The cause of a reject reason (``Cause("other", ...)`` when none matches)."""
    for pattern, cause in _COMPILED:
        if found := pattern.search(reason):
            value = found.groupdict().get("v") or ""
            return Cause(cause.title, cause.fix.format(v=masked(value)))
    return Cause("other", "see the rejects file")


def masked(text: str) -> str:
    """``text`` with IBANs and long digit runs (account, card numbers) masked."""
    return _IDENTIFIER.sub(lambda m: mask(m.group()), text)
