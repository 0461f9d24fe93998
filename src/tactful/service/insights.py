"""The insight use cases as the command line and the demo run them: producing every customer's
insights, a customer's list, recording what happened to one, the catalog and the bank's rules
file checked, and what customers set (budgets, goals). The work is ``tactful.insights`` and
``tactful.batch``; a face comes here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tactful.batch.insights import InsightReport
from tactful.store.store import Store

if TYPE_CHECKING:
    from tactful.insights.catalog import Catalog

__all__ = [
    "InsightReport",
    "add_goal",
    "catalog",
    "check_rules",
    "customer_insights",
    "live_insights",
    "mark",
    "produce",
    "set_budget",
]


def produce(
    store: Store,
    *,
    rules: Path | None = None,
    settings: Path | None = None,
    as_of: date | None = None,
    wait: float = 0.0,
    progress_total: Callable[[int], Any] | None = None,
    progress: Callable[[int], Any] | None = None,
    on_wait: Callable[[str], Any] | None = None,
) -> InsightReport:
    """Every customer's insights as of ``as_of`` (default: the data's last day), with the
    bank's ``rules`` and thresholds (``settings``, TOML) beside the built-in detectors."""
    from tactful.batch.insights import run_insights
    from tactful.insights.catalog import Catalog
    from tactful.insights.inputs import InsightSettings

    thresholds = InsightSettings.from_toml(settings) if settings else None
    return run_insights(
        store, catalog=Catalog.default(rules=rules), as_of=as_of, settings=thresholds,
        progress_total=progress_total, progress=progress, wait=wait, on_wait=on_wait,
    )


def customer_insights(store: Store, *, customer_id: str,
                      open_only: bool = True) -> list[dict[str, Any]]:
    """A customer's insights, most urgent and relevant first: the open ones (live or shown), or
    every one ever produced."""
    from tactful.insights import lifecycle
    from tactful.insights import repository as repo

    return repo.list_insights(store, customer_id,
                              states=list(lifecycle.OPEN) if open_only else None)


def live_insights(store: Store, *, customer_id: str) -> list[dict[str, Any]]:
    """A customer's live insights (produced, not yet shown), most urgent first."""
    from tactful.insights import repository as repo

    return repo.list_insights(store, customer_id, states=["live"])


def mark(store: Store, *, insight_id: str, state: str) -> str:
    """Record what happened to an insight; the state it was in before."""
    from tactful.insights import repository as repo

    return repo.mark(store, insight_id, state)


def catalog(*, rules: Path | None = None) -> Catalog:
    """The built-in detectors and the bank's rules, with their templates compiled."""
    from tactful.insights.catalog import Catalog

    return Catalog.default(rules=rules)


def check_rules(path: Path) -> list[str]:
    """The ids of a rules file's rules, every one validated and its templates compiled."""
    from tactful.insights.catalog import Catalog
    from tactful.insights.rules import load_rules

    rules = load_rules(path)
    Catalog.default(rules=path)
    return [r.spec.id for r in rules]


def set_budget(store: Store, *, customer_id: str, category: str, amount: str,
               currency: str) -> None:
    """A customer's monthly budget for a category; ``amount`` in major units (``"300"``)."""
    from tactful.domain.money import to_minor
    from tactful.insights import repository as repo

    repo.set_budget(store, customer_id, category, to_minor(amount, currency), currency)


def add_goal(store: Store, *, customer_id: str, goal_id: str, name: str, account_id: str,
             target: str, currency: str, target_date: date | None = None) -> None:
    """Add (or replace) a savings goal; ``target`` in major units."""
    from tactful.domain.money import to_minor
    from tactful.insights import repository as repo

    repo.add_goal(store, goal_id=goal_id, customer_id=customer_id, name=name,
                  account_id=account_id, target_minor=to_minor(target, currency),
                  currency=currency, target_date=target_date)
