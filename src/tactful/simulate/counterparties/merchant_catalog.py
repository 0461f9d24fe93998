"""The card merchants of one world, drawn per seed: chains, independents and how they print.

Why per seed: with one fixed catalogue every simulated bank shows the same 300 chains, and an
engine whose merchant directory was written beside the simulator is scored on names it was built
from. So a world is drawn from its seed:

- **Chains** come from ``data/chains.csv`` (real chains per country, weighted roughly by
  national market share -- Kantar grocery shares for the UK, Statista/NielsenIQ elsewhere).
  Chains are regional: Publix trades in eight south-eastern US states, H-E-B in Texas, and
  Kantar's regional grocery shares differ by several points from the national ones. So each chain
  is present in a world with probability ``CHAIN_PRESENT`` and its share varies (lognormal,
  sigma ``SHARE_SIGMA``).
- **Independents** (cafés, restaurants, bars, salons, practices, pharmacies) are composed per
  seed from the name parts of ``data/merchant_names.toml``: different businesses in every
  world. About half of US restaurant locations are independents (National Restaurant
  Association), so they are a large part of the long tail.
- **Printing** follows the world's
  :class:`~tactful.simulate.exports.descriptor_style.DescriptorStyle` (facilitator prefixes,
  terminal ids, city suffixes, case, cuts at 22/25 characters).

The **unseen world** (``unseen=True``) keeps the market's shape -- the same kinds, shares, MCCs
and categories -- but every name is invented: brand words composed from syllables of the
chain's language, kind words and facilitator prefixes the engine's directory and rules do not
contain (proved by ``tests/simulate/test_unseen_merchants.py``; nothing here reads the engine).
"""

from __future__ import annotations

import csv
import tomllib
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

import numpy as np

from tactful.simulate.base.rng import Keyed
from tactful.simulate.exports.descriptor_style import DescriptorStyle, draw_style

CHAIN_PRESENT: Final = 0.85
SHARE_SIGMA: Final = 0.35
TAIL_PER_KIND: Final = 24
TAIL_WEIGHT: Final = 0.4
TAIL_KINDS: Final = ("restaurant", "coffee", "bar", "hair_beauty", "doctor", "dentist", "pharmacy")
_NO_PROCESSOR: Final = ("doctor", "dentist", "pharmacy")
LANG: Final = {"US": "en", "GB": "en", "DE": "de", "FR": "fr", "ES": "es", "NL": "nl"}


@dataclass(frozen=True, slots=True)
class Row:
    """One merchant of a world.

    ``token`` is the name as the descriptor prints it; ``{nK}`` is a K-digit store number, stable
    for a store, and ``{rK}`` a K-character reference that changes with every payment.
    """

    kind: str
    countries: tuple[str, ...]
    name: str
    token: str
    weight: float
    mcc: str = ""
    online: str = ""
    category_detailed: str = ""
    city_suffix: bool = False


@cache
def _text(name: str) -> str:
    return resources.files("tactful.simulate").joinpath(f"data/{name}").read_text("utf-8")


@cache
def chains() -> tuple[Row, ...]:
    """The real chains of ``data/chains.csv``, in file order."""
    rows = []
    for line, rec in enumerate(csv.DictReader(_text("chains.csv").splitlines()), start=2):
        try:
            rows.append(
                Row(
                    kind=rec["kind"],
                    countries=tuple(rec["countries"].split()),
                    name=rec["name"],
                    token=rec["token"],
                    weight=float(rec["weight"]),
                    mcc=rec["mcc"],
                    online=rec["online"],
                    category_detailed=rec["category_detailed"],
                )
            )
        except (KeyError, ValueError) as exc:  # a broken data file is a bug of the package
            raise ValueError(f"simulate/data/chains.csv:{line}: {exc}") from exc
    return tuple(rows)


@cache
def name_parts() -> dict[str, Any]:
    return tomllib.loads(_text("merchant_names.toml"))


def _key(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def brand_word(r: Keyed, lang: str, key: int, salt: int = 0) -> str:
    """An invented brand word of ``lang``: two syllables (a quarter three), onset + vowel each,
    and a coda at the end."""
    parts = name_parts()["unseen"][lang]
    on, vo, co = parts["onsets"], parts["vowels"], parts["codas"]
    k = np.array([key])
    i = r.integers("world.brand", 1 << 62, k, salt)[0]
    n_syl = 3 if i % 4 == 0 else 2
    i //= 4
    word = ""
    for _ in range(n_syl):
        word += on[i % len(on)] + vo[i // len(on) % len(vo)]
        i //= len(on) * len(vo)
    return word + str(co[i % len(co)])


def _chains(r: Keyed, unseen: bool, style: DescriptorStyle) -> list[Row]:
    """Chains present in this world, with their shares; renamed in the unseen world."""
    rows = chains()
    names = sorted({c.name for c in rows})
    keys = np.array([_key(n) for n in names], dtype=np.int64)
    present = dict(zip(names, r.bernoulli("world.chain", CHAIN_PRESENT, keys), strict=True))
    jitter = dict(zip(names, r.lognormal("world.share", 1.0, SHARE_SIGMA, keys), strict=True))
    lang_of: dict[str, str] = {}
    for c in rows:
        lang_of.setdefault(c.name, LANG[c.countries[0]])
    out: list[Row] = []
    # Every (country, kind) the real catalogue serves keeps at least its largest chain.
    largest: dict[tuple[str, str], int] = {}
    for i, c in enumerate(rows):
        for country in c.countries:
            j = largest.get((country, c.kind))
            if j is None or c.weight > rows[j].weight:
                largest[(country, c.kind)] = i
    keep_anyway = set(largest.values())
    for i, c in enumerate(rows):
        if not (present[c.name] or i in keep_anyway):
            continue
        weight = c.weight * float(jitter[c.name])
        if not unseen:
            out.append(
                Row(
                    c.kind,
                    c.countries,
                    c.name,
                    _printed(style, c.token),
                    weight,
                    c.mcc,
                    c.online,
                    c.category_detailed,
                )
            )
            continue
        out.append(_invented_chain(r, style, c, lang_of[c.name], weight))
    return out


def _invented_chain(r: Keyed, style: DescriptorStyle, c: Row, lang: str, weight: float) -> Row:
    key = _key(c.name)
    brand = brand_word(r, lang, key)
    kinds = name_parts()["unseen"]["kinds"][c.kind]
    word = kinds[int(r.integers("world.kindword", len(kinds), np.array([key]))[0])]
    with_kind = bool(r.bernoulli("world.withkind", 0.5, np.array([key]))[0])
    name = f"{brand} {word}" if with_kind else brand
    token = name
    if "{n" in c.token:
        token += " #{n4}" if key % 2 else " {n5}"
    elif "{r" in c.token:
        token += "*{r8}"
    elif r.bernoulli("world.term", style.terminal_id, np.array([key]))[0]:
        token += " T{n4}"
    # Online merchants print a service phone number where a shop prints its city.
    online = f"{800 + key % 100}-{key % 900 + 100}-{key % 9000 + 1000}" if c.online else ""
    return Row(
        c.kind,
        c.countries,
        name.title(),
        _printed(style, token),
        weight,
        c.mcc,
        online,
        c.category_detailed,
    )


def _printed(style: DescriptorStyle, token: str) -> str:
    """The token in the world's case; placeholders keep theirs."""
    if style.case == "upper":
        return token
    out, pos = [], 0
    while (start := token.find("{", pos)) >= 0:
        end = token.index("}", start)
        out += [token[pos:start].title(), token[start : end + 1]]
        pos = end + 1
    out.append(token[pos:].title())
    return "".join(out)


def _independents(r: Keyed, unseen: bool, style: DescriptorStyle) -> list[Row]:
    """Small businesses per country and kind, composed for this world."""
    parts = name_parts()
    rows: list[Row] = []
    for ci, (country, lang) in enumerate(LANG.items()):
        for ki, kind in enumerate(TAIL_KINDS):
            seen: set[str] = set()
            for i in range(TAIL_PER_KIND):
                key = np.array([(ci * 16 + ki) * 1000 + i])
                if unseen:
                    words = parts["unseen"]["kinds"][kind]
                    brand = brand_word(r, lang, int(key[0]), salt=7)
                    w = words[int(r.integers("world.tail.kind", len(words), key)[0])]
                    name = f"{brand} {w}" if lang == "en" else f"{w} {brand}"
                else:
                    lp = parts["independents"][lang]
                    adj, noun, sfx = lp["adjectives"], lp["nouns"], lp["kinds"][kind]
                    u = r.integers("world.tail.words", 1 << 30, key)[0]
                    a, n, s = adj[u % len(adj)], noun[u // 31 % len(noun)], sfx[u // 997 % len(sfx)]
                    if kind in _NO_PROCESSOR:
                        name = f"{s} {n}"
                    else:
                        name = f"{a} {n} {s}" if lang == "en" else f"{s} {a} {n}"
                if name in seen:
                    continue
                seen.add(name)
                token = name
                if (
                    kind not in _NO_PROCESSOR
                    and r.bernoulli("world.tail.proc", style.processor_share, key)[0]
                ):
                    procs = style.processors[country]
                    token = procs[int(r.integers("world.tail.which", len(procs), key)[0])] + name
                if r.bernoulli("world.tail.term", style.terminal_id, key)[0]:
                    token += " T{n4}"
                rows.append(
                    Row(
                        kind,
                        (country,),
                        name.title(),
                        _printed(style, token),
                        TAIL_WEIGHT,
                        city_suffix=bool(r.bernoulli("world.tail.city", style.city_suffix, key)[0]),
                    )
                )
    return rows


@cache
def world_rows(seed: int, unseen: bool = False) -> tuple[tuple[Row, ...], DescriptorStyle]:
    """Every card merchant of the world ``seed``, and how its processors print them."""
    style = draw_style(seed, unseen)
    r = Keyed(seed)
    return (*_chains(r, unseen, style), *_independents(r, unseen, style)), style
