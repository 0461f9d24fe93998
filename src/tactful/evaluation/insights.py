"""The insight catalog scored: every detector's precision and recall against the simulator's truth.

Protocol: a handful of as-of days in the last four months of the bank (every 14 days, the last
one at least 16 days before the window's end, so the future a forecast needs to be judged
exists). For each day the store's enriched transactions are cut to that day, recurring series and
income are detected again on the cut (they must not see the future), and the inputs are built
the way ``load_inputs`` builds them. Every customer is given every consent and the "advanced"
personalization level: this scores the detectors, not the gating (which has its own tests).

An engine series or income stream is mapped to the truth series holding most of its bookings
(through ``series_members``), the way ``recurring.py`` matches them. What counts as correct and
as found for each detector is ``insight_truth.py``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import polars as pl

from tactful.enrich.income import detect_income
from tactful.enrich.recurring import detect_series
from tactful.evaluation.bank import EvalBank
from tactful.evaluation.insight_truth import (
    DEFINITIONS,
    FEES,
    FOREIGN,
    Tally,
    Truth,
    fee_customers,
    inject,
    majority,
    score_balances,
    score_bill_unusual,
    score_customers,
    score_large,
    score_late,
    score_new,
    score_price,
    score_raise,
    score_shortfall,
    score_spike,
    score_upcoming,
)
from tactful.evaluation.report import Metric, Section, markdown_table
from tactful.insights import repository as insight_repo
from tactful.insights.catalog import Catalog
from tactful.insights.inputs import (
    TRANSACTIONS,
    InsightInputs,
    as_of_day,
)
from tactful.models.replay import every_purpose, whole_bank

AS_OF_DAYS = 6
STEP_DAYS = 14
FUTURE_DAYS = 16
MONEY_CRITICAL = ("shortfall", "duplicate_charge", "price_increase", "upcoming_bill", "fees_paid")
NOT_SCORED = {
    "budget_progress": "the eval bank has no budgets (customers set them in the app)",
    "savings_goal": "the eval bank has no savings goals",
    "weekly_roundup": "a summary of the week's own figures: arithmetic, no simulator truth",
    "welcome": "arithmetic on the account's opened_on, no inference to score",
}


def as_of_days(last: date) -> list[date]:
    """Every ``STEP_DAYS`` days, the latest ``FUTURE_DAYS`` before the window's end."""
    end = last - timedelta(days=FUTURE_DAYS)
    return sorted(end - timedelta(days=STEP_DAYS * i) for i in range(AS_OF_DAYS))


# -- the protocol ----------------------------------------------------------------------------


def evaluate_insights(bank: EvalBank, *, say: Callable[[str], None] = lambda _m: None) -> (
    list[Section]
):
    import time

    started = time.perf_counter()
    store = bank.store
    last = insight_repo.latest_booking_day(store)
    if last is None:
        return []
    say("insights: loading the bank")
    base, cats = whole_bank(store, last, everyone=True)
    truth = Truth(bank, cats)
    catalog = Catalog.default()
    dup_catalog = Catalog.default(only=["duplicate_charge"])
    consents = every_purpose(base.customers)
    ids = [d.spec.id for d in catalog.detectors]
    tallies = {i: Tally() for i in ids}
    counts: dict[str, int] = dict.fromkeys(ids, 0)
    days = as_of_days(last)
    # the store transactions as load_inputs gives them, less the stored series membership
    store_tx = base.transactions.drop("series_id")
    for n, d in enumerate(days):
        say(f"insights: as of {d}")
        cut = cats.filter(pl.col("booked_on") <= d)
        series = detect_series(cut, as_of=d)
        income = detect_income(cut, series, as_of=d)
        members = series.members.select(pl.col("transaction_id").alias("id"),
                                        "series_id").unique(subset="id", keep="first")
        accounts, tx = as_of_day(base.accounts, store_tx, d)
        tx = tx.join(members, on="id", how="left").select(list(TRANSACTIONS))
        inputs = InsightInputs(
            as_of=d, customers=base.customers, accounts=accounts, transactions=tx,
            series=series.series, series_changes=series.changes.join(
                series.series.select("series_id", "customer_id"), on="series_id"
            ).select("series_id", "customer_id", "effective_date", "old_amount_minor",
                     "new_amount_minor"),
            income=income.streams, income_changes=income.changes, consents=consents,
            logins=base.logins.filter(pl.col("day") <= d),
        )
        found = catalog.findings(inputs)
        for det, k in found.group_by("detector").len().iter_rows():
            counts[det] = counts.get(det, 0) + k
        smap = majority(series.members, "series_id", truth.members)
        imap = majority(income.members, "stream_id", truth.members)
        score_upcoming(tallies["upcoming_bill"], found, d, smap, truth)
        score_price(tallies["price_increase"], found, d, smap, truth)
        score_bill_unusual(tallies["bill_unusual"], found, d, smap, truth)
        score_new(tallies["new_recurring"], found, d, smap, truth)
        score_customers(tallies["fees_paid"], found.filter(pl.col("detector") == "fees_paid"),
                         fee_customers(truth, d, FEES, checking=True))
        score_customers(tallies["foreign_fees"],
                         found.filter(pl.col("detector") == "foreign_fees"),
                         fee_customers(truth, d, (FOREIGN,), checking=False))
        score_shortfall(tallies["shortfall"], found, d, truth)
        score_balances(tallies["low_balance"], tallies["idle_cash"], found, d, truth)
        score_spike(tallies["spending_spike"], found, d, truth)
        score_raise(tallies["salary_raise"], found, d, imap, truth)
        score_late(tallies["income_late"], found, d, imap, truth)
        score_large(tallies["large_transaction"], found, d, truth)
        score_customers(tallies["daily_summary"],
                         found.filter(pl.col("detector") == "daily_summary"),
                         truth.daily_users(base.accounts))
        # duplicates: the simulator books none, so the eval injects them
        injected_tx, injected = inject(tx, d, truth.members, seed=1_000 + n)
        dups = dup_catalog.findings(InsightInputs(
            as_of=d, customers=base.customers, accounts=accounts, transactions=injected_tx,
            consents=consents))
        ok = dups.join(injected.rename({"id": "subject"}), on="subject", how="semi").height
        hit = injected.join(dups.select(pl.col("subject").alias("id")), on="id",
                            how="semi").height
        tallies["duplicate_charge"].add(dups.height, ok, injected.height, hit)
        tallies["duplicate_charge"].extra.setdefault("clean", []).append(
            float(found.filter(pl.col("detector") == "duplicate_charge").height))
    seconds = time.perf_counter() - started
    return [_section(bank, days, tallies, counts, seconds)]


def _section(bank: EvalBank, days: list[date], tallies: dict[str, Tally],
             counts: dict[str, int], seconds: float) -> Section:
    metrics: list[Metric] = []
    rows: list[tuple[object, ...]] = []
    for det, t in tallies.items():
        if det in NOT_SCORED:
            rows.append((det, counts.get(det, 0), "", "", "", "", "not scored"))
            continue
        critical = det in MONEY_CRITICAL
        p_target = ">= 0.9" if critical else None
        r_target = ">= 0.8" if det != "large_transaction" else None
        if det == "large_transaction":
            p_target = None
        metrics.append(Metric(f"{det} precision", t.precision, p_target,
                              f"{t.correct:,} of {t.findings:,} findings"))
        metrics.append(Metric(f"{det} recall", t.recall, r_target,
                              f"{t.found:,} of {t.truth:,} true cases"))
        rows.append((det, t.findings, t.truth,
                     "n/a" if t.precision is None else f"{t.precision:.3f}",
                     "n/a" if t.recall is None else f"{t.recall:.3f}",
                     "yes" if critical else "", ""))
    raise_ = tallies["salary_raise"]
    confirmable = int(sum(raise_.extra.get("confirmable", [])))
    if raise_.truth:
        metrics.append(Metric(
            "salary_raise recall ceiling: raises paid twice at the new level (3x varying)",
            confirmable / raise_.truth, None,
            f"{confirmable:,} of {raise_.truth:,}; the rest were paid once by the day scored"))
    errors = tallies["shortfall"].extra.get("date_error", [])
    if errors:
        metrics.append(Metric("shortfall date error, median days (true positives)",
                              float(np.median(errors)), None, f"on {len(errors):,} shortfalls"))
        metrics.append(Metric("shortfall date error, p90 days",
                              float(np.percentile(errors, 90))))
    clean = tallies["duplicate_charge"].extra.get("clean", [])
    metrics.append(Metric("duplicate_charge findings without injection", int(sum(clean)), None,
                          "every one a false alarm: the simulator books no duplicates"))
    c = bank.config
    notes = [f"{det}: {text}." for det, text in DEFINITIONS.items()]
    notes += [f"{det}: not scored -- {why}." for det, why in NOT_SCORED.items()]
    notes.append("Balances as of each day: the store's window-end balance less everything it "
                 "includes that was booked after the day (posted and pending; `as_of_day`).")
    notes.append(f"Run time of the insight evaluation: {seconds:.0f} s.")
    return Section(
        title="Insight detectors (simulated bank)",
        data=(
            f"simulated bank, {c.customers:,} customers x {c.months} months from {c.start} "
            f"(seed {c.seed}); as of {', '.join(str(d) for d in days)}; series and income "
            "re-detected on each day's cut, every customer consenting at level advanced"
        ),
        metrics=metrics,
        tables=[("Per detector, summed over the as-of days", markdown_table(
            ("detector", "findings", "true cases", "precision", "recall", "money-critical",
             ""), rows))],
        notes=notes,
    )
