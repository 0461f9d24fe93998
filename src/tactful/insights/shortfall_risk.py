"""The shortfall risk: per open checking account and day, the probability that the balance goes
below the line (zero, or the bank's buffer) before the next income arrives -- its features, its
labels and the expected-value rule that turns it into a warning.

Why a model beside the rule forecast (``forecast.py``): the rule path alone stopped at 0.82-0.88
precision, because what decides whether a forecast dip really happens is the customer's habits,
not the bills: some always move money in from savings or family when the balance runs low, some
have been short every month this year, some spend in bursts the mean hides, some are paid
irregularly. Those habits are features here, with the rule forecast's own projected minimum as
one more; a model trained on the bank's own history turns them into a probability, and the rule
path stays the explanation the customer reads ("your balance, less these bills ...").

Everything is a pure function of ``InsightInputs`` cut at ``as_of``: ``risk_features`` drops any
row booked after it, so a caller that hands it the future cannot leak it into the features. The
labels (``shortfall_labels``) are the one place that reads past ``as_of``, by definition, and
read only the store's own balances and income bookings, never a simulator's truth.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import ClassVar, Final, Protocol

import numpy as np
import polars as pl
from numpy.typing import NDArray

from tactful.insights.forecast import ESSENTIALS, Forecast, forecast
from tactful.insights.inputs import InsightInputs, with_unit

HABIT_DAYS: Final = 180
"""How far back habits are read: two quarters hold four to six pay cycles of any cadence."""
TOPUP_DAYS: Final = 3
"""A top-up answers a low balance if money comes in within three days of it."""
SPEND_DAYS: Final = 56
INCOME: Final = "INCOME"
TRANSFER_IN: Final = "TRANSFER_IN"
FEES: Final = ("BANK_FEES_OVERDRAFT_FEES", "BANK_FEES_INSUFFICIENT_FUNDS",
               "BANK_FEES_INTEREST_CHARGE")
NOT_DISCRETIONARY: Final = ("INCOME", "TRANSFER_IN", "TRANSFER_OUT", "LOAN_PAYMENTS",
                            "BANK_FEES", "RENT_AND_UTILITIES")
NO_EVENT: Final = 999.0
"""Days since an event that never happened in the habit window."""

FEATURES: Final = (
    "balance", "balance_to_income", "monthly_income", "income_streams", "income_late",
    "income_cv", "days_since_income", "days_to_income", "has_next_income",
    "rule_min", "rule_low_min", "rule_min_to_income", "rule_days_to_min", "rule_scheduled",
    "rule_usual", "rule_spread", "rule_dips", "rule_with_disc", "analog_min_30",
    "analog_min_60", "rule_min_7", "cover_days", "out_p90",
    "days_below", "episodes_below", "days_since_below", "min_eod_30", "min_eod_90",
    "low_days", "topup_share", "topup_in_90", "topups_90", "savings", "card_headroom",
    "disc_mean", "disc_spread", "disc_max_90", "fees_180",
)
"""Money in major units of the account's currency, so one model serves every currency."""


class ProbabilityModel(Protocol):
    """What the detector needs of a fitted classifier (``tactful.models.Classifier`` is one)."""

    feature_names_: tuple[str, ...]

    def predict(self, x: NDArray[np.float64]) -> NDArray[np.float64]: ...


@dataclass(frozen=True)
class Risk:
    """A fitted probability model with the version it came from, as a detector uses it; each
    kind of risk (a subclass) names the features its model must have been trained on."""

    model: ProbabilityModel
    version: str
    """``name vN`` in the registry: logged with every warning's explanation."""
    features: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        if tuple(self.model.feature_names_) != self.features:
            raise ValueError(f"model {self.version}: its features "
                             f"{list(self.model.feature_names_)} are not {list(self.features)}")

    def probability(self, features: pl.DataFrame) -> NDArray[np.float64]:
        """The probability for each row of the risk's feature frame."""
        if features.height == 0:
            return np.zeros(0)
        return self.model.predict(feature_matrix(features, self.features))


class ShortfallRisk(Risk):
    """P(shortfall before the next income), per row of ``risk_features``' output."""

    features = FEATURES


def feature_matrix(features: pl.DataFrame, names: tuple[str, ...] = FEATURES) -> (
    NDArray[np.float64]
):
    """The model's input: ``names`` in order, missing values as NaN."""
    return features.select(pl.col(c).cast(pl.Float64) for c in names).to_numpy().astype(
        np.float64)


def should_warn(p: NDArray[np.float64], *, harm: float, attention_cost: float) -> (
    NDArray[np.bool_]
):
    """Warn where the expected harm avoided exceeds what the message costs the customer's
    attention: ``p * harm > attention_cost`` (both in major units of the same currency).

    >>> should_warn(np.array([0.2, 0.5, 0.9]), harm=35.0, attention_cost=17.5).tolist()
    [False, False, True]
    """
    if harm <= 0:
        raise ValueError(f"harm must be positive, got {harm}")
    if attention_cost < 0:
        raise ValueError(f"attention_cost must be >= 0, got {attention_cost}")
    return np.asarray(p, dtype=np.float64) * harm > attention_cost


# -- features ---------------------------------------------------------------------------------


def point_in_time(data: InsightInputs) -> InsightInputs:
    """``data`` without any transaction booked after ``as_of`` (accounts' balances are already
    as of that day: ``as_of_day``)."""
    tx = data.transactions.filter(pl.col("booked_on") <= data.as_of)
    return replace(data, transactions=tx, logins=data.logins.filter(pl.col("day") <= data.as_of))


def daily_eod(accounts: pl.DataFrame, flows: pl.DataFrame, start: date, end: date) -> (
    pl.DataFrame
):
    """End-of-day balances of ``accounts`` (``balance_minor`` at the end of ``end``) on every day
    of [start, end], walked back through ``flows`` (rows in the balance: ``account_id``,
    ``booked_on``, ``amount_minor``)."""
    days = pl.DataFrame({"day": pl.date_range(start, end, "1d", eager=True)})
    net = (
        flows.filter(pl.col("booked_on").is_between(start, end))
        .group_by("account_id", pl.col("booked_on").alias("day"))
        .agg(pl.col("amount_minor").sum().alias("net"))
    )
    grid = accounts.select("account_id", "balance_minor").join(days, how="cross").join(
        net, on=["account_id", "day"], how="left")
    return grid.sort("account_id", "day").with_columns(
        (pl.col("balance_minor")
         - pl.col("net").fill_null(0).reverse().cum_sum().reverse().over("account_id")
         + pl.col("net").fill_null(0)).alias("eod_minor")
    ).select("account_id", "day", "eod_minor", pl.col("net").fill_null(0))


def _days_since(expr: pl.Expr, as_of: date) -> pl.Expr:
    return (pl.lit(as_of) - expr).dt.total_days().cast(pl.Float64).fill_null(NO_EVENT)


def risk_forecast(data: InsightInputs, horizon: int) -> Forecast:
    """The rule forecast over the risk horizon (up to the day before the next income)."""
    return forecast(replace(data, settings=replace(data.settings,
                                                   shortfall_horizon_days=horizon)))


def _rule(data: InsightInputs, f: Forecast, line: pl.Expr) -> pl.DataFrame:
    """The rule forecast's summary per account over the risk horizon."""
    if f.path.height == 0:
        return pl.DataFrame(schema={"account_id": pl.String})
    unit = data.checking.select("account_id", "unit")
    path = f.path.join(unit, on="account_id").with_columns(line.alias("_line"))
    return path.sort("account_id", "day").group_by("account_id").agg(
        (pl.col("expected_minor").min() / pl.col("unit").first()).alias("rule_min"),
        (pl.col("low_minor").min() / pl.col("unit").first()).alias("rule_low_min"),
        pl.col("ahead").get(pl.col("expected_minor").arg_min()).cast(pl.Float64)
        .alias("rule_days_to_min"),
        (-pl.col("scheduled_minor").last() / pl.col("unit").first()).alias("rule_scheduled"),
        (-pl.col("usual_minor").last() / pl.col("unit").first()).alias("rule_usual"),
        ((pl.col("high_minor") - pl.col("expected_minor")).first()
         / pl.col("unit").first()).alias("rule_spread"),
        (pl.col("expected_minor") < pl.col("_line")).any().cast(pl.Float64).alias("rule_dips"),
        (pl.col("expected_minor").last() / pl.col("unit").first()).alias("_rule_end"),
        pl.len().cast(pl.Float64).alias("_path_days"),
        (pl.col("expected_minor").filter(pl.col("ahead") <= 7).min()
         / pl.col("unit").first()).alias("rule_min_7"),
    )


def _analog(eod: pl.DataFrame, ahead: pl.DataFrame, as_of: date, back: int) -> pl.DataFrame:
    """How far the balance fell in the same stretch ``back`` days ago -- from the end of day
    ``as_of - back`` to its lowest over the next ``days_to_income`` days: last cycle's dip, as a
    drop in major units (``_drop_<back>``)."""
    then = as_of - timedelta(days=back)
    return (
        eod.join(ahead, on="account_id")
        .filter((pl.col("day") >= then)
                & (pl.col("day") <= pl.lit(then) + pl.duration(days=pl.col("_ahead"))))
        .group_by("account_id").agg(
            ((pl.col("eod_minor").filter(pl.col("day") == then).first()
              - pl.col("eod_minor").filter(pl.col("day") > then).min())
             / pl.col("unit").first()).alias(f"_drop_{back}"))
    )


def risk_features(data: InsightInputs, *, horizon: int, fc: Forecast | None = None) -> (
    pl.DataFrame
):
    """One row per open checking account with ``FEATURES``, from what was known at ``as_of``.

    ``horizon`` caps the days forecast when no income is expected sooner; ``fc`` is that
    forecast when the caller has it already (``risk_forecast`` of the same inputs).
    """
    data = point_in_time(data)
    d = data.as_of
    s = data.settings
    acc = data.checking.select("account_id", "customer_id", "currency", "balance_minor", "unit")
    if acc.height == 0:
        return acc.with_columns(*(pl.lit(None, pl.Float64).alias(c) for c in FEATURES))
    line = s.shortfall_buffer * pl.col("unit")
    income = data.monthly_income.select("customer_id", "currency", "monthly_income_minor")
    streams = data.income.filter(pl.col("status") != "stopped").group_by("account_id").agg(
        pl.len().cast(pl.Float64).alias("income_streams"),
        (pl.col("status") == "late").any().cast(pl.Float64).alias("income_late"),
        pl.col("next_date").filter(pl.col("next_date") > d).min().alias("_next"),
    )
    start = d - timedelta(days=HABIT_DAYS - 1)
    tx = data.in_balance.filter(pl.col("booked_on") >= start)
    paid = tx.filter((pl.col("category") == INCOME) & (pl.col("amount_minor") > 0)).group_by(
        "account_id").agg(
        (pl.col("amount_minor").std() / pl.col("amount_minor").mean()).alias("income_cv"),
        pl.col("booked_on").max().alias("_last_paid"))
    eod = daily_eod(acc, tx, start, d).join(acc.select("account_id", "unit"), on="account_id")
    low_line = pl.max_horizontal(pl.col("monthly_income_minor").fill_null(0) * 0.10,
                                 100 * pl.col("unit"))
    eod = eod.join(acc.select("account_id", "customer_id", "currency"), on="account_id").join(
        income, on=["customer_id", "currency"], how="left").with_columns(
        (pl.col("eod_minor") < line).alias("_below"),
        (pl.col("eod_minor") < low_line).alias("_low"))
    topups = tx.filter((pl.col("category") == TRANSFER_IN) & (pl.col("amount_minor") > 0)
                       & (pl.col("account_type") == "checking"))
    tdays = topups.group_by("account_id", pl.col("booked_on").alias("_topup")).agg().sort(
        "_topup")
    lows = (
        eod.filter(pl.col("_low") & (pl.col("day") <= d - timedelta(days=TOPUP_DAYS)))
        .select("account_id", "day").sort("day")
        .join_asof(tdays, left_on="day", right_on="_topup", by="account_id",
                   strategy="forward", allow_exact_matches=False,
                   check_sortedness=False)
        .group_by("account_id").agg(
            ((pl.col("_topup") - pl.col("day")).dt.total_days() <= TOPUP_DAYS)
            .fill_null(False).mean().alias("topup_share"))
    )
    habits = eod.sort("account_id", "day").group_by("account_id").agg(
        pl.col("_below").sum().cast(pl.Float64).alias("days_below"),
        (pl.col("_below") & ~pl.col("_below").shift(1).fill_null(False)).sum().cast(pl.Float64)
        .alias("episodes_below"),
        pl.col("day").filter(pl.col("_below")).max().alias("_last_below"),
        (pl.col("eod_minor").filter(pl.col("day") > d - timedelta(days=30)).min()
         / pl.col("unit").first()).alias("min_eod_30"),
        (pl.col("eod_minor").filter(pl.col("day") > d - timedelta(days=90)).min()
         / pl.col("unit").first()).alias("min_eod_90"),
        pl.col("_low").sum().cast(pl.Float64).alias("low_days"),
    )
    recent_topups = topups.filter(pl.col("booked_on") > d - timedelta(days=90)).group_by(
        "account_id").agg(pl.col("amount_minor").sum().alias("_topup_sum"),
                          pl.len().cast(pl.Float64).alias("topups_90"))
    others = with_unit(data.accounts.filter(
        pl.col("closed_on").is_null() | (pl.col("closed_on") > d)))
    savings = others.filter(pl.col("type") == "savings").group_by("customer_id").agg(
        (pl.col("balance_minor").clip(0) / pl.col("unit")).sum().alias("savings"))
    cards = others.filter(pl.col("type") == "credit_card").group_by("customer_id").agg(
        ((pl.col("credit_limit_minor").fill_null(0) + pl.col("balance_minor")).clip(0)
         / pl.col("unit")).sum().alias("card_headroom"))
    spend_from = d - timedelta(days=SPEND_DAYS - 1)
    disc = (
        tx.filter((pl.col("booked_on") >= spend_from) & (pl.col("amount_minor") < 0)
                  & (pl.col("status") == "posted") & pl.col("series_id").is_null()
                  & ~pl.col("category").is_in(NOT_DISCRETIONARY)
                  & ~pl.col("category_detailed").is_in(ESSENTIALS)
                  & (pl.col("account_type") == "checking"))
        .group_by("account_id", "booked_on").agg((-pl.col("amount_minor")).sum().alias("_day"))
        .group_by("account_id").agg(
            (pl.col("_day").sum() / SPEND_DAYS).alias("_mean"),
            ((pl.col("_day") ** 2).sum() / SPEND_DAYS - (pl.col("_day").sum() / SPEND_DAYS) ** 2)
            .clip(0).sqrt().alias("_spread"))
    )
    outflow = (
        tx.filter((pl.col("booked_on") >= spend_from) & (pl.col("amount_minor") < 0)
                  & pl.col("series_id").is_null() & (pl.col("account_type") == "checking"))
        .group_by("account_id", "booked_on").agg((-pl.col("amount_minor")).sum().alias("_d"))
        .group_by("account_id").agg(
            (pl.col("_d").sum() / SPEND_DAYS).alias("_out_mean"),
            # days without outflow are zeros: the 90th percentile of all SPEND_DAYS days
            pl.col("_d").sort(descending=True)
            .get(SPEND_DAYS // 10, null_on_oob=True).fill_null(0).alias("_out_p90"))
    )
    biggest = tx.filter((pl.col("booked_on") > d - timedelta(days=90))
                        & (pl.col("amount_minor") < 0) & pl.col("series_id").is_null()
                        & (pl.col("account_type") == "checking")).group_by("account_id").agg(
        (-pl.col("amount_minor")).max().alias("_max"))
    fees = data.posted.filter(pl.col("category_detailed").is_in(FEES)
                              & (pl.col("booked_on") >= start)).group_by("account_id").agg(
        pl.len().cast(pl.Float64).alias("fees_180"))
    rule = _rule(data, fc if fc is not None else risk_forecast(data, horizon), line)
    ahead = acc.select("account_id").join(streams.select("account_id", "_next"),
                                          on="account_id", how="left").select(
        "account_id", ((pl.col("_next") - pl.lit(d)).dt.total_days().clip(1, horizon)
                       .fill_null(horizon) - 1).alias("_ahead"))
    analogs = [_analog(eod, ahead, d, back) for back in (30, 60)]
    u = pl.col("unit")
    out = (
        acc.join(income, on=["customer_id", "currency"], how="left")
        .join(streams, on="account_id", how="left")
        .join(paid, on="account_id", how="left")
        .join(habits, on="account_id", how="left")
        .join(lows, on="account_id", how="left")
        .join(recent_topups, on="account_id", how="left")
        .join(savings, on="customer_id", how="left")
        .join(cards, on="customer_id", how="left")
        .join(disc, on="account_id", how="left")
        .join(biggest, on="account_id", how="left")
        .join(outflow, on="account_id", how="left")
        .join(fees, on="account_id", how="left")
        .join(rule, on="account_id", how="left")
        .join(analogs[0], on="account_id", how="left")
        .join(analogs[1], on="account_id", how="left")
        .with_columns(
            (pl.col("balance_minor") / u).alias("balance"),
            (pl.col("monthly_income_minor").fill_null(0) / u).alias("monthly_income"),
        )
        .with_columns(
            (pl.col("balance") / pl.max_horizontal(pl.col("monthly_income"), pl.lit(100.0)))
            .alias("balance_to_income"),
            (pl.col("rule_min") / pl.max_horizontal(pl.col("monthly_income"), pl.lit(100.0)))
            .alias("rule_min_to_income"),
            pl.col("income_streams").fill_null(0.0),
            pl.col("income_late").fill_null(0.0),
            _days_since(pl.col("_last_paid"), d).alias("days_since_income"),
            (pl.col("_next") - pl.lit(d)).dt.total_days().cast(pl.Float64)
            .clip(upper_bound=horizon).fill_null(float(horizon)).alias("days_to_income"),
            (pl.col("_next") <= pl.lit(d + timedelta(days=horizon))).fill_null(False)
            .cast(pl.Float64).alias("has_next_income"),
            _days_since(pl.col("_last_below"), d).alias("days_since_below"),
            (pl.col("_topup_sum").fill_null(0) / u).alias("topup_in_90"),
            pl.col("topups_90").fill_null(0.0),
            pl.col("savings").fill_null(0.0),
            pl.col("card_headroom").fill_null(0.0),
            (pl.col("_mean").fill_null(0.0) / u).alias("disc_mean"),
            (pl.col("_spread").fill_null(0.0) / u).alias("disc_spread"),
            (pl.col("_max").fill_null(0) / u).alias("disc_max_90"),
            pl.col("fees_180").fill_null(0.0),
            pl.col("rule_min").fill_null(pl.col("balance_minor") / u),
            pl.col("rule_low_min").fill_null(pl.col("balance_minor") / u),
            pl.col("rule_dips").fill_null(0.0),
            (pl.col("_rule_end") - pl.col("_mean").fill_null(0.0) / u * pl.col("_path_days"))
            .alias("rule_with_disc"),
            (pl.col("balance_minor") / u - pl.col("_drop_30")).alias("analog_min_30"),
            (pl.col("balance_minor") / u - pl.col("_drop_60")).alias("analog_min_60"),
            pl.col("rule_min_7").fill_null(pl.col("balance_minor") / u),
            (pl.col("balance_minor").clip(0) / pl.max_horizontal(pl.col("_out_mean"), u)
             ).clip(upper_bound=NO_EVENT).alias("cover_days"),
            (pl.col("_out_p90").fill_null(0) / u).alias("out_p90"),
        )
    )
    return out.select("account_id", "customer_id", "currency", "balance_minor", "unit",
                      *(pl.col(c).cast(pl.Float64) for c in FEATURES))


# -- labels -----------------------------------------------------------------------------------


def shortfall_labels(eod: pl.DataFrame, income_days: pl.DataFrame, as_of: date, *,
                     horizon: int, line: pl.DataFrame) -> pl.DataFrame:
    """Per account above its line at the end of ``as_of``: ``label`` 1 if its end-of-day balance
    (``eod``: ``account_id``, ``day``, ``eod_minor``) went below the line on a day after
    ``as_of`` and before the next income booking (``income_days``: ``account_id``, ``day``),
    within ``horizon`` days. ``line`` gives each account's ``line_minor``.

    Only accounts whose balance is known on every day of the window are labelled: a window that
    runs past the data would call a future shortfall "none".
    """
    end = as_of + timedelta(days=horizon)
    nxt = (
        income_days.filter((pl.col("day") > as_of) & (pl.col("day") <= end))
        .group_by("account_id").agg(pl.col("day").min().alias("_income"))
    )
    window = eod.filter((pl.col("day") >= as_of) & (pl.col("day") <= end)).join(
        line, on="account_id").join(nxt, on="account_id", how="left")
    return window.group_by("account_id").agg(
        (pl.col("eod_minor").filter(pl.col("day") == as_of).first()
         >= pl.col("line_minor").first()).alias("_above"),
        pl.col("day").max().alias("_last"),
        ((pl.col("day") > as_of)
         & (pl.col("day") < pl.col("_income").fill_null(end + timedelta(days=1)))
         & (pl.col("eod_minor") < pl.col("line_minor"))).any().alias("_short"),
        pl.col("_income").first(),
    ).filter(
        pl.col("_above").fill_null(False)
        & (pl.col("_short") | pl.col("_income").is_not_null() | (pl.col("_last") >= end))
    ).select("account_id", pl.col("_short").cast(pl.Int8).alias("label")).sort("account_id")
