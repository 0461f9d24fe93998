"""What the insight detectors read: a shard of customers' data as of one day, and the few
aggregates several detectors share (computed once per shard, not once per detector).

Everything here is a pure function of frames, so the batch run, the real-time path, the
evaluation (which replays past days) and a Spark worker build the same inputs the same way.
"As of" is a local calendar day: the detectors see what a customer could have seen in the app
at the end of that day, nothing booked later -- which is what lets ``make eval`` score a
forecast against what really happened after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from tactful.domain.money import minor_per_major, minor_per_major_expr
from tactful.enrich.frames import INCOME_CHANGES, INCOME_STREAMS, SERIES, empty
from tactful.errors import ConfigError, ValidationError

if TYPE_CHECKING:
    from tactful.insights.late_income_risk import LateIncomeRisk
    from tactful.insights.shortfall_risk import ShortfallRisk

CUSTOMERS: Final[Mapping[str, pl.DataType]] = {
    "customer_id": pl.String(),
    "region": pl.String(),
    "locale": pl.String(),
    "timezone": pl.String(),
    "personalization_level": pl.String(),
}
CONSENTS: Final[Mapping[str, pl.DataType]] = {
    "customer_id": pl.String(),
    "purpose": pl.String(),  # one row per purpose the customer has granted (latest state)
}
ACCOUNTS: Final[Mapping[str, pl.DataType]] = {
    "account_id": pl.String(),
    "customer_id": pl.String(),
    "type": pl.String(),
    "currency": pl.String(),
    "balance_minor": pl.Int64(),  # at the end of ``as_of`` (see ``as_of_day``)
    "credit_limit_minor": pl.Int64(),
    "opened_on": pl.Date(),
    "closed_on": pl.Date(),
    "product_id": pl.String(),
    "product_name": pl.String(),
}
TRANSACTIONS: Final[Mapping[str, pl.DataType]] = {
    "id": pl.String(),
    "account_id": pl.String(),
    "customer_id": pl.String(),
    "account_type": pl.String(),
    "booked_at": pl.Datetime("us", "UTC"),
    "booked_on": pl.Date(),
    "amount_minor": pl.Int64(),
    "currency": pl.String(),
    "channel": pl.String(),
    "status": pl.String(),
    "merchant": pl.String(),
    "merchant_key": pl.String(),
    "category": pl.String(),
    "category_detailed": pl.String(),
    "series_id": pl.String(),
}
SERIES_CHANGES: Final[Mapping[str, pl.DataType]] = {
    "series_id": pl.String(),
    "customer_id": pl.String(),
    "effective_date": pl.Date(),
    "old_amount_minor": pl.Int64(),
    "new_amount_minor": pl.Int64(),
}
BUDGETS: Final[Mapping[str, pl.DataType]] = {
    "customer_id": pl.String(),
    "category": pl.String(),  # a primary or a detailed code
    "limit_minor": pl.Int64(),
    "currency": pl.String(),
}
GOALS: Final[Mapping[str, pl.DataType]] = {
    "goal_id": pl.String(),
    "customer_id": pl.String(),
    "name": pl.String(),
    "account_id": pl.String(),
    "target_minor": pl.Int64(),
    "currency": pl.String(),
    "target_date": pl.Date(),
    "created_on": pl.Date(),
}
LOGINS: Final[Mapping[str, pl.DataType]] = {
    "customer_id": pl.String(),
    "day": pl.Date(),  # local days on which the customer opened the app
}

FIRST_BOOKED: Final[Mapping[str, pl.DataType]] = {
    "account_id": pl.String(),
    "customer_id": pl.String(),
    "first_on": pl.Date(),  # the first local day the account has a posted transaction
}
LOOKBACK_DAYS: Final = 130
"""How far back any detector looks (a spike's baseline: 120 days). The store loads no more than
this, plus when each account's history starts (``FIRST_BOOKED``): a bank with years of history
pays for four months, not for all of it."""

SPENDING_EXCLUDED: Final = (
    "INCOME", "TRANSFER_IN", "TRANSFER_OUT", "LOAN_PAYMENTS", "BANK_FEES",
)
"""Primary categories that are not spending: money moved, repaid or charged by the bank."""
CARD_CHANNELS: Final = ("card", "online")


def is_spending(row: Mapping[str, Any]) -> bool:
    """``InsightInputs.spending``'s condition for one row in Python: the event path asks it of a
    new transaction, where a frame filter would cost more than the answer."""
    category = row["category"]
    return (row["status"] == "posted" and row["amount_minor"] < 0 and category is not None
            and category not in SPENDING_EXCLUDED and row["account_type"] != "savings")


def unit_of(currency: str) -> int:
    """Minor units per major unit of ``currency`` (100 for a code the ISO list lacks, as the
    ``unit`` expression does)."""
    try:
        return minor_per_major(currency)
    except ValidationError:
        return 100


def in_balance() -> pl.Expr:
    """The rows an account balance includes: posted and pending, never declined."""
    return pl.col("status") != "declined"


def merchant_key() -> pl.Expr:
    """The key the detectors match merchants on: the stored display name, or the raw text when
    there is none. One definition for rows loaded from the store and rows arriving in real time,
    so a new charge matches the old ones."""
    return pl.coalesce(pl.col("merchant").str.to_uppercase(), pl.col("description"))


@dataclass(frozen=True, slots=True)
class InsightSettings:
    """The catalog's thresholds. Amounts are in major units of the customer's currency, scaled to
    minor units per row, so one setting serves EUR, GBP and USD customers alike."""

    spike_ratio: float = 1.3
    spike_min_increase: float = 50.0
    spike_min_baseline: float = 30.0
    budget_steps: tuple[float, ...] = (0.5, 0.75, 1.0)
    bill_horizon_days: int = 3
    bill_unusual_ratio: float = 1.5
    bill_unusual_min_increase: float = 15.0
    price_change_window_days: int = 35
    new_recurring_window_days: int = 100
    duplicate_window_minutes: int = 10
    shortfall_horizon_days: int = 14
    shortfall_buffer: float = 0.0
    shortfall_margin: float = 25.0
    """How far below the buffer the forecast must go before it is said: a path that dips a few
    units under the line is within the forecast's own error."""
    shortfall_clear_margin: float = 200.0
    """How far below the line the forecast must go for a customer whose balance has stayed above
    it for the last 90 days (one who has been below it needs only ``shortfall_margin``)."""
    shortfall_risk_days: int = 35
    """With a shortfall model: how far ahead it looks when no income is expected sooner (a
    monthly pay cycle and a few days' delay)."""
    shortfall_harm: float = 35.0
    """With a shortfall model: the harm a heeded warning avoids, in major units -- the median
    US overdraft fee (CFPB, "Data Point: Overdraft/NSF fee reliance", 2023: $35), the cost of
    the first day below zero."""
    shortfall_attention_cost: float = 28.0
    """With a shortfall model: what a warning costs the customer's attention and the next
    warning's credibility, in the same units. A warning fires when P(shortfall) x
    ``shortfall_harm`` exceeds it: at the defaults, when P > 0.8. Set on the development bank
    (seed 7), where warnings above that were right 88 times in 100 (the 0.9 the catalog asks of
    money-critical messages); a bank that values its customers' attention differently sets its
    own."""
    low_balance_income_share: float = 0.10
    low_balance_floor: float = 100.0
    fees_window_days: int = 30
    idle_cash_income_multiple: float = 1.5
    idle_cash_min: float = 1000.0
    idle_cash_days: int = 60
    raise_window_days: int = 75
    income_grace_days: int = 4
    income_late_harm: float = 35.0
    """With a late-income model: the harm a heeded warning avoids -- a payment that does not
    come leaves the bills it was to pay unpaid, the first of them the median US overdraft fee
    (CFPB 2023: $35), as for the shortfall warning."""
    income_late_attention_cost: float = 28.0
    """With a late-income model: a warning fires when P(late) x ``income_late_harm`` exceeds
    it, at the defaults when P > 0.8 -- the shortfall warning's trade, the same message class."""
    large_multiple: float = 4.0
    large_min: float = 300.0
    welcome_days: int = 30

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, where: str = "settings") -> InsightSettings:
        """Settings from a config table; an unknown key or a wrong type names itself."""
        known = {f.name: f for f in fields(cls)}
        out: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"{where}: unknown insight setting {key!r} "
                                  f"(known: {', '.join(sorted(known))})")
            default = getattr(cls(), key)
            if isinstance(default, tuple):
                if not isinstance(value, list | tuple) or not value:
                    raise ConfigError(f"{where}: {key} must be a non-empty list of numbers")
                value = tuple(float(v) for v in value)
            elif isinstance(default, int) and not isinstance(value, int):
                raise ConfigError(f"{where}: {key} must be an integer, got {value!r}")
            elif isinstance(default, float) and not isinstance(value, int | float):
                raise ConfigError(f"{where}: {key} must be a number, got {value!r}")
            out[key] = value
        return replace(cls(), **out)

    @classmethod
    def from_toml(cls, path: Path) -> InsightSettings:
        import tomllib

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read insight settings: {exc}") from exc
        return cls.from_mapping(data.get("insights", data), where=str(path))


def unit(currencies: pl.Series) -> pl.Expr:
    """Minor units per major unit of each row's ``currency``, for a frame whose currencies are
    ``currencies`` (``domain.money.minor_per_major_expr``, the one helper)."""
    return minor_per_major_expr(currencies)


def with_unit(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with ``unit``: minor units per major unit of its ``currency``."""
    return frame.with_columns(unit(frame.get_column("currency")).alias("unit"))


def frame_rows(frame: pl.DataFrame, names: Iterable[str]) -> list[tuple[Any, ...]]:
    """``names``' rows of a small frame as tuples, column by column (``select`` would run the
    lazy engine: most of a millisecond per frame on the real-time path)."""
    return list(zip(*(frame.get_column(n).to_list() for n in names), strict=True))


class ColumnLists:
    """A frame's columns as Python lists, each converted on first use and kept.

    The real-time path walks one customer's few hundred rows in Python (``risk_one``,
    ``late_one``, the fee and balance checks), where a Polars operation's fixed cost is more
    than the walk itself; converting the customer's whole history on every event was then the
    largest part of it. ``realtime.with_enriched`` carries the lists to the inputs after an
    event with the new rows appended, so an event converts its own rows only.
    """

    __slots__ = ("_frame", "_lists", "_rows")

    def __init__(self, frame: pl.DataFrame, lists: dict[str, list[Any]] | None = None,
                 rows: dict[tuple[str, ...], list[tuple[Any, ...]]] | None = None) -> None:
        self._frame = frame
        self._lists: dict[str, list[Any]] = lists if lists is not None else {}
        self._rows: dict[tuple[str, ...], list[tuple[Any, ...]]] = rows if rows is not None \
            else {}

    def __getitem__(self, name: str) -> list[Any]:
        got = self._lists.get(name)
        if got is None:
            got = self._lists[name] = self._frame.get_column(name).to_list()
        return got

    def rows(self, names: tuple[str, ...]) -> list[tuple[Any, ...]]:
        """The rows of ``names`` as tuples, in the frame's order (kept too: the caller must
        not change the list)."""
        got = self._rows.get(names)
        if got is None:
            got = self._rows[names] = list(zip(*(self[n] for n in names), strict=True))
        return got

    def extended(self, new: pl.DataFrame, frame: pl.DataFrame) -> ColumnLists:
        """The lists of ``frame``, which is this frame with the rows ``new`` appended: the
        columns and rows converted so far, copied (the inputs before the event keep theirs)
        and extended by ``new``'s values."""
        added = {name: new.get_column(name).to_list() for name in self._lists}
        return ColumnLists(
            frame,
            {name: [*values, *added[name]] for name, values in self._lists.items()},
            {names: [*rows, *zip(*(added[n] for n in names), strict=True)]
             for names, rows in self._rows.items()})


@dataclass(frozen=True)
class InsightInputs:
    """A shard of customers as of the end of local day ``as_of``."""

    as_of: date
    customers: pl.DataFrame
    accounts: pl.DataFrame
    transactions: pl.DataFrame
    series: pl.DataFrame = field(default_factory=lambda: empty(SERIES))
    series_changes: pl.DataFrame = field(default_factory=lambda: empty(SERIES_CHANGES))
    income: pl.DataFrame = field(default_factory=lambda: empty(INCOME_STREAMS))
    income_changes: pl.DataFrame = field(default_factory=lambda: empty(INCOME_CHANGES))
    consents: pl.DataFrame = field(default_factory=lambda: empty(CONSENTS))
    budgets: pl.DataFrame = field(default_factory=lambda: empty(BUDGETS))
    goals: pl.DataFrame = field(default_factory=lambda: empty(GOALS))
    logins: pl.DataFrame = field(default_factory=lambda: empty(LOGINS))
    first_booked: pl.DataFrame | None = None
    """When each account's history starts; computed from ``transactions`` when not given (the
    store gives it because it loads only the last ``LOOKBACK_DAYS``)."""
    settings: InsightSettings = field(default_factory=InsightSettings)
    shortfall_risk: ShortfallRisk | None = None
    """The promoted shortfall model (``models.shortfall.production_risk``); without one the
    ``shortfall`` detector warns by the rule forecast alone."""
    late_income_risk: LateIncomeRisk | None = None
    """The promoted late-income model (``models.late_income.production_late_risk``); without
    one ``income_late`` warns by its grace-days rule."""

    def subset(self, customer_ids: list[str]) -> InsightInputs:
        """The same inputs for some customers only (the real-time path's shard of one)."""
        keep = pl.col("customer_id").is_in(customer_ids)
        frames = {
            f.name: getattr(self, f.name).filter(keep)
            for f in fields(self)
            if isinstance(getattr(self, f.name), pl.DataFrame)
            and "customer_id" in getattr(self, f.name).columns
        }
        return replace(self, **frames)

    def day(self, offset: int) -> date:
        return self.as_of + timedelta(days=offset)

    # -- shared aggregates --------------------------------------------------------------------

    @cached_property
    def history(self) -> pl.DataFrame:
        """Per account: the first day with a posted transaction (``FIRST_BOOKED``)."""
        if self.first_booked is not None:
            return self.first_booked
        return self.posted.group_by("account_id", "customer_id").agg(
            pl.col("booked_on").min().alias("first_on"))

    @cached_property
    def transaction_lists(self) -> ColumnLists:
        """The transactions' columns as Python lists (the one-customer paths' rows)."""
        return ColumnLists(self.transactions)

    @cached_property
    def posted(self) -> pl.DataFrame:
        """Posted transactions only: what has settled (fees, series, spending)."""
        return self.transactions.filter(pl.col("status") == "posted")

    @cached_property
    def in_balance(self) -> pl.DataFrame:
        """What the account balance includes: posted and pending rows, not declined ones."""
        return self.transactions.filter(in_balance())

    @cached_property
    def spending(self) -> pl.DataFrame:
        """Posted outflows that are spending (not transfers, repayments or bank fees), as
        positive ``spend_minor``, with ``unit`` for thresholds."""
        return with_unit(self.posted.filter(
            (pl.col("amount_minor") < 0)
            & ~pl.col("category").is_in(SPENDING_EXCLUDED)
            & pl.col("category").is_not_null()
            & (pl.col("account_type") != "savings")
        ).with_columns((-pl.col("amount_minor")).alias("spend_minor")))

    @cached_property
    def checking(self) -> pl.DataFrame:
        """Open checking accounts with ``unit``; the account most insights are about."""
        return with_unit(self.accounts.filter(
            (pl.col("type") == "checking")
            & (pl.col("closed_on").is_null() | (pl.col("closed_on") > self.as_of))
        ))

    @cached_property
    def monthly_income(self) -> pl.DataFrame:
        """Per customer and currency: typical monthly income from the detected active streams."""
        streams = self.income.filter(pl.col("status") != "stopped")
        return streams.group_by("customer_id", "currency").agg(
            pl.col("monthly_amount_minor").fill_null(0).sum().alias("monthly_income_minor")
        )

    @cached_property
    def monthly_income_by(self) -> dict[tuple[str, str], int]:
        """``monthly_income`` as a mapping (customer, currency) -> minor units, in Python: what
        the one-customer paths read (``risk_one``, low balance), computed once per customer's
        inputs and carried across events."""
        out: dict[tuple[str, str], int] = {}
        for customer_id, currency, status, monthly in frame_rows(
                self.income, ("customer_id", "currency", "status", "monthly_amount_minor")):
            if status is not None and status != "stopped":  # the frame filter drops nulls
                key = (customer_id, currency)
                out[key] = out.get(key, 0) + (monthly or 0)
        return out

    @cached_property
    def daily_balances(self) -> pl.DataFrame:
        """End-of-day balances of each open checking account over the last 90 days.

        Walked back from the balance at ``as_of``: the balance at the end of day d is today's
        balance minus everything posted after d.
        """
        start = self.day(-89)
        acc = self.checking.select("account_id", "customer_id", "currency", "balance_minor", "unit")
        if acc.height == 0:
            return acc.with_columns(pl.lit(None, pl.Date).alias("day"),
                                    pl.lit(None, pl.Int64).alias("eod_minor"))
        days = pl.DataFrame({"day": pl.date_range(start, self.as_of, "1d", eager=True)})
        flows = (
            self.in_balance.filter(pl.col("booked_on") >= start)
            .group_by("account_id", pl.col("booked_on").alias("day"))
            .agg(pl.col("amount_minor").sum().alias("net"))
        )
        grid = acc.join(days, how="cross").join(flows, on=["account_id", "day"], how="left")
        return grid.sort("account_id", "day").with_columns(
            (
                pl.col("balance_minor")
                - pl.col("net").fill_null(0).reverse().cum_sum().reverse().over("account_id")
                + pl.col("net").fill_null(0)
            ).alias("eod_minor")
        ).drop("net")


def is_fee(row: Mapping[str, Any], codes: tuple[str, ...], *, checking_only: bool) -> bool:
    """``recent_fees``'s condition for one new row in Python (the event path's trigger)."""
    return (row["status"] == "posted" and row["amount_minor"] < 0
            and row["category_detailed"] in codes
            and (not checking_only or row["account_type"] == "checking"))


def recent_fees(data: InsightInputs, codes: tuple[str, ...], *, checking_only: bool) -> (
    pl.DataFrame
):
    """Per customer and currency: the fees of ``codes`` charged in the fee window (``fees_minor``,
    ``count``, ``last_date``), where the last one is at most a week old -- news, not history."""
    fees = data.posted.filter(
        pl.col("category_detailed").is_in(codes)
        & (pl.col("amount_minor") < 0)
        & (pl.col("booked_on") > data.day(-data.settings.fees_window_days))
    )
    if checking_only:
        fees = fees.filter(pl.col("account_type") == "checking")
    if fees.is_empty():
        return pl.DataFrame(schema={"customer_id": pl.String, "currency": pl.String,
                                    "fees_minor": pl.Int64, "count": pl.UInt32,
                                    "last_date": pl.Date})
    return (
        fees.group_by("customer_id", "currency")
        .agg((-pl.col("amount_minor")).sum().alias("fees_minor"), pl.len().alias("count"),
             pl.col("booked_on").max().alias("last_date"))
        .filter(pl.col("last_date") > data.day(-7))
    )


def one_recent_fees(data: InsightInputs, codes: tuple[str, ...], *, checking_only: bool) -> (
    list[dict[str, Any]]
):
    """``recent_fees`` of one customer's inputs in Python, as rows (``customer_id``,
    ``currency``, ``fees_minor``, ``count``, ``last_date``): the fee detectors run on the event
    that books a fee, where the frame steps cost more than walking the customer's rows."""
    since = data.day(-data.settings.fees_window_days)
    fees: dict[tuple[str, str], list[Any]] = {}
    for status, detailed, amount, booked_on, account_type, currency, customer_id in (
        data.transaction_lists.rows(("status", "category_detailed", "amount_minor", "booked_on",
                                     "account_type", "currency", "customer_id"))):
        if (status != "posted" or detailed not in codes or amount is None or amount >= 0
                or booked_on is None or booked_on <= since
                or (checking_only and account_type != "checking")):
            continue
        got = fees.setdefault((customer_id, currency), [0, 0, booked_on])
        got[0] -= amount
        got[1] += 1
        got[2] = max(got[2], booked_on)
    week = data.day(-7)
    return [{"customer_id": customer_id, "currency": currency, "fees_minor": total,
             "count": count, "last_date": last}
            for (customer_id, currency), (total, count, last) in fees.items() if last > week]


def as_of_day(
    accounts: pl.DataFrame, transactions: pl.DataFrame, as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Accounts with their balance at the end of ``as_of`` and the transactions booked by then.

    The store holds each account's latest balance, which includes pending card holds; replaying
    an earlier day (the evaluation, or a re-run of a missed day) subtracts everything the
    balance includes that was booked after it. Declined rows never moved it.
    """
    acc = moved_back(accounts, transactions.filter(pl.col("booked_on") > as_of))
    return acc, transactions.filter(pl.col("booked_on") <= as_of)


def moved_back(accounts: pl.DataFrame, later: pl.DataFrame) -> pl.DataFrame:
    """``accounts`` with each balance as it was before the transactions ``later``: less what
    they moved (posted and pending; declined rows never moved it)."""
    moved = later.filter(in_balance()).group_by("account_id").agg(
        pl.col("amount_minor").sum().alias("_later"))
    return accounts.join(moved, on="account_id", how="left").with_columns(
        (pl.col("balance_minor") - pl.col("_later").fill_null(0)).alias("balance_minor")
    ).drop("_later")
