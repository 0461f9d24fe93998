"""The store's tables, in SQLAlchemy Core: one definition for SQLite and PostgreSQL.

Timestamps are stored in UTC (``timestamptz`` on PostgreSQL, ISO text on SQLite) and come back
timezone-aware; money is ``BIGINT`` minor units beside an ISO 4217 currency column. Foreign keys
between ingested tables are deliberately not declared: banks deliver customers, accounts and
transactions in separate files and in any order, so links are resolved when read (and reported by
the loader), not enforced at insert time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.types import TypeDecorator

naming = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
}
metadata = MetaData(naming_convention=naming)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime in, an aware UTC datetime out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: timestamps are aware")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


ID = String(128)

customers = Table(
    "customers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("region", String(8), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("personalization_level", String(16), nullable=False, server_default="basic"),
    Column("channel_preferences", String(64), nullable=False, server_default="in_app"),
    Column("quiet_hours_start", String(5)),
    Column("quiet_hours_end", String(5)),
    Column("segment", String(64)),
    Column("created_at", UtcDateTime),
    Column("updated_at", UtcDateTime),
    # The bank's own vulnerability marker (financial difficulty, a bereavement, a health
    # condition it has been told of): read by every decision, so it lives with the customer,
    # not among the protected attributes the fairness audit reads under a logged request.
    Column("vulnerable", Boolean, nullable=False, server_default=false()),
)

customer_protected = Table(
    "customer_protected",
    metadata,
    Column("customer_id", ID, ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("age_band", String(16)),
    Column("gender", String(16)),
)

products = Table(
    "products",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("account_type", String(16)),
    Column("description", Text),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, index=True),
    Column("type", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("balance_minor", BigInteger),
    Column("balance_as_of", UtcDateTime),
    Column("credit_limit_minor", BigInteger),
    Column("opened_on", Date),
    Column("closed_on", Date),
    Column("product_id", ID),
    Column("name", String(200)),
    Column("updated_at", UtcDateTime),
)

transactions = Table(
    "transactions",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("account_id", ID, nullable=False),
    Column("external_id", ID),
    Column("booked_at", UtcDateTime, nullable=False),
    Column("value_at", UtcDateTime),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("counterparty", String(200)),
    Column("mcc", String(4)),
    Column("channel", String(16), nullable=False, server_default="other"),
    Column("status", String(16), nullable=False, server_default="posted"),
    Column("balance_after_minor", BigInteger),
    Column("import_id", Integer),
    # Filled by the understanding layer.
    Column("merchant", String(200)),
    Column("merchant_key", String(200)),
    Column("category", String(64)),
    Column("category_detailed", String(96)),
    Column("category_source", String(16)),
    Column("series_id", String(200)),
    Column("category_confidence", Float),
    # the key the row groups under in recurring series: its merchant key, or its
    # description's (enrich.recurring.with_group_key)
    Column("group_key", String(200)),
    # an account's payments by day; with status and amount in it, an account's span and
    # spending (enrich.repository._spans, over every payment of the accounts a night touches)
    # come from the index alone, not from rows spread over the table (migration 0019)
    Index("ix_transactions_account_span", "account_id", "booked_at", "status", "amount_minor"),
    # a night's increment reads the payments of a group in an account (batch/enrich.py)
    Index("ix_transactions_account_group", "account_id", "group_key"),
    # the transactions not yet enriched: what a night's increment starts from
    Index("ix_transactions_pending", "account_id", "booked_at",
          sqlite_where=text("category_source IS NULL"),
          postgresql_where=text("category_source IS NULL")),
)

events = Table(
    "events",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("customer_id", ID, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("session_id", ID),
    Column("duration_s", Float),
    Column("feature", String(64)),
    Column("channel", String(16)),
    Column("attributes", JSON),
    Column("import_id", Integer),
    Index("ix_events_customer_occurred", "customer_id", "occurred_at"),
)

consents = Table(
    "consents",
    metadata,
    Column("customer_id", ID, primary_key=True),
    Column("purpose", String(32), primary_key=True),
    Column("at", UtcDateTime, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("source", String(64), nullable=False, server_default="unknown"),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False, index=True),
    Column("format", String(32), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("status", String(16), nullable=False),
    Column("rows_read", BigInteger, nullable=False, server_default="0"),
    Column("inserted", BigInteger, nullable=False, server_default="0"),
    Column("updated", BigInteger, nullable=False, server_default="0"),
    Column("duplicates", BigInteger, nullable=False, server_default="0"),
    Column("rejected", BigInteger, nullable=False, server_default="0"),
    Column("rejects_path", Text),
    # Stored transactions whose amount, currency or booking date the file contradicts.
    Column("conflicts", BigInteger, nullable=False, server_default="0"),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("pid_started", BigInteger),
    Column("heartbeat_at", UtcDateTime),
)

protected_access_log = Table(
    "protected_access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("requested_by", String(128), nullable=False),
    Column("purpose", String(200), nullable=False),
    Column("rows_returned", Integer, nullable=False),
)
"""Every read of protected attributes, so a privacy officer can see who looked and why."""


# -- understand: what the enrichment layer derives --------------------------------------------

category_rules = Table(
    "category_rules",
    metadata,
    Column("rule_id", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("definition", JSON, nullable=False),
    Column("deleted", Boolean, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(128), nullable=False, server_default="cli"),
)
"""The bank's categorization rules; an edit adds a version, so every past rule set can be read."""

merchant_aliases = Table(
    "merchant_aliases",
    metadata,
    Column("pattern", String(200), primary_key=True),
    Column("merchant", String(200), nullable=False),
    Column("category_detailed", String(96)),
    Column("created_at", UtcDateTime, nullable=False),
)
"""The bank's own additions to the shipped merchant directory."""

recategorizations = Table(
    "recategorizations",
    metadata,
    Column("customer_id", ID, primary_key=True),
    Column("merchant_key", String(200), primary_key=True),
    Column("category_detailed", String(96), nullable=False),
    Column("transaction_id", String(200)),
    Column("at", UtcDateTime, nullable=False),
)
"""A customer's own re-categorization, remembered for that merchant; it wins over every rule."""

recurring_series = Table(
    "recurring_series",
    metadata,
    Column("series_id", String(200), primary_key=True),
    Column("customer_id", ID, nullable=False, index=True),
    Column("account_id", ID, nullable=False),
    Column("merchant_key", String(200)),
    Column("merchant", String(200)),
    Column("kind", String(32), nullable=False),
    Column("cadence", String(16), nullable=False),
    Column("direction", String(3), nullable=False),
    Column("category_detailed", String(96)),
    Column("currency", String(3), nullable=False),
    Column("typical_amount_minor", BigInteger, nullable=False),
    Column("last_amount_minor", BigInteger),
    Column("amount_varies", Boolean, nullable=False, server_default="0"),
    Column("first_date", Date, nullable=False),
    Column("last_date", Date, nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("next_date", Date),
    Column("next_amount_minor", BigInteger),
    Column("status", String(16), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_recurring_series_account", "account_id", "merchant_key"),
)

series_changes = Table(
    "series_changes",
    metadata,
    Column("series_id", String(200), primary_key=True),
    Column("effective_date", Date, primary_key=True),
    Column("customer_id", ID, nullable=False, index=True),
    Column("old_amount_minor", BigInteger, nullable=False),
    Column("new_amount_minor", BigInteger, nullable=False),
)

income_streams = Table(
    "income_streams",
    metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("customer_id", ID, nullable=False, index=True),
    Column("account_id", ID, nullable=False),
    Column("merchant", String(200)),
    Column("kind", String(16), nullable=False),
    Column("schedule", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("typical_amount_minor", BigInteger, nullable=False),
    Column("monthly_amount_minor", BigInteger),
    Column("first_date", Date, nullable=False),
    Column("last_date", Date, nullable=False),
    Column("next_date", Date),
    Column("occurrences", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_income_streams_account", "account_id"),
)

income_changes = Table(
    "income_changes",
    metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("effective_date", Date, primary_key=True),
    Column("customer_id", ID, nullable=False, index=True),
    Column("old_amount_minor", BigInteger, nullable=False),
    Column("new_amount_minor", BigInteger, nullable=False),
    Column("change", String(8), nullable=False),
    Column("change_ratio", Float, nullable=False),
)

text_models = Table(
    "text_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("trained_at", UtcDateTime, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("classes", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("artifact", LargeBinary, nullable=False),
)
"""The learned text categorizer, versioned, with the checksum its loader verifies."""

merchant_behaviour = Table(
    "merchant_behaviour",
    metadata,
    Column("text_model_id", Integer, primary_key=True),
    Column("merchant_key", String(200), primary_key=True),
    Column("category_detailed", String(96), nullable=False),
    Column("confidence", Float, nullable=False),
)
"""Merchants no word reads, categorized by how the bank's customers pay them
(``enrich.behaviour``): fitted with the text model of ``text_model_id`` and versioned with it,
so a newly trained model brings its own answers and the next enrich is a full one."""

enrich_runs = Table(
    "enrich_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("status", String(16), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("customers", Integer, nullable=False, server_default="0"),
    Column("transactions", BigInteger, nullable=False, server_default="0"),
    Column("updated", BigInteger, nullable=False, server_default="0"),
    Column("series", Integer, nullable=False, server_default="0"),
    Column("income_streams", Integer, nullable=False, server_default="0"),
    Column("rules_version", Integer, nullable=False, server_default="0"),
    Column("text_model_id", Integer),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("pid_started", BigInteger),
    Column("heartbeat_at", UtcDateTime),
    Column("resume_after", ID),
    Column("resumed_from", Integer),
    Column("layout", Integer),
    Column("as_of", Date),
)
"""One row per ``tactful enrich``: what it did, with which rules and which model, who runs it
(host, pid and the pid's start time, a heartbeat: see ``store/runs.py``) and, for a resumable
run, the last customer of its last committed shard (``resume_after``)."""


# -- understand: what the insight catalog produces ----------------------------------------------

insights = Table(
    "insights",
    metadata,
    Column("insight_id", String(64), primary_key=True),
    Column("customer_id", ID, nullable=False),
    Column("detector", String(64), nullable=False),
    Column("family", String(32), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("period", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("relevance", Float, nullable=False),
    Column("urgency", String(8), nullable=False),
    Column("facts", JSON, nullable=False),
    Column("locale", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("call_to_action", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("consent_purpose", String(32), nullable=False),
    Column("min_level", String(16), nullable=False),
    Column("sensitive", Boolean, nullable=False, server_default="0"),
    Column("as_of", Date, nullable=False),
    Column("produced_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("cooldown_until", UtcDateTime, nullable=False),
    Column("state_changed_at", UtcDateTime, nullable=False),
    Column("run_id", Integer),
    Index("ix_insights_customer_detector_subject", "customer_id", "detector", "subject"),
    Index("ix_insights_produced_at", "produced_at"),
    Index("ix_insights_state", "state"),
)
"""Every insight produced, with its facts and rendered text, and where it is in its life
(live, shown, acted_on, dismissed, expired). The id is a hash of detector, customer, subject and
period, so producing the same insight twice is one row."""

budgets = Table(
    "budgets",
    metadata,
    Column("customer_id", ID, primary_key=True),
    Column("category", String(96), primary_key=True),
    Column("limit_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
"""A customer's monthly budget for a primary or detailed category."""

savings_goals = Table(
    "savings_goals",
    metadata,
    Column("goal_id", ID, primary_key=True),
    Column("customer_id", ID, nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("account_id", ID, nullable=False),
    Column("target_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("target_date", Date),
    Column("created_at", UtcDateTime, nullable=False),
)
"""A customer's savings goal, tracked against the balance of one of their accounts."""

insight_runs = Table(
    "insight_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("status", String(16), nullable=False),
    Column("as_of", Date),
    Column("customers", Integer, nullable=False, server_default="0"),
    Column("produced", Integer, nullable=False, server_default="0"),
    Column("suppressed", Integer, nullable=False, server_default="0"),
    Column("expired", Integer, nullable=False, server_default="0"),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("pid_started", BigInteger),
    Column("heartbeat_at", UtcDateTime),
)
"""One row per insight run: how many were produced, held back by cooldown, and expired."""

rule_features = Table(
    "rule_features",
    metadata,
    Column("customer_id", ID, primary_key=True),
    Column("run_id", Integer, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("features", JSON, nullable=False),
    Index("ix_rule_features_run", "run_id"),
)
"""Each customer's rule features (``insights.rules.FEATURES``, name -> number) as of the day of
the insight run that wrote them (``insights.stored_features``): the outbound batch reads them."""

run_locks = Table(
    "run_locks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("token", String(32), nullable=False),
    Column("run_table", String(32)),
    Column("run_id", Integer),
    Column("host", String(255)),
    Column("pid", Integer),
    Column("pid_started", BigInteger),
    Column("heartbeat_at", UtcDateTime),
    Column("acquired_at", UtcDateTime, nullable=False),
)
"""One row per batch command running now (``enrich``, ``insights``): a second one waits or is
told which run holds it. A row whose owner died is taken over (``store/runs.py``)."""
# -- learn: models ------------------------------------------------------------------------------

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("family", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("target", Text, nullable=False),
    Column("stage", String(16), nullable=False, server_default="candidate"),
    Column("metrics", JSON, nullable=False),
    Column("fairness", JSON),
    Column("data_start", UtcDateTime),
    Column("data_end", UtcDateTime),
    Column("validation", Text, nullable=False, server_default=""),
    Column("features", JSON, nullable=False),
    Column("model_card", Text, nullable=False),
    Column("artifact_path", Text, nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("promoted_at", UtcDateTime),
    Column("promoted_by", String(128)),
    Index("uq_models_name_version", "name", "version", unique=True),
)
"""Every trained model version: its stage, metrics, fairness report, data window, features, card,
and where its artifact lies with the checksum the loader verifies."""

customer_scores = Table(
    "customer_scores",
    metadata,
    Column("customer_id", ID, primary_key=True),
    Column("model_name", String(128), primary_key=True),
    Column("model_version", Integer, nullable=False),
    Column("model_stage", String(16), nullable=False, server_default="candidate"),
    Column("score", Float, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("scored_at", UtcDateTime, nullable=False),
)
"""The latest batch score of each customer by each model, with the reasons behind it and the
stage of the version that made it when it scored (a candidate's score says so wherever shown;
a writer that does not say is labelled a candidate, never production)."""


# -- trust: what an erasure keeps ---------------------------------------------------------------

erasures = Table(
    "erasures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(64), index=True),
    Column("accounts", JSON, nullable=False),
    Column("erased_at", UtcDateTime, nullable=False),
    Column("erased_by", String(128), nullable=False),
    Column("rows_deleted", JSON, nullable=False),
)
"""One row per ``tactful erase``: the customer's keyed pseudonym (HMAC-SHA256 under
``TACTFUL_SECRET_KEY``, NULL without a key) and their accounts' pseudonyms, so a re-import of the
same customer can be recognised; when, by whom, and how many rows of each table went. Nothing in
it names the customer to anyone without the key."""


# -- decide: every decision, with what it read and why -------------------------------------------

decisions = Table(
    "decisions",
    metadata,
    Column("decision_id", String(64), primary_key=True),
    Column("customer_id", ID, nullable=False),
    Column("placement", String(16), nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("silent", Boolean, nullable=False),
    Column("action_id", String(200)),
    Column("family", String(32)),
    Column("product_id", ID),
    Column("channel", String(16)),
    Column("send_at", UtcDateTime, nullable=False),
    Column("pscore", Float, nullable=False),
    Column("policy_version", String(96), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("relevance", JSON, nullable=False),
    Column("inputs", JSON, nullable=False),
    Column("candidates", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("experiments", JSON),
    Column("outboxed_at", UtcDateTime),
    Index("ix_decisions_customer_decided", "customer_id", "decided_at"),
    Index("ix_decisions_created_at", "created_at"),
    Index("ix_decisions_not_outboxed", "send_at", "decision_id",
          sqlite_where=text("outboxed_at IS NULL"), postgresql_where=text("outboxed_at IS NULL")),
)
"""Every decision -- a message or silence -- with everything it read (``inputs``), every
candidate and why it was dropped, the policy version, the probability the policy gave its
choice (``pscore``) and a one-sentence explanation: enough to replay it (``tactful explain``),
audit it and evaluate another policy off-line. Its sends are the contact history the next
decision reads. The id is a hash of customer, moment and placement: deciding again is the same
decision.

``outboxed_at`` is when the outbox last looked at the decision (a message added, or none to
add: silence); NULL until then, and again after a re-decision. The partial index holds only the
NULL rows, so each round of the outbox reads the new decisions, not the whole table."""


# -- measure: what customers did about decisions, and the experiments decisions ran in ---------

outcomes = Table(
    "outcomes",
    metadata,
    Column("outcome_id", String(64), primary_key=True),
    Column("decision_id", String(64), nullable=False),
    Column("message_id", String(200)),
    Column("customer_id", ID, nullable=False),
    Column("action_id", String(200)),
    Column("channel", String(16)),
    Column("kind", String(16), nullable=False),
    Column("reason", String(64)),
    Column("rating", Float),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("source", String(16), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    UniqueConstraint("decision_id", "kind", "occurred_at"),
    Index("ix_outcomes_customer_occurred", "customer_id", "occurred_at"),
    Index("ix_outcomes_action_channel", "action_id", "channel"),
    Index("ix_outcomes_recorded_at", "recorded_at"),
)
"""Every outcome of a decision (delivered, impression, open, click, dismiss with a reason,
convert, rating, opt-out), from the API, the bank's events or the simulator. One outcome is
its decision, kind and moment: the id is a hash of those, so recording it twice -- or from two
sources -- keeps one row. ``action_id`` and ``channel`` are copied from the decision, so the
engagement report reads one table."""

experiments = Table(
    "experiments",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("salt", String(128), nullable=False),
    Column("arms", JSON, nullable=False),
    Column("holdout", Float, nullable=False),
    Column("metric", String(16), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime),
    Column("stopped_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
)
"""A/B/n experiments and the global holdout: arms with weights, the holdout share, the metric
(an outcome kind) and when they run. Assignment is a salted hash of the customer id, so it is
recomputed, never stored per customer; each decision records its arms in
``decisions.experiments``."""

# -- deliver: the outbox and the in-app feed -----------------------------------------------------

outbox = Table(
    "outbox",
    metadata,
    Column("idempotency_key", String(64), primary_key=True),
    Column("decision_id", String(64), nullable=False, unique=True),
    Column("customer_id", ID, nullable=False, index=True),
    Column("action_id", String(200), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("adapter", String(32), nullable=False),
    Column("consent_purpose", String(32)),
    Column("cap_exempt", Boolean, nullable=False, server_default="0"),
    Column("language", String(8), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("call_to_action", Text, nullable=False),
    Column("explanation", Text, nullable=False),
    Column("send_at", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("claimed_by", String(64)),
    Column("claimed_until", UtcDateTime),
    Column("last_error", Text),
    Column("sent_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_outbox_state_next", "state", "next_attempt_at"),
)
"""Every message a decision chose to send, and where it is on its way (pending, sending, sent,
failed, cancelled). The key is derived from the decision id, so enqueueing a decision twice is
one row, and it travels with the message (a webhook's header) so a receiver can drop a second
delivery of the same message: a worker killed between sending and recording sends again."""

feed = Table(
    "feed",
    metadata,
    Column("idempotency_key", String(64), primary_key=True),
    Column("customer_id", ID, nullable=False),
    Column("action_id", String(200), nullable=False),
    Column("language", String(8), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("call_to_action", Text, nullable=False),
    Column("explanation", Text, nullable=False),
    Column("available_at", UtcDateTime, nullable=False),
    Index("ix_feed_customer_available", "customer_id", "available_at"),
)
"""The in-app feed: what the in-app channel delivered, for the API to serve to the app."""

# -- service: who may call the API, and the answers an idempotent retry gets back ---------------

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("key_hash", String(64), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("customer_id", ID),
    Column("name", String(200), nullable=False, server_default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)
"""An API key: its public id, the SHA-256 of the whole token (the token itself is printed once
and never stored), its scope (app, ingest, admin) and, for an app key, the one customer it may
read. A key bound to a customer goes with that customer's erasure (its ``customer_id``)."""

idempotent_answers = Table(
    "idempotent_answers",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("idempotency_key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("customer_id", ID),
    Column("status_code", Integer, nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False, index=True),
)
"""The first answer to a request sent with an ``Idempotency-Key`` (per API key): a retry gets it
back instead of a second write; the same key with another body is refused."""
