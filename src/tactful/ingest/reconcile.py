"""Balance reconciliation: does what a file says it holds add up to the balances it states?

A reader can misread an amount without noticing (a decimal point taken for a thousands mark,
an amount cut at its first odd character): every value parses, nothing is rejected, and the
money is wrong. Statement formats carry the cure: camt (OPBD/PRCD + entries = CLBD) and MT940
(:60F: + :61: lines = :62F:) state the balance before and after, and some exports a running
balance per row. Checking them on every import turns a silent error into a loud one.

Everything here is a pure function over integer minor units; the readers turn their decimal
text into minor units with ``to_minor`` (which refuses fractions of a minor unit rather than
round them) and decide what to do with the answer.

>>> opening = Balance(10000, "opening balance")
>>> entries = [Movement("line 5", -250), Movement("line 7", 1999)]
>>> reconcile(opening, entries, Balance(11749, "closing balance")).outcome
<Outcome.AGREES: 'agrees'>
>>> print(reconcile(opening, entries, Balance(11700, "the closing balance")).reason)
100.00 (opening balance) + 2 entries (17.49) = 117.49, but the closing balance is 117.00 \
(a difference of -0.49); the running total diverges between line 5 and line 7
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from tactful.domain.money import minor_units
from tactful.errors import ValidationError


class Outcome(StrEnum):
    AGREES = "agrees"
    DIVERGES = "diverges"
    UNCHECKED = "unchecked"  # the file states no balance to check against, or lost an entry


@dataclass(frozen=True, slots=True)
class Balance:
    """A balance the file states, in minor units, and how to name it ("CLBD 2023-10-31")."""

    minor: int
    label: str


@dataclass(frozen=True, slots=True)
class Movement:
    """One entry as read: where it is, its signed amount in minor units (``None`` if it could
    not be read), and the balance after it if the file states one per row."""

    location: str
    minor: int | None
    balance_after: int | None = None


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The answer for one statement: ``first`` is the location of the first entry of the
    span in which the running total leaves the stated balances (None when it agrees)."""

    outcome: Outcome
    reason: str
    first: str | None = None
    span: tuple[str, ...] = ()


def to_minor(amount: str | Decimal, currency: str | None, places: int | None = None) -> int | None:
    """``amount`` in minor units of ``currency``; None if it is no number or has a fraction of
    a minor unit (``places`` overrides the currency's exponent, e.g. for an unknown code).

    >>> to_minor("772.55", "EUR"), to_minor("138619.", "EUR"), to_minor("1.005", "EUR")
    (77255, 13861900, None)
    """
    if places is None:
        try:
            places = minor_units(currency or "")
        except ValidationError:
            places = 2
    try:
        value = Decimal(amount) * (10**places)
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value():
        return None
    return int(value)


def _major(minor: int, places: int) -> str:
    return format(Decimal(minor).scaleb(-places), "f")


def reconcile(
    opening: Balance | None,
    movements: Sequence[Movement],
    closing: Balance | None,
    places: int = 2,
    checkpoints: Sequence[tuple[int, Balance]] = (),
) -> Reconciliation:
    """Check ``opening`` + ``movements`` = ``closing``, and every stated balance on the way.

    ``checkpoints`` are balances the file states between entries, as (number of movements
    before it, balance); a movement's own ``balance_after`` is one too. The first stated
    balance the running total misses ends the check, and the span since the last balance it
    met is named: every entry in it is suspect, the first of them by name. A movement that
    could not be read (``minor`` None) makes everything after it uncheckable, since the
    total no longer means anything.
    """
    if opening is None or (
        closing is None and not checkpoints and all(m.balance_after is None for m in movements)
    ):
        missing = "opening" if opening is None else "closing"
        return Reconciliation(
            Outcome.UNCHECKED, f"no check possible: the file states no {missing} balance"
        )
    stops: dict[int, list[Balance]] = {}
    for after, balance in checkpoints:
        stops.setdefault(after, []).append(balance)
    for n, movement in enumerate(movements, start=1):
        if movement.balance_after is not None:
            stops.setdefault(n, []).append(
                Balance(movement.balance_after, f"the balance after {movement.location}")
            )
    if closing is not None:
        stops.setdefault(len(movements), []).append(closing)
    total, start, since = opening.minor, 0, opening
    for n in range(len(movements) + 1):
        if n:
            movement = movements[n - 1]
            if movement.minor is None:
                return Reconciliation(
                    Outcome.UNCHECKED,
                    f"no check possible: {movement.location} could not be read, so the balances "
                    "after it cannot be compared",
                )
            total += movement.minor
        for stated in stops.get(n, []):
            if stated.minor == total:
                start, since = n, stated
                continue
            span = tuple(m.location for m in movements[start:n])
            counted = movements[start:n]
            moved = sum(m.minor or 0 for m in counted)
            where = (
                f"; the running total diverges between {span[0]} and {span[-1]}"
                if len(span) > 1
                else f"; the running total diverges at {span[0]}"
                if span
                else "; no entry lies between them"
            )
            return Reconciliation(
                Outcome.DIVERGES,
                f"{_major(since.minor, places)} ({since.label}) + {len(counted)} "
                f"entr{'y' if len(counted) == 1 else 'ies'} ({_major(moved, places)}) = "
                f"{_major(total, places)}, but {stated.label} is {_major(stated.minor, places)} "
                f"(a difference of {_major(stated.minor - total, places)}){where}",
                span[0] if span else None,
                span,
            )
    checked = "opening + entries = closing" if closing is not None else "running balances"
    return Reconciliation(Outcome.AGREES, f"balances agree ({checked})")
