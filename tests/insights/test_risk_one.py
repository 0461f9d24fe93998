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


def test_one_customer_late_frame_is_the_batch_frame(inputs: InsightInputs) -> None:
    """``late_frame`` of the candidates is ``late_features``' frame: columns, types, values."""
    from polars.testing import assert_frame_equal

    from tactful.insights.late_income_risk import late_features
    from tactful.insights.late_one import late_frame, one_late_features

    data = _on(inputs, 0)
    framed = 0
    for one in per_customer(data).values():
        want = late_features(one).sort("stream_id")
        got = late_frame(one_late_features(one)).sort("stream_id")
        if want.height == 0:  # late_features' empty frame keeps the candidates' columns
            assert got.height == 0
            continue
        assert_frame_equal(got, want, rel_tol=1e-9, abs_tol=1e-9)
        framed += got.height
    assert framed > 0


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
