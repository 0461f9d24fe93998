"""Turn a finding's facts into what the customer reads, in their language and with their
locale's money, number and date formats (Jinja2 templates, Babel formatting).

Each language is one TOML file in ``messages/``: per detector a ``title``, ``message``,
``call_to_action`` and ``explanation``, and a ``[categories]`` table of category labels. A
language that lacks a detector falls back to English, so a bank's own detector can ship English
first. Templates are compiled once and rendered with ``StrictUndefined``: a fact a template
names but a finding lacks is an error, never a blank in front of a customer.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
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
from jinja2 import Environment, StrictUndefined, Template, TemplateError, pass_context
from jinja2.runtime import Context

from tactful.domain.money import from_minor
from tactful.errors import ConfigError

FIELDS: Final = ("title", "message", "call_to_action", "explanation")
FALLBACK: Final = "en"


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
    loc: Locale = ctx["_locale"]
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
    return format_percent(round(float(ratio), 2), locale=ctx["_locale"])


@pass_context
def _date(ctx: Context, iso: str | date) -> str:
    """Day and month in the locale's own order and punctuation ("1. September", "September 1")."""
    day = iso if isinstance(iso, date) else date.fromisoformat(iso)
    return format_skeleton("MMMMd", day, locale=ctx["_locale"])


@pass_context
def _number(ctx: Context, value: float) -> str:
    return format_decimal(value, locale=ctx["_locale"])


@pass_context
def _category(ctx: Context, code: str) -> str:
    labels: Mapping[str, str] = ctx["_categories"]
    if code in labels:
        return labels[code]
    primary = next((p for p in sorted(labels, key=len, reverse=True) if code.startswith(p)), None)
    if primary:
        return labels[primary]
    return code.replace("_", " ").lower()


def _environment() -> Environment:
    # Messages are plain text (in-app, SMS, push), never HTML: escaping would corrupt them.
    env = Environment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False  # noqa: S701
    )
    env.filters.update(money=_money, percent=_percent, date=_date, number=_number,
                       category=_category)
    return env


@dataclass(frozen=True)
class Language:
    code: str
    templates: Mapping[str, Mapping[str, Template]]
    categories: Mapping[str, str]


def _compile(env: Environment, code: str, data: Mapping[str, Any], where: str) -> Language:
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
            templates[detector] = {f: env.from_string(str(fields[f]).strip()) for f in FIELDS}
        except TemplateError as exc:
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
        context = {**values, "_locale": _babel_locale(locale, language),
                   "_categories": lang.categories or self.languages[FALLBACK].categories}
        try:
            parts = {f: " ".join(t.render(context).split()) for f, t in
                     lang.templates[detector].items()}
        except TemplateError as exc:
            raise ConfigError(f"detector {detector!r} ({language}): {exc}") from exc
        return Rendered(language=language, **parts)


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
