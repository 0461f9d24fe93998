"""Which way an amount goes when the file writes it unsigned.

Bank statements often write every amount as a positive number and say the direction beside it:
a Dutch ``Af``/``Bij`` column, ``D``/``K`` (debet/kredit), ``D``/``C``, ``DR``/``CR``, German
``S``/``H`` (Soll/Haben), ``DEBIT``/``CREDIT``; or they split the amount into a debit and a credit
column, with the empty side blank or ``0,00``. Loading such a file without the direction
stores every payment as income; taking the ``0,00`` of the empty side stores it as nothing.
Both went unnoticed before (exit 0), so here every row either gets its sign from the file or is
rejected with the reason:

* a ``sign`` column: its value (after ``[values.sign]`` of the mapping) must be a debit or a
  credit word; an amount already written negative must agree with it;
* ``debit``/``credit`` columns: the side that is non-zero wins; both non-zero is a reject.

>>> side_of("Af"), side_of("bij"), side_of("S"), side_of("Cr"), side_of("Gutschrift")
('debit', 'credit', 'debit', 'credit', 'credit')
"""

from __future__ import annotations

import unicodedata

import polars as pl

from tactful.ingest.conventions import clean_amount
from tactful.ingest.schema import ROW_REJECT

__all__ = [
    "CREDIT_WORDS", "DEBIT_WORDS", "apply_sign", "blank_side", "merge_debit_credit", "side_of",
]

DEBIT_WORDS = frozenset(
    {
        "debit", "debet", "d", "dr", "db", "deb", "af", "s", "soll", "-", "out", "withdrawal",
        "lastschrift", "belastung", "debito", "débito", "addebito", "cargo", "obciazenie",
        "obciążenie", "ma", "winien", "debetas", "debets", "charge",
    }
)  # fmt: skip
CREDIT_WORDS = frozenset(
    {
        "credit", "kredit", "k", "c", "cr", "bij", "h", "haben", "+", "in", "deposit",
        "gutschrift", "credito", "crédito", "accredito", "abono", "uznanie", "kreditas",
        "kredits", "crédit",
    }
)  # fmt: skip
_SIDES = {**dict.fromkeys(DEBIT_WORDS, "debit"), **dict.fromkeys(CREDIT_WORDS, "credit")}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return text.rstrip(".")


def side_of(value: str) -> str | None:
    """``"debit"``, ``"credit"`` or None for an indicator value."""
    return _SIDES.get(_fold(value))


def is_sign_column(values: list[str]) -> bool:
    """Whether every non-blank value of a column is a debit or credit word: a "Type" column of
    DEBIT/CREDIT is a sign column, one of "DEB", "FPI", "DD" is not."""
    seen = [v for v in values if v.strip()]
    return bool(seen) and all(side_of(v) is not None for v in seen)


def blank_side(values: list[str]) -> str | None:
    """The side a blank stands for in a sign column that marks only one side: card
    statements print "CR" beside a payment received and nothing beside a purchase, some
    exports "DR" beside debits alone. None unless the column has both blanks and marks, every
    mark of one side. A column whose marks are all of one side but never blank says nothing
    about blanks, and one with both sides written leaves a blank undecided (rejected).

    >>> blank_side(["", "CR", ""]), blank_side(["DR", " "]), blank_side(["D", "C", ""])
    ('debit', 'credit', None)
    """
    marks = {side_of(v) for v in values if v.strip()}
    if len(marks) != 1 or None in marks or all(v.strip() for v in values):
        return None
    return "debit" if marks == {"credit"} else "credit"


def _zero(text: pl.Expr) -> pl.Expr:
    return clean_amount(text)[0].str.contains(r"^[0.,]+$")


def _blank_to_null(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.Utf8).str.strip_chars().replace("", None)


def _add_reject(frame: pl.DataFrame, reason: pl.Expr) -> pl.DataFrame:
    if ROW_REJECT in frame.columns:
        reason = pl.coalesce(pl.col(ROW_REJECT), reason)
    return frame.with_columns(reason.alias(ROW_REJECT))


def merge_debit_credit(frame: pl.DataFrame) -> pl.DataFrame:
    """``debit``/``credit`` columns as one signed ``amount`` (kept when the file has one too).

    The empty side is blank or zero (``0,00``); a row with both sides non-zero is rejected,
    since either could be the mistake.
    """
    has_d, has_c = "debit" in frame.columns, "credit" in frame.columns
    if not (has_d or has_c):
        return frame
    if "amount" in frame.columns or "amount_minor" in frame.columns:
        return frame.drop([c for c in ("debit", "credit") if c in frame.columns])
    debit = _blank_to_null("debit") if has_d else pl.lit(None, pl.Utf8)
    credit = _blank_to_null("credit") if has_c else pl.lit(None, pl.Utf8)
    d_empty = debit.is_null() | _zero(debit).fill_null(False)
    c_empty = credit.is_null() | _zero(credit).fill_null(False)
    unsigned_debit = debit.str.strip_chars("-+ ")
    amount = (
        pl.when(~d_empty & c_empty)
        .then(pl.lit("-") + unsigned_debit)
        .when(d_empty & ~c_empty)
        .then(credit)
        .when(d_empty & c_empty)
        .then(pl.coalesce(credit, unsigned_debit))
        .otherwise(pl.lit(None, pl.Utf8))
    )
    frame = frame.with_columns(amount.alias("amount"))
    reason = pl.when(~d_empty & ~c_empty).then(
        pl.lit("both debit '") + debit + pl.lit("' and credit '") + credit
        + pl.lit("' hold an amount; one side must be blank or zero")
    )  # fmt: skip
    frame = _add_reject(frame, reason)
    return frame.drop([c for c in ("debit", "credit") if c in frame.columns])


def apply_sign(frame: pl.DataFrame) -> pl.DataFrame:
    """``amount`` signed by the ``sign`` column (which is then dropped)."""
    if "sign" not in frame.columns:
        return frame
    if "amount" not in frame.columns:
        return frame.drop("sign")
    raw = pl.col("sign").cast(pl.Utf8).str.strip_chars()
    folded = raw.str.to_lowercase().str.strip_chars_end(".")
    side = folded.replace_strict(_SIDES, default=None, return_dtype=pl.Utf8)
    text = pl.col("amount").cast(pl.Utf8).str.strip_chars()
    negative = clean_amount(text)[1]
    unsigned = text.str.strip_chars("-+ ")
    zero = _zero(text).fill_null(False)
    amount = (
        pl.when(side == "debit")
        .then(pl.when(zero).then(unsigned).otherwise(pl.lit("-") + unsigned))
        .when(side == "credit")
        .then(unsigned)
        .otherwise(text)
    )
    reason = (
        pl.when(text.is_null() | (text == ""))
        .then(pl.lit(None, pl.Utf8))
        .when(side.is_null())
        .then(
            pl.lit("sign '") + raw.fill_null("") + pl.lit("' is neither a debit nor a credit word; "
            "map it under [values.sign]")
        )
        .when((side == "credit") & negative & ~zero)
        .then(pl.lit("amount '") + text + pl.lit("' is negative but its sign '") + raw
              + pl.lit("' says credit"))
    )  # fmt: skip
    # both from the amount as the file wrote it: a reason computed after the amount was
    # replaced by its unsigned text never saw the minus ("-12.00" beside "CR" loaded as 12.00)
    frame = frame.with_columns(amount.alias("amount"), reason.alias("__sign_reason"))
    frame = _add_reject(frame, pl.col("__sign_reason"))
    return frame.drop("sign", "__sign_reason")
