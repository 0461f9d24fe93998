"""Income on real bank data, held out: which payer streams of the PKDD'99 Czech bank are income.

The Czech bank's transactions (``../shared/data/berka_pkdd99/``) carry, beside amount and
date, the partner's bank and account and a ``k_symbol`` the bank itself wrote. Here the engine
gets amounts, dates and an opaque payer id only (the partner account, or the ``k_symbol`` where
there is no partner: the bank's own interest postings have none), as a bank export with no
descriptions would give it; the labels are kept apart to score it:

* ``DUCHOD`` / ``old-age pension`` (k_symbol): a pension, income. The full ``trans.asc`` of the
  challenge carries it; the FEUP re-release in the shared folder carries no such row.
* a transfer from another bank's account (operation ``PREVOD Z UCTU`` / ``collection from
  another bank``) with no k_symbol: the only other credit from a third party this bank records;
  in the FEUP release each account has one such payer, paying monthly on a fixed day with one
  or two higher payments a year (in June and December): salary-shaped. Counted as income, and
  shown apart, since the label is the operation code, not a statement that it is pay.
* ``UROK`` / ``interest credited``: the bank's monthly interest, not income from a payer.

Cash deposits have no payer and are no candidate. A candidate is an (account, payer) with at
least three credits; the engine flags it when most of its credits belong to income streams.
Beside it, in the same run, a cadence baseline a data team would write first: three or more
credits whose intervals all lie within +-3 days of their median (and the median a week or
more). No threshold of the engine was set on this data: they were set on the simulated bank,
and this is scored as held out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from tactful.enrich.descriptor import UNKNOWN_CHANNEL
from tactful.enrich.income import detect_income
from tactful.enrich.pipeline import EnrichContext, categorized
from tactful.enrich.recurring import detect_series
from tactful.evaluation.recurring import berka_frame
from tactful.evaluation.report import Metric, Section, markdown_table

__all__ = ["LABELS", "IncomeLabelScore", "cadence_baseline", "evaluate_berka_income", "score"]

LABELS: dict[str, tuple[str, bool]] = {
    "DUCHOD": ("pension", True),
    "old-age pension": ("pension", True),
    "old age pension": ("pension", True),
    "UROK": ("interest", False),
    "interest credited": ("interest", False),
}
"""k_symbol -> (label, is income)."""
_FROM_ANOTHER_BANK = ("PREVOD Z UCTU", "collection from another bank")
MIN_CREDITS = 3
BASELINE_DAYS = 3


@dataclass(frozen=True, slots=True)
class IncomeLabelScore:
    candidates: int
    positives: int
    engine_precision: float
    engine_recall: float
    engine_f1: float
    baseline_precision: float
    baseline_recall: float
    baseline_f1: float
    by_label: pl.DataFrame  # label, income, candidates, engine flagged, baseline flagged
    stopped: int  # income streams the engine calls stopped
    accounts: int
    rows: int


def _trans_file(berka: Path) -> Path | None:
    for path in (berka / "trans.asc", berka / "feup_ecac_variant" / "trans_test.csv"):
        if path.exists():
            return path
    return None


def labelled_frame(trans: Path) -> pl.DataFrame:
    """The bank's transactions with amounts, dates and an opaque payer id only (``TRANSACTIONS``
    columns), plus ``_payer`` (the plain payer key) and ``_label`` / ``_income`` (the label
    kept apart; null where the data gives none)."""
    raw = pl.read_csv(trans, separator=";", infer_schema=False).select("trans_id", "operation")
    frame = berka_frame(trans).with_columns(
        pl.col("id").str.extract(r":(.+)$", 1).alias("trans_id")
    ).join(raw, on="trans_id", how="left")
    symbol = pl.col("k_symbol").str.strip_chars()
    payer = pl.coalesce(
        pl.col("counterparty"), pl.when(symbol != "").then(symbol)
    )
    label = (
        pl.when(symbol.is_in(list(LABELS)))
        .then(symbol.replace_strict({k: v[0] for k, v in LABELS.items()}, default=None))
        .when(
            pl.col("operation").is_in(_FROM_ANOTHER_BANK)
            & (symbol.is_null() | (symbol == ""))
        )
        .then(pl.lit("transfer from another bank"))
    )
    income = label.replace_strict(
        {"pension": True, "interest": False, "transfer from another bank": True},
        default=None,
        return_dtype=pl.Boolean,
    )
    opaque = pl.lit("P") + payer.hash(seed=20).cast(pl.String).str.slice(0, 12)
    return frame.with_columns(
        pl.col("booked_on").cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias("booked_at"),
        pl.when(payer.is_not_null()).then(opaque).alias("counterparty"),
        pl.lit(None, dtype=pl.String).alias("description"),
        pl.lit(UNKNOWN_CHANNEL, dtype=pl.String).alias("channel"),
        payer.alias("_payer"),
        label.alias("_label"),
        income.alias("_income"),
    ).drop("merchant_key", "merchant", "k_symbol", "operation", "trans_id")


def cadence_baseline(credits: pl.DataFrame) -> pl.DataFrame:
    """Per candidate (account_id, _payer): whether its credits recur at one interval: at least
    ``MIN_CREDITS``, every interval within ``BASELINE_DAYS`` of the median interval, which is a
    week or more (``baseline``)."""
    gaps = (
        credits.sort("account_id", "_payer", "booked_on")
        .with_columns(
            pl.col("booked_on").diff().dt.total_days().over("account_id", "_payer").alias("_gap")
        )
        .group_by("account_id", "_payer")
        .agg(pl.len().alias("_n"), pl.col("_gap").drop_nulls())
    )
    median = pl.col("_gap").list.median()
    spread = (pl.col("_gap").list.eval(pl.element().cast(pl.Float64)) - median).list.eval(
        pl.element().abs()
    ).list.max()
    return gaps.select(
        "account_id",
        "_payer",
        ((pl.col("_n") >= MIN_CREDITS) & (median >= 7) & (spread <= BASELINE_DAYS)).alias(
            "baseline"
        ),
    )


def _prf(flags: pl.DataFrame, column: str) -> tuple[float, float, float]:
    labelled = flags.filter(pl.col("_income").is_not_null())
    tp = labelled.filter(pl.col(column) & pl.col("_income")).height
    flagged = labelled.filter(pl.col(column)).height
    positives = labelled.filter(pl.col("_income")).height
    p = tp / flagged if flagged else 0.0
    r = tp / positives if positives else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score(frame: pl.DataFrame) -> IncomeLabelScore:
    """The engine and the cadence baseline on ``labelled_frame``'s candidates."""
    bare = frame.drop("_payer", "_label", "_income")
    cats = categorized(bare, EnrichContext())
    series = detect_series(cats)
    income = detect_income(cats, series)
    credits = frame.filter((pl.col("amount_minor") > 0) & pl.col("_payer").is_not_null())
    held = credits.join(
        income.members.select(pl.col("transaction_id").alias("id"), pl.lit(True).alias("_held")),
        on="id",
        how="left",
    )
    candidates = (
        held.group_by("account_id", "_payer")
        .agg(
            pl.len().alias("_n"),
            pl.col("_label").mode().first(),
            pl.col("_income").mode().first(),
            (pl.col("_held").fill_null(False).mean() > 0.5).alias("engine"),
        )
        .filter(pl.col("_n") >= MIN_CREDITS)
        .join(cadence_baseline(credits), on=["account_id", "_payer"])
    )
    engine = _prf(candidates, "engine")
    baseline = _prf(candidates, "baseline")
    by_label = (
        candidates.group_by("_label", "_income")
        .agg(
            pl.len().alias("candidates"),
            pl.col("engine").sum().alias("engine_flagged"),
            pl.col("baseline").sum().alias("baseline_flagged"),
        )
        .rename({"_label": "label", "_income": "income"})
        .sort("label", nulls_last=True)
    )
    return IncomeLabelScore(
        candidates=candidates.filter(pl.col("_income").is_not_null()).height,
        positives=candidates.filter(pl.col("_income").fill_null(False)).height,
        engine_precision=engine[0],
        engine_recall=engine[1],
        engine_f1=engine[2],
        baseline_precision=baseline[0],
        baseline_recall=baseline[1],
        baseline_f1=baseline[2],
        by_label=by_label,
        stopped=income.streams.filter(pl.col("status") == "stopped").height,
        accounts=frame["account_id"].n_unique(),
        rows=frame.height,
    )


def evaluate_berka_income(shared: Path) -> Section | None:
    """The section of ``make eval`` for income on the Czech bank; None when the data is absent."""
    trans = _trans_file(shared / "berka_pkdd99")
    if trans is None:
        return None
    s = score(labelled_frame(trans))
    rows = [list(r) for r in s.by_label.iter_rows()]
    return Section(
        title="Income from amounts and dates alone (PKDD'99 Czech bank, held out)",
        data=(
            f"`../shared/data/berka_pkdd99/{trans.relative_to(shared / 'berka_pkdd99')}`: "
            f"{s.rows:,} real transactions of {s.accounts} accounts; the engine sees amounts, "
            "dates and an opaque payer id (partner account, or k_symbol where none); "
            f"{s.candidates} labelled payer streams of >= {MIN_CREDITS} credits, "
            f"{s.positives} of them income"
        ),
        metrics=[
            Metric("engine precision", s.engine_precision),
            Metric("engine recall", s.engine_recall),
            Metric("engine F1", s.engine_f1, ">= 0.9"),
            Metric("cadence baseline precision", s.baseline_precision),
            Metric("cadence baseline recall", s.baseline_recall),
            Metric("cadence baseline F1", s.baseline_f1, None,
                   f"regular interval +-{BASELINE_DAYS} days, >= {MIN_CREDITS} credits"),
            Metric("income streams called stopped", s.stopped, None,
                   "judged against each account's own last activity; the accounts end on "
                   "different dates in this release"),
        ],
        tables=[
            ("Candidates by label", markdown_table(
                ["label", "income", "candidates", "engine flagged", "baseline flagged"], rows
            )),
        ],
        notes=[
            "Labels: k_symbol DUCHOD (old-age pension) = income, UROK (interest credited) = "
            "not income, and a transfer from another bank's account with no k_symbol = income "
            "(the operation code, not a pay label: see `evaluation/income_real.py`). The FEUP "
            "release holds no DUCHOD row, so there the pension label has nothing to score.",
            "Thresholds were set on the simulated bank only; this data is held out.",
        ],
    )
