"""Income scored as a bank that knows nothing but amounts, dates and a payer id would get it.

Real exports often carry no description worth the name: a signed amount, a date and an opaque
id of the other party (an IBAN, a partner account, a payer number). ``amounts_and_dates`` strips
a ``TRANSACTIONS`` frame down to that: the description, MCC and channel go, and the
counterparty becomes an opaque id derived from who really paid (so one payer keeps one id,
as a real account number would). Income must then be told from the shape of the money alone.

``pay_kind`` names the kind of pay a truth income stream is, finer than the simulator's own
kind, so the score can be read per kind: fixed salary, hourly pay (amounts that vary with the
hours), gig payouts, pensions, benefits, a parent's allowance, business invoices.
"""

from __future__ import annotations

import polars as pl

from tactful.enrich.descriptor import UNKNOWN_CHANNEL
from tactful.enrich.frames import TRANSACTIONS

__all__ = ["PAY_KINDS", "amounts_and_dates", "pay_kind"]

PAY_KINDS = ("salary", "hourly", "gig", "pension", "benefit", "allowance", "business")
"""The pay kinds of the per-kind score, in report order."""


def amounts_and_dates(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (``TRANSACTIONS``) with no description, MCC or channel, and the counterparty
    replaced by an opaque payer id (``P`` and 12 digits of a hash of the counterparty, or of
    the description where there is none)."""
    who = pl.coalesce(pl.col("counterparty"), pl.col("description"))
    payer = pl.when(who.is_not_null()).then(
        pl.lit("P") + who.hash(seed=20).cast(pl.String).str.slice(0, 12)
    )
    return frame.select(list(TRANSACTIONS)).with_columns(
        payer.alias("counterparty"),
        pl.lit(None, dtype=pl.String).alias("description"),
        pl.lit(None, dtype=pl.String).alias("mcc"),
        pl.lit(UNKNOWN_CHANNEL, dtype=pl.String).alias("channel"),
    )


def pay_kind() -> pl.Expr:
    """The pay kind of a truth income stream from its ``kind`` and ``amount_varies``."""
    kind = pl.col("kind")
    return (
        pl.when((kind == "payroll") & pl.col("amount_varies"))
        .then(pl.lit("hourly"))
        .when(kind == "payroll")
        .then(pl.lit("salary"))
        .when(kind == "gig_income")
        .then(pl.lit("gig"))
        .when(kind.is_in(["benefit", "child_benefit"]))
        .then(pl.lit("benefit"))
        .when(kind == "business_income")
        .then(pl.lit("business"))
        .otherwise(kind)
    )
