"""API keys: made with a scope (and, for an app key, the one customer it may read), shown once,
stored as the SHA-256 of the token, revocable.

A token is ``tk_<key id>_<secret>``: the id finds the row in one indexed lookup, the secret is
32 random bytes, and the stored hash of the whole token is compared in constant time
(``hmac.compare_digest``), so neither a database read nor a timing probe gives a usable key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import insert, select, update

from tactful.errors import NotFoundError, ValidationError
from tactful.service.records import KeyInfo, NewKey, Principal, Scope
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust.privacy import mask

PREFIX: Final = "tk_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _info(row: object) -> KeyInfo:
    return KeyInfo(key_id=row.key_id, scope=Scope(row.scope),  # type: ignore[attr-defined]
                   customer_id=row.customer_id, name=row.name,  # type: ignore[attr-defined]
                   created_at=row.created_at, revoked_at=row.revoked_at)  # type: ignore[attr-defined]


def create_key(store: Store, *, scope: Scope, customer_id: str | None = None,
               name: str = "") -> NewKey:
    """A new key; an app key must name its customer (one the store holds), the others none."""
    if scope is Scope.APP and not customer_id:
        raise ValidationError("an app key is bound to one customer: give customer_id")
    if scope is not Scope.APP and customer_id:
        raise ValidationError(f"only an app key is bound to a customer, not an {scope.value} key")
    if customer_id is not None:
        c = schema.customers
        if not store.rows(select(c.c.id).where(c.c.id == customer_id)):
            raise NotFoundError(f"customer {mask(customer_id)} is not in the store")
    key_id = secrets.token_hex(8)
    token = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    now = datetime.now(UTC)
    with store.transaction() as conn:
        conn.execute(insert(schema.api_keys).values(
            key_id=key_id, key_hash=_hash(token), scope=scope.value, customer_id=customer_id,
            name=name, created_at=now))
    return NewKey(info=KeyInfo(key_id=key_id, scope=scope, customer_id=customer_id, name=name,
                               created_at=now, revoked_at=None), token=token)


def list_keys(store: Store) -> list[KeyInfo]:
    k = schema.api_keys
    return [_info(r) for r in store.rows(select(k).order_by(k.c.created_at, k.c.key_id))]


def revoke_key(store: Store, *, key_id: str) -> KeyInfo:
    """Revoke ``key_id`` (at once: the next request with it is refused)."""
    k = schema.api_keys
    with store.transaction() as conn:
        conn.execute(update(k).where(k.c.key_id == key_id, k.c.revoked_at.is_(None))
                     .values(revoked_at=datetime.now(UTC)))
    rows = store.rows(select(k).where(k.c.key_id == key_id))
    if not rows:
        raise NotFoundError(f"no API key {key_id!r}")
    return _info(rows[0])


def authenticate(store: Store, token: str) -> Principal | None:
    """The key ``token`` is, if it is a live one; None otherwise (unknown, wrong, revoked)."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    key_id, _, secret = token[len(PREFIX):].partition("_")
    if not key_id or not secret:
        return None
    k = schema.api_keys
    rows = store.rows(select(k.c.key_hash, k.c.scope, k.c.customer_id, k.c.revoked_at)
                      .where(k.c.key_id == key_id))
    if not rows:
        hmac.compare_digest(_hash(token), _hash(""))  # the same work as a known key
        return None
    row = rows[0]
    if not hmac.compare_digest(str(row.key_hash), _hash(token)) or row.revoked_at is not None:
        return None
    return Principal(key_id=key_id, scope=Scope(row.scope), customer_id=row.customer_id)
