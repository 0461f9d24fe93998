"""Turn a finding's facts into what the customer reads, in their language and with their
locale's money, number and date formats (Jinja2 templates, Babel formatting).

Each language is one TOML file in ``messages/``: per detector a ``title``, ``message``,
``call_to_action`` and ``explanation``, and a ``[categories]`` table of category labels. A
language that lacks a detector falls back to English, so a bank's own detector can ship English
first. Templates are compiled once and rendered with ``StrictUndefined``: a fact a template
names but a finding lacks is an error, never a blank in front of a customer.

A message is data a bank writes (a rules file, a messages file), not code: templates are
checked before they are compiled (``template_problem``) and rendered in Jinja2's immutable
sandbox with nothing in scope but the finding's facts. A template may show facts, format them
with the filters in ``FILTERS``, compare them and choose with ``if``/``else``; it may not read an
attribute or an item, call anything, name anything but a fact, loop, set, include or import.
So ``{{ cycler.__init__.__globals__.os.popen('id').read() }}`` is refused with its line, and
would find neither ``cycler`` nor ``__init__`` if it were not.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton
from babel.numbers import (
    NumberPattern,
    format_currency,
    format_decimal,
    format_percent,
    parse_pattern,
)
from jinja2 import StrictUndefined, Template, TemplateError, nodes, pass_context
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tactful.domain.money import from_minor
from tactful.errors import ConfigError

FIELDS: Final = ("title", "message", "call_to_action", "explanation")
FALLBACK: Final = "en"
FORMATS: Final = ("money", "percent", "date", "number", "category")
"""The locale-aware formatting filters (``{{ amount_minor|money }}``)."""
TEXT_FILTERS: Final = (
    "abs", "capitalize", "int", "lower", "replace", "round", "title", "trim", "upper",
)
"""Jinja2's own filters a message may use: none can lengthen a text beyond what the template
spells out (``replace`` only with a replacement no longer than what it replaces)."""
FILTERS: Final = frozenset(FORMATS + TEXT_FILTERS)
TESTS: Final = frozenset({"defined", "undefined", "none", "number", "string", "even", "odd"})
_LOCALE: Final = "@locale"
_CATEGORIES: Final = "@categories"
"""Context keys the filters read: no template can spell a name with ``@``."""


@dataclass(frozen=True, slots=True)
class Rendered:
    title: str
    message: str
    call_to_action: str
    explanation: str
    language: str


@pass_context
def _money(ctx: Context, minor: int | None, currency: str | None = None) -> str:
    """Whole amounts without decimals ("€412", "412 €"), others exact, in the locale's style."""
    code = currency or ctx["currency"]
    value = from_minor(int(minor or 0), code)
    loc: Locale = ctx[_LOCALE]
    if value == value.to_integral_value():
        return format_currency(value, code, format=_whole(loc), locale=loc,
                               currency_digits=False)
    return format_currency(value, code, locale=loc)


@cache
def _whole(loc: Locale) -> NumberPattern:
    """The locale's currency pattern without decimals, parsed once."""
    return parse_pattern(loc.currency_formats["standard"].pattern.replace(".00", ""))


@pass_context
def _percent(ctx: Context, ratio: float) -> str:
    return format_percent(round(float(ratio), 2), locale=ctx[_LOCALE])


@pass_context
def _date(ctx: Context, iso: str | date) -> str:
    """Day and month in the locale's own order and punctuation ("1. September", "September 1")."""
    day = iso if isinstance(iso, date) else date.fromisoformat(iso)
    return format_skeleton("MMMMd", day, locale=ctx[_LOCALE])


@pass_context
def _number(ctx: Context, value: float) -> str:
    return format_decimal(value, locale=ctx[_LOCALE])


@pass_context
def _category(ctx: Context, code: str) -> str:
    labels: Mapping[str, str] = ctx[_CATEGORIES]
    if code in labels:
        return labels[code]
    primary = next((p for p in sorted(labels, key=len, reverse=True) if code.startswith(p)), None)
    if primary:
        return labels[primary]
    return code.replace("_", " ").lower()


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, refusing to repeat a text (``{{ merchant * 10**9 }}``)."""

    intercepted_binops = frozenset({"*"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*" and (_sequence(left) or _sequence(right)):
            raise SecurityError("a message may not repeat a text")
        return super().call_binop(context, operator, left, right)


def _sequence(value: object) -> bool:
    return isinstance(value, str | list | tuple)


def _environment() -> _Sandbox:
    # Messages are plain text (in-app, SMS, push), never HTML: escaping would corrupt them.
    env = _Sandbox(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    env.globals.clear()  # range, dict, lipsum, cycler, joiner, namespace
    env.filters = {name: JINJA_FILTERS[name] for name in TEXT_FILTERS}
    env.filters.update(money=_money, percent=_percent, date=_date, number=_number,
                       category=_category)
    env.tests = {name: test for name, test in env.tests.items() if name in TESTS}
    return env


_ALLOWED: Final = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.CondExpr, nodes.Const,
    nodes.Tuple, nodes.List, nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not,
    nodes.Neg, nodes.Pos, nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod,
    nodes.Concat, nodes.Keyword, nodes.Name, nodes.Filter, nodes.Test,
)


def _problems(node: nodes.Node, names: frozenset[str] | None) -> list[tuple[int, str]]:
    """What ``node`` (a parsed template) does that a message may not, with the template line
    of each: a construct before what it holds (``{% for %}`` before its loop variable), an
    expression after its parts (``cycler`` before ``cycler.__init__``)."""
    children = [p for child in node.iter_child_nodes() for p in _problems(child, names)]
    own = _problem(node, names)
    if own is None:
        return children
    expression = isinstance(node, (*_ALLOWED, nodes.Getattr, nodes.Getitem, nodes.Call,
                                   nodes.Pow))
    return [*children, own] if expression else [own, *children]


def _problem(node: nodes.Node, names: frozenset[str] | None) -> tuple[int, str] | None:
    out: list[tuple[int, str]] = []
    line = getattr(node, "lineno", 1) or 1
    if isinstance(node, nodes.Getattr):
        out.append((line, f"reads the attribute {node.attr!r}: a fact is a plain value, "
                          "shown as it is or through a filter"))
    elif isinstance(node, nodes.Getitem):
        out.append((line, "reads an item ([...]): a fact is a plain value, shown as it is or "
                          "through a filter"))
    elif isinstance(node, nodes.Call):
        out.append((line, f"calls a function: a message may only apply the filters "
                          f"{', '.join(sorted(FILTERS))}"))
    elif isinstance(node, nodes.Pow):
        out.append((line, "raises to a power (**)"))
    elif not isinstance(node, _ALLOWED):
        out.append((line, f"uses {type(node).__name__.lower()}: a message may only show facts, "
                          "filter them, compare them and choose with if/else"))
    elif isinstance(node, nodes.Name):
        if node.name.startswith("_"):
            out.append((line, f"names {node.name!r}: no fact starts with _"))
        elif names is not None and node.name not in names:
            out.append((line, f"names {node.name!r}, which is not a fact of this finding "
                              f"(its facts: {', '.join(sorted(names))})"))
    elif isinstance(node, nodes.Filter) and node.name not in FILTERS:
        out.append((line, f"uses the filter {node.name!r} (filters: "
                          f"{', '.join(sorted(FILTERS))})"))
    elif isinstance(node, nodes.Test) and node.name not in TESTS:
        out.append((line, f"uses the test {node.name!r} (tests: {', '.join(sorted(TESTS))})"))
    elif isinstance(node, nodes.Filter) and node.name == "replace" and not _shrinks(node):
        out.append((line, "replace must be given two texts, the second no longer than the "
                          "first"))
    elif isinstance(node, nodes.Mul) and any(
        isinstance(side, nodes.List | nodes.Tuple)
        or (isinstance(side, nodes.Const) and _sequence(side.value))
        for side in (node.left, node.right)
    ):
        out.append((line, "repeats a text (*)"))
    return out[0] if out else None


def _shrinks(node: nodes.Filter) -> bool:
    args = node.args
    return (
        len(args) == 2 and not node.kwargs and node.dyn_args is None
        and node.dyn_kwargs is None
        and all(isinstance(a, nodes.Const) and isinstance(a.value, str) for a in args)
        and len(args[1].as_const()) <= len(args[0].as_const())
    )


def template_problem(source: str, names: Iterable[str] | None = None) -> tuple[int, str] | None:
    """The first thing ``source`` does that a message may not, with its line in the template;
    ``None`` if it is a valid message. ``names``: the facts it may show (any name but one
    starting with ``_`` when ``None``).

    >>> template_problem("Up {{ change_pct|percent }}", ["change_pct"]) is None
    True
    >>> template_problem("{{ cycler.__init__ }}", ["change_pct"])
    (1, "names 'cycler', which is not a fact of this finding (its facts: change_pct)")
    """
    try:
        tree = _ENV.parse(source)
    except TemplateError as exc:
        return getattr(exc, "lineno", None) or 1, f"is not a valid template: {exc}"
    found = _problems(tree, None if names is None else frozenset(names))
    return found[0] if found else None


def _checked(env: _Sandbox, source: str) -> Template:
    """``source`` compiled, once ``template_problem`` has nothing to say about it (parsed
    first: compiling folds constants, and ``{{ 9**9**9 }}`` would never fold)."""
    problem = template_problem(source)
    if problem is not None:
        line, why = problem
        raise ConfigError(f"line {line} of the template {why}" if line > 1 else f"template {why}")
    return env.from_string(env.parse(source))


@dataclass(frozen=True)
class Language:
    code: str
    templates: Mapping[str, Mapping[str, Template]]
    categories: Mapping[str, str]


def _compile(env: _Sandbox, code: str, data: Mapping[str, Any], where: str) -> Language:
    categories = data.get("categories", {})
    templates: dict[str, dict[str, Template]] = {}
    for detector, fields in data.items():
        if detector == "categories":
            continue
        if not isinstance(fields, dict):
            raise ConfigError(f"{where}: [{detector}] must be a table")
        missing = [f for f in FIELDS if f not in fields]
        if missing:
            raise ConfigError(f"{where}: [{detector}] lacks {', '.join(missing)}")
        try:
            templates[detector] = {f: _checked(env, str(fields[f]).strip()) for f in FIELDS}
        except (TemplateError, ConfigError) as exc:
            raise ConfigError(f"{where}: [{detector}]: {exc}") from exc
    return Language(code, templates, categories)


class Renderer:
    """Renders findings; one per process is enough (templates are compiled once)."""

    def __init__(self, languages: Mapping[str, Language]) -> None:
        if FALLBACK not in languages:
            raise ConfigError("English messages are required: every detector falls back to them")
        self.languages = dict(languages)

    @classmethod
    def default(cls, extra: Path | None = None) -> Renderer:
        """The shipped languages, plus a bank's own message file(s) in ``extra`` (a TOML file
        per language, named ``<language>.toml``) whose entries win."""
        env = _environment()
        raw: dict[str, dict[str, Any]] = {}
        for entry in resources.files("tactful.insights").joinpath("messages").iterdir():
            if entry.name.endswith(".toml"):
                raw[entry.name.removesuffix(".toml")] = tomllib.loads(entry.read_text("utf-8"))
        if extra is not None:
            paths = sorted(extra.glob("*.toml")) if extra.is_dir() else [extra]
            for path in paths:
                try:
                    data = tomllib.loads(path.read_text("utf-8"))
                except (OSError, tomllib.TOMLDecodeError) as exc:
                    raise ConfigError(f"{path}: cannot read messages: {exc}") from exc
                merged = raw.setdefault(path.stem, {})
                for key, value in data.items():
                    if key == "categories":
                        merged.setdefault("categories", {}).update(value)
                    else:
                        merged[key] = value
        return cls({code: _compile(env, code, data, f"messages/{code}.toml")
                    for code, data in raw.items()})

    def add(self, detector: str, language: str, fields: Mapping[str, str]) -> None:
        """Templates for one detector in one language (what a rules-file detector brings)."""
        env = _environment()
        lang = self.languages.get(language) or Language(language, {}, {})
        compiled = _compile(env, language, {detector: dict(fields)}, f"detector {detector!r}")
        templates = {**lang.templates, **compiled.templates}
        categories = lang.categories or self.languages[FALLBACK].categories
        self.languages[language] = Language(language, templates, categories)

    def language_of(self, locale: str, detector: str) -> str:
        language = locale.replace("-", "_").split("_")[0].lower()
        lang = self.languages.get(language)
        return language if lang is not None and detector in lang.templates else FALLBACK

    def has(self, detector: str, language: str) -> bool:
        lang = self.languages.get(language)
        return lang is not None and detector in lang.templates

    def render(self, detector: str, facts: Mapping[str, Any] | str, locale: str) -> Rendered:
        values: dict[str, Any] = json.loads(facts) if isinstance(facts, str) else dict(facts)
        language = self.language_of(locale, detector)
        lang = self.languages[language]
        if detector not in lang.templates:
            raise ConfigError(f"detector {detector!r} has no English messages")
        context = {**values, _LOCALE: _babel_locale(locale, language),
                   _CATEGORIES: lang.categories or self.languages[FALLBACK].categories}
        try:
            parts = {f: " ".join(t.render(context).split()) for f, t in
                     lang.templates[detector].items()}
        except TemplateError as exc:
            raise ConfigError(f"detector {detector!r} ({language}): {exc}") from exc
        return Rendered(language=language, **parts)


_ENV: Final = _environment()
"""Parses templates for ``template_problem`` (with the filters and tests messages may use)."""


@cache
def _babel_locale(locale: str, language: str) -> Locale:
    """The customer's locale for formatting, in the language the text is written in: English
    text for a Spanish customer formats as ``en_ES`` (euro after the amount, day before month),
    not as Spanish words inside an English sentence."""
    try:
        parsed = Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_GB")
    if parsed.language == language:
        return parsed
    try:
        return Locale.parse(f"{language}_{parsed.territory}" if parsed.territory else language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(language)
