"""Understanding the bank's transactions, as the command line and the demo run it: enrichment
(merchants, categories, recurring series, income) over every customer with what stayed
uncategorized and why, the customer's own re-categorization, the bank's rules and aliases, and
the taxonomy. The work is ``tactful.enrich`` and ``tactful.batch``; a face comes here."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tactful.batch.enrich import EnrichReport
from tactful.enrich.gaps import GapReport
from tactful.store.store import Store

if TYPE_CHECKING:
    import polars as pl

    from tactful.enrich.repository import Recategorized
    from tactful.enrich.rules import RuleSet

__all__ = [
    "Category",
    "EnrichReport",
    "Enriched",
    "GapReport",
    "add_alias",
    "categories",
    "delete_rule",
    "enrich",
    "import_rules",
    "read_rules",
    "recategorize",
    "rule_history",
    "rules",
    "save_rule",
    "skipped_rules",
]


@contextmanager
def skipped_rules(report: Callable[[str], Any]) -> Iterator[None]:
    """Tell ``report`` once about each bank rule left out (``SkippedRuleWarning``) while the
    block runs; other warnings go on as they were raised."""
    from tactful.enrich.rules import SkippedRuleWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SkippedRuleWarning)
        try:
            yield
        finally:
            skipped = [w for w in caught if issubclass(w.category, SkippedRuleWarning)]
            for w in caught:
                if w not in skipped:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            for message in dict.fromkeys(str(w.message) for w in skipped):
                report(message)


@dataclass(frozen=True)
class Enriched:
    report: EnrichReport
    gaps: GapReport
    """What stayed uncategorized after the run, by cause, with the rule that would fix it."""


def enrich(
    store: Store,
    *,
    full: bool = False,
    retrain: bool = False,
    shard_size: int = 500,
    executor: str = "local",
    workers: int = 2,
    spark_master: str | None = None,
    wait: float = 0.0,
    progress_total: Callable[[int], Any] | None = None,
    progress: Callable[[int], Any] | None = None,
    on_wait: Callable[[str], Any] | None = None,
) -> Enriched:
    """Enrich the customers with new data (every customer with ``full``), then read the gaps.

    ``executor`` is a registered executor's name (``workers`` goes to ``processes``,
    ``spark_master`` to ``spark``: default ``TACTFUL_SPARK_MASTER``); a run of
    the same command in progress is waited for up to ``wait`` seconds (``on_wait`` hears why)."""
    from tactful.batch.enrich import run_enrich
    from tactful.batch.executor import get_executor
    from tactful.enrich.gaps import gap_report

    options: dict[str, Any] = {"workers": workers} if executor == "processes" else {}
    if executor == "spark":
        options = {"master": spark_master}
    report = run_enrich(
        store,
        full=full,
        retrain=retrain,
        shard_size=shard_size,
        executor=get_executor(executor, **options),
        progress_total=progress_total,
        progress=progress,
        wait=wait,
        on_wait=on_wait,
    )
    return Enriched(report, gap_report(store))


def recategorize(store: Store, *, transaction_id: str, category: str) -> Recategorized:
    """A customer's own re-categorization: remembered for the merchant, wins over every rule."""
    from tactful.enrich import repository as repo

    return repo.recategorize(store, transaction_id, category)


@dataclass(frozen=True)
class Category:
    primary: str
    detailed: str
    sensitive: bool


def categories(*, sensitive_only: bool = False) -> list[Category]:
    """The two-level taxonomy, sorted by detailed code."""
    from tactful.enrich.taxonomy import DETAILED, is_sensitive, primary_of

    return [
        Category(primary_of(code), code, is_sensitive(code))
        for code in sorted(DETAILED)
        if not sensitive_only or is_sensitive(code)
    ]


def rules(store: Store) -> RuleSet:
    """The bank's rules in force, in the order they apply."""
    from tactful.enrich import repository as repo

    return repo.current_rules(store)


def save_rule(
    store: Store,
    *,
    rule_id: str,
    when: list[str],
    category: str | None = None,
    merchant: str | None = None,
    priority: int = 100,
) -> int:
    """Add a rule (or a new version of an existing id) from ``FIELD OPERATOR VALUE`` texts;
    the version saved."""
    from tactful.enrich import repository as repo
    from tactful.enrich.rules import parse_condition

    conditions = [parse_condition(text) for text in when]
    definition: dict[str, Any] = {"id": rule_id, "conditions": conditions, "priority": priority}
    if category:
        definition["category_detailed"] = category
    if merchant:
        definition["merchant"] = merchant
    return repo.save_rule(store, definition)


def read_rules(path: Path) -> list[dict[str, Any]]:
    """The rules of a TOML file (``[[rules]]`` tables, the shipped defaults' format), every one
    validated, so that a bad file is refused before anything is saved."""
    from tactful.enrich.rules import RuleSet
    from tactful.errors import ConfigError

    if not path.is_file():
        raise ConfigError(f"{path}: no such rules file")
    return RuleSet.from_toml(path).to_records()


def import_rules(store: Store, *, records: list[dict[str, Any]]) -> int:
    """Save rules read by ``read_rules``; how many were saved."""
    from tactful.enrich import repository as repo

    for record in records:
        repo.save_rule(store, record)
    return len(records)


def delete_rule(store: Store, *, rule_id: str) -> int:
    """Retire a rule (its history stays); the version that records the retirement."""
    from tactful.enrich import repository as repo

    return repo.delete_rule(store, rule_id)


def rule_history(store: Store) -> pl.DataFrame:
    """Every version of every rule."""
    from tactful.enrich import repository as repo

    return repo.rule_history(store)


def add_alias(store: Store, *, pattern: str, merchant: str, category: str | None = None) -> None:
    """Teach the merchant directory one of the bank's own descriptors."""
    from tactful.enrich import repository as repo

    repo.add_alias(store, pattern, merchant, category)
