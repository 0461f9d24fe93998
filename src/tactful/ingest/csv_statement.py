"""A bank CSV statement as one account's transactions: what the file says once, and its sums.

A statement downloaded from online banking is one account's rows, and the account is nowhere in
them: 32 of 38 real bank CSVs stopped at "cannot tell which records these columns hold" for
want of an ``account_id`` column. So a transaction file without one takes its account from, in
order: ``tactful ingest --account``, an IBAN or account number in its preamble, an IBAN in its
file name, or else a stable id derived from the file name (``csv-`` and 16 hex digits of its
SHA-256); the same for its currency (``--currency``, the preamble, a header such as
``Bedrag (EUR)``, a currency sign that names one currency, the IBAN's country). Every choice is
a note in the ingest summary, so nothing is assumed silently, and a file whose currency nothing
tells is refused with the reason.

A "Type"/"Typ"/"Art" column whose values are all debit/credit words is the amount's sign; any
other is left alone (it is never a channel or an account type). And where the file carries a
running balance, ``running_balance.reconcile`` checks it once the file's conventions are known.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from tactful.domain.money import known_currencies
from tactful.errors import IngestError
from tactful.ingest.layout import currency_from_account, currency_from_amounts, statement_facts
from tactful.ingest.mapping import FileMapping, normalize_header
from tactful.ingest.running_balance import reconcile
from tactful.ingest.schema import LOCATION, ROW_REJECT, Chunk, RecordKind, SourceOptions
from tactful.ingest.signs import blank_side, is_sign_column
from tactful.ingest.validate import money_minor
from tactful.trust.privacy import mask

__all__ = ["check_chunks", "derived_account", "running_balance", "statement_mapping"]

_TYPE_HEADERS = frozenset(
    normalize_header(h)
    for h in (
        "Type", "Typ", "Art", "Transaction Type", "Buchungsart", "Umsatzart", "Soort",
        "Type transactie", "Tipo", "Druh", "Rodzaj", "Debit/Credit", "Credit/Debit",
        "",  # a column the bank left unnamed: John Lewis cards put "CR" there, nothing else
    )
)  # fmt: skip
_AMOUNTS = ("amount", "debit", "credit", "balance_after", "balance_before")


def derived_account(path: Path) -> str:
    """The stable account id of a statement that names none: from its file name, so a
    re-import of the same file lands on the same account."""
    return "csv-" + hashlib.sha256(path.name.encode("utf-8")).hexdigest()[:16]


def statement_mapping(
    kind: RecordKind,
    plan: dict[int, str],
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    preamble: Sequence[Sequence[str]],
    path: Path,
    fm: FileMapping,
) -> tuple[FileMapping, dict[int, str], list[str]]:
    """(the file's mapping with its account and currency, the plan with a sign column if a
    Type column is one, notes saying where each came from) for a transactions file; ``rows``
    is a sample of its data rows."""
    if kind is not RecordKind.TRANSACTION:
        return fm, plan, []
    plan = dict(plan)
    notes: list[str] = []
    facts = statement_facts(preamble, header, path.name)
    own = facts.account if facts.account_from == "the preamble" else None
    notes += _by_content(plan, header, rows, fm, own)
    targets = set(plan.values())
    unsigned = not _signed(_column(plan, "amount", rows))
    if "sign" not in targets and "amount" in targets:
        for i, name in enumerate(header):
            if i in plan or normalize_header(name) not in _TYPE_HEADERS:
                continue
            values = [r[i] for r in rows if i < len(r)]
            if not name.strip() and (not unsigned or {v.strip() for v in values} <= {"", "-", "+"}):
                continue  # an unnamed column is a sign only beside unsigned amounts, and a
                # "-" there may be a placeholder
            if is_sign_column(values):
                plan[i] = "sign"
                notes.append(f"column {name!r} read as the amount's sign (debit/credit words)")
                break
    tid = next((i for i, t in plan.items() if t == "transaction_id"), None)
    if tid is not None and normalize_header(header[tid]) not in fm.columns:
        ids = [r[tid].strip() for r in rows if tid < len(r) and r[tid].strip()]
        repeated = next((v for v in ids if ids.count(v) > 1), None)
        if repeated is not None and not any(c.isdigit() for v in ids for c in v):
            # DBS's "Reference" holds the transaction type (MST, ITR): read as ids, 4 of 9
            # rows were refused as conflicting duplicates, and identical ones would have been
            # dropped. A bank's ids hold digits; an export that repeats a row now and then
            # keeps them (a repeat is then a duplicate, or a conflict naming the first), so
            # its ids stay the same from one file to the next. Keys made from the rows lose
            # no row (``keys.py``).
            del plan[tid]
            notes.append(f"column {header[tid]!r} is no transaction id ({repeated!r} repeats): "
                         "ids are made from each row's date, amount and text")
    sign = next((i for i, t in plan.items() if t == "sign"), None)
    if sign is not None and unsigned and "" not in fm.values.get("sign", {}):
        blank = blank_side([r[sign] if sign < len(r) else "" for r in rows])
        if blank is not None:
            fm = fm.with_values("sign", {"": blank})
            notes.append(f"column {header[sign]!r} marks only one side: a blank there is a "
                         f"{blank}")
    extra: dict[str, str] = {}
    account: str | None = None
    if "account_id" not in targets and "account_id" not in fm.constants:
        if fm.account:
            account, where = fm.account, "the --account option"
        elif facts.account:
            account, where = facts.account, facts.account_from
        else:
            account = derived_account(path)
            where = "the file name (the file names no account; give one with --account)"
        extra["account_id"] = account
        notes.append(f"account {mask(account)} from {where}")
    if "currency" not in targets and "currency" not in fm.constants:
        sample = [r[i] for i, t in plan.items() if t in _AMOUNTS for r in rows if i < len(r)]
        found = [
            (fm.currency, "the --currency option"),
            (facts.currency, facts.currency_from),
            (currency_from_amounts(sample), "the currency sign of its amounts"),
            (currency_from_account(account) or _one_currency(_column(plan, "account_id", rows)),
             "the country of its IBAN"),
        ]
        currency, where = next(((c, w) for c, w in found if c), (None, ""))
        if currency is None:
            raise IngestError(
                f"{path}: the file does not say its currency (no currency column, and none in "
                "its preamble, header, amounts or IBAN); give it with --currency or as "
                'currency = "..." under [constants] in the mapping'
            )
        extra["currency"] = currency
        notes.append(f"currency {currency} from {where}")
    return (fm.with_constants(extra) if extra else fm), plan, notes


def _column(plan: dict[int, str], target: str, rows: Sequence[Sequence[str]]) -> list[str]:
    """The non-blank values of ``target``'s column in ``rows``."""
    i = next((i for i, t in plan.items() if t == target), None)
    return [r[i].strip() for r in rows if i is not None and i < len(r) and r[i].strip()]


def _signed(amounts: Sequence[str]) -> bool:
    """Whether any amount carries a minus (``-12.00``, ``12.00-``, ``(12.00)``): then a blank
    beside it says nothing about its side."""
    return any(a.startswith(("-", "(", "\u2212")) or a.endswith("-") for a in amounts)


def _one_currency(accounts: Sequence[str]) -> str | None:
    """The currency of the IBANs of an account column, when they all give the same one."""
    found = {currency_from_account(a) for a in accounts}
    return found.pop() if len(found) == 1 else None


def _fuller_text(
    plan: dict[int, str],
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    fm: FileMapping,
    filled: int,
) -> int | None:
    """A column named like a description that the plan left out and that holds text on more
    rows than ``filled`` (the description's)."""
    for j, name in enumerate(header):
        if j in plan or fm.canonical_name(name, RecordKind.TRANSACTION) != "description":
            continue
        if sum(1 for r in rows if j < len(r) and r[j].strip()) > filled:
            return j
    return None


def _moved_text(plan: dict[int, str], header: Sequence[str], i: int, other: int) -> str:
    del plan[i]
    plan[other] = "description"
    return f"column {header[other]!r} holds the text on more rows than {header[i]!r}: read as " \
        "the description"


def _same_account(a: str, b: str) -> bool:
    """Whether two spellings name one account: equal without separators, or one (a BBAN or
    an account number) inside the other (its IBAN)."""
    x, y = (re.sub(r"[^0-9A-Z]", "", v.upper()) for v in (a, b))
    return bool(x and y) and (x in y or y in x)


def _by_content(
    plan: dict[int, str],
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    fm: FileMapping,
    own: str | None,
) -> list[str]:
    """Columns a header alias misread, corrected from what they hold (``plan`` in place; the
    notes say what moved). Never a column the mapping names.

    - An account column none of whose values is the account the preamble names holds the
      other party's: DKB's ``Kontonummer`` is the payee's IBAN, and the payments were stored
      under it, exit 0. The statement's own account (the preamble's) is used.
    - A value-date column of currency codes is the currency: ``Valuta`` is the value date in
      Dutch and German, the currency in Swedish (Nordea's ``Valuta`` = SEK).
    - An empty currency column is none: the currency the file or the user gives applies
      (ZKB's ``Curr``; every row was refused for a missing value, --currency unheard).
    - Of two columns named like a description, the one that holds text on more rows is the
      description (ZKB's "Booking text" over "Details")."""
    notes: list[str] = []
    for i, target in list(plan.items()):
        if normalize_header(header[i]) in fm.columns:
            continue
        values = [r[i].strip() for r in rows if i < len(r) and r[i].strip()]
        if not values:
            if target == "currency":  # ZKB's "Curr" is empty: the file's currency fills it
                del plan[i]
                notes.append(f"column {header[i]!r} is empty: not read as the currency")
            elif target == "description" and (other := _fuller_text(plan, header, rows, fm, 0)):
                notes.append(_moved_text(plan, header, i, other))
            continue
        if target == "description" and (other := _fuller_text(plan, header, rows, fm,
                                                               len(values))):
            # ZKB's "Details" names a payee now and then, its "Booking text" every row's text
            notes.append(_moved_text(plan, header, i, other))
            continue
        if target == "account_id" and own and not any(_same_account(own, v) for v in values):
            del plan[i]
            notes.append(f"column {header[i]!r} names another party's account, not "
                         f"{mask(own)} of the preamble: not read as the account")
        elif (target == "value_at" and "currency" not in plan.values()
              and all(v.upper() in known_currencies() for v in values)):  # fmt: skip
            plan[i] = "currency"
            notes.append(f"column {header[i]!r} holds currency codes: read as the currency")
    return notes


def running_balance(
    frame: pl.DataFrame, kind: RecordKind, opts: SourceOptions, source: str, on_mismatch: str
) -> tuple[pl.DataFrame, list[str]]:
    """``frame`` (one whole file, settled) with its running balance checked: a balance given
    before each row becomes the balance after it; a balance that does not add up refuses the
    file naming the first row where it diverges (or, with ``on_mismatch="flag"``, a note)."""
    if kind is not RecordKind.TRANSACTION or frame.height < 2 or "amount" not in frame.columns:
        return frame.drop("balance_before", strict=False), []
    has_after, has_before = "balance_after" in frame.columns, "balance_before" in frame.columns
    if not (has_after or has_before):
        return frame, []
    amounts = money_minor(frame, "amount", opts)
    kept = pl.repeat(True, frame.height, eager=True)
    if ROW_REJECT in frame.columns:
        kept = kept & frame[ROW_REJECT].is_null()
    if "transaction_id" in frame.columns:
        # A repeat of an earlier transaction id is not stored (a duplicate, or a reject naming
        # the first), so it is no link of the chain: the pairs around it go unchecked.
        ids = frame["transaction_id"].cast(pl.Utf8)
        kept = kept & (ids.is_null() | ids.is_first_distinct())
    amounts = pl.select(pl.when(pl.lit(kept)).then(pl.lit(amounts))).to_series()
    if has_after:
        balances = money_minor(frame, "balance_after", opts)
    else:
        balances = money_minor(frame, "balance_before", opts) + amounts
        digits = _digits(frame, opts)
        frame = frame.with_columns(
            pl.Series(
                "balance_after",
                _as_text(balances.to_list(), digits, opts.decimal or "."),
                dtype=pl.Utf8,
            )
        )
    frame = frame.drop("balance_before", strict=False)
    if balances.is_null().all():
        return frame, []
    day_col = "booked_at" if "booked_at" in frame.columns else LOCATION
    result = reconcile(amounts.to_list(), balances.to_list(), frame[day_col].to_list())
    if result.ok:
        order = "newest first" if result.newest_first else "oldest first"
        how = " (by day: rows within a day are not in booking order)" if result.by_day else ""
        return frame, [f"running balance reconciles over {result.checked} row(s), {order}{how}"]
    d = result.divergence
    assert d is not None  # noqa: S101 -- reconcile sets it whenever ok is False
    digits = _digits(frame, opts)
    prev, amount, expected, stated = _as_text([d.previous, d.amount, d.expected, d.stated], digits)
    reason = (
        f"{frame[LOCATION][d.row]}: the running balance does not reconcile: {prev} + {amount} = "
        f"{expected}, but the file says {stated}"
    )
    if on_mismatch == "flag":
        return frame, [reason + ' (loaded anyway: on_balance_mismatch = "flag")']
    raise IngestError(
        f"{source}: {reason}; the file is refused (a wrong amount, or rows missing from it; "
        'set on_balance_mismatch = "flag" in the mapping to load it anyway)'
    )


def check_chunks(chunks: list[Chunk], fm: FileMapping, source: str) -> list[Chunk]:
    """The careful path's chunks of one file, with its running balance checked as a whole."""
    frames = [c for c in chunks if c.frame.height]
    if not frames or frames[0].kind is not RecordKind.TRANSACTION:
        return chunks
    whole = pl.concat([c.frame for c in frames], how="diagonal_relaxed")
    checked, notes = running_balance(
        whole, frames[0].kind, frames[0].options, source, fm.on_balance_mismatch
    )
    if checked is whole:
        return [dataclasses.replace(chunks[0], notes=chunks[0].notes + notes), *chunks[1:]]
    out: list[Chunk] = []
    offset = 0
    for i, chunk in enumerate(chunks):
        part = checked.slice(offset, chunk.frame.height)
        offset += chunk.frame.height
        out.append(
            dataclasses.replace(chunk, frame=part, notes=chunk.notes + (notes if i == 0 else []))
        )
    return out


def _digits(frame: pl.DataFrame, opts: SourceOptions) -> int:
    from tactful.domain.money import minor_units

    code = opts.currency
    if "currency" in frame.columns:
        first = frame["currency"].drop_nulls().head(1).to_list()
        code = str(first[0]).strip().upper() if first else code
    try:
        return minor_units(code or "")
    except (ValueError, KeyError):
        return 2


def _as_text(values: Sequence[int | None], digits: int, mark: str = ".") -> list[str | None]:
    out: list[str | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        sign, v = ("-" if v < 0 else ""), abs(v)
        whole, frac = divmod(v, 10**digits)
        out.append(f"{sign}{whole}{mark}{frac:0{digits}d}" if digits else f"{sign}{whole}")
    return out
