"""The customer's own settings and rights: preferences, consents, the profile, export and
erasure.

Consent goes through ``trust.consent.record``, the one door: the record is stored and whatever
it no longer allows is retracted in the same transaction; the feed reads consent at the wall
clock (``feed``), so a withdrawal binds the very next request. Export and erasure are
``trust.export`` and ``trust.erasure`` as the CLI runs them; an erasure also takes the
customer's API keys and kept idempotent answers with it (they carry the ``customer_id``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from tactful.domain.enums import Channel, ConsentStatus, PersonalizationLevel
from tactful.errors import NotFoundError, ValidationError
from tactful.service.records import (
    ConsentAnswer,
    ConsentIn,
    ErasureAnswer,
    ExportAnswer,
    Preferences,
    PreferencesIn,
    ProfileAnswer,
)
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust.privacy import mask

if TYPE_CHECKING:
    from tactful.profile.view import CustomerProfile as CustomerProfile


def _preferences(row: object) -> Preferences:
    channels = [Channel(p) for p in re.split(r"[|,]", str(row.channel_preferences)) if p]  # type: ignore[attr-defined]
    return Preferences(
        customer_id=str(row.id),  # type: ignore[attr-defined]
        personalization_level=PersonalizationLevel(row.personalization_level),  # type: ignore[attr-defined]
        channels=channels,
        quiet_hours_start=row.quiet_hours_start,  # type: ignore[attr-defined]
        quiet_hours_end=row.quiet_hours_end,  # type: ignore[attr-defined]
    )


def preferences(store: Store, *, customer_id: str) -> Preferences:
    c = schema.customers
    rows = store.rows(select(c).where(c.c.id == customer_id))
    if not rows:
        raise NotFoundError(f"customer {mask(customer_id)} is not in the store")
    return _preferences(rows[0])


def set_preferences(store: Store, *, customer_id: str, change: PreferencesIn) -> Preferences:
    """Apply ``change`` (fields left out keep their value); quiet hours are set both ends or
    neither, and the in-app channel is always open (the feed is where a customer reads)."""
    current = preferences(store, customer_id=customer_id)
    start = change.quiet_hours_start if change.quiet_hours_start is not None else (
        current.quiet_hours_start)
    end = change.quiet_hours_end if change.quiet_hours_end is not None else (
        current.quiet_hours_end)
    if (start is None) != (end is None):
        raise ValidationError("quiet hours need both quiet_hours_start and quiet_hours_end")
    channels = change.channels if change.channels is not None else current.channels
    ordered = [Channel.IN_APP, *sorted({c for c in channels if c is not Channel.IN_APP})]
    level = change.personalization_level or current.personalization_level
    c = schema.customers
    with store.transaction() as conn:
        conn.execute(update(c).where(c.c.id == customer_id).values(
            personalization_level=level.value,
            channel_preferences="|".join(ch.value for ch in ordered),
            quiet_hours_start=start, quiet_hours_end=end, updated_at=datetime.now(UTC)))
    return preferences(store, customer_id=customer_id)


def change_consent(store: Store, *, customer_id: str, change: ConsentIn,
                   at: datetime | None = None) -> ConsentAnswer:
    """Grant or withdraw one purpose, through ``trust.consent.record``."""
    from tactful.domain.records import Consent
    from tactful.trust import consent

    status = ConsentStatus.GRANTED if change.action == "grant" else ConsentStatus.WITHDRAWN
    when = at or datetime.now(UTC)
    done = consent.record(store, Consent(customer_id, change.purpose, status, when,
                                         change.source))
    held = consent.purposes_of(consent.current(store, [customer_id]), customer_id)
    return ConsentAnswer(customer_id=customer_id, purpose=change.purpose, status=status.value,
                         at=when, retracted=done.retracted, held=sorted(held))


def profile(store: Store, *, customer_id: str) -> ProfileAnswer:
    """The customer's profile, summarized: who they are, what they hold, what they allow."""
    from tactful.profile.view import load_profile

    p = load_profile(store, customer_id)
    c = p.customer
    return ProfileAnswer(
        customer_id=c.id, region=c.region.value, locale=c.locale, timezone=c.timezone,
        personalization_level=c.personalization_level.value,
        channels=[ch.value for ch in c.channel_preferences],
        accounts=len(p.accounts),
        balances={cur: m.minor for cur, m in p.total_balance().items()},
        consents={str(s.purpose): str(s.status) for s in p.consents},
        live_insights=len(p.insights),
        usual_login_hour=p.behaviour.usual_login_hour,
    )


def full_profile(store: Store, *, customer_id: str) -> CustomerProfile:
    """The 360-degree view of the customer, whole: accounts, spending, recurring payments,
    income, consents and insights (what ``tactful profile`` and the demo print)."""
    from tactful.profile.view import load_profile

    return load_profile(store, customer_id)


def export(store: Store, *, customer_id: str, requested_by: str) -> ExportAnswer:
    """Everything held about the customer (``trust.export``)."""
    import json

    from tactful.trust.export import export_customer

    done = export_customer(store, customer_id, requested_by=requested_by)
    document = json.loads(done.to_json())
    return ExportAnswer(customer_id=customer_id, exported_at=done.exported_at, rows=done.rows,
                        tables=document["tables"], products=document["products"])


def erase(store: Store, *, customer_id: str, erased_by: str) -> ErasureAnswer:
    """Erase the customer (``trust.erasure``): their rows, their API keys and kept answers, and
    their lines in the import reports (``TACTFUL_REPORT_DIR``) -- the same as the CLI's."""
    from tactful.config import get_settings
    from tactful.trust.erasure import erase_customer, secret_key_from_env

    done = erase_customer(store, customer_id, erased_by=erased_by, key=secret_key_from_env(),
                          report_dirs=[get_settings().report_dir])
    return ErasureAnswer(customer=done.customer, erased_at=done.erased_at,
                         rows_deleted=done.deleted,
                         tables={k: v for k, v in done.rows_deleted.items() if v})
