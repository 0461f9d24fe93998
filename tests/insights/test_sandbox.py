"""A message template is data a bank writes, not code: it is checked before it is compiled,
naming the file and line of the rule that breaks the rules, and rendered in Jinja2's immutable
sandbox with nothing but the finding's facts in scope."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
from jinja2 import Environment, StrictUndefined
from typer.testing import CliRunner

import tactful.insights.detectors  # noqa: F401  (registers the shipped catalog)
from tactful.cli.app import app
from tactful.errors import ConfigError
from tactful.insights import render
from tactful.insights.catalog import Catalog
from tactful.insights.inputs import InsightInputs
from tactful.insights.render import FIELDS, Language, Renderer, template_problem
from tactful.insights.rules import load_rules
from tactful.insights.spec import detectors

EXPLOIT = "{{ cycler.__init__.__globals__.os.popen('id > pwned.txt').read() }}"

RULES = """\
# a bank's insight rules
[[rules]]
id = "savings_tip_high_balance"
family = "savings_opportunity"
when = [{ field = "checking_balance_min_30d", operator = "gte", value = 2000 }]

[rules.messages.en]
title = "Your money could work harder"
message = "Your balance stayed above {{ checking_balance_min_30d|money }}."
call_to_action = "See savings accounts"
explanation = "Because your lowest balance in 30 days was {{ checking_balance_min_30d|money }}."
"""
MESSAGE = 'message = "Your balance stayed above {{ checking_balance_min_30d|money }}."'


def _rules_with(tmp_path: Path, message: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(RULES.replace(MESSAGE, f"message = {json.dumps(message)}"))
    return path


def test_the_exploit_neither_runs_nor_passes_check_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = _rules_with(tmp_path, EXPLOIT)
    refusal = (
        f"{path}:9: rule 'savings_tip_high_balance': field 'messages.en.message': the template "
        "names 'cycler', which is not a fact of this finding (its facts: "
        "checking_balance_min_30d, currency)"
    )
    runner = CliRunner()
    for command in (["insight", "check-rules", str(path)],
                    ["insight", "run", "--rules", str(path), "--db",
                     f"sqlite:///{tmp_path / 'empty.db'}"]):
        result = runner.invoke(app, command)
        assert result.exit_code != 0, result.output
        assert str(result.exception) == refusal
    assert not (tmp_path / "pwned.txt").exists()


def test_the_sandbox_holds_even_for_a_template_that_skipped_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inputs: InsightInputs
) -> None:
    """The second line of defence: compiled straight in the sandbox, the exploit finds no
    ``cycler`` and may not read ``__init__``, for every customer the rule reaches."""
    monkeypatch.chdir(tmp_path)
    [rule] = load_rules(_rules_with(tmp_path, "{{ checking_balance_min_30d }}"))
    env = render._environment()
    english = Renderer.default().languages["en"]
    templates = {**english.templates, rule.spec.id: {
        f: env.from_string(EXPLOIT if f == "message" else "x") for f in FIELDS}}
    renderer = Renderer({"en": Language("en", templates, english.categories)})
    catalog = Catalog([rule], renderer)
    with pytest.raises(ConfigError, match="'__init__' of 'StrictUndefined' object is unsafe"):
        catalog.insights(inputs, at=datetime.now(UTC))
    assert not (tmp_path / "pwned.txt").exists()


FACTS = ("checking_balance_min_30d", "currency")
REFUSED = [
    ("{{ checking_balance_min_30d.__class__ }}",
     "reads the attribute '__class__': a fact is a plain value, shown as it is or through "
     "a filter"),
    ("{{ currency.upper }}",
     "reads the attribute 'upper': a fact is a plain value, shown as it is or through a filter"),
    ("{{ currency[0] }}",
     "reads an item ([...]): a fact is a plain value, shown as it is or through a filter"),
    ("{{ range(10) }}", "names 'range', which is not a fact of this finding "
                        "(its facts: checking_balance_min_30d, currency)"),
    ("{{ lipsum }}", "names 'lipsum', which is not a fact of this finding "
                     "(its facts: checking_balance_min_30d, currency)"),
    ("{{ _locale }}", "names '_locale': no fact starts with _"),
    ("{{ monthly_income|money }}", "names 'monthly_income', which is not a fact of this finding "
                                   "(its facts: checking_balance_min_30d, currency)"),
    ("{{ (checking_balance_min_30d|money)() }}",
     "calls a function: a message may only apply the filters abs, capitalize, category, date, "
     "int, lower, money, number, percent, replace, round, title, trim, upper"),
    ("{{ currency|attr('upper') }}",
     "uses the filter 'attr' (filters: abs, capitalize, category, date, int, lower, money, "
     "number, percent, replace, round, title, trim, upper)"),
    ("{{ currency|replace('E', 'EEEE') }}",
     "replace must be given two texts, the second no longer than the first"),
    ("{{ currency is callable }}",
     "uses the test 'callable' (tests: defined, even, none, number, odd, string, undefined)"),
    ("{{ 9 ** 9 ** 9 ** 9 }}", "raises to a power (**)"),
    ("{{ 'x' * 1000000000 }}", "repeats a text (*)"),
    ("{% for c in currency %}{{ c }}{% endfor %}",
     "uses for: a message may only show facts, filter them, compare them and choose with "
     "if/else"),
    ("{% set x = 1 %}", "uses assign: a message may only show facts, filter them, compare "
                        "them and choose with if/else"),
    ("{% include 'x' %}", "uses include: a message may only show facts, filter them, compare "
                          "them and choose with if/else"),
    ("{{ {'a': 1} }}", "uses dict: a message may only show facts, filter them, compare them "
                       "and choose with if/else"),
    ("{{ oops( }}", "is not a valid template: unexpected '}', expected ')'"),
]


@pytest.mark.parametrize(("template", "why"), REFUSED, ids=[t for t, _ in REFUSED])
def test_check_rules_refuses_what_a_message_may_not_do(
    tmp_path: Path, template: str, why: str
) -> None:
    assert template_problem(template, FACTS) == (1, why)
    path = _rules_with(tmp_path, template)
    with pytest.raises(ConfigError) as err:
        load_rules(path)
    assert str(err.value) == (
        f"{path}:9: rule 'savings_tip_high_balance': field 'messages.en.message': "
        f"the template {why}"
    )


def test_the_line_is_the_offending_rules_own(tmp_path: Path) -> None:
    second = RULES.split("\n", 1)[1].replace("savings_tip_high_balance", "second_rule")
    path = tmp_path / "rules.toml"
    path.write_text(RULES + "\n" + second.replace(
        '"Your money could work harder"', '"""Your money\ncould {{ currency.__class__ }}"""'))
    with pytest.raises(ConfigError) as err:
        load_rules(path)
    assert str(err.value).startswith(  # [[rules]] at 13, title = at 19, its second line 20
        f"{path}:20: rule 'second_rule': field 'messages.en.title': the template reads the "
        "attribute '__class__'")


ALLOWED = [
    "{{ checking_balance_min_30d|money }} in {{ currency }}",
    "{% if checking_balance_min_30d >= 100 and currency in ('EUR', 'USD') %}a{% else %}b"
    "{% endif %}",
    "{{ 's' if checking_balance_min_30d != 1 }}{{ (-checking_balance_min_30d)|abs|money }}",
    "{{ currency|lower|replace('e', '-') }} {{ checking_balance_min_30d is number }}",
    "{{ checking_balance_min_30d * 2 }} {{ currency ~ '!' }}",
]


@pytest.mark.parametrize("template", ALLOWED)
def test_what_a_message_may_do(template: str) -> None:
    assert template_problem(template, FACTS) is None


def _shipped() -> dict[str, dict[str, dict[str, str]]]:
    out = {}
    for language in ("en", "de"):
        text = resources.files("tactful.insights").joinpath(f"messages/{language}.toml")
        out[language] = {k: v for k, v in tomllib.loads(text.read_text("utf-8")).items()
                         if k != "categories"}
    return out


def test_the_shipped_messages_name_only_their_detectors_facts() -> None:
    specs = {d.spec.id: d.spec for _, d in detectors}
    for language, messages in _shipped().items():
        for detector, fields in messages.items():
            for field in FIELDS:
                problem = template_problem(fields[field], specs[detector].facts)
                assert problem is None, (language, detector, field, problem)


def _unsandboxed(renderer: Renderer) -> Renderer:
    """The shipped messages compiled as before the sandbox: a plain Jinja2 environment."""
    env = Environment(undefined=StrictUndefined, autoescape=False)
    env.filters.update(money=render._money, percent=render._percent, date=render._date,
                       number=render._number, category=render._category)
    return Renderer({
        code: Language(code, {d: {f: env.from_string(str(fields[f]).strip()) for f in FIELDS}
                              for d, fields in _shipped()[code].items()}, lang.categories)
        for code, lang in renderer.languages.items()})


def test_the_shipped_messages_render_as_they_did_without_the_sandbox(
    inputs: InsightInputs,
) -> None:
    sandboxed = Renderer.default()
    plain = _unsandboxed(sandboxed)
    found = Catalog.default().findings(inputs)
    assert found["detector"].n_unique() >= 10
    for detector, facts in found.select("detector", "facts").iter_rows():
        for locale in ("en_GB", "en_US", "de_DE", "es_ES"):
            assert sandboxed.render(detector, facts, locale) == plain.render(
                detector, facts, locale)


@pytest.mark.parametrize(
    ("cadence", "word"),
    [("weekly", "wöchentliche"), ("biweekly", "zweiwöchentliche"),
     ("four_weekly", "vierwöchentliche"), ("semi_monthly", "halbmonatliche"),
     ("monthly", "monatliche"), ("quarterly", "vierteljährliche"), ("yearly", "jährliche"),
     ("irregular", "regelmäßige")],
)
def test_the_german_cadence_reads_as_before(cadence: str, word: str) -> None:
    """The one shipped template that called a method (a dict's ``get``), now an if/elif."""
    facts = {"merchant": "Netflix", "amount_minor": 1299, "currency": "EUR", "cadence": cadence,
             "first_date": "2025-01-03", "next_date": None}
    text = Renderer.default().render("new_recurring", facts, "de_DE")
    assert text.message.startswith(f"Wir haben eine neue {word} Zahlung von 12,99")
