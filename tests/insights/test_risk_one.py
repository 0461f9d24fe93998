"""The one-customer features against the batch builders: the shortfall's (``risk_one``), the
same vector for every checking account of the simulated bank, and the late income's
(``late_one``), for every candidate stream, on several as-of days, to 1e-9; and the detectors
on one customer finding what they find for that customer in the whole bank."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from tactful.insights.inputs import InsightInputs, as_of_day
from tactful.insights.risk_one import one_risk_features
from tactful.insights.shortfall_risk import FEATURES, feature_matrix, risk_features

PARTS = ("customers", "accounts", "transactions", "series", "series_changes", "income",
         "income_changes", "consents")


def per_customer(data: InsightInputs) -> dict[str, InsightInputs]:
    """Each customer's own inputs, as the real-time path holds them."""
    split = {name: getattr(data, name).partition_by("customer_id", as_dict=True)
             for name in PARTS}
    out = {}
    for (cid,) in split["customers"]:
        parts = {name: by.get((cid,), getattr(data, name).clear()) for name, by in split.items()}
        out[cid] = replace(data, **parts)
    return out


@pytest.mark.parametrize("back", [0, 17, 45])
def test_one_customer_features_equal_the_batch_features(
    inputs: InsightInputs, back: int
) -> None:
    d = inputs.as_of - timedelta(days=back)
    accounts, _ = as_of_day(inputs.accounts, inputs.transactions, d)
    data = replace(inputs, as_of=d, accounts=accounts)
    for horizon in (35, 20):
        batch = risk_features(data, horizon=horizon)
        x = feature_matrix(batch)
        rows = dict(zip(batch["account_id"].to_list(), range(batch.height), strict=True))
        seen = 0
        for one in per_customer(data).values():
            for account_id, vector in one_risk_features(one, horizon=horizon).items():
                want = x[rows.pop(account_id)]
                bad = ~np.isclose(vector, want, rtol=1e-9, atol=1e-9, equal_nan=True)
                assert not bad.any(), (account_id, [
                    (FEATURES[i], vector[i], want[i]) for i in np.flatnonzero(bad)])
                seen += 1
        assert not rows, f"accounts the one-customer path missed: {sorted(rows)[:5]}"
        assert seen > 100
        # the features vary: the test compares something
        assert batch.select(pl.col("rule_dips").sum()).item() > 0
        assert batch.select(pl.col("topup_share").is_not_null().sum()).item() > 0


def test_a_customer_without_checking_gets_no_row(inputs: InsightInputs) -> None:
    one = next(iter(per_customer(inputs).values()))
    none = replace(one, accounts=one.accounts.filter(pl.col("type") != "checking"))
    assert one_risk_features(none, horizon=35) == {}


def test_the_detector_warns_one_customer_as_it_warns_the_bank(inputs: InsightInputs) -> None:
    """The shortfall detector on one customer's inputs (the one-customer builder) finds what it
    finds for that customer in the whole bank's run (the batch builder), probabilities alike."""
    from tactful.insights.detectors.cashflow import Shortfall
    from tactful.insights.shortfall_risk import ShortfallRisk
    from tactful.models.shortfall import fit_shortfall

    batch = risk_features(inputs, horizon=inputs.settings.shortfall_risk_days)
    rng = np.random.default_rng(1)
    dips = batch["rule_dips"].to_numpy()
    label = np.where(rng.random(batch.height) < 0.1, 1 - dips, dips).astype(np.int8)
    model = fit_shortfall(batch.with_columns(pl.Series("label", label), as_of=inputs.as_of),
                          params={"rounds": 60, "min_leaf": 5})
    # a cheap warning, so that many customers are warned and the comparison says something
    settings = replace(inputs.settings, shortfall_attention_cost=1.0)
    data = replace(inputs, shortfall_risk=ShortfallRisk(model, "test v1"), settings=settings)
    everyone = Shortfall().detect(data)
    assert everyone.height > 10
    for cid, one in per_customer(data).items():
        alone = Shortfall().detect(one)
        mine = everyone.filter(pl.col("customer_id") == cid)
        assert alone.height == mine.height, cid
        if alone.height:
            assert alone.drop("relevance").equals(mine.drop("relevance")), cid
            assert np.allclose(alone["relevance"].to_numpy(), mine["relevance"].to_numpy(),
                               rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("back", [0, 9, 23])
def test_a_customer_ruled_out_as_late_has_no_late_income_candidate(
    inputs: InsightInputs, back: int
) -> None:
    """``may_be_late`` never rules out a customer ``late_features`` would score."""
    from tactful.insights.late_income_risk import late_features, may_be_late

    d = inputs.as_of - timedelta(days=back)
    accounts, _ = as_of_day(inputs.accounts, inputs.transactions, d)
    data = replace(inputs, as_of=d, accounts=accounts)
    ruled_out = scored = 0
    for one in per_customer(data).values():
        if may_be_late(one):
            scored += late_features(one).height > 0
        else:
            ruled_out += 1
            assert late_features(one).height == 0
    assert ruled_out > 50
    assert scored > 0 or back


LATE_BACKS = (0, 4, 9, 17, 23, 31, 45)


def _on(inputs: InsightInputs, back: int) -> InsightInputs:
    d = inputs.as_of - timedelta(days=back)
    accounts, _ = as_of_day(inputs.accounts, inputs.transactions, d)
    return replace(inputs, as_of=d, accounts=accounts)


def test_one_customer_late_features_equal_the_batch_features(inputs: InsightInputs) -> None:
    """``one_late_features`` gives every candidate stream ``late_features`` scores, no other,
    with the same vector to 1e-9, on many as-of days; and the compared features are not all
    missing or all alike (the comparison would catch any of them diverging)."""
    from tactful.insights.late_income_risk import LATE_FEATURES, late_features
    from tactful.insights.late_one import one_late_features

    compared = []
    for back in LATE_BACKS:
        data = _on(inputs, back)
        batch = late_features(data)
        x = feature_matrix(batch, LATE_FEATURES)
        rows = dict(zip(batch["stream_id"].to_list(), range(batch.height), strict=True))
        ids = batch.select("stream_id", "customer_id", "account_id", "merchant", "currency",
                           "typical_amount_minor", "next_date").rows_by_key(
            "stream_id", unique=True)
        for one in per_customer(data).values():
            for c in one_late_features(one):
                assert c.stream_id in rows, (back, c.stream_id, "not a batch candidate")
                want = x[rows.pop(c.stream_id)]
                assert (c.customer_id, c.account_id, c.merchant, c.currency,
                        c.typical_amount_minor, c.next_date) == ids[c.stream_id]
                bad = ~np.isclose(c.features, want, rtol=1e-9, atol=1e-9, equal_nan=True)
                assert not bad.any(), (back, c.stream_id, [
                    (LATE_FEATURES[i], c.features[i], want[i]) for i in np.flatnonzero(bad)])
                compared.append(want)
        assert not rows, f"streams the one-customer path missed on day -{back}: {sorted(rows)}"
    seen = np.stack(compared)
    assert len(seen) >= 40
    varied = [f for i, f in enumerate(LATE_FEATURES)
              if len(np.unique(seen[~np.isnan(seen[:, i]), i])) > 1]
    constant = set(LATE_FEATURES) - set(varied)
    assert constant <= {"kind_pension", "kind_benefit"}, constant  # the bank has few of those


def test_the_late_income_detector_warns_one_customer_as_it_warns_the_bank(
    inputs: InsightInputs,
) -> None:
    """``IncomeLate`` on one customer's inputs (``one_late_features``) finds what it finds for
    that customer in the whole bank's run (``late_features``), probabilities alike."""
    from tactful.insights.detectors.income import IncomeLate
    from tactful.insights.late_income_risk import LATE_FEATURES, LateIncomeRisk, late_features
    from tactful.models.gbm import GbmModel
    from tactful.models.late_income import PARAMS

    frames = [late_features(_on(inputs, back)) for back in LATE_BACKS]
    x = np.concatenate([feature_matrix(f, LATE_FEATURES) for f in frames])
    rng = np.random.default_rng(3)
    late = np.nan_to_num(x[:, LATE_FEATURES.index("days_late")])
    y = ((late > 6) ^ (rng.random(len(x)) < 0.1)).astype(np.int8)
    model = GbmModel(**{**PARAMS, "rounds": 40, "min_leaf": 3}).fit(x, y, LATE_FEATURES)
    settings = replace(inputs.settings, income_late_attention_cost=0.01)
    warned = 0
    for back in (0, 9):
        data = replace(_on(inputs, back), late_income_risk=LateIncomeRisk(model, "test v1"),
                       settings=settings)
        everyone = IncomeLate().detect(data)
        warned += everyone.height
        for cid, one in per_customer(data).items():
            alone = IncomeLate().detect(one)
            mine = everyone.filter(pl.col("customer_id") == cid)
            assert alone.height == mine.height, cid
            if alone.height:
                alone, mine = alone.sort("subject"), mine.sort("subject")
                assert alone.drop("relevance").equals(mine.drop("relevance")), cid
                assert np.allclose(alone["relevance"].to_numpy(), mine["relevance"].to_numpy(),
                                   rtol=1e-9, atol=1e-9)
    assert warned > 3


@pytest.mark.parametrize("detector_id", ["low_balance", "fees_paid", "foreign_fees"])
def test_the_python_detectors_find_for_one_customer_what_they_find_in_the_bank(
    inputs: InsightInputs, detector_id: str
) -> None:
    """The detectors with a one-customer path in Python (the event path's low balance and fee
    checks) find, for every customer alone, what their frame path finds for that customer in
    the whole bank: the same rows, facts encoded to the byte. Fees are rare in a simulated
    month, so a few customers are charged some more, in two currencies and on checking and
    savings accounts, and the day moves back to put old fees in and out of the window."""
    from tactful.insights.catalog import Catalog

    detector = next(d for d in Catalog.default().detectors if d.spec.id == detector_id)
    code = {"fees_paid": "BANK_FEES_OVERDRAFT_FEES",
            "foreign_fees": "BANK_FEES_FOREIGN_TRANSACTION_FEES"}.get(detector_id)
    data = inputs
    if code is not None:
        sample = inputs.transactions.filter(pl.col("status") == "posted").sort(
            "customer_id", "booked_at").unique("customer_id", keep="last").head(40)
        n = pl.int_range(pl.len())
        fees = pl.concat([  # customer i is charged i % 7 + 1 times, on days further back
            sample.filter(n % 7 >= k).with_columns(
                pl.col("id") + f"-fee{k}", pl.lit(code).alias("category_detailed"),
                pl.lit("BANK_FEES").alias("category"),
                (-pl.int_range(pl.len()) * 137 - 250 - k).cast(pl.Int64).alias("amount_minor"),
                (pl.col("booked_on") - pl.duration(days=(pl.int_range(pl.len()) + 3 * k) % 12))
                .alias("booked_on"))
            for k in range(7)])
        data = replace(inputs, transactions=pl.concat([inputs.transactions, fees]))
    found = 0
    for back in (0, 5, 11):
        day = _on(data, back)
        everyone = detector.detect(day)
        for cid, one in per_customer(day).items():
            alone = detector.detect(one)
            mine = everyone.filter(pl.col("customer_id") == cid)
            assert alone.sort("subject").equals(mine.sort("subject")), (back, cid, alone, mine)
            found += alone.height
    assert found > 5


def test_an_event_carries_the_rows_converted_before_it(inputs: InsightInputs) -> None:
    """The Python rows of the customer's transactions, converted once and carried through
    events with each event's rows appended, are the rows of the transactions after them."""
    from tactful.insights.inputs import frame_rows
    from tactful.insights.realtime import before_latest, with_enriched

    one = next(iter(per_customer(inputs).values()))
    before, latest = before_latest(one, 3)
    names = ("id", "booked_on", "amount_minor", "category_detailed")
    assert before.transaction_lists.rows(names) == frame_rows(before.transactions, names)
    state = before
    for i in range(latest.height):
        state = with_enriched(state, latest.slice(i, 1))
        assert "transaction_lists" in state.__dict__  # carried, not converted again
        assert state.transaction_lists.rows(names) == frame_rows(state.transactions, names)
    assert len(before.transaction_lists["id"]) == before.transactions.height  # left as it was
    assert state.transaction_lists.rows(("currency",)) == frame_rows(state.transactions,
                                                                    ("currency",))
