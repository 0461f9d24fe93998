"""No label leaks out of the exports: fraud is printed and timed like ordinary spending (at
night only as much more often as the ULB card-fraud data shows), and the hidden persona stays in
the truth folder."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tactful.simulate import SimulationConfig, SimulationSummary
from tactful.simulate.bank.accounts import account_ids
from tactful.simulate.base.rng import Keyed
from tactful.simulate.base.rows import CH_CARD, CH_ONLINE
from tactful.simulate.counterparties import merchants as mc
from tactful.simulate.exports import frames as F
from tactful.simulate.generate import Chunk, generate_chunk
from tactful.simulate.money.fraud import _seconds, fraud_data, night_ratio

ULB = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ulb_creditcard_fraud_sample"
NIGHT = 5 * 3600  # 00:00-04:59
FRAUD_SEEDS = (21, 22, 23, 24)


@pytest.fixture(scope="module")
def fraud_world() -> list[Chunk]:
    """Enough fraud victims (about 200) for hour and descriptor shares."""
    return [
        generate_chunk(SimulationConfig(customers=4000, months=3, seed=s, start=date(2024, 1, 1)),
                       0, 4000)
        for s in FRAUD_SEEDS
    ]


def test_the_ulb_figures_are_those_of_the_shared_file() -> None:
    path = ULB / "creditcard_sample.csv"
    if not path.exists():
        pytest.skip(f"{path} absent (real data folder not mounted)")
    d = pl.read_csv(path).with_columns(((pl.col("Time") % 86_400) // 3600).alias("hour"))
    night = pl.col("hour").is_between(fraud_data()["night_first_hour"],
                                      fraud_data()["night_last_hour"])
    got = {
        cls: (d.filter((pl.col("Class") == cls) & night).height,
              d.filter(pl.col("Class") == cls).height)
        for cls in (0, 1)
    }
    data = fraud_data()
    assert got[1] == (data["ulb_fraud_night"], data["ulb_fraud_total"]) == (113, 492)
    assert got[0] == (data["ulb_normal_night"], data["ulb_normal_total"]) == (88, 1230)
    assert 3.1 < night_ratio() < 3.3


@pytest.mark.parametrize("kind", ["video_games", "marketplace", "electronics", "restaurant"])
def test_fraud_hours_are_the_kinds_own_plus_the_ulb_night_excess(kind: str) -> None:
    g = np.arange(100_000, dtype=np.int64)
    sec = _seconds(Keyed(4), np.array([kind] * len(g)), g, np.zeros_like(g))
    target = night_ratio() * fraud_data()["simulated_normal_night"]
    assert abs((sec < NIGHT).mean() - target) < 0.005
    assert (sec >= 9 * 3600).mean() > 0.7  # most fraud still happens when people shop


def test_night_share_of_fraud_vs_normal_matches_the_ulb_band(fraud_world: list[Chunk]) -> None:
    fraud_night = fraud_n = normal_night = normal_n = 0
    for ch in fraud_world:
        rows = ch.booked.rows
        card = np.isin(rows.channel, [CH_CARD, CH_ONLINE])
        fraud = rows.fraud > 0
        night = rows.sec < NIGHT
        fraud_night += int((fraud & night).sum())
        fraud_n += int(fraud.sum())
        normal_night += int((card & ~fraud & night).sum())
        normal_n += int((card & ~fraud).sum())
    normal, fraud_share = normal_night / normal_n, fraud_night / fraud_n
    assert fraud_n > 500
    # The simulator's ordinary night share is the one fraud.toml was calibrated on.
    assert abs(normal / fraud_data()["simulated_normal_night"] - 1) < 1 / 3, normal
    # ULB: 23.0% of fraud vs 7.2% of normal at 00:00-04:59, a ratio of 3.2 (95% ~2.4-4.2);
    # main's fixed 01:00-05:00 card-testing window gave about 10x.
    assert 2.4 < fraud_share / normal < 4.2, (fraud_share, normal)


def _shape(description: str) -> str:
    """A descriptor with its dates, card tails, store numbers and references masked."""
    return re.sub(r"\S*\d\S*", "#", description)


def test_fraud_is_printed_like_ordinary_spending(fraud_world: list[Chunk]) -> None:
    """Main's fraud used its own merchants ('GIFT CARD MALL', 'WWW.xxx.COM'): 97% of fraud
    descriptor shapes never appeared on a legitimate row."""
    fraud_shapes: list[str] = []
    legit_shapes: set[str] = set()
    fraud_merchants: set[int] = set()
    legit_merchants: set[int] = set()
    for seed, ch in zip(FRAUD_SEEDS, fraud_world, strict=True):
        with mc.using(mc.table_for(seed)):
            tx = F.transactions_frame(ch, account_ids(ch.pop, ch.accounts))
        rows = ch.booked.rows
        card = np.isin(rows.channel, [CH_CARD, CH_ONLINE])
        fraud = rows.fraud > 0
        shapes = tx["description"].map_elements(_shape, return_dtype=pl.Utf8).to_numpy()
        fraud_shapes += list(shapes[fraud])
        legit_shapes |= set(shapes[card & ~fraud])
        fraud_merchants |= set(rows.merchant[fraud].tolist())
        legit_merchants |= set(rows.merchant[card & ~fraud].tolist())
    unseen = sum(s not in legit_shapes for s in fraud_shapes) / len(fraud_shapes)
    assert unseen < 0.25, unseen
    assert len(fraud_merchants - legit_merchants) <= 0.2 * len(fraud_merchants)


def test_no_export_names_the_persona_or_the_fraud(
    written: tuple[Path, SimulationSummary], tables: dict[str, pl.DataFrame]
) -> None:
    out, _ = written
    assert tables["customers"].columns == [
        "customer_id", "region", "locale", "timezone", "personalization_level",
        "channel_preferences", "quiet_hours_start", "quiet_hours_end", "created_at",
        "age_band", "gender",
    ]
    exported = [name for name in tables if not name.startswith("truth_")]
    for name in exported:
        for column in tables[name].columns:
            assert not re.search(r"segment|persona(?!lization)|fraud", column), (name, column)
    personas = set(tables["truth_customers"]["persona"])
    for column in tables["customers"].columns:
        assert not set(tables["customers"][column].cast(pl.Utf8)) & personas, column
    alerts = {
        json.loads(line).get("attributes", {}).get("alert")
        for line in (out / "events.jsonl").read_text("utf-8").splitlines()
        if '"alert"' in line
    }
    assert alerts and not {a for a in alerts if a and "fraud" in a}
