"""Worlds the engine has not seen: the catalogue and its printing vary by seed, and the unseen
world shares no name, word or word pair with the engine's merchant directory and rules.

The engine's data files are read as files (never imported), only here, only to prove the
disjointness; the simulator itself never reads them.
"""

from __future__ import annotations

import csv
import re
import tomllib
from datetime import date
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest

from tactful.errors import ValidationError
from tactful.simulate import SimulationConfig, simulate
from tactful.simulate.counterparties.merchant_catalog import (
    LANG,
    Row,
    chains,
    name_parts,
    world_rows,
)
from tactful.simulate.exports.descriptor_style import draw_style
from tactful.simulate.people.regions import ALL_PLACES

ENGINE_DATA = Path(__file__).resolve().parents[2] / "src" / "tactful" / "enrich" / "data"
SEEDS = (0, 1, 7, 11, 101, 2024, 99_999)


def _tokens(text: str) -> list[str]:
    """The engine's normalization of a descriptor (upper case, apostrophes dropped, everything
    but letters, digits, & and + read as a space), re-stated from its documentation."""
    clean = "".join(c if c.isalnum() or c in "&+" else " " for c in text.upper().replace("'", ""))
    return clean.split()


def _directory() -> list[list[str]]:
    with (ENGINE_DATA / "merchants.csv").open(encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return [_tokens(r["pattern"]) for r in rows if r["pattern"].strip()]


def _card_rule_conditions() -> list[tuple[str, str, str]]:
    """(operator, value, rule id) of every text condition of a rule that can fire on a card
    payment out of a checking or card account."""
    rules = tomllib.loads((ENGINE_DATA / "default_rules.toml").read_text("utf-8"))["rules"]
    out: list[tuple[str, str, str]] = []
    for rule in rules:
        conds = rule["conditions"]
        applicable = True
        for c in conds:
            values = c["value"] if isinstance(c["value"], list) else [c["value"]]
            if c["field"] == "channel" and not ({"card", "online"} & set(values)):
                applicable = False
            if c["field"] == "direction" and "out" not in values:
                applicable = False
            if c["field"] == "account_type" and not ({"checking", "credit_card"} & set(values)):
                applicable = False
        if not applicable:
            continue
        for c in conds:
            if c["field"] in ("description", "merchant_key", "counterparty"):
                values = c["value"] if isinstance(c["value"], list) else [c["value"]]
                out += [(c["operator"], v, rule["id"]) for v in values]
    return out


def _printed_texts(row: Row) -> list[str]:
    token = re.sub(r"\{[nr]\d+\}", " ", row.token)
    return [t for t in (row.name, token, row.online) if t]


def _collisions(text: str, directory: list[list[str]], words: set[str],
                pairs: set[tuple[str, str]]) -> list[str]:
    toks = _tokens(text)
    padded = f" {' '.join(toks)} "
    found = [" ".join(p) for p in directory if f" {' '.join(p)} " in padded]
    found += [t for t in toks if t in words and not re.fullmatch(r"T|\d+", t)]
    found += [f"{a} {b}" for a, b in pairwise(toks) if (a, b) in pairs]
    return found


@pytest.fixture(scope="module")
def engine_vocabulary() -> tuple[list[list[str]], set[str], set[tuple[str, str]]]:
    directory = _directory()
    words = {t for p in directory for t in p}
    pairs = {(a, b) for p in directory for a, b in pairwise(p)}
    return directory, words, pairs


@pytest.mark.parametrize("seed", SEEDS)
def test_no_unseen_name_shares_a_word_or_pair_with_the_engine_directory(
    seed: int, engine_vocabulary: tuple[list[list[str]], set[str], set[tuple[str, str]]]
) -> None:
    rows, style = world_rows(seed, unseen=True)
    bad = {
        text: hits
        for row in rows
        for text in _printed_texts(row)
        if (hits := _collisions(text, *engine_vocabulary))
    }
    for country, prefixes in style.processors.items():
        for prefix in prefixes:
            if hits := _collisions(prefix, *engine_vocabulary):
                bad[f"{country} processor {prefix!r}"] = hits
    assert bad == {}


@pytest.mark.parametrize("seed", SEEDS)
def test_no_engine_rule_fires_on_an_unseen_merchant(seed: int) -> None:
    conditions = _card_rule_conditions()
    assert {rule for _, _, rule in conditions} >= {"kind-coffee-bakery", "kind-pub"}
    rows, style = world_rows(seed, unseen=True)
    texts = [t for row in rows for t in _printed_texts(row)]
    texts += [p for prefixes in style.processors.values() for p in prefixes]
    fired = []
    for text in texts:
        key = " ".join(_tokens(text))
        for op, value, rule in conditions:
            if (op == "contains" and value.upper() in text.upper()) or (
                op == "regex" and (re.search(value, key) or re.search(value, text.upper()))
            ):
                fired.append((rule, value, text))
    assert fired == []


def test_no_engine_word_can_be_composed_by_the_unseen_name_grammar(
    engine_vocabulary: tuple[list[list[str]], set[str], set[tuple[str, str]]],
) -> None:
    """Not only the seeds tried: every brand word the syllables can make is outside the
    directory, and so is every kind word."""
    _, words, _ = engine_vocabulary
    unseen = name_parts()["unseen"]
    for lang in set(LANG.values()):
        p = unseen[lang]
        alt = lambda xs: "|".join(sorted((re.escape(x) for x in xs if x), key=len, reverse=True))  # noqa: E731
        grammar = re.compile(
            rf"(?:(?:{alt(p['onsets'])})(?:{alt(p['vowels'])})){{2,3}}(?:{alt(p['codas'])})?"
        )
        assert sorted(w for w in words if grammar.fullmatch(w)) == [], lang
    kind_words = {t for ws in unseen["kinds"].values() for w in ws for t in _tokens(w)}
    assert sorted(kind_words & words) == []


def test_the_ordinary_world_varies_by_seed() -> None:
    all_chains = {c.name for c in chains()}
    worlds = {seed: {r.name for r in world_rows(seed)[0]} for seed in SEEDS[:4]}
    chain_names = {seed: names & all_chains for seed, names in worlds.items()}
    independents = {seed: names - all_chains for seed, names in worlds.items()}
    for seed in SEEDS[:4]:
        assert 0.7 * len(all_chains) < len(chain_names[seed]) < len(all_chains)
    assert len({frozenset(v) for v in chain_names.values()}) == 4
    a, b = independents[SEEDS[0]], independents[SEEDS[1]]
    assert len(a & b) < 0.5 * len(a)
    styles = [draw_style(seed, unseen=False) for seed in range(12)]
    assert {s.truncate for s in styles} == {0, 22, 25}
    assert {s.case for s in styles} == {"upper", "title"}
    assert len({s.processors["US"] for s in styles}) > 3


def test_unseen_merchants_must_be_a_boolean() -> None:
    message = r"^unseen_merchants must be true or false, got 'yes'$"
    with pytest.raises(ValidationError, match=message):
        SimulationConfig(customers=1, months=1, unseen_merchants="yes")  # type: ignore[arg-type]


def test_an_unseen_bank_pays_only_unseen_card_merchants(tmp_path: Path) -> None:
    config = SimulationConfig(
        customers=40, months=2, seed=3, start=date(2024, 1, 1), unseen_merchants=True
    )
    simulate(config, tmp_path, "parquet")
    tx = pl.read_parquet(tmp_path / "transactions.parquet")
    truth = pl.read_parquet(tmp_path / "truth" / "transaction_truth.parquet")
    card = tx.filter(pl.col("channel").is_in(["card", "online"])).join(
        truth, on="transaction_id"
    )
    names = {r.name for r in world_rows(3, unseen=True)[0]}
    ordinary = {r.name for r in world_rows(3)[0]}
    paid = set(card["merchant"].drop_nulls())
    from_catalogue = paid & (names | ordinary)
    assert from_catalogue and from_catalogue <= names
    # and the printed descriptors carry the invented names, not the real chains'
    assert card.filter(pl.col("description").str.contains("(?i)TESCO|WALMART|REWE")).height == 0


def test_the_cli_flag_draws_the_unseen_world(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tactful.cli.app import app

    args = ["simulate", "--customers", "6", "--months", "1", "--seed", "4", "--format", "csv"]
    for flag, sub in (([], "ordinary"), (["--unseen-merchants"], "unseen")):
        result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / sub), *flag],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
    truth = {
        sub: set(pl.read_parquet(tmp_path / sub / "truth" / "transaction_truth.parquet")
                 ["merchant"].drop_nulls())
        for sub in ("ordinary", "unseen")
    }
    unseen_names = {r.name for r in world_rows(4, unseen=True)[0]}
    ordinary_names = {r.name for r in world_rows(4)[0]}
    assert truth["unseen"] & unseen_names and not truth["unseen"] & (ordinary_names - unseen_names)
    assert truth["ordinary"] & ordinary_names and not truth["ordinary"] & unseen_names


def test_a_world_prints_names_cut_at_its_network_width_and_with_the_city(tmp_path: Path) -> None:
    """Seed 1's world cuts card merchant names at 22 characters (Mastercard's field) and its
    processors append the city to most independents."""
    style = draw_style(1, unseen=False)
    assert (style.truncate, style.case, style.city_suffix) == (22, "upper", 0.8)
    simulate(SimulationConfig(customers=60, months=2, seed=1, start=date(2024, 1, 1)), tmp_path,
             "parquet")
    tx = pl.read_parquet(tmp_path / "transactions.parquet").join(
        pl.read_parquet(tmp_path / "truth" / "transaction_truth.parquet"), on="transaction_id")
    rows = {r.name: r for r in world_rows(1)[0]}
    cities = {p.city for p in ALL_PLACES}
    long_names = cut = with_city = independents = 0
    for name, description in tx.filter(pl.col("channel") == "card").select(
            "merchant", "description").iter_rows():
        row = rows.get(name)
        if row is None:
            continue
        printed = re.sub(r"\{[nr]\d+\}.*", "", row.token).upper()
        if len(printed) > 22:
            long_names += 1
            cut += printed[:22].rstrip() in description and printed not in description
        if row.city_suffix:
            independents += 1
            after = description.split(printed[:22].rstrip(), 1)[-1]
            with_city += any(after.startswith(f" {city}") for city in cities)
    assert long_names > 20 and cut == long_names
    assert independents > 20 and with_city == independents
