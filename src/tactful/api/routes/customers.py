"""The customer's preferences, consents, profile, export and erasure."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from tactful.api.deps import AdminKey, IdempotencyKey, PrincipalDep, StateDep, owns
from tactful.api.idempotent import answer
from tactful.service import customers
from tactful.service.records import (
    ConsentAnswer,
    ConsentIn,
    ErasureAnswer,
    ExportAnswer,
    Preferences,
    PreferencesIn,
    ProfileAnswer,
)

router = APIRouter(prefix="/v1/customers", tags=["customers"])
CustomerId = Annotated[str, Path(min_length=1, max_length=128)]


@router.get("/{customer_id}/preferences", response_model=Preferences)
def get_preferences(customer_id: CustomerId, app: StateDep, who: PrincipalDep) -> Preferences:
    owns(who, customer_id)
    return customers.preferences(app.store, customer_id=customer_id)


@router.put("/{customer_id}/preferences", response_model=Preferences)
def put_preferences(customer_id: CustomerId, body: PreferencesIn, app: StateDep,
                    who: PrincipalDep) -> Preferences:
    """Channels, quiet hours, personalization level; fields left out keep their value."""
    owns(who, customer_id)
    return customers.set_preferences(app.store, customer_id=customer_id, change=body)


@router.post("/{customer_id}/consents", response_model=ConsentAnswer)
def post_consent(customer_id: CustomerId, body: ConsentIn, app: StateDep, who: PrincipalDep,
                 key: IdempotencyKey = None) -> JSONResponse:
    """Grant or withdraw a purpose; a withdrawal binds the very next request."""
    owns(who, customer_id)
    return answer(app.store, who=who, key=key, path=f"/v1/customers/{customer_id}/consents",
                  request=body, customer_id=customer_id,
                  run=lambda: customers.change_consent(app.store, customer_id=customer_id,
                                                       change=body))


@router.get("/{customer_id}/profile", response_model=ProfileAnswer)
def get_profile(customer_id: CustomerId, app: StateDep, who: PrincipalDep) -> ProfileAnswer:
    owns(who, customer_id)
    return customers.profile(app.store, customer_id=customer_id)


@router.get("/{customer_id}/export", response_model=ExportAnswer)
def get_export(customer_id: CustomerId, app: StateDep, who: PrincipalDep) -> ExportAnswer:
    """Everything held about the customer (GDPR articles 15 and 20)."""
    owns(who, customer_id)
    return customers.export(app.store, customer_id=customer_id,
                            requested_by=f"api key {who.key_id}")


@router.delete("/{customer_id}", response_model=ErasureAnswer)
def delete_customer(customer_id: CustomerId, app: StateDep, who: AdminKey) -> ErasureAnswer:
    """Erase the customer (GDPR article 17): admin keys only, it cannot be undone."""
    return customers.erase(app.store, customer_id=customer_id,
                           erased_by=f"api key {who.key_id}")
