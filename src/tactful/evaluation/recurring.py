"""Recurring series and income scored against the simulator's truth and real standing orders.

A detected series matches the truth series holding most of its bookings when their member sets
overlap with a Jaccard index of at least ``MIN_JACCARD``. The truth records a transfer between a
customer's own accounts once, on one leg; a detected series on the other leg (the savings
account's incoming side of a savings transfer, the checking side of a card repayment) is a
*mirror leg*: counted apart, neither a hit nor a false alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from tactful.domain.money import minor_per_major
from tactful.enrich.cadence import CADENCES
from tactful.enrich.income import IncomeResult
from tactful.enrich.recurring import COUNTED_STATUSES, SeriesResult
from tactful.evaluation.income_blind import PAY_KINDS, pay_kind

__all__ = [
    "MIN_JACCARD",
    "IncomeScore",
    "SeriesScore",
    "StandingOrderScore",
    "berka_frame",
    "score_income",
    "score_series",
    "score_standing_orders",
    "with_standin_merchants",
]

MIN_JACCARD = 0.5
_PREFIX = (
    r"^(PURCHASE AUTHORIZED ON \d\d/\d\d |CARD \d+ |CARTE X\d+ \d\d/\d\d |SEPA-LASTSCHRIFT |"
    r"DIRECT DEBIT |PRLV SEPA |BEA, BETAALPAS |COMPRA TARJ\. \S+ )"
)
_INCOME_TRUTH = (
    "payroll",
    "pension",
    "benefit",
    "child_benefit",
    "gig_income",
    "business_income",
    "allowance",
)


def with_standin_merchants(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with a rough ``merchant_key``/``merchant`` where it has none: the upper-cased
    counterparty, else the first three words of the description without card prefixes, digits
    and punctuation. A stand-in for the merchant normalizer, for evaluation and tests."""
    desc = pl.col("description").fill_null("").str.to_uppercase().str.replace(_PREFIX, "")
    words = (
        desc.str.replace_all(r"\bX{3,}\w*", " ")
        .str.replace_all(r"[^A-Z ]+", " ")
        .str.split(" ")
        .list.eval(pl.element().filter(pl.element() != ""))
        .list.head(3)
        .list.join(" ")
    )
    key = pl.coalesce(pl.col("counterparty").str.to_uppercase(), words)
    out = frame
    if "merchant_key" not in frame.columns:
        out = out.with_columns(pl.when(key != "").then(key).alias("merchant_key"))
    if "merchant" not in frame.columns:
        out = out.with_columns(pl.col("merchant_key").alias("merchant"))
    return out


@dataclass(frozen=True, slots=True)
class SeriesScore:
    detected: int
    matched: int
    mirror_legs: int
    detectable: int
    found: int
    irregular_truth: int
    precision: float  # matched / (detected - mirror legs)
    recall: float  # found / detectable
    next_date_evaluated: int
    next_date_median_days: float | None
    next_date_p90_days: float | None
    price_changes_detected: int
    price_changes_truth: int
    price_change_precision: float
    price_change_recall: float
    by_kind: pl.DataFrame  # truth kind: detectable, found, recall
    by_cadence: pl.DataFrame  # truth cadence: detectable, found, recall, cadence_agreement


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def _counted(frame: pl.DataFrame, as_of: date) -> pl.DataFrame:
    return frame.filter(
        pl.col("status").is_in(COUNTED_STATUSES) & (pl.col("booked_on") <= as_of)
    ).select("id", "customer_id", "account_id", "amount_minor", "booked_on")


def _match(detected_members: pl.DataFrame, truth_members: pl.DataFrame, key: str) -> pl.DataFrame:
    """detected ``key`` -> truth series_id (``tsid``) with the member Jaccard index."""
    d_size = detected_members.group_by(key).agg(pl.len().alias("dn"))
    t_size = truth_members.group_by("series_id").agg(pl.len().alias("tn"))
    joined = detected_members.join(
        truth_members.select("transaction_id", pl.col("series_id").alias("tsid")),
        on="transaction_id",
    )
    best = (
        joined.group_by(key, "tsid")
        .agg(pl.len().alias("inter"))
        .sort([key, "inter", "tsid"], descending=[False, True, False])
        .unique(key, keep="first")
        .join(d_size, on=key)
        .join(t_size, left_on="tsid", right_on="series_id")
    )
    return best.with_columns(
        (pl.col("inter") / (pl.col("dn") + pl.col("tn") - pl.col("inter"))).alias("jaccard")
    )


def _mirrors(
    unmatched_members: pl.DataFrame, counted: pl.DataFrame, truth_members: pl.DataFrame
) -> pl.DataFrame:
    """Detected series (``series_id``) whose bookings are mostly the other leg of truth members
    on another account of the same customer."""
    legs = unmatched_members.join(counted, left_on="transaction_id", right_on="id")
    truth_legs = truth_members.join(counted, left_on="transaction_id", right_on="id").select(
        "customer_id",
        (-pl.col("amount_minor")).alias("amount_minor"),
        pl.col("account_id").alias("other_account"),
        pl.col("booked_on").alias("other_on"),
    )
    paired = legs.join(truth_legs, on=["customer_id", "amount_minor"]).filter(
        (pl.col("other_account") != pl.col("account_id"))
        & ((pl.col("booked_on") - pl.col("other_on")).dt.total_days().abs() <= 3)
    )
    share = (
        paired.select("series_id", "transaction_id")
        .unique()
        .group_by("series_id")
        .len()
        .join(legs.group_by("series_id").agg(pl.len().alias("n")), on="series_id")
    )
    return share.filter(pl.col("len") * 2 >= pl.col("n")).select("series_id")


def score_series(
    result: SeriesResult, truth_dir: Path, *, frame: pl.DataFrame, as_of: date | None = None
) -> SeriesScore:
    """``result`` (detected on ``frame`` as of ``as_of``, default its last booking date) scored
    against the truth in ``truth_dir``. Next-date error is measured on the truth bookings after
    ``as_of``: detect with the last month held out to get it."""
    last = frame["booked_on"].max()
    assert isinstance(last, date)  # noqa: S101 -- narrows a type; holds by construction
    as_of = as_of or last
    counted = _counted(frame, as_of)
    truth = pl.read_parquet(truth_dir / "recurring_series.parquet")
    all_members = pl.read_parquet(truth_dir / "series_members.parquet").join(
        frame.filter(pl.col("status").is_in(COUNTED_STATUSES)).select("id", "booked_on"),
        left_on="transaction_id",
        right_on="id",
    )
    members = all_members.filter(pl.col("booked_on") <= as_of)
    sizes = members.group_by("series_id").agg(pl.len().alias("tn"))
    truth = truth.join(sizes, on="series_id", how="left").with_columns(pl.col("tn").fill_null(0))
    enough = (pl.col("tn") >= 3) | ((pl.col("cadence") == "yearly") & (pl.col("tn") >= 2))
    irregular = truth.filter((pl.col("cadence") == "irregular") & (pl.col("tn") >= 3)).height
    detectable = truth.filter((pl.col("cadence") != "irregular") & enough)

    matches = _match(result.members, members, "series_id")
    hits = matches.filter(pl.col("jaccard") >= MIN_JACCARD)
    unmatched = result.members.join(hits.select("series_id"), on="series_id", how="anti")
    mirrors = _mirrors(unmatched, counted, members)
    found_ids = hits.select(pl.col("tsid").alias("series_id")).unique()
    found = detectable.join(found_ids, on="series_id", how="semi")

    det = result.series.select("series_id", pl.col("cadence").alias("detected_cadence"))
    agreement = hits.join(det, on="series_id").join(
        truth.select(pl.col("series_id").alias("tsid"), "cadence"), on="tsid"
    )
    flags = detectable.with_columns(
        pl.col("series_id").is_in(found_ids["series_id"].implode()).alias("found")
    )

    def per(column: str) -> pl.DataFrame:
        return (
            flags.group_by(column)
            .agg(pl.len().alias("detectable"), pl.col("found").sum().alias("found"))
            .with_columns((pl.col("found") / pl.col("detectable")).alias("recall"))
            .sort(column)
        )

    by_cadence = per("cadence").join(
        agreement.group_by("cadence").agg(
            (pl.col("cadence") == pl.col("detected_cadence")).mean().alias("cadence_agreement")
        ),
        on="cadence",
        how="left",
    )

    # next date: the first truth booking after as_of of the matched series
    after = (
        all_members.filter(pl.col("booked_on") > as_of)
        .group_by("series_id")
        .agg(pl.col("booked_on").min().alias("truth_next"))
    )
    errors = (
        hits.join(result.series.select("series_id", "next_date"), on="series_id")
        .join(after, left_on="tsid", right_on="series_id")
        .select((pl.col("next_date") - pl.col("truth_next")).dt.total_days().abs().alias("err"))
    )["err"]

    # price changes on matched series
    pc = pl.read_parquet(truth_dir / "price_changes.parquet").with_columns(
        pl.col("effective_date").str.to_date()
    )
    dated = members.select("series_id", "booked_on")
    window = dated.group_by("series_id").agg(
        pl.col("booked_on").min().alias("t_first"), pl.col("booked_on").max().alias("t_last")
    )
    pc = (
        pc.join(window, on="series_id")
        .filter(
            (pl.col("effective_date") > pl.col("t_first"))
            & (pl.col("effective_date") <= pl.col("t_last"))
        )
        .join(truth.select("series_id", "amount_varies", "cadence"), on="series_id")
        .filter(~pl.col("amount_varies"))
        .join(found_ids, on="series_id", how="semi")
        .with_row_index("pc_id")
    )
    mean = pl.col("cadence").replace_strict(
        {c.name: c.mean_days for c in CADENCES.values()}, default=30.0, return_dtype=pl.Float64
    )
    detected_changes = result.changes.join(hits.select("series_id", "tsid"), on="series_id")
    pairs = detected_changes.join(
        pc.select(
            "pc_id",
            pl.col("series_id").alias("tsid"),
            "cadence",
            pl.col("effective_date").alias("truth_on"),
        ),
        on="tsid",
    ).filter((pl.col("effective_date") - pl.col("truth_on")).dt.total_days().abs() <= mean)
    pc_hits = pairs.select("pc_id").unique().height
    pc_true_detections = pairs.select("series_id", "effective_date").unique().height

    return SeriesScore(
        detected=result.series.height,
        matched=hits.height,
        mirror_legs=mirrors.height,
        detectable=detectable.height,
        found=found.height,
        irregular_truth=irregular,
        precision=_ratio(hits.height, result.series.height - mirrors.height),
        recall=_ratio(found.height, detectable.height),
        next_date_evaluated=errors.len(),
        next_date_median_days=float(errors.median()) if errors.len() else None,  # type: ignore[arg-type]
        next_date_p90_days=float(errors.quantile(0.9)) if errors.len() else None,  # type: ignore[arg-type]
        price_changes_detected=detected_changes.height,
        price_changes_truth=pc.height,
        price_change_precision=_ratio(pc_true_detections, detected_changes.height),
        price_change_recall=_ratio(pc_hits, pc.height),
        by_kind=per("kind"),
        by_cadence=by_cadence,
    )


@dataclass(frozen=True, slots=True)
class IncomeScore:
    detected: int
    matched: int
    detectable: int
    found: int
    stream_precision: float
    stream_recall: float
    stream_f1: float
    changes_detected: int
    changes_truth: int
    change_precision: float
    change_recall: float
    change_f1: float
    change_recall_fixed_pay: float  # on truth streams of a fixed amount
    change_recall_varying_pay: float  # on hourly / varying pay, where hours hide small raises
    by_kind: pl.DataFrame
    by_pay_kind: pl.DataFrame  # pay kind: detectable, found, recall, detected, matched, precision


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score_income(
    result: IncomeResult, truth_dir: Path, *, frame: pl.DataFrame, as_of: date | None = None
) -> IncomeScore:
    """Income streams matched to the truth's income streams by member Jaccard; a raise or cut
    matches a truth change of the matched stream within one pay period."""
    last = frame["booked_on"].max()
    assert isinstance(last, date)  # noqa: S101 -- narrows a type; holds by construction
    as_of = as_of or last
    truth = pl.read_parquet(truth_dir / "income_streams.parquet").filter(
        pl.col("kind").is_in(_INCOME_TRUTH)
    )
    members = (
        pl.read_parquet(truth_dir / "series_members.parquet")
        .join(truth.select("series_id"), on="series_id")
        .join(
            frame.filter(pl.col("status").is_in(COUNTED_STATUSES)).select("id", "booked_on"),
            left_on="transaction_id",
            right_on="id",
        )
        .filter(pl.col("booked_on") <= as_of)
    )
    sizes = members.group_by("series_id").agg(pl.len().alias("tn"))
    detectable = truth.join(sizes, on="series_id").filter(pl.col("tn") >= 3)
    matches = _match(result.members, members, "stream_id")
    hits = matches.filter(pl.col("jaccard") >= MIN_JACCARD)
    found_ids = hits.select(pl.col("tsid").alias("series_id")).unique()
    found = detectable.join(found_ids, on="series_id", how="semi")
    precision = _ratio(hits.height, result.streams.height)
    recall = _ratio(found.height, detectable.height)

    window = members.group_by("series_id").agg(pl.col("booked_on").sort().alias("dates"))
    changes = (
        pl.read_parquet(truth_dir / "income_changes.parquet")
        .with_columns(pl.col("effective_date").str.to_date())
        .join(window, on="series_id")
        .join(found_ids, on="series_id", how="semi")
    )
    exploded = changes.with_row_index("ch_id").explode("dates")
    counts = exploded.group_by("ch_id").agg(
        (pl.col("dates") < pl.col("effective_date")).sum().alias("n_before"),
        (pl.col("dates") >= pl.col("effective_date")).sum().alias("n_after"),
        pl.col("series_id").first(),
        pl.col("effective_date").first(),
    )
    truth_changes = counts.filter((pl.col("n_before") >= 1) & (pl.col("n_after") >= 2)).join(
        truth.select("series_id", "cadence", "amount_varies"), on="series_id"
    )
    mean = pl.col("cadence").replace_strict(
        {c.name: c.mean_days for c in CADENCES.values()}, default=30.0, return_dtype=pl.Float64
    )
    detected = result.changes.join(hits.select("stream_id", "tsid"), on="stream_id")
    pairs = detected.join(
        truth_changes.select(
            "ch_id",
            pl.col("series_id").alias("tsid"),
            "cadence",
            pl.col("effective_date").alias("truth_on"),
        ),
        on="tsid",
    ).filter((pl.col("effective_date") - pl.col("truth_on")).dt.total_days().abs() <= mean)
    c_prec = _ratio(
        pairs.select("stream_id", "effective_date").unique().height, result.changes.height
    )
    c_rec = _ratio(pairs.select("ch_id").unique().height, truth_changes.height)
    hit_ids = pairs.select("ch_id").unique()

    def recall_where(varies: bool) -> float:
        subset = truth_changes.filter(pl.col("amount_varies") == varies)
        return _ratio(subset.join(hit_ids, on="ch_id").height, subset.height)

    flags = detectable.with_columns(
        pl.col("series_id").is_in(found_ids["series_id"].implode()).alias("found")
    )
    by_kind = (
        flags.group_by("kind")
        .agg(pl.len().alias("detectable"), pl.col("found").sum().alias("found"))
        .with_columns((pl.col("found") / pl.col("detectable")).alias("recall"))
        .sort("kind")
    )
    return IncomeScore(
        by_pay_kind=_by_pay_kind(flags, truth, matches, result),
        detected=result.streams.height,
        matched=hits.height,
        detectable=detectable.height,
        found=found.height,
        stream_precision=precision,
        stream_recall=recall,
        stream_f1=_f1(precision, recall),
        changes_detected=result.changes.height,
        changes_truth=truth_changes.height,
        change_precision=c_prec,
        change_recall=c_rec,
        change_f1=_f1(c_prec, c_rec),
        change_recall_fixed_pay=recall_where(False),
        change_recall_varying_pay=recall_where(True),
        by_kind=by_kind,
    )


def _by_pay_kind(
    flags: pl.DataFrame, truth: pl.DataFrame, matches: pl.DataFrame, result: IncomeResult
) -> pl.DataFrame:
    """Recall and precision per pay kind (``income_blind.pay_kind``). A detected stream counts
    towards the kind of the truth income stream it overlaps most; one that overlaps none is a
    false alarm, shown as the kind ``(not income)``."""
    kinds = flags.with_columns(pay_kind().alias("pay_kind"))
    recall = kinds.group_by("pay_kind").agg(
        pl.len().alias("detectable"), pl.col("found").sum().alias("found")
    )
    owner = truth.select(pl.col("series_id").alias("tsid"), pay_kind().alias("pay_kind"))
    mapped = (
        result.streams.select("stream_id")
        .join(matches.select("stream_id", "tsid", "jaccard"), on="stream_id", how="left")
        .join(owner, on="tsid", how="left")
        .with_columns(
            pl.col("pay_kind").fill_null("(not income)"),
            (pl.col("jaccard").fill_null(0.0) >= MIN_JACCARD).alias("hit"),
        )
    )
    precision = mapped.group_by("pay_kind").agg(
        pl.len().alias("detected"), pl.col("hit").sum().alias("matched")
    )
    order = {k: i for i, k in enumerate((*PAY_KINDS, "(not income)"))}
    return (
        recall.join(precision, on="pay_kind", how="full", coalesce=True)
        .with_columns(
            pl.col("detectable", "found", "detected", "matched").fill_null(0).cast(pl.Int64)
        )
        .with_columns(
            pl.when(pl.col("detectable") > 0).then(pl.col("found") / pl.col("detectable"))
            .alias("recall"),
            pl.when(pl.col("detected") > 0).then(pl.col("matched") / pl.col("detected"))
            .alias("precision"),
        )
        .sort(pl.col("pay_kind").replace_strict(order, default=len(order)))
        .select("pay_kind", "detectable", "found", "recall", "detected", "matched", "precision")
    )


# -- the real Czech bank ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StandingOrderScore:
    orders: int  # standing orders of the accounts present
    orders_found: int
    order_recall: float
    orders_booked: int  # orders with >= 3 debits of their amount on the account in the export
    booked_recall: float  # found among those: the loan orders (UVER) have no bookings in trans_test
    outgoing_series: int  # monthly outgoing series detected
    series_with_order: int
    series_precision: float  # share of those that are a standing order
    pension_accounts: int  # accounts with monthly pension credits
    pension_found: int


def berka_frame(trans_csv: Path) -> pl.DataFrame:
    """The FEUP release's ``trans_*.csv`` as a ``TRANSACTIONS`` frame with the merchant stand-in,
    mapped as ``tactful.ingest.readers.berka`` maps it (ids ``berka-<account>:<trans_id>``)."""
    raw = pl.read_csv(trans_csv, separator=";", infer_schema=False)
    signs = {
        "credit": 1,
        "withdrawal": -1,
        "withdrawal in cash": -1,
        "PRIJEM": 1,
        "VYDAJ": -1,
        "VYBER": -1,
    }
    partner = pl.when(pl.col("bank").str.strip_chars().fill_null("") != "").then(
        pl.format("{}/{}", pl.col("account").fill_null("?"), pl.col("bank"))
    )
    purpose = pl.col("k_symbol").str.strip_chars()
    frame = raw.select(
        pl.format("berka-{}:{}", "account_id", "trans_id").alias("id"),
        pl.format("berka-{}", "account_id").alias("account_id"),
        pl.format("berka-{}", "account_id").alias("customer_id"),
        pl.lit("checking").alias("account_type"),
        pl.col("date").str.to_date("%y%m%d").alias("booked_on"),
        (pl.col("amount").cast(pl.Float64) * minor_per_major("CZK")).round().cast(pl.Int64)
        * pl.col("type").replace_strict(signs, return_dtype=pl.Int64),
        pl.lit("CZK").alias("currency"),
        pl.concat_str(
            [pl.col("operation").fill_null(""), purpose.fill_null("")], separator=" / "
        ).alias("description"),
        partner.alias("counterparty"),
        pl.lit(None, dtype=pl.String).alias("mcc"),
        pl.when(purpose.is_in(["interest credited", "UROK"]))
        .then(pl.lit("interest"))
        .when(
            purpose.is_in(
                ["payment for statement", "SLUZBY", "sanction interest if negative balance"]
            )
        )
        .then(pl.lit("fee"))
        .when(pl.col("operation").str.contains("cash"))
        .then(pl.lit("cash"))
        .otherwise(pl.lit("transfer"))
        .alias("channel"),
        pl.lit("posted").alias("status"),
        purpose.alias("k_symbol"),
    ).rename({"amount": "amount_minor"})
    key = pl.coalesce(
        pl.col("counterparty"),
        pl.when(pl.col("k_symbol").is_not_null() & (pl.col("k_symbol") != "")).then(
            pl.col("k_symbol").str.to_uppercase()
        ),
    )
    return frame.with_columns(key.alias("merchant_key"), key.alias("merchant"))


def _plain(column: str) -> pl.Expr:
    """Upper-case words only, so ``25476360/WX`` and the normalizer's ``25476360 WX`` agree."""
    return (
        pl.col(column).str.to_uppercase().str.replace_all(r"[^0-9A-Z]+", " ").str.strip_chars()
    )


def score_standing_orders(
    result: SeriesResult,
    orders: pl.DataFrame,
    *,
    frame: pl.DataFrame,
    income: IncomeResult | None = None,
) -> StandingOrderScore:
    """Real standing orders (``read_standing_orders``) against the monthly outgoing series
    detected on the same accounts (amount within 1% and the same counterparty account), and the
    monthly pension credits against the income streams."""
    accounts = frame.select("account_id").unique()
    present = orders.join(accounts, on="account_id")
    out = result.series.filter((pl.col("direction") == "out") & (pl.col("cadence") == "monthly"))
    pairs = (
        present.join(out, on="account_id", suffix="_s")
        .filter(
            (pl.col("typical_amount_minor").abs() - pl.col("amount_minor")).abs()
            <= pl.col("amount_minor") * 0.01
        )
        .filter(
            (_plain("merchant_key") == _plain("counterparty"))
            | (_plain("merchant_key") == _plain("k_symbol"))
        )
    )
    orders_found = pairs.select("order_id").unique().height
    debits = frame.filter(pl.col("amount_minor") < 0).select(
        "account_id", (-pl.col("amount_minor")).alias("amount_minor")
    )
    booked = (
        present.join(debits, on=["account_id", "amount_minor"])
        .group_by("order_id")
        .len()
        .filter(pl.col("len") >= 3)
        .select("order_id")
    )
    booked_found = pairs.join(booked, on="order_id").select("order_id").unique().height
    series_hit = pairs.select("series_id").unique().height
    pensions = frame.filter(
        pl.col("description").str.contains("(?i)pension|DUCHOD") & (pl.col("amount_minor") > 0)
    )
    pension_accounts = (
        pensions.group_by("account_id").len().filter(pl.col("len") >= 3).select("account_id")
    )
    pension_found = 0
    if income is not None and pension_accounts.height:
        got = income.members.join(
            pensions.select(pl.col("id").alias("transaction_id"), "account_id"),
            on="transaction_id",
        )
        pension_found = got.select("account_id").unique().height
    return StandingOrderScore(
        orders=present.height,
        orders_found=orders_found,
        order_recall=_ratio(orders_found, present.height),
        orders_booked=booked.height,
        booked_recall=_ratio(booked_found, booked.height),
        outgoing_series=out.height,
        series_with_order=series_hit,
        series_precision=_ratio(series_hit, out.height),
        pension_accounts=pension_accounts.height,
        pension_found=pension_found,
    )
