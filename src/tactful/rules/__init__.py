"""The bank's rule language: one condition syntax, one evaluator, one vocabulary.

Categorization rules (``enrich.rules``), insight rules (``insights.rules``) and the actions
catalog's eligibility rules (``decide.catalog``) are all written as ``{field, operator, value}``
conditions over :data:`VOCABULARY`; the golden cases in ``tests/data/rules_golden.toml`` pin what
every word and every operator means. ``docs/rules.md`` is the reference.
"""

from tactful.rules.conditions import (
    OPERATOR_ALIASES,
    OPERATORS,
    Condition,
    operators_of,
    parse_condition,
    regex_error,
)
from tactful.rules.vocabulary import (
    ALIASES,
    SPEND_PREFIX,
    VOCABULARY,
    Feature,
    Kind,
    RuleSpellingWarning,
    Subject,
    feature,
    names,
)

__all__ = [
    "ALIASES",
    "OPERATORS",
    "OPERATOR_ALIASES",
    "SPEND_PREFIX",
    "VOCABULARY",
    "Condition",
    "Feature",
    "Kind",
    "RuleSpellingWarning",
    "Subject",
    "feature",
    "names",
    "operators_of",
    "parse_condition",
    "regex_error",
]
