"""Categories from the words of a descriptor: "Stadtapotheke", "Tankstelle", "airtime", "farmacia".

A merchant the directory has never heard of usually says what it is: a pharmacy is an
*Apotheke*, a *farmacia*, an *apteka*; a petrol station a *Tankstelle* or a *gasolinera*; a phone
top-up is *airtime*, *prepaid*, *recarga*, *Guthaben*. The lexicon holds those words per
language, mapped to the engine's taxonomy, in two data files:

* ``data/category_lexicon.csv`` -- written for this project: ``term, language,
  category_detailed, match, direction``. ``match`` is ``word`` (whole words of the cleaned
  descriptor) or ``part`` (anywhere inside a word: German and Dutch compounds);
  ``direction`` is ``out``, ``in`` or ``any`` (``SALARY`` names income only when money comes in,
  ``INTEREST`` a charge when it goes out);
* ``data/mcc_terms.csv`` -- the words that, in the public descriptions of the ISO 18245 merchant
  category codes, belong to one category only (``PHARMACIES``, ``TAXICABS``, ``TAVERNS``), each
  with the codes it came from. Hand-written terms win over these;
* ``data/wordnet_terms.csv`` -- the long tail of English words for kinds of shops, food places
  and clothes that WordNet 3.0 files under a sense named for a category ("dispensary",
  "provisions", "chophouse", "haberdashery"), kept only when every sense of the word lies in
  that one category (``tools/make_wordnet_terms.py``). Both files above win over these.

Trade names glue a kind of business to a generic word ("BURGERHOUSE", "FUELSTOP", "BUCHLADEN"),
and card networks' narrow name fields squeeze the space out of "COFFEE HOUSE". So every one-word
term of four letters or more also matches as the head of such a compound: the term followed by
one of ``TRADE_SUFFIXES`` (the generic word names no kind of business; the head alone decides).
A term written out in the lexicon ("GAMESTOP", "COFFEEHOUSE") wins over a compound. The same
squeeze turns a term of several words into one ("HEALTH CENTRE" reads "HEALTHCENTRE"), and a term
whose last word is one of those generic words lends its head to them all ("ONLINE SHOP" makes
"ONLINE" a head: "ONLINESTORE", "ONLINEHUB").

Last, and only where no term matched anywhere in the text, the word pieces: a word that *begins*
with a one-word term of ``PIECE_MIN_HEAD`` letters or more (or its singular: "SNACKS" gives
"SNACK"), or with the head of a term written with its generic word ("GAME STORE"), and ends in
a generic word of ``PIECE_TAILS`` is read as that term ("TRANSITCARD", "SNACKBOX"); a card
network's narrow name field may have cut that generic word to its first three letters or more
("BURGERHOU", "GAMESTOR"), unless the cut is a word of its own ("PAPERWORK"). Any other rest is
a word of its own that makes another word of the term, which the head alone does not decide:
"POWERBALL" is a lottery, "WATERFALL" and "WATERFRONT" are places, "VATTENFALL" sells
electricity, "MARKETING" is not a market and "BURGERMEISTER" is a mayor.

The leftmost term of the text wins and, at one position, the longest ("NAIL BAR" before "NAIL",
"KREDITKARTE" before "KREDIT"), so the merchant's own first words decide. Every match keeps its
reason (``lexicon:de:APOTHEKE`` or ``mcc-term:PHARMACIES (5122 5912)``), which ``categorize``
writes as the rule id.

>>> Lexicon.default().lookup("STADTAPOTHEKE KOELN", credit=False)
('MEDICAL_PHARMACIES_AND_SUPPLEMENTS', 'lexicon:de:APOTHEKE')
>>> Lexicon.default().lookup("BLUE DOOR BAKERY", credit=False)[0]
'FOOD_AND_DRINK_COFFEE'
>>> Lexicon.default().lookup("KLOOF BURGERHOUSE", credit=False)
('FOOD_AND_DRINK_FAST_FOOD', 'lexicon:en:BURGER+HOUSE')
>>> Lexicon.default().lookup("ZORBLAX TRANSITCARD", credit=False)
('TRANSPORTATION_PUBLIC_TRANSIT', 'lexicon:en:TRANSIT+piece')
>>> Lexicon.default().lookup("POWERBALL", credit=False) is None
True
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Final

import polars as pl

from tactful.enrich.taxonomy import DETAILED, primary_of
from tactful.errors import ConfigError

__all__ = [
    "CUT_MARK", "NAME_FIELD_WIDTHS", "PIECE_MIN_HEAD", "PIECE_TAILS", "TRADE_SUFFIXES", "Lexicon",
    "Term", "keyed_text", "keyed_text_expr", "lexicon_match",
]

_MATCHES: Final = frozenset({"word", "part"})
_PY_NOT_WORD: Final = re.compile(r"(?:[^\w&+]|_)+")
_DIRECTIONS: Final = frozenset({"in", "out", "any"})
TRADE_SUFFIXES: Final = (
    "SHOP", "SHOPPE", "HOUSE", "STORE", "STOP", "HUB", "BAR", "WORKS", "WORLD", "EXPRESS",
    "POINT", "PLACE", "CORNER", "DEPOT", "MART", "PLUS", "CENTRE", "CENTER", "PASS",
    "HAUS", "LADEN", "ECKE", "HUIS", "WINKEL",
)
"""Generic words a trade name glues after the kind of business (English, German, Dutch)."""
_MIN_HEAD: Final = 4
"""Shorter heads (BAR, INN, SPA) begin too many unrelated words to be read inside one."""
PIECE_MIN_HEAD: Final = 5
"""A one-word term read as a word piece is at least this long: a brand word or an ordinary word
rarely begins with five letters that make a kind word by chance (the head of a term written
with its generic word, "GAME STORE", was written as a kind word and may be shorter)."""
PIECE_TAILS: Final = (*TRADE_SUFFIXES, "CARD", "BOX")
"""The words a word piece may be followed by: the trade suffixes, and what a trade name sells
through rather than what it sells. Generic words only: one that names a thing or a place
("BALL", "FALL", "FRONT") makes another word of the term, and one that says how the business is
reached or paid ("WEB", "NET", "PAY") another kind of business ("MARKETWEB" is an online
marketplace, "MOBILEPAY" a payment app)."""
_PIECE_CUT: Final = 3
"""A name field cut short keeps at least this many letters of a piece's generic word
("BURGERHOU"); fewer would let too many words end in one."""
NAME_FIELD_WIDTHS: Final = (22, 25)
"""The widths of the card networks' merchant-name fields (ISO 8583 field 43: Mastercard prints 22
characters of the name, Visa 25): a merchant name of exactly this length was probably cut."""
CUT_MARK: Final = "NAMEFIELDCUT"
"""The token ``keyed_text`` puts after a merchant name of a ``NAME_FIELD_WIDTHS`` length; only
a word before it is read as a cut term."""
CUT_MIN_WORD: Final = 6
"""A cut term keeps at least this many letters: "GREENGROC" is a greengrocer; "PHARM", "GROC"
begin too many other words."""
CUT_MAX_LOST: Final = 4
"""And loses at most this many: the field cuts the end of the name, and a word that keeps most
of its letters keeps one reading."""
_WORD_CUTS: Final = frozenset({"CAR", "CENT", "CORN", "LAD", "LADE", "MAR", "WIN", "WINK", "WORK"})
"""The cuts of ``PIECE_TAILS`` that are words of their own: they make other words as any word
does ("PAPERWORK", "SIDECAR", "PEPPERCORN"), so they never stand for the word they begin."""


@dataclass(frozen=True, slots=True)
class Term:
    """One word or phrase and the category it names."""

    term: str
    category_detailed: str
    language: str = "multi"
    match: str = "word"
    direction: str = "any"
    reason: str = ""

    def __post_init__(self) -> None:
        if not _normal(self.term):
            raise ConfigError(f"lexicon term {self.term!r}: empty after normalization")
        if self.category_detailed not in DETAILED:
            raise ConfigError(
                f"lexicon term {self.term!r}: category {self.category_detailed!r} is not in "
                "the taxonomy"
            )
        if self.match not in _MATCHES:
            raise ConfigError(f"lexicon term {self.term!r}: match {self.match!r} is not word/part")
        if self.direction not in _DIRECTIONS:
            raise ConfigError(
                f"lexicon term {self.term!r}: direction {self.direction!r} is not in/out/any"
            )


def _normal(text: str) -> str:
    """Upper case, apostrophes dropped, anything but letters, digits, ``&`` and ``+`` a space:
    the form ``descriptor.clean_expr`` gives the text."""
    out = "".join(c if c.isalnum() or c in "&+" else " " for c in text.upper().replace("'", ""))
    return " ".join(out.split())


@dataclass(frozen=True)
class Lexicon:
    """Ordered terms (the first of two equal terms wins); ``extended`` puts a bank's own first."""

    terms: tuple[Term, ...]
    _tables: dict[bool, tuple[list[str], pl.DataFrame]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _lookups: dict[bool, _Matcher] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _pieces: dict[bool, tuple[dict[str, tuple[str, str]], str]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    @classmethod
    def default(cls) -> Lexicon:
        """The shipped multilingual lexicon, then the MCC-description terms."""
        return _default()

    @classmethod
    def from_csv(cls, path: Path | str) -> Lexicon:
        """A bank's own ``term, language, category_detailed, match, direction`` file."""
        with Path(path).open(newline="", encoding="utf-8") as handle:
            return cls(tuple(_read_terms(handle, str(path))))

    @classmethod
    def from_records(cls, records: Iterable[tuple[str, str]]) -> Lexicon:
        """(term, category_detailed) pairs, whole words, either direction."""
        return cls(tuple(Term(t, c, reason=f"lexicon:bank:{_normal(t)}") for t, c in records))

    def extended(self, other: Lexicon) -> Lexicon:
        return Lexicon(other.terms + self.terms)

    def table(self, *, credit: bool) -> tuple[list[str], pl.DataFrame]:
        """The patterns for rows of one direction, longest first, and pattern -> category,
        reason."""
        hit = self._tables.get(credit)
        if hit is not None:
            return hit
        wanted = "in" if credit else "out"
        chosen: dict[str, tuple[str, str]] = {}
        heads: list[tuple[str, str, str]] = []
        squeezed: list[tuple[str, str, str]] = []
        for t in self.terms:
            if t.direction not in (wanted, "any"):
                continue
            text = _normal(t.term)
            pattern = f" {text} " if t.match == "word" else text
            if pattern not in chosen:
                chosen[pattern] = (t.category_detailed, t.reason)
                if t.match == "word" and len(text) >= _MIN_HEAD and text.isalpha():
                    heads.append((text, t.category_detailed, t.reason))
            words = text.split(" ")
            if t.match == "word" and len(words) > 1 and all(w.isalpha() for w in words):
                squeezed.append(("".join(words), t.category_detailed, t.reason))
                if words[-1] in TRADE_SUFFIXES and len("".join(words[:-1])) >= 3:
                    heads.append(("".join(words[:-1]), t.category_detailed, t.reason))
        for text, category, reason in squeezed:
            chosen.setdefault(f" {text} ", (category, reason))
        for text, category, reason in heads:
            for suffix in TRADE_SUFFIXES:
                chosen.setdefault(f" {text}{suffix} ", (category, f"{reason}+{suffix}"))
        patterns = sorted(chosen, key=len, reverse=True)
        frame = pl.DataFrame(
            {
                "__lex_pattern": patterns,
                "__lex_category": [chosen[p][0] for p in patterns],
                "__lex_reason": [chosen[p][1] for p in patterns],
            },
            schema={
                "__lex_pattern": pl.String,
                "__lex_category": pl.String,
                "__lex_reason": pl.String,
            },
        )
        self._tables[credit] = (patterns, frame)
        return patterns, frame

    def pieces(self, *, credit: bool) -> tuple[dict[str, tuple[str, str]], str]:
        """The word pieces for rows of one direction: head or cut word -> (category, reason),
        and the regex over the padded tokens whose first group is the head of the leftmost word
        that is a head and a generic word or its cut (longest head first at a position), and
        whose second group is that word when it is instead a cut term (``_cut_terms``)."""
        hit = self._pieces.get(credit)
        if hit is not None:
            return hit
        wanted = "in" if credit else "out"
        heads: dict[str, tuple[str, str]] = {}
        for t in self.terms:
            text = _normal(t.term)
            if t.direction not in (wanted, "any") or t.match != "word":
                continue
            words = text.split(" ")
            if not all(w.isalpha() for w in words):
                continue
            reason = (t.category_detailed, f"{t.reason}+piece")
            if len(words) > 1:
                # a term written with its generic word ("GAME STORE") cut short ("GAMESTOR")
                head = "".join(words[:-1])
                if words[-1] in TRADE_SUFFIXES and len(head) >= 3:
                    heads.setdefault(head, reason)
                continue
            for head in (text, text[:-1] if text.endswith("S") else ""):
                if len(head) >= PIECE_MIN_HEAD:
                    heads.setdefault(head, reason)
        cuts = {
            cut: reason for cut, reason in _cut_terms(self.terms, wanted).items()
            if cut not in heads
        }
        alternation = "|".join(sorted(heads, key=lambda h: (-len(h), h)))
        rests = "|".join(sorted(_piece_rests(), key=lambda r: (-len(r), r)))
        cut_words = "|".join(sorted(cuts, key=lambda c: (-len(c), c)))
        # an alternative that can never match (a boundary that is none) keeps both groups
        # when one side is empty
        never = r"\b\B"
        regex = rf" (?:({alternation or never})(?:{rests})|({cut_words or never}) {CUT_MARK}) "
        if not heads and not cuts:
            regex = ""
        found = {**heads, **cuts}
        self._pieces[credit] = (found, regex)
        return found, regex

    def match_one(self, text: str, *, credit: bool) -> tuple[str, str] | None:
        """``lexicon_match`` of one text in plain Python: the same leftmost, then longest,
        pattern (for ``merchants.plain_text`` text, where ``re`` and Polars agree)."""
        matcher = self._lookups.get(credit)
        if matcher is None:
            matcher = _matcher(self.terms, credit)
            self._lookups[credit] = matcher
        found, starts, single = matcher
        tokens = " " + _PY_NOT_WORD.sub(" ", text.upper().replace("'", "")).strip() + " "
        size = len(tokens)
        get = found.get
        for i in range(size):
            for length in starts.get(tokens[i : i + 2], ()):
                if i + length <= size:
                    entry = get(tokens[i : i + length])
                    if entry is not None:
                        return entry
            if single:
                entry = get(tokens[i])
                if entry is not None:
                    return entry
        return self._piece_one(tokens, credit=credit)

    def _piece_one(self, tokens: str, *, credit: bool) -> tuple[str, str] | None:
        """The word-piece fallback of ``match_one`` on its padded tokens: what the pieces'
        regex finds (the leftmost word that is a head and a generic word or its cut, the
        longest head first), by dictionary look-ups of the prefixes a word can have."""
        heads, regex = self.pieces(credit=credit)
        if not regex:
            return None
        rests = _piece_rests()
        words = tokens.split()
        for i, word in enumerate(words):
            for cut in range(len(word) - _PIECE_CUT, 0, -1):
                if word[:cut] in heads and word[cut:] in rests:
                    return heads[word[:cut]]
            entry = heads.get(word)
            if (
                entry is not None
                and entry[1].endswith("+cut")
                and i + 1 < len(words)
                and words[i + 1] == CUT_MARK
            ):
                return entry
        return None

    def lookup(self, text: str, *, credit: bool) -> tuple[str, str] | None:
        """(category, reason) of one cleaned text, or ``None``."""
        frame = pl.DataFrame({"text": [text], "credit": [credit]})
        row = lexicon_match(frame, pl.col("text"), pl.col("credit"), self).row(0)
        return (row[0], row[1]) if row[0] is not None else None


def lexicon_match(
    frame: pl.DataFrame, text: pl.Expr, credit: pl.Expr, lexicon: Lexicon
) -> pl.DataFrame:
    """``__lex_category`` and ``__lex_reason`` of each row of ``frame`` (nulls when no term
    matches), from the cleaned ``text`` and whether the row is a ``credit``."""
    tokens = (
        pl.lit(" ")
        + text.fill_null("")
        .str.to_uppercase()
        .str.replace_all("'", "", literal=True)
        .str.replace_all(r"[^\p{L}\p{N}&+]+", " ")
        .str.strip_chars()
        + pl.lit(" ")
    )
    work = frame.select(tokens.alias("__lex_tokens"), credit.fill_null(False).alias("__lex_credit"))
    parts = []
    for is_credit in (False, True):
        patterns, table = lexicon.table(credit=is_credit)
        hit = (
            pl.col("__lex_tokens")
            .str.extract_many(patterns, overlapping=False, leftmost=True)
            .list.first()
            if patterns
            else pl.lit(None, dtype=pl.String)
        )
        side = work.with_columns(hit.alias("__lex_pattern")).join(
            table, on="__lex_pattern", how="left", maintain_order="left"
        )
        parts.append(_with_pieces(side, lexicon, credit=is_credit))
    debit, credit_side = parts
    credit_rows = work.get_column("__lex_credit")
    return pl.DataFrame(
        {
            "__lex_category": pl.select(
                pl.when(credit_rows)
                .then(credit_side.get_column("__lex_category"))
                .otherwise(debit.get_column("__lex_category"))
            ).to_series(),
            "__lex_reason": pl.select(
                pl.when(credit_rows)
                .then(credit_side.get_column("__lex_reason"))
                .otherwise(debit.get_column("__lex_reason"))
            ).to_series(),
        }
    )


def _with_pieces(side: pl.DataFrame, lexicon: Lexicon, *, credit: bool) -> pl.DataFrame:
    """``__lex_category`` / ``__lex_reason`` of ``side``, the word pieces filling the rows no
    term matched."""
    heads, regex = lexicon.pieces(credit=credit)
    out = side.select("__lex_category", "__lex_reason")
    if not regex:
        return out
    missing = side.get_column("__lex_category").is_null()
    if not missing.any():
        return out
    tokens = pl.col("__lex_tokens")
    found = side.select(
        pl.when(pl.Series(missing))
        .then(pl.coalesce(tokens.str.extract(regex, 1), tokens.str.extract(regex, 2)))
        .alias("__head")
    )
    table = pl.DataFrame(
        {
            "__head": list(heads),
            "__piece_category": [v[0] for v in heads.values()],
            "__piece_reason": [v[1] for v in heads.values()],
        },
        schema={"__head": pl.String, "__piece_category": pl.String, "__piece_reason": pl.String},
    )
    joined = found.join(table, on="__head", how="left", maintain_order="left")
    return out.with_columns(
        pl.coalesce(out.get_column("__lex_category"), joined.get_column("__piece_category")),
        pl.coalesce(out.get_column("__lex_reason"), joined.get_column("__piece_reason")),
    )


_Matcher = tuple[dict[str, tuple[str, str]], dict[str, tuple[int, ...]], bool]
"""pattern -> (category, reason); the lengths (longest first) of the patterns of two characters
or more by their first two, so a position of the text is tried only against the patterns that
can start there; and whether any pattern is one character long (tried last at a position)."""


@lru_cache(maxsize=8)
def _matcher(terms: tuple[Term, ...], credit: bool) -> _Matcher:
    """``match_one``'s tables, built once per process for one lexicon's content (a bank's
    lexicon rebuilt from the same terms reuses them)."""
    patterns, table = Lexicon(terms).table(credit=credit)
    found = {
        p: (str(c), str(r))
        for p, c, r in zip(
            patterns,
            table.get_column("__lex_category").to_list(),
            table.get_column("__lex_reason").to_list(),
            strict=True,
        )
    }
    lengths: dict[str, set[int]] = {}
    for p in patterns:
        if len(p) > 1:
            lengths.setdefault(p[:2], set()).add(len(p))
    single = any(len(p) == 1 for p in patterns)
    return found, {k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}, single


def keyed_text(key: str | None, cleaned: str) -> str:
    """What the lexicon reads of one row: the merchant key (``CUT_MARK`` after it when it fills
    a card network's name field), then the descriptor's cleaned words."""
    if key is not None and len(key) in NAME_FIELD_WIDTHS:
        return f"{key} {CUT_MARK} {cleaned}"
    return f"{key or ''} {cleaned}"


def keyed_text_expr(key: pl.Expr, cleaned: pl.Expr) -> pl.Expr:
    """``keyed_text`` over a frame."""
    mark = (
        pl.when(key.str.len_chars().is_in(list(NAME_FIELD_WIDTHS)))
        .then(pl.lit(f" {CUT_MARK}"))
        .otherwise(pl.lit(""))
    )
    return pl.concat_str([key.fill_null(""), mark, pl.lit(" "), cleaned])


@lru_cache(maxsize=16)
def _cut_terms(terms: tuple[Term, ...], wanted: str) -> dict[str, tuple[str, str]]:
    """Words a card network's narrow name field made of a one-word term by cutting its end
    ("GREENGROC", "DISPENSAR"): each prefix of a whole-word term of ``CUT_MIN_WORD`` letters or
    more that keeps all but at most ``CUT_MAX_LOST`` of its letters -> the first such term's
    (category, reason + ``+cut``). A prefix that is a term itself, or that begins terms of two
    primary categories, is left out: the cut must leave one reading. They are read only as the
    last word of a merchant name that fills the name field (``keyed_text``): elsewhere
    "INTERN" or "CREDIT" is a word of its own, not a cut "INTERNET" or "CREDITOR"."""
    full: set[str] = set()
    found: dict[str, list[tuple[str, str]]] = {}
    for t in terms:
        text = _normal(t.term)
        full.add(text)
        if t.match != "word" or t.direction not in (wanted, "any") or not text.isalpha():
            continue
        for size in range(max(CUT_MIN_WORD, len(text) - CUT_MAX_LOST), len(text)):
            found.setdefault(text[:size], []).append((t.category_detailed, f"{t.reason}+cut"))
    out: dict[str, tuple[str, str]] = {}
    for cut, readings in found.items():
        if cut in full or len({primary_of(c) for c, _ in readings}) != 1:
            continue
        out[cut] = readings[0]
    return out


@cache
def _piece_rests() -> frozenset[str]:
    """What may follow a word piece: a word of ``PIECE_TAILS``, or its first ``_PIECE_CUT``
    letters or more when they are no word of their own."""
    cuts = {tail[:size] for tail in PIECE_TAILS for size in range(_PIECE_CUT, len(tail))}
    return frozenset(PIECE_TAILS) | (cuts - _WORD_CUTS)


def _read_terms(lines: Iterable[str], where: str) -> list[Term]:
    out = []
    for number, row in enumerate(csv.DictReader(lines), start=2):
        term = (row.get("term") or "").strip()
        if not term or term.startswith("#"):
            continue
        language = (row.get("language") or "multi").strip() or "multi"
        try:
            out.append(
                Term(
                    term,
                    (row.get("category_detailed") or "").strip(),
                    language,
                    (row.get("match") or "word").strip() or "word",
                    (row.get("direction") or "any").strip() or "any",
                    reason=f"lexicon:{language}:{_normal(term)}",
                )
            )
        except ConfigError as exc:
            raise ConfigError(f"{where}:{number}: {exc}") from None
    return out


def _read_derived_terms(
    lines: Iterable[str], where: str, reason: Callable[[str, dict[str, str]], str]
) -> list[Term]:
    """English whole-word terms of a file derived from a public source (``term,
    category_detailed`` and the source's own columns), each with the ``reason`` its row gives."""
    out = []
    for number, row in enumerate(csv.DictReader(lines), start=2):
        term = (row.get("term") or "").strip()
        if not term or term.startswith("#"):
            continue
        try:
            out.append(
                Term(
                    term,
                    (row.get("category_detailed") or "").strip(),
                    "en",
                    reason=reason(term, row),
                )
            )
        except ConfigError as exc:
            raise ConfigError(f"{where}:{number}: {exc}") from None
    return out


def _mcc_reason(term: str, row: dict[str, str]) -> str:
    return f"mcc-term:{term} ({(row.get('mcc') or '').strip()})"


def _wordnet_reason(term: str, row: dict[str, str]) -> str:
    return f"wordnet:{(row.get('root') or '').strip()}:{term}"


@cache
def _default() -> Lexicon:
    data = resources.files("tactful.enrich").joinpath("data")
    hand = _read_terms(
        data.joinpath("category_lexicon.csv").read_text("utf-8").splitlines(),
        "category_lexicon.csv",
    )
    derived = [
        term
        for name, reason in (("mcc_terms.csv", _mcc_reason), ("wordnet_terms.csv", _wordnet_reason))
        for term in _read_derived_terms(
            data.joinpath(name).read_text("utf-8").splitlines(), name, reason
        )
    ]
    return Lexicon(tuple(hand + derived))
