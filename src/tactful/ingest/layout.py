"""Where a bank's CSV statement keeps its rows, and what it says only once.

A statement downloaded from online banking is rarely a clean table. It may start with a
preamble (bank name, ``IBAN;DE12 3456 ...``, the period, an opening balance) before its header;
it may have no header at all; it may end with a note (``* noch nicht ausgeführte Umsätze``) or
carry opening-balance, turnover and closing-balance rows among its transactions; and it names
its account and currency once, in the preamble, in the file name or in a header such as
``Bedrag (EUR)``, if at all. This module reads those facts from the first lines, as pure
functions over parsed rows; ``readers/tabular.py`` does the I/O.

* ``find_header``: the first row that names the columns of a record kind (a preamble before it
  is skipped, and reported);
* ``infer_columns``: for a headerless export, each column's field from its content: dates,
  amounts, a running balance (the amount column that makes it add up), currency codes, the
  account's own IBAN, debit/credit words, text;
* ``statement_facts``: the account (IBAN or account number) and currency a preamble, a header
  or the file name gives;
* ``is_summary_row``: opening/closing balance, turnover and total rows, which are not
  transactions and are skipped (counted in a note, not rejected: they are not errors).

>>> iban_in("transactie-historie_NL00ASNB9999999999_20220717204133.csv")
'NL00ASNB9999999999'
>>> is_summary_row(["LT79", "10", "2012-01-01", "", "Likutis pradžiai", "2123.82"])
True
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from tactful.domain.money import known_currencies
from tactful.ingest.mapping import normalize_header
from tactful.ingest.signs import is_sign_column

__all__ = [
    "StatementFacts",
    "find_header",
    "iban_in",
    "infer_columns",
    "is_summary_row",
    "sniff_delimiter",
    "statement_facts",
]

DELIMITERS = (",", ";", "\t", "|")
HEAD_ROWS = 60
"""Rows searched for a header: the longest preamble met (ING Germany's) has 13 lines."""

_IBAN = re.compile(r"(?<![A-Z0-9])([A-Z]{2}\d{2}(?: ?[A-Z0-9]){10,30})(?![A-Z0-9])")
_ACCOUNT_KEYS = frozenset(
    normalize_header(k)
    for k in (
        "IBAN", "Konto", "Kontonummer", "Account", "Account number", "Account No", "Rekening",
        "Rekeningnummer", "Compte", "Numéro de compte", "Cuenta", "Číslo účtu", "Numer rachunku",
        "Sąskaitos Nr.", "Auftragskonto",
    )
)  # fmt: skip
_CURRENCY_KEYS = frozenset(
    normalize_header(k) for k in ("Währung", "Currency", "Valuta", "Devise", "Moneda", "Měna")
)
_HEADER_CURRENCY = re.compile(r"\(([A-Z]{3})\)|\b(?:in|en)\s+([A-Z]{3})\b|\s([A-Z]{3})$")
_SYMBOLS = {"€": "EUR", "£": "GBP", "zł": "PLN", "Kč": "CZK", "₹": "INR", "₺": "TRY", "₪": "ILS"}
_COUNTRY_CURRENCY = {
    **dict.fromkeys(
        "AT BE CY DE EE ES FI FR GR HR IE IT LT LU LV MT NL PT SI SK".split(),  # noqa: SIM905
        "EUR",
    ),
    "GB": "GBP", "CH": "CHF", "LI": "CHF", "PL": "PLN", "CZ": "CZK", "HU": "HUF", "SE": "SEK",
    "DK": "DKK", "NO": "NOK", "RO": "RON", "BG": "BGN",
}  # fmt: skip
_SUMMARY = re.compile(
    r"^(?:(?:opening|closing|start(?:ing)?|end(?:ing)?|beginning|previous|new|available|ledger)"
    r"\s+balance|balance\s+(?:brought|carried)\s+forward|(?:anfangs|end|alter|neuer)[\s-]?saldo"
    r"|saldo\s+(?:alt|neu)|kontostand|(?:begin|eind)saldo|solde\s+(?:initial|final|pr[ée]c[ée]"
    r"dent|au\s+.*)|likutis\s+(?:prad[zž]iai|pabaigai)|apyvarta|total(?:e?s?)?|summe|sum|"
    r"s?uma\s+celkem|obroty|saldo\s+pocz[aą]tkowe|saldo\s+ko[nń]cowe|pocz[aą]tkowy|"
    r"stan\s+(?:pocz[aą]tkowy|ko[nń]cowy)|saldo\s+(?:iniziale|finale|contabile|inicial|final|"
    r"anterior))\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"^(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}-\d\d-\d\d(?:[T ].*)?"
    r"|(?:19|20)\d\d[01]\d[0-3]\d|\d{1,2}([ ./-])[A-Za-z]{3,9}\1(?:\d{4}|\d{2})"
    r"|[A-Za-z]{3,9} \d{1,2}, \d{4})$"
)
_AMOUNT = re.compile(r"^[+-]?\s?\(?[$€£]?\s?\d{1,3}(?:[.,' ]?\d{3})*(?:[.,]\d{1,2})?\)?[+-]?$")
_DECIMALS = re.compile(r"[.,]\d{1,2}\)?[+-]?$")


def sniff_delimiter(lines: Sequence[str], forced: str | None) -> str:
    """The delimiter that splits the most lines into the same number (>= 2) of fields.

    Preamble lines (one or two fields) do not vote, so a ``;`` file whose first line is
    ``KNAB EXPORT`` or ``Umsatzanzeige;Datei erstellt am: ...`` is still read with ``;``.
    """
    if forced:
        return forced
    best, best_score = ",", (-1, -1)
    sample = [ln for ln in lines[:HEAD_ROWS] if ln.strip()]
    for delim in DELIMITERS:
        counts: dict[int, int] = {}
        for ln in sample:
            n = len(next(csv.reader([ln], delimiter=delim), []))
            if n >= 2:
                counts[n] = counts.get(n, 0) + 1
        if not counts:
            continue
        width, rows = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        score = (rows, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def iban_in(text: str) -> str | None:
    """The first IBAN-shaped string in ``text`` (spaces removed), or None."""
    found = _IBAN.search(text.upper())
    return found.group(1).replace(" ", "") if found else None


@dataclass(slots=True)
class StatementFacts:
    """What a statement says once, and where it said it (for the ingest summary)."""

    account: str | None = None
    account_from: str = ""
    currency: str | None = None
    currency_from: str = ""
    notes: list[str] = field(default_factory=list)


def statement_facts(
    preamble: Sequence[Sequence[str]], header: Sequence[str], file_name: str
) -> StatementFacts:
    """The account and currency given by a preamble's ``key;value`` rows (or a small table
    in it), a header's ``(EUR)``, or an IBAN in the file name."""
    facts = StatementFacts()
    rows = [list(r) for r in preamble]
    for i, row in enumerate(rows):
        cells = [c.strip() for c in row]
        for j, cell in enumerate(cells):
            key = normalize_header(cell.rstrip(":"))
            if key in _ACCOUNT_KEYS or key in _CURRENCY_KEYS:
                value = next((c for c in cells[j + 1 :] if c), "")
                if not value and i + 1 < len(rows) and j < len(rows[i + 1]):
                    value = rows[i + 1][j].strip()  # a table: the value is below its name
                if key in _ACCOUNT_KEYS and value and facts.account is None:
                    # "DE99... / Girokonto" (DKB): the IBAN is the account
                    facts.account = iban_in(value) or value
                    facts.account_from = "the preamble"
                elif key in _CURRENCY_KEYS and value.upper() in known_currencies():
                    facts.currency = facts.currency or value.upper()
                    facts.currency_from = facts.currency_from or "the preamble"
        if facts.account is None:
            for cell in cells:
                if found := iban_in(cell):
                    facts.account, facts.account_from = found, "the preamble"
                    break
    if facts.account is None and (found := iban_in(file_name)):
        facts.account, facts.account_from = found, "the file name"
    if facts.currency is None:
        for name in header:
            m = _HEADER_CURRENCY.search(name)
            code = m and (m.group(1) or m.group(2) or m.group(3))
            if code and code in known_currencies():
                facts.currency, facts.currency_from = code, f"the header {name.strip()!r}"
                break
    return facts


def currency_from_amounts(values: Sequence[str]) -> str | None:
    """The currency an amount's symbol names when it names only one (``€``, ``£``; not
    ``$``, which a dozen currencies write)."""
    found = {code for v in values for sym, code in _SYMBOLS.items() if sym in v}
    return found.pop() if len(found) == 1 else None


def currency_from_account(account: str | None) -> str | None:
    """The currency of an IBAN's country, where the country has one (euro area, GB, CH...)."""
    if not account or not iban_in(account):
        return None
    return _COUNTRY_CURRENCY.get(account[:2].upper())


def is_summary_row(cells: Sequence[str]) -> bool:
    """An opening/closing balance, turnover or total row: some cell is nothing but such a
    label (``Likutis pradžiai``, ``Anfangssaldo``, ``Closing balance``, ``Total``)."""
    return any(_SUMMARY.fullmatch(c.strip().strip("|").strip().rstrip(":")) for c in cells
               if c.strip())


def is_section_row(cells: Sequence[str], width: int) -> bool:
    """A note or section title between or after the rows: a single non-blank cell in a row
    much narrower than the table (``* noch nicht ausgeführte Umsätze``)."""
    filled = [c for c in cells if c.strip()]
    return width >= 3 and len(filled) == 1 and len(cells) <= max(2, width // 2)


def find_header(
    rows: Sequence[Sequence[str]], plans: Callable[[Sequence[str]], bool]
) -> int | None:
    """Index of the first row that ``plans`` (it names a record kind's required columns),
    searched in the first ``HEAD_ROWS`` rows; None if no row does."""
    for i, row in enumerate(rows[:HEAD_ROWS]):
        if sum(1 for c in row if c.strip()) >= 2 and plans(row):
            return i
    return None


# -- headerless exports ---------------------------------------------------------------------


def _decimal(text: str) -> Decimal | None:
    t = text.strip().replace("'", "").replace(" ", "")
    t = t.replace("$", "").replace("€", "").replace("£", "")
    neg = t.startswith("-") or t.endswith("-") or (t.startswith("(") and t.endswith(")"))
    t = t.strip("+-()")
    if "," in t and "." in t:
        t = t.replace("." if t.rfind(",") > t.rfind(".") else ",", "")
    t = t.replace(",", ".")
    if t.count(".") > 1:
        return None
    try:
        value = Decimal(t)
    except InvalidOperation:
        return None
    return -value if neg else value


def _share(values: Sequence[str], test: Callable[[str], bool]) -> float:
    filled = [v for v in values if v.strip()]
    return sum(1 for v in filled if test(v.strip())) / len(filled) if filled else 0.0


def _balance_fit(amounts: list[Decimal | None], balances: list[Decimal | None]) -> tuple[int, str]:
    """(rows that add up, how) for ``balances`` as a running balance of ``amounts``: after
    each row or before it, in either row order."""
    n = len(amounts)
    best = (0, "")
    for how in ("after", "before"):
        for step in (1, -1):
            hits = 0
            for i in range(1, n):
                cur, prev = (i, i - 1) if step == 1 else (i - 1, i)
                a_cur, b_cur, b_prev = amounts[cur], balances[cur], balances[prev]
                a_prev = amounts[prev]
                if how == "after" and None not in (a_cur, b_cur, b_prev):
                    hits += b_prev + a_cur == b_cur  # type: ignore[operator]
                elif how == "before" and None not in (a_prev, b_cur, b_prev):
                    hits += b_prev + a_prev == b_cur  # type: ignore[operator]
            best = max(best, (hits, how))
    return best


def infer_columns(rows: Sequence[Sequence[str]]) -> tuple[list[str | None], list[str]]:
    """(field per column or None, notes) for a headerless export, from its content.

    Dates: the first date column is ``booked_at``, the second ``value_at``. Amounts: columns
    of numbers with decimals; when two or more, the pair where one is the running balance of
    the other (after or before each row) decides which is which, and without such a pair the
    first is the amount. The currency column nearest the amount, a constant IBAN (the
    account's own), a column of debit/credit words (the sign), and the longest text column
    (the description) follow.
    """
    sample = [list(r) for r in rows[:500] if any(c.strip() for c in r)]
    width = max((len(r) for r in sample), default=0)
    cols = [[r[i] if i < len(r) else "" for r in sample] for i in range(width)]
    fields: list[str | None] = [None] * width
    notes: list[str] = []
    currencies = known_currencies()
    dates = [i for i, c in enumerate(cols) if _share(c, lambda v: bool(_DATE.match(v))) >= 0.9]
    for name, i in zip(("booked_at", "value_at"), dates, strict=False):
        fields[i] = name
    amounts = [
        i
        for i, c in enumerate(cols)
        if fields[i] is None
        and _share(c, lambda v: bool(_AMOUNT.match(v))) >= 0.9
        and _share(c, lambda v: bool(_DECIMALS.search(v))) >= 0.5
    ]
    if not amounts or not dates:
        return fields, notes
    amount_col, balance = amounts[0], None
    if len(amounts) > 1:
        parsed = {i: [_decimal(v) for v in cols[i]] for i in amounts}
        fits = [
            (_balance_fit(parsed[a], parsed[b]), a, b) for a in amounts for b in amounts if a != b
        ]
        (hits, how), a, b = max(fits, key=lambda f: f[0][0])
        if hits >= max(1, (len(sample) - 1) // 2):
            amount_col, balance = a, (b, how)
        else:
            notes.append(
                f"headerless: {len(amounts)} amount columns and none is a running balance of "
                f"another; column {amount_col + 1} taken as the amount"
            )
    fields[amount_col] = "amount"
    if balance is not None:
        fields[balance[0]] = "balance_after" if balance[1] == "after" else "balance_before"
    money = [i for i, c in enumerate(cols) if _share(c, lambda v: v.upper() in currencies) == 1.0]
    if money:
        fields[min(money, key=lambda i: (abs(i - amount_col), i < amount_col))] = "currency"
    for i, c in enumerate(cols):
        if fields[i] is not None:
            continue
        filled = {v.strip() for v in c if v.strip()}
        if len(filled) == 1 and iban_in(next(iter(filled))) and "account_id" not in fields:
            fields[i] = "account_id"
        elif filled and is_sign_column(list(filled)) and "sign" not in fields:
            fields[i] = "sign"
    texts = [
        (sum(len(v) for v in c) / len(c), i)
        for i, c in enumerate(cols)
        if fields[i] is None and _share(c, lambda v: bool(re.search(r"[^\W\d_]{3}", v))) >= 0.5
    ]
    if texts:
        fields[max(texts)[1]] = "description"
    named = ", ".join(f"{i + 1}={f}" for i, f in enumerate(fields) if f)
    notes.insert(0, f"no header: columns read from their content ({named})")
    return fields, notes
