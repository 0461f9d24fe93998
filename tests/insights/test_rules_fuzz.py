"""The insight rules file under generated input: a file either loads into rules or is refused
with a ``ConfigError`` that says why; never another exception, never a hang. Rules that load
run as detectors on the shared small bank, and their messages render."""

from __future__ import annotations

import json
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tactful.domain.actions import ActionFamily
from tactful.errors import ConfigError
from tactful.insights.inputs import InsightInputs
from tactful.insights.render import FIELDS, Renderer
from tactful.insights.rules import FEATURES, load_rules
from tactful.rules import OPERATORS

FUZZ = settings(max_examples=60, deadline=timedelta(seconds=10),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FRAGMENTS = st.sampled_from([
    "Hello ", "{{ currency }}", "{{ checking_balance|money }}", "{{ spend_30d|money }}",
    "{{ holds_savings }}", "{% if holds_savings == 0 %}no{% else %}yes{% endif %}",
    "{{ x.__class__ }}",
    "{{ cycler }}", "{{ currency|upper }}", "{{ currency|attr('a') }}", "{{", "}}", "{%", "%}",
    "{{ 9 ** 9 }}", "{{ range(3) }}", "{% for a in currency %}{% endfor %}", "\n", "Because ",
])
templates = st.lists(FRAGMENTS, max_size=5).map("".join)
scalars = st.one_of(st.text(max_size=10), st.integers(-10**9, 10**9),
                    st.floats(allow_nan=False, allow_infinity=False), st.booleans())
conditions = st.one_of(
    st.fixed_dictionaries({"field": st.sampled_from([*FEATURES, "spend_30d.FOOD_AND_DRINK"]),
                           "operator": st.sampled_from(list(OPERATORS)),
                           "value": st.integers(-10**6, 10**6)}),
    st.dictionaries(st.sampled_from(["field", "operator", "value", "extra"]), scalars, max_size=4),
)
messages = st.dictionaries(
    st.sampled_from(["en", "de", "fr"]),
    st.dictionaries(st.sampled_from([*FIELDS, "colour"]), templates, min_size=3, max_size=5),
    max_size=2,
)
rules = st.fixed_dictionaries(
    {"id": st.one_of(st.sampled_from(["tip_one", "tip_two"]), st.text(max_size=8)),
     "family": st.one_of(st.sampled_from([f.value for f in ActionFamily]), st.text(max_size=5)),
     "when": st.one_of(st.lists(conditions, max_size=3), scalars),
     "messages": st.one_of(messages, scalars)},
    optional={"cooldown_days": st.one_of(st.integers(-3, 60), scalars),
              "relevance": st.one_of(st.floats(0, 1), scalars),
              "urgency": st.sampled_from(["low", "normal", "high", "now"]),
              "consent": st.sampled_from(["personalization", "marketing", "none", "x"]),
              "colour": scalars},
)

SAFE = st.sampled_from(["Hello ", "{{ currency }}", "{{ checking_balance_min_30d|money }}",
                        "{% if currency == 'EUR' %}euro{% endif %}", "Because ",
                        "{{ currency|lower|replace('u', '') }}"])
plausible = st.fixed_dictionaries(  # rules of the right shape, so that many load and run
    {"id": st.sampled_from(["tip_one", "tip_two", "tip_three"]),
     "family": st.sampled_from([f.value for f in ActionFamily]),
     "when": st.lists(st.fixed_dictionaries({
         "field": st.sampled_from(["checking_balance_min_30d", *FEATURES]),
         "operator": st.sampled_from(["equals", "not_equals", "gt", "gte", "lt", "lte"]),
         "value": st.integers(-10**5, 10**5)}),
         min_size=1, max_size=2),
     "messages": st.dictionaries(st.sampled_from(["en", "de"]), st.fixed_dictionaries(
         {f: st.lists(SAFE, max_size=3).map("".join) for f in FIELDS}), min_size=1,
         max_size=2).map(lambda m: {"en": next(iter(m.values())), **m})},
)


def _toml(value: Any) -> str:
    """A value as TOML (JSON's strings and numbers are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def _document(raw: list[dict[str, Any]]) -> str:
    return "".join(
        "[[rules]]\n" + "".join(f"{json.dumps(k)} = {_toml(v)}\n" for k, v in rule.items())
        for rule in raw
    )


def _load(text: str) -> list[Any] | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rules.toml"
        path.write_text(text, encoding="utf-8")
        try:
            loaded = load_rules(path)
        except ConfigError as exc:
            assert str(exc).startswith(str(path)), str(exc)  # names the file
            event("refused")
            return None
    event("accepted")
    return loaded


@FUZZ
@given(raw=st.one_of(st.lists(plausible, min_size=1, max_size=2),
                    st.lists(rules, min_size=1, max_size=2)))
def test_a_rules_file_loads_or_says_why(raw: list[dict[str, Any]],
                                        inputs: InsightInputs) -> None:
    loaded = _load(_document(raw))
    if loaded is None:
        return
    renderer = Renderer.default()
    for rule in loaded:
        for language, fields in rule.messages.items():
            renderer.add(rule.spec.id, language, fields)
        found = rule.detect(inputs)
        for facts in found.get_column("facts").head(3):
            for locale in ("en_GB", "de_DE"):
                renderer.render(rule.spec.id, facts, locale)


@FUZZ
@given(st.lists(st.sampled_from([*'[]="{}.,# \nrules\\', "[[rules]]\n", "id = ", "when = "]),
                max_size=30).map("".join))
def test_any_text_loads_or_says_why(text: str) -> None:
    _load(text)
