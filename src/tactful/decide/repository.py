"""The decision layer's reads and writes: what a shard of customers' decisions need from the
store, and the decisions log.

Everything a decision reads is gathered here, for many customers at once, into
:class:`~tactful.decide.policy.DecisionInputs` -- the profile (zone, level, channels, quiet
hours), consent (``trust.consent``, the one door), the rhythm of their logins
(``profile.view.summarize_behaviour``), their live insights, the bank's products, their
features (the insight rules' own ``features``), the contact history (the decisions log, the
insights they dismissed or ignored, sensitive events) and the outcomes the bandit learns from.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, partial
from typing import Any, Final

import polars as pl
from sqlalchemy import bindparam, select

from tactful.decide.bandit import arm_key
from tactful.decide.catalog import DECISION_FEATURES, ActionsCatalog
from tactful.decide.contact import ContactHistory, Send, SensitiveEvent
from tactful.decide.features import FeatureCache
from tactful.decide.log import considered_to_json, inputs_to_json
from tactful.decide.policy import (
    Candidate,
    CustomerContext,
    DecisionInputs,
    DecisionPolicy,
    DecisionResult,
    Placement,
    decision_id,
)
from tactful.domain.actions import OutcomeKind
from tactful.domain.enums import Channel, PersonalizationLevel
from tactful.domain.records import QuietHours
from tactful.enrich.repository import _aware_utc
from tactful.errors import NotFoundError
from tactful.insights import lifecycle, stored_features
from tactful.insights.repository import load_inputs
from tactful.insights.rules import features as rule_features
from tactful.insights.stored_features import Written
from tactful.measure import experiments
from tactful.measure.outcomes import Fate, fates
from tactful.profile.view import LOGIN_KINDS, summarize_behaviour
from tactful.store import schema
from tactful.store.store import Store
from tactful.trust import consent
from tactful.trust.privacy import mask

HISTORY_DAYS: Final = 60
"""How far back the contact history reaches: beyond the longest window (a week), the longest
suppression (two weeks) and a few back-off doublings."""
RHYTHM_DAYS: Final = 56
"""Logins over the last eight weeks make a customer's rhythm."""
IGNORED_AFTER: Final = timedelta(days=3)
"""A message whose insight was neither acted on nor dismissed three days after it went out
counts as ignored."""
EVENT_DETECTORS: Final[Mapping[str, SensitiveEvent]] = {
    "income_late": SensitiveEvent.MISSED_INCOME,
    "large_transaction": SensitiveEvent.FRAUD_ALERT,
    "duplicate_charge": SensitiveEvent.FRAUD_ALERT,
}
FEE_CATEGORIES: Final = ("BANK_FEES_OVERDRAFT_FEES", "BANK_FEES_INSUFFICIENT_FUNDS")
_CHUNK: Final = 2_000


def _ids(column: Any) -> Any:
    return column.in_(bindparam("ids", expanding=True))


def _in(column: Any, ids: Sequence[str]) -> Any:
    return column.in_(list(ids))


# The statements one decision sends, built once with bound parameters: the feed decides for
# one customer a request, and building a statement costs more than running it.


@cache
def _latest_insight_query() -> Any:
    i = schema.insights
    return select(i.c.produced_at).order_by(i.c.produced_at.desc()).limit(1)


@cache
def _logins_query() -> Any:
    e = schema.events
    return select(e.c.customer_id, e.c.occurred_at).where(
        _ids(e.c.customer_id), e.c.kind.in_(LOGIN_KINDS),
        e.c.occurred_at > bindparam("since"), e.c.occurred_at <= bindparam("at"))


@cache
def _customers_query() -> Any:
    c = schema.customers
    return select(c).where(_ids(c.c.id))


@cache
def _products_query() -> Any:
    p = schema.products
    return select(p.c.id, p.c.account_type)


@cache
def _insights_query() -> Any:
    i = schema.insights
    return select(
        i.c.insight_id, i.c.customer_id, i.c.detector, i.c.subject, i.c.state,
        i.c.relevance, i.c.urgency, i.c.sensitive, i.c.produced_at, i.c.expires_at,
        i.c.state_changed_at,
    ).where(_ids(i.c.customer_id), i.c.produced_at <= bindparam("at"))


@cache
def _loans_query() -> Any:
    a = schema.accounts
    return select(a.c.customer_id).where(
        _ids(a.c.customer_id), a.c.type == "loan", a.c.closed_on.is_(None))


@cache
def _sends_query() -> Any:
    d = schema.decisions
    return select(
        d.c.customer_id, d.c.action_id, d.c.channel, d.c.send_at, d.c.decided_at,
        d.c.relevance, d.c.decision_id,
    ).where(_ids(d.c.customer_id), d.c.silent.is_(False), d.c.decided_at <= bindparam("at"),
            d.c.decision_id.not_in(bindparam("itself", expanding=True)),
            d.c.decided_at >= bindparam("since"),
            ).order_by(d.c.decided_at, d.c.decision_id)


@cache
def _opted_out_query() -> Any:
    t = schema.outcomes
    return select(t.c.customer_id, t.c.channel, t.c.occurred_at).where(
        _ids(t.c.customer_id), t.c.kind == OutcomeKind.OPT_OUT.value,
        t.c.channel.in_([c.value for c in Channel]),
        t.c.occurred_at <= bindparam("at")).order_by(t.c.occurred_at)


@cache
def _money_events_query() -> Any:
    a, t = schema.accounts, schema.transactions
    return select(a.c.customer_id, t.c.status, t.c.booked_at).select_from(
        t.join(a, a.c.id == t.c.account_id)).where(
        _ids(a.c.customer_id), t.c.booked_at >= bindparam("since"),
        t.c.booked_at <= bindparam("at"),
        (t.c.status == "declined") | t.c.category_detailed.in_(FEE_CATEGORIES))


def _quiet(start: str | None, end: str | None) -> QuietHours | None:
    if not start or not end:
        return None
    return QuietHours(time.fromisoformat(start), time.fromisoformat(end))


def default_moment(store: Store) -> datetime:
    """When a decision happens if nobody says: right after the latest insight run (the demo's
    data lie in the past, where "now" would find every insight expired), else now."""
    rows = store.rows(_latest_insight_query())
    return rows[0][0] + timedelta(minutes=1) if rows else datetime.now(UTC)


def customer_ids(store: Store) -> list[str]:
    return sorted(str(r[0]) for r in store.rows(select(schema.customers.c.id)))


def products(store: Store) -> list[tuple[str, str | None]]:
    return [(str(r[0]), r[1]) for r in store.rows(_products_query())]


@dataclass
class Gathered:
    """Inputs shared by a shard: the pieces every customer's inputs are cut from."""

    contexts: dict[str, CustomerContext]
    candidates: dict[str, list[Candidate]]
    features: dict[str, dict[str, float]]
    history: dict[str, ContactHistory]
    outcomes: Mapping[str, tuple[int, int]]


def gather(store: Store, ids: Sequence[str], *, at: datetime, policy: DecisionPolicy,
           outcomes: Mapping[str, tuple[int, int]], placement: Placement,
           consent_at: datetime | None = None, cache: FeatureCache | None = None,
           served_at: datetime | None = None, stored: Written | None = None) -> Gathered:
    """Everything the decisions of ``ids`` at ``at`` on ``placement`` read, for the shard at
    once; ``outcomes`` (:func:`learned`) are the whole bank's, shared by every shard of a run.
    The contact history holds every message decided up to ``at`` -- one decided at the same
    moment included, as an earlier request's -- but not the decision itself (deciding again,
    the decision of the same id, ``served_at`` included: ``policy.decision_id``).

    ``consent_at`` is when consent is read, when that differs from the decision's moment: a
    request served now must obey a withdrawal recorded a second ago, even when the decision's
    moment is the data's (the demo's data lie in the past; see ``service.feed``). ``cache``
    keeps the customers' rule features between calls (``decide.features``); ``stored`` is the
    nightly run whose rule features to read instead of computing them (:func:`stored_run`).

    ``NotFoundError`` if one of ``ids`` is not in the store: the customers' own rows are read
    first, so an unknown customer costs no lookup of its own, and nothing is read after."""
    catalog = policy.catalog
    contexts = _contexts(store, ids, at, consent_at or at)
    missing = [cid for cid in ids if cid not in contexts]
    if missing:
        raise NotFoundError(f"customer {', '.join(mask(cid) for cid in missing[:3])} "
                            f"{'is' if len(missing) == 1 else 'are'} not in the store")
    insights = _insights(store, ids, at)
    offers = offer_candidates(catalog, products(store))
    candidates = _candidates(insights, catalog, at)
    for cid in ids:
        candidates.setdefault(cid, []).extend(offers)
    feats = _features(store, ids, at, catalog, insights, cache, stored)
    history = _history(store, ids, at, policy, insights, placement, served_at)
    return Gathered(contexts, candidates, feats, history, outcomes)


def inputs_for(g: Gathered, customer_id: str, *, at: datetime, placement: Placement,
               served_at: datetime | None = None) -> DecisionInputs:
    return DecisionInputs(
        decision_id=decision_id(customer_id, at, placement.value, served_at),
        customer=g.contexts[customer_id], at=at, placement=placement,
        candidates=tuple(g.candidates.get(customer_id, [])),
        features=g.features.get(customer_id, {}),
        history=g.history.get(customer_id, ContactHistory()),
        outcomes=g.outcomes,
    )


def _contexts(store: Store, ids: Sequence[str], at: datetime, consent_at: datetime) -> (
    dict[str, CustomerContext]
):
    held = consent.held(store, ids, at=consent_at)
    running = [x for x in experiments.load(store) if x.is_active(at)]
    out = {}
    for start in range(0, len(ids), _CHUNK):
        part = list(ids[start:start + _CHUNK])
        profiles = store.rows(_customers_query(), {"ids": part})
        zones = {str(r.id): r.timezone for r in profiles}
        # a frame pays Polars' fixed cost: worth it for a shard, not for one feed request
        rhythm = (login_rhythm(store, zones, at) if len(zones) > _FEW
                  else _rhythm_of_few(store, zones, at))
        for r in profiles:
            count, hour = rhythm.get(str(r.id), (0, None))
            prefs = tuple(Channel(p) for p in re.split(r"[|,]", str(r.channel_preferences)) if p)
            out[str(r.id)] = CustomerContext(
                customer_id=str(r.id), timezone=r.timezone,
                level=PersonalizationLevel(r.personalization_level),
                channel_preferences=prefs, held=held.get(str(r.id), frozenset()),
                quiet_hours=_quiet(r.quiet_hours_start, r.quiet_hours_end),
                segment=r.segment, usual_login_hour=hour,
                vulnerable=bool(r.vulnerable),
                # the span of eight weeks, not of the logins seen: a new customer's two
                # logins in two days are not a daily habit
                logins_per_week=round(count / (RHYTHM_DAYS / 7), 2),
                assignments=experiments.assignments(running, str(r.id), at),
                arm_channel=experiments.arm_channel(running, str(r.id), at),
            )
    return out


def login_rhythm(store: Store, zones: Mapping[str, str], at: datetime) -> (
    dict[str, tuple[int, int | None]]
):
    """Customer -> (logins over the last ``RHYTHM_DAYS`` up to ``at``, the usual login hour in
    their own zone), for the customers of ``zones`` (customer -> time zone), in one pass: the
    hour of most logins, a tie going to the hour logged in at first -- what
    ``profile.view.summarize_behaviour`` answers customer by customer. A customer without a
    login is absent."""
    e = schema.events
    since = at - timedelta(days=RHYTHM_DAYS)
    ids = list(zones)
    # the driver's rows straight to Polars (``Store.raw_frame``): per-value processing of
    # every login of the shard cost more than the rest of the rhythm
    logins = store.raw_frame(select(e.c.customer_id, e.c.occurred_at).where(
        _in(e.c.customer_id, ids), e.c.kind.in_(LOGIN_KINDS), e.c.occurred_at > since,
        e.c.occurred_at <= at), {"customer_id": pl.String, "occurred_at": (
            pl.String if store.dialect == "sqlite" else pl.Datetime("us", "UTC"))})
    if not logins.height:
        return {}
    logins = logins.with_columns(_aware_utc(logins.get_column("occurred_at")))
    zone = pl.DataFrame({"customer_id": ids, "timezone": [zones[i] for i in ids]})
    logins = logins.join(zone, on="customer_id")
    local = pl.concat([
        part.with_columns(pl.col("occurred_at").dt.convert_time_zone(str(tz)).dt.hour()
                          .alias("hour"))
        for (tz,), part in logins.partition_by("timezone", as_dict=True).items()])
    best = (local.group_by("customer_id", "hour")
            .agg(pl.len().alias("n"), pl.col("occurred_at").min().alias("first"))
            .sort(["customer_id", "n", "first"], descending=[False, True, False])
            .group_by("customer_id", maintain_order=True)
            .agg(pl.col("n").sum().alias("logins"), pl.col("hour").first()))
    return {str(cid): (int(n), int(h)) for cid, n, h in best.iter_rows()}


_FEW: Final = 8


def _rhythm_of_few(store: Store, zones: Mapping[str, str], at: datetime) -> (
    dict[str, tuple[int, int | None]]
):
    """:func:`login_rhythm` for a handful of customers, customer by customer in Python."""
    logins: dict[str, list[datetime]] = defaultdict(list)
    since = at - timedelta(days=RHYTHM_DAYS)
    for cid, when in store.rows(_logins_query(), {"ids": list(zones), "since": since, "at": at}):
        logins[str(cid)].append(when)
    out: dict[str, tuple[int, int | None]] = {}
    for cid, times in logins.items():
        times.sort()
        summary = summarize_behaviour(["login"] * len(times), times, [None] * len(times),
                                      [None] * len(times), zones[cid], at)
        out[cid] = (len(times), summary.usual_login_hour)
    return out


def _insights(store: Store, ids: Sequence[str], at: datetime) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), _CHUNK):
        part = list(ids[start:start + _CHUNK])
        rows += [dict(r._mapping) for r in store.rows(_insights_query(),
                                                      {"ids": part, "at": at})]
    return rows


def _candidates(insights: list[dict[str, Any]], catalog: ActionsCatalog, at: datetime) -> (
    dict[str, list[Candidate]]
):
    """The live insights as candidates, each under its detector's action."""
    by_detector = catalog.by_detector()
    out: dict[str, list[Candidate]] = {}
    for r in sorted(insights, key=lambda r: r["insight_id"]):
        if r["state"] not in lifecycle.OPEN or r["expires_at"] <= at:
            continue
        action = by_detector.get(r["detector"])
        if action is None:
            continue
        out.setdefault(r["customer_id"], []).append(Candidate(
            action.id, r["subject"], float(r["relevance"]), r["urgency"], bool(r["sensitive"]),
            (r["insight_id"],)))
    return out


def offer_candidates(catalog: ActionsCatalog, bank_products: list[tuple[str, str | None]]) -> (
    list[Candidate]
):
    """One candidate per offer and bank product of its account type: eligibility (holdings,
    a forecast shortfall) is the policy's to judge, from the customer's features."""
    out = []
    for offer in catalog.offers():
        for product_id, account_type in sorted(bank_products, key=lambda p: p[0]):
            if offer.account_type is not None and offer.account_type.value == account_type:
                out.append(Candidate(f"{offer.id}.{product_id}", product_id))
    return out


def _features(store: Store, ids: Sequence[str], at: datetime, catalog: ActionsCatalog,
              insights: list[dict[str, Any]], cache: FeatureCache | None = None,
              stored: Written | None = None) -> (
    dict[str, dict[str, float]]
):
    """The customer's features for the catalog's rules, computed by the insight rules' own
    ``features`` (one vocabulary), and the decision's own (``DECISION_FEATURES``); the rules'
    taken from ``cache`` when their rows have not changed (``decide.features``)."""
    names = catalog.features()
    day = at.date()
    out: dict[str, dict[str, float]] = {cid: {} for cid in ids}
    wanted = frozenset(n for n in names if n not in DECISION_FEATURES)
    if wanted and cache is not None:
        for cid in ids:
            out[cid] = cache.get(store, cid, day, wanted, partial(_one, store, cid, day, wanted))
    elif wanted and stored is not None and wanted <= stored_features.STORED:
        out.update(_stored_rule_features(store, ids, stored, wanted))
    elif wanted:
        out.update(_rule_features(store, ids, day, wanted))
    loans = set()
    for start in range(0, len(ids), _CHUNK):
        part = list(ids[start:start + _CHUNK])
        loans |= {str(r[0]) for r in store.rows(_loans_query(), {"ids": part})}
    warned = {r["customer_id"] for r in insights
              if r["detector"] in ("shortfall", "low_balance")
              and r["state"] in lifecycle.OPEN and r["expires_at"] > at}
    for cid in ids:
        out[cid]["holds_loan"] = float(cid in loans)
        out[cid]["shortfall_forecast"] = float(cid in warned)
    return out


def _one(store: Store, customer_id: str, day: date, wanted: frozenset[str]) -> dict[str, float]:
    return _rule_features(store, [customer_id], day, wanted).get(customer_id, {})


def _rule_features(store: Store, ids: Sequence[str], day: date, wanted: frozenset[str]) -> (
    dict[str, dict[str, float]]
):
    data = load_inputs(store, list(ids), as_of=day)
    return stored_features.per_customer(rule_features(data, wanted), wanted)


STORED_FOR: Final = timedelta(days=1)
"""The rule features a nightly run stored serve a batch on the run's day and the day after (the
run at 02:00 is as of yesterday's bookings; the batch at 08:00 decides today); older ones are
stale -- the nightly run has failed or not run -- and the batch computes its own."""


def stored_run(store: Store, at: datetime) -> Written | None:
    """The nightly insight run whose rule features a batch at ``at`` reads: the latest that
    finished and wrote them (``insights.stored_features``), if its day is ``at``'s or the day
    before (a decision replayed further in the past, or a night that did not run, computes its
    features as of its own day). None: the batch computes them shard by shard, as a single
    decision does."""
    written = stored_features.latest(store)
    if written is None or not written.as_of <= at.date() <= written.as_of + STORED_FOR:
        return None
    return written


def features_source(stored: Written | None) -> str:
    """Where a batch's rule features came from, in a sentence for its report."""
    if stored is None:
        return ("computed shard by shard: no insight run of the day or the day before stored "
                "rule features (run `tactful run` nightly; the batch is then faster)")
    return f"stored by insight run {stored.run_id} as of {stored.as_of:%Y-%m-%d}"


def _stored_rule_features(store: Store, ids: Sequence[str], stored: Written,
                          wanted: frozenset[str]) -> dict[str, dict[str, float]]:
    """The rule features the nightly run stored, the holdings read live (an account opened
    since the night counts); a customer the run did not cover has them computed."""
    got = stored_features.read(store, ids, as_of=stored.as_of)
    missing = [cid for cid in ids if cid not in got]
    out = _rule_features(store, missing, stored.as_of, wanted) if missing else {}
    holdings = sorted(n for n in wanted if n in _HOLDINGS)
    held = _holdings(store, [cid for cid in ids if got.get(cid)]) if holdings else {}
    for cid, values in got.items():
        if not values:  # no checking account: no features, as when computed
            continue
        mine = held.get(cid, frozenset())
        out[cid] = {k: v for k, v in values.items() if k in wanted or k == "unit"}
        out[cid].update({n: float(_HOLDINGS[n] in mine) for n in holdings})
    return out


_HOLDINGS: Final = {"holds_savings": "savings", "holds_credit_card": "credit_card",
                    "holds_loan": "loan"}


def _holdings(store: Store, ids: Sequence[str]) -> dict[str, frozenset[str]]:
    """Customer -> the types of the accounts they hold open now."""
    a = schema.accounts
    out: dict[str, set[str]] = defaultdict(set)
    for start in range(0, len(ids), _CHUNK):
        part = list(ids[start:start + _CHUNK])
        for cid, kind in store.rows(select(a.c.customer_id, a.c.type).where(
                _in(a.c.customer_id, part), a.c.closed_on.is_(None))):
            out[str(cid)].add(str(kind))
    return {cid: frozenset(kinds) for cid, kinds in out.items()}


def _history(store: Store, ids: Sequence[str], at: datetime, policy: DecisionPolicy,
             insights: list[dict[str, Any]], placement: Placement,
             served_at: datetime | None) -> dict[str, ContactHistory]:
    catalog = policy.catalog
    by_detector = catalog.by_detector()
    state = {r["insight_id"]: r["state"] for r in insights}
    since = at - timedelta(days=HISTORY_DAYS)
    sends: dict[str, list[tuple[Send, list[str], str, str]]] = defaultdict(list)
    for start in range(0, len(ids), _CHUNK):
        part = list(ids[start:start + _CHUNK])
        itself = [decision_id(cid, at, placement.value, served_at) for cid in part]
        for r in store.rows(_sends_query(), {"ids": part, "at": at, "since": since,
                                             "itself": itself}):
            spec = policy.spec(str(r.action_id))
            relevance = r.relevance if isinstance(r.relevance, dict) else json.loads(r.relevance)
            sends[str(r.customer_id)].append((
                Send(r.send_at, Channel(r.channel), str(r.action_id),
                     spec is not None and spec.is_marketing,
                     spec is not None and spec.cap_exempt, r.decided_at),
                [str(i) for i in relevance.get("insight_ids", [])], str(r.decision_id),
                f"{r.action_id}:{relevance.get('subject', '')}"))
    fate = fates(store, at=at, decision_ids=[s[2] for v in sends.values() for s in v])
    dismissed: dict[str, set[str]] = defaultdict(set)
    events: dict[str, list[tuple[SensitiveEvent, datetime]]] = defaultdict(list)
    for r in insights:
        action = by_detector.get(r["detector"])
        if r["state"] == lifecycle.DISMISSED and action is not None:
            dismissed[r["customer_id"]].add(f"{action.id}:{r['subject']}")
        event = EVENT_DETECTORS.get(r["detector"])
        if event is not None and r["produced_at"] >= since:
            events[r["customer_id"]].append((event, r["produced_at"]))
    for cid, sent in sends.items():  # a message dismissed (or opted out of) through its outcome
        dismissed[cid] |= {key for _, _, did, key in sent if did in fate and fate[did].dismissed}
    for cid, kind, when in _money_events(store, ids, since, at):
        events[cid].append((kind, when))
    opted = _opted_out(store, ids, at)
    history = {}
    for cid in ids:
        ignores: dict[str, int] = {}
        streak: dict[str, bool] = {}
        for send, insight_ids, did, _ in reversed(sends.get(cid, [])):
            known = fate.get(did)
            verdict = _verdict(send, insight_ids, state, at, known)
            if streak.get(send.action_id, True):
                if verdict is False and not (known is not None and known.dismissed) and all(
                        state.get(i) != lifecycle.DISMISSED for i in insight_ids):
                    ignores[send.action_id] = ignores.get(send.action_id, 0) + 1
                else:
                    streak[send.action_id] = False
        history[cid] = ContactHistory(
            sends=tuple(s[0] for s in sends.get(cid, [])),
            dismissed=frozenset(dismissed.get(cid, set())),
            ignores=ignores,
            events=tuple(sorted(events.get(cid, []), key=lambda e: (e[1], e[0].value))),
            opted_out=opted.get(cid, {}),
        )
    return history


def _opted_out(store: Store, ids: Sequence[str], at: datetime) -> (
    dict[str, dict[Channel, datetime]]
):
    """Customer -> channel -> the first opt-out recorded on it up to ``at`` (an ``opt_out``
    outcome of a message on that channel): the contact policy sends nothing but exempt messages
    there afterwards."""
    out: dict[str, dict[Channel, datetime]] = defaultdict(dict)
    for start in range(0, len(ids), _CHUNK):
        part = list(ids[start:start + _CHUNK])
        for cid, channel, when in store.rows(_opted_out_query(), {"ids": part, "at": at}):
            out[str(cid)].setdefault(Channel(channel), when)
    return out


def learned(store: Store, *, at: datetime, policy: DecisionPolicy) -> dict[str, tuple[int, int]]:
    """Arm -> (engaged, not engaged): every message sent before ``at`` whose fate is known --
    by its recorded outcomes up to ``at`` (a click or conversion is engagement, a dismissal or
    opt-out is not, a message seen but not engaged with in ``IGNORED_AFTER`` was ignored), else
    by the state of the insights it carried (acted on; dismissed or ignored). The bandit's
    evidence, read once per run for the whole bank."""
    d, i = schema.decisions, schema.insights
    sent = store.rows(select(d.c.decision_id, d.c.action_id, d.c.channel, d.c.send_at,
                             d.c.relevance).where(d.c.silent.is_(False), d.c.decided_at < at))
    fate = fates(store, at=at)
    carried: list[tuple[Send, list[str], Fate | None]] = []
    for r in sent:
        relevance = r.relevance if isinstance(r.relevance, dict) else json.loads(r.relevance)
        carried.append((Send(r.send_at, Channel(r.channel), str(r.action_id)),
                        [str(x) for x in relevance.get("insight_ids", [])],
                        fate.get(str(r.decision_id))))
    wanted = sorted({x for _, ids, _ in carried for x in ids})
    state: dict[str, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        state.update({str(k): str(v) for k, v in store.rows(select(i.c.insight_id, i.c.state).where(
            i.c.insight_id.in_(wanted[start:start + _CHUNK])))})
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for send, ids, known in carried:
        verdict = _verdict(send, ids, state, at, known)
        if verdict is not None:
            counts[arm_key(send.action_id, send.channel.value)][0 if verdict else 1] += 1
    del policy
    return {k: (v[0], v[1]) for k, v in sorted(counts.items())}


def _verdict(send: Send, insight_ids: list[str], state: Mapping[str, str], at: datetime,
             fate: Fate | None = None) -> bool | None:
    """True if the customer engaged with the message (clicked, converted, acted on its
    insight), False if they dismissed or ignored it, None while it is too early to say (or
    nothing tells: an offer with no outcome recorded may not even have been delivered)."""
    if not insight_ids and fate is None:
        return None
    states = {state.get(i) for i in insight_ids}
    if (fate is not None and fate.engaged) or lifecycle.ACTED_ON in states:
        return True
    if (fate is not None and fate.dismissed) or lifecycle.DISMISSED in states:
        return False
    if send.at + IGNORED_AFTER <= at:
        return False
    return None


def _money_events(store: Store, ids: Sequence[str], since: datetime, at: datetime) -> (
    list[tuple[str, SensitiveEvent, datetime]]
):
    """Declined card payments and overdraft or insufficient-funds fees of ``ids``."""
    out = []
    for start in range(0, len(ids), _CHUNK):
        part = list(ids[start:start + _CHUNK])
        for cid, status, booked in store.rows(_money_events_query(),
                                              {"ids": part, "since": since, "at": at}):
            kind = (SensitiveEvent.DECLINED_CARD if status == "declined"
                    else SensitiveEvent.OVERDRAFT_FEE)
            out.append((str(cid), kind, booked))
    return out


# -- the log --------------------------------------------------------------------------------


def decision_row(result: DecisionResult, *, created_at: datetime) -> dict[str, Any]:
    d = result.decision
    return {
        "decision_id": d.decision_id, "customer_id": d.customer_id,
        "placement": result.inputs.placement.value, "decided_at": result.inputs.at,
        "silent": d.is_silence,
        "action_id": d.action.id if d.action else None,
        "family": d.action.family.value if d.action else None,
        "product_id": d.action.product_id if d.action else None,
        "channel": d.channel.value if d.channel else None,
        "send_at": d.send_at, "pscore": float(d.pscore), "policy_version": d.policy_version,
        "explanation": d.explanation, "relevance": d.relevance,
        "inputs": inputs_to_json(result.inputs),
        "candidates": considered_to_json(result.considered),
        "created_at": created_at,
        "experiments": dict(result.inputs.customer.assignments) or None,
    }


@cache
def _upsert(dialect: str) -> Any:
    """One upsert, not a delete and an insert: two requests deciding the same decision at once
    (the feed asked twice in the same instant) must both succeed, the later winning. Built once
    per dialect: building it costs more than a decision."""
    d = schema.decisions
    upsert: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        upsert = pg_insert(d)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        upsert = sqlite_insert(d)
    return upsert.on_conflict_do_update(
        index_elements=[d.c.decision_id],
        set_={c.name: upsert.excluded[c.name] for c in d.columns if c.name != "decision_id"})


def write_decisions(store: Store, results: Sequence[DecisionResult]) -> int:
    """Store ``results`` (deciding again replaces a decision of the same id)."""
    if not results:
        return 0
    now = datetime.now(UTC)
    rows = [decision_row(r, created_at=now) for r in results]
    with store.transaction() as conn:
        upsert = _upsert(conn.dialect.name)
        for start in range(0, len(rows), _CHUNK):
            conn.execute(upsert, rows[start:start + _CHUNK])
    return len(rows)


def read_decision(store: Store, decision_id_: str) -> dict[str, Any] | None:
    d = schema.decisions
    rows = store.rows(select(d).where(d.c.decision_id == decision_id_))
    if not rows:
        return None
    out = dict(rows[0]._mapping)
    for key in ("inputs", "candidates", "relevance"):
        if isinstance(out[key], str):
            out[key] = json.loads(out[key])
    return out


def decision_ids(store: Store, *, since: datetime | None = None) -> list[str]:
    d = schema.decisions
    query = select(d.c.decision_id)
    if since is not None:
        query = query.where(d.c.created_at >= since)
    return sorted(str(r[0]) for r in store.rows(query))

