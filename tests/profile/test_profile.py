"""The unified profile, built from the sample exports on both stores."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tactful.domain import AccountType, ConsentPurpose, ConsentStatus, Money
from tactful.errors import NotFoundError
from tactful.ingest.loader import Loader
from tactful.profile import load_profile
from tactful.profile.view import summarize_behaviour
from tactful.store.store import Store

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    Loader(store, report_dir=tmp_path / "r").ingest([DATA])
    return store


def test_profile_of_a_customer(loaded: Store) -> None:
    p = load_profile(loaded, "C-1001")
    assert p.customer.timezone == "Europe/Berlin"
    assert [(a.id, a.type) for a in p.accounts] == [
        ("DE89370400440532013000", AccountType.CHECKING),
        ("DE02120300000000202051", AccountType.SAVINGS),
    ]
    assert p.total_balance() == {"EUR": Money(241733 + 1050000, "EUR")}
    assert {h.name for h in p.holdings} == {"Everyday Current Account", "Online Saver"}
    assert len(p.recent_transactions) == 10
    booked = [t.booked_at for t in p.recent_transactions]
    assert booked == sorted(booked, reverse=True)
    # Consents: the latest decision per purpose wins.
    states = {c.purpose: c.status for c in p.consents}
    assert states == {ConsentPurpose.PERSONALIZATION: ConsentStatus.GRANTED,
                      ConsentPurpose.MARKETING: ConsentStatus.WITHDRAWN}
    assert not p.consent(ConsentPurpose.MARKETING)
    # Behaviour in the customer's own zone: logins at 07:02 and 07:10 Berlin time.
    assert p.behaviour.usual_login_hour == 7
    assert p.behaviour.median_session_minutes == 2.7
    assert p.behaviour.features_used == {"balance": 1}


def test_protected_attributes_never_reach_the_profile(loaded: Store) -> None:
    p = load_profile(loaded, "C-1001")
    assert "25-34" not in repr(p) and "gender" not in repr(p)


def test_unknown_customer(loaded: Store) -> None:
    with pytest.raises(NotFoundError, match="customer … is not in the store"):
        load_profile(loaded, "nobody")


def test_behaviour_uses_the_local_hour() -> None:
    times = [datetime(2024, 3, d, 23, 30, tzinfo=UTC) for d in range(1, 15)]
    summary = summarize_behaviour(["login"] * 14, times, [None] * 14, [None] * 14,
                                  "Asia/Tokyo", times[-1])
    assert summary.usual_login_hour == 8  # 23:30 UTC is 08:30 in Tokyo
    assert summary.logins_per_week == pytest.approx(14 / (13 / 7), rel=1e-2)
