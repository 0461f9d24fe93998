"""Categorization on merchants the engine was never given: a second simulated bank drawn with
``unseen_merchants`` (invented chains and independents, invented payment facilitators, its own
descriptor printing), run through ingest and enrich like the first, scored beside it.

Why: the ordinary simulated world names chains the engine's merchant directory also names, so
its category accuracy is an upper bound. The gap between the two banks is what the directory
and the rules contribute; what is left is what the engine reads from descriptors, MCCs and its
own text model.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import select

from tactful.batch.shards import shards_of
from tactful.enrich import repository as repo
from tactful.evaluation.bank import EvalBank
from tactful.evaluation.categories import CategoryScore, score_categories
from tactful.evaluation.report import Metric, Section, markdown_table
from tactful.evaluation.words_alone import evaluate_words_alone
from tactful.store import schema

__all__ = ["BankCategories", "bank_categories", "unseen_section", "unseen_words_alone"]


@dataclass(frozen=True)
class BankCategories:
    """Every row, and the card payments that arrived without an MCC: there the category can
    only come from the descriptor (directory, rules, text model)."""

    all_rows: CategoryScore
    card_without_mcc: CategoryScore


def _stored(bank: EvalBank) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The bank's transactions as ``tactful enrich`` left them in the store, and its truth keyed
    by the store's ids."""
    store = bank.store
    customers = repo.customers_to_enrich(store, full=True)
    frame = pl.concat([repo.load_shard(store, s) for s in shards_of(customers, size=2_000)])
    t = schema.transactions
    source_ids = store.frame(select(t.c.id, t.c.external_id))
    truth = (
        pl.read_parquet(bank.truth / "transaction_truth.parquet")
        .join(source_ids, left_on="transaction_id", right_on="external_id")
        .drop("transaction_id")
        .rename({"id": "transaction_id"})
    )
    return frame, truth


def bank_categories(bank: EvalBank) -> BankCategories:
    """The categories ``tactful enrich`` stored, scored against the bank's truth."""
    frame, truth = _stored(bank)
    stored = frame.select("id", *[pl.col(f"old_{c}").alias(c) for c in repo.STORED])
    no_mcc = frame.filter(pl.col("channel").is_in(["card", "online"]) & pl.col("mcc").is_null())
    return BankCategories(
        all_rows=score_categories(stored, truth),
        card_without_mcc=score_categories(stored.join(no_mcc.select("id"), on="id"), truth),
    )


def _card_rows(score: CategoryScore) -> str:
    rows = [
        [r["category_source"], f"{r['share']:.3f}", f"{r['accuracy_primary']:.3f}"]
        for r in score.by_source.iter_rows(named=True)
    ]
    return markdown_table(("category source", "share", "accuracy, primary"), rows)


def unseen_section(ordinary_bank: BankCategories, unseen_bank: BankCategories,
                   bank: EvalBank) -> Section:
    """The unseen bank's figures, each beside the ordinary bank's."""
    ordinary, unseen = ordinary_bank.all_rows, unseen_bank.all_rows
    o_card, u_card = ordinary_bank.card_without_mcc, unseen_bank.card_without_mcc
    c = bank.config
    data = (
        f"simulated bank with unseen merchants, {c.customers:,} customers x {c.months} months "
        f"from {c.start} (seed {c.seed}), {unseen.n:,} transactions; ingested and enriched with "
        f"`tactful enrich` ({bank.enrich.seconds:.1f} s)"
    )
    return Section(
        title="Categories on unseen merchants (simulated bank)",
        data=data,
        metrics=[
            Metric("category accuracy, primary", unseen.accuracy_primary, None,
                   f"ordinary merchants: {ordinary.accuracy_primary:.3f}"),
            Metric("category accuracy, detailed", unseen.accuracy_detailed, None,
                   f"ordinary merchants: {ordinary.accuracy_detailed:.3f}"),
            Metric("coverage (not uncategorized)", unseen.coverage, None,
                   f"ordinary merchants: {ordinary.coverage:.3f}"),
            Metric("merchant name accuracy", unseen.merchant_accuracy, None,
                   f"ordinary merchants: {ordinary.merchant_accuracy:.3f}"),
            Metric("card rows without MCC: accuracy, primary", u_card.accuracy_primary, None,
                   f"{u_card.n:,} rows; ordinary merchants: {o_card.accuracy_primary:.3f} "
                   f"on {o_card.n:,}"),
            Metric("card rows without MCC: coverage", u_card.coverage, None,
                   f"ordinary merchants: {o_card.coverage:.3f}"),
        ],
        tables=[("By source (unseen merchants)", _card_rows(unseen))],
        notes=[
            "Only card merchants are invented: billers, subscriptions, employers and the bank's "
            "own bookings are those of the ordinary world, and card rows keep their MCC (8% "
            "arrive without one), so the MCC map still categorizes most card payments.",
        ],
    )


def unseen_words_alone(bank: EvalBank) -> Section:
    """The unseen bank from its descriptions alone: ``words_alone`` on the rows the store holds
    (the ordinary bank's section of the same name, on merchants no rule or directory knows)."""
    frame, truth = _stored(bank)
    c = bank.config
    data = (
        f"the simulated bank with unseen merchants ({c.customers:,} customers x {c.months} "
        f"months, seed {c.seed}), {frame.height:,} transactions, with channel, MCC and "
        "counterparty removed"
    )
    return evaluate_words_alone(
        frame, truth, data=data,
        title="Categories on unseen merchants from descriptions alone (simulated bank)",
    )
