"""The customer's settings and rights through the application layer, and the API keys."""

from __future__ import annotations

import pytest
from pydantic import ValidationError as SchemaError
from sqlalchemy import select

from tactful.errors import NotFoundError, ValidationError
from tactful.service.customers import (
    change_consent,
    erase,
    export,
    preferences,
    profile,
    set_preferences,
)
from tactful.service.keys import authenticate, create_key, list_keys, revoke_key
from tactful.service.records import ConsentIn, PreferencesIn, Scope
from tactful.store import schema
from tactful.store.store import Store

from .conftest import customers


def test_preferences_change_only_what_is_given(bank: Store) -> None:
    cid = customers(bank)[1]
    before = preferences(bank, customer_id=cid)
    after = set_preferences(bank, customer_id=cid, change=PreferencesIn(
        channels=["push", "email"], quiet_hours_start="22:00", quiet_hours_end="07:00"))
    assert [c.value for c in after.channels] == ["in_app", "email", "push"]
    assert (after.quiet_hours_start, after.quiet_hours_end) == ("22:00", "07:00")
    assert after.personalization_level == before.personalization_level
    assert profile(bank, customer_id=cid).channels == ["in_app", "email", "push"]


@pytest.mark.parametrize(("change", "message"), [
    ({"quiet_hours_start": "25:00"}, "String should match pattern"),
    ({"channels": ["fax"]}, "Input should be 'in_app', 'email', 'sms' or 'push'"),
    ({"personalization_level": "total"}, "Input should be 'none', 'basic'"),
    ({"colour": "red"}, "Extra inputs are not permitted"),
])
def test_bad_preferences_are_refused_naming_the_field(change: dict[str, object],
                                                      message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        PreferencesIn.model_validate(change)


def test_quiet_hours_need_both_ends(bank: Store) -> None:
    cid = next(c for c in customers(bank)
               if preferences(bank, customer_id=c).quiet_hours_start is None)
    with pytest.raises(ValidationError, match="both quiet_hours_start and quiet_hours_end"):
        set_preferences(bank, customer_id=cid, change=PreferencesIn(quiet_hours_start="22:00"))


def test_consent_changes_go_through_the_one_door(bank: Store) -> None:
    cid = customers(bank)[2]
    done = change_consent(bank, customer_id=cid,
                          change=ConsentIn(purpose="analytics", action="withdraw"))
    assert done.status == "withdrawn" and "analytics" not in done.held
    assert profile(bank, customer_id=cid).consents["analytics"] == "withdrawn"
    with pytest.raises(NotFoundError):
        change_consent(bank, customer_id="NOBODY",
                       change=ConsentIn(purpose="analytics", action="grant"))


def test_export_then_erasure_takes_the_customers_keys_with_it(bank: Store) -> None:
    cid = customers(bank)[3]
    key = create_key(bank, scope=Scope.APP, customer_id=cid)
    held = export(bank, customer_id=cid, requested_by="test")
    assert held.rows > 0 and held.tables["customers"][0]["id"] == cid
    assert held.tables["api_keys"][0]["key_id"] == key.info.key_id
    assert key.token not in str(held.tables)  # only its hash is held
    gone = erase(bank, customer_id=cid, erased_by="test")
    assert gone.rows_deleted > 0 and gone.tables["api_keys"] == 1
    assert authenticate(bank, key.token) is None
    with pytest.raises(NotFoundError):
        profile(bank, customer_id=cid)


def test_keys_are_shown_once_stored_hashed_and_revocable(bank: Store) -> None:
    cid = customers(bank)[0]
    made = create_key(bank, scope=Scope.APP, customer_id=cid, name="app")
    stored = bank.rows(select(schema.api_keys.c.key_hash))
    assert all(made.token not in str(r[0]) for r in stored)
    who = authenticate(bank, made.token)
    assert who is not None and who.customer_id == cid and who.scope is Scope.APP
    assert authenticate(bank, made.token[:-1] + ("A" if made.token[-1] != "A" else "B")) is None
    assert authenticate(bank, "tk_nope_x") is None and authenticate(bank, "") is None
    assert [k.key_id for k in list_keys(bank)] == [made.info.key_id]
    assert revoke_key(bank, key_id=made.info.key_id).revoked_at is not None
    assert authenticate(bank, made.token) is None
    with pytest.raises(NotFoundError):
        revoke_key(bank, key_id="nope")


@pytest.mark.parametrize(("scope", "customer", "message"), [
    (Scope.APP, None, "an app key is bound to one customer"),
    (Scope.INGEST, "CUS-00000000", "only an app key is bound to a customer, not an ingest"),
    (Scope.ADMIN, "CUS-00000000", "only an app key is bound to a customer, not an admin"),
    (Scope.APP, "NOBODY", "is not in the store"),
])
def test_a_key_must_fit_its_scope(bank: Store, scope: Scope, customer: str | None,
                                  message: str) -> None:
    with pytest.raises((ValidationError, NotFoundError), match=message):
        create_key(bank, scope=scope, customer_id=customer)
