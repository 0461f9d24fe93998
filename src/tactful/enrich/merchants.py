"""Merchant normalization: a bank's raw descriptor -> a canonical merchant and a grouping key.

Card descriptors carry a lot besides the merchant: the bank's own boilerplate ("PURCHASE
AUTHORIZED ON 09/08 ... CARD 6241", "CARTE X9479 20/08", German "//City/DE <timestamp> KFN 1 VJ
2806"), the payment processor ("SQ *", "SUMUP *", "PAYPAL *"), store numbers, references, city and
state. ``normalize`` strips them in a fixed order of vectorized Polars string expressions, then
looks the remainder up in an alias directory of well-known brands (``data/merchants.csv``). When
the bank gives a counterparty (direct debits, transfers) it is preferred over the descriptor.

Speed: descriptors differ mostly in their digits (dates, times, references), so digit runs are
collapsed first and the rest of the work runs once per distinct collapsed descriptor, then joined
back; a million rows cost about the same as their ~100k distinct shapes.

Alias patterns are literal phrases matched on whole words of the cleaned descriptor (upper case,
apostrophes dropped, punctuation other than ``&`` and ``+`` read as a space), with Aho-Corasick;
the leftmost match wins and, at the same position, the longest pattern.

>>> normalize_one("PURCHASE AUTHORIZED ON 09/08 STARBUCKS STORE 16310 HOUSTON TX S7241", None)
('Starbucks', 'STARBUCKS')
>>> normalize_one("CARD 1274 SILVER TABLE SUSHI LONDON GB", None)
('Silver Table Sushi', 'SILVER TABLE SUSHI')
"""

from __future__ import annotations

import csv
import operator
import re
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, reduce
from importlib import resources
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import polars as pl

from tactful.enrich.taxonomy import DETAILED
from tactful.errors import ConfigError

__all__ = ["Alias", "MerchantAliases", "merchant_key_expr", "normalize", "normalize_one"]

NO_MERCHANT_CHANNELS: Final = ("atm", "fee", "interest")
"""Rows of these channels never have a merchant (the bank itself is the counterparty)."""
COUNTERPARTY_CHANNELS: Final = ("transfer", "standing_order", "direct_debit", "other")
"""Rows of these channels have a merchant only when the bank names a counterparty."""

_BANK_BOILERPLATE: Final[tuple[tuple[str, str], ...]] = (
    # Wells Fargo / US banks
    (
        r"^(?:RECURRING )?(?:PURCHASE|PURCHASE INTL|PURCHASE RETURN|MONEY TRANSFER) (?:INTL )?"
        r"AUTHORI[SZ]ED ON \d+/\d+ ",
        "",
    ),
    (
        r"^(?:CARD PURCHASE|POS PURCHASE|POS DEBIT|DEBIT CARD PURCHASE|DBT CRD \d+)(?: WITH PIN)?"
        r" \d+/\d+ ",
        "",
    ),
    (r" S\d+ CARD \d+$", ""),
    (r" CARD \d+$", ""),
    # UK (Barclays / HSBC / Lloyds / Monzo / Revolut exports)
    (r"^CARD \d+ ", ""),
    (r"^(?:CARD PAYMENT TO|CARD PAYMENT|CONTACTLESS PAYMENT TO|VIS|DEB|CPT|POS) ", ""),
    (r" ON \d+[-/ ]?\w* ?\d*$", ""),
    # French (BNP, Societe Generale, Credit Agricole)
    (r"^(?:CARTE|CB) X?\d+ \d+/\d+ ", ""),
    (r"^PAIEMENT (?:PAR )?CARTE (?:X\d+ )?(?:\d+/\d+ )?", ""),
    # Spanish (Santander, BBVA, CaixaBank): merchant-CITY
    (r"^(?:COMPRA TARJ\.?|COMPRA TARJETA|COMPRA EN|PAGO CON TARJETA) \S+ (.*?)(?:-[^-]*)?$", "$1"),
    # German (Sparkasse, Deutsche Bank, Commerzbank): MERCHANT//City/DE timestamp KFN ...
    (r"^(.*?)//.*$", "$1"),
    (r"^(?:KARTENZAHLUNG|GIROCARD|EC-KARTE|ELV\d*|EC) ", ""),
    # Dutch (ING, ABN AMRO, Rabobank): BEA, Betaalpas MERCHANT,PAS123 ...
    (r"^[BG]EA, BETAALPAS (.*?),PAS.*$", "$1"),
    # Direct debits, credit transfers: scheme words and references
    (
        r"^(?:SEPA[- ]LASTSCHRIFT|LASTSCHRIFT|SEPA[- ]BASISLASTSCHRIFT"
        r"|DIRECT DEBIT(?: PAYMENT)?(?: TO)?"
        r"|DD|PRLV SEPA|PRELEVEMENT|SEPA INCASSO(?: ALGEMEEN DOORLOPEND)?|INCASSO|RECIBO|ADEUDO"
        r"|DOMICILIACION|BILL PAYMENT(?: TO)?|BGC|BACS|FASTER PAYMENTS?(?: (?:FROM|TO))?|FPI|FPO"
        r"|STANDING ORDER(?: TO)?|VIR(?: SEPA)?(?: RECU| EMIS)?(?: DE)?|GUTSCHRIFT|UEBERWEISUNG"
        r"|OVERBOEKING (?:VAN|NAAR)|ACH (?:CREDIT|DEBIT)|ZELLE PAYMENT (?:TO|FROM)|ABONO"
        r"|TRANSFERENCIA (?:DE|A)|BONIFICO(?: DA| A)?|ADDEBITO SDD) ",
        "",
    ),
    (r" (?:WEB PMTS |EDI PAYMNTS |PAYROLL |ONLINE PMT |BILL PAY )?PPD ID: ?\S*$", ""),
    (
        r" (?:VERTRAG|MANDAT|MANDATE|MANDATSREF|REF|REFERENCE|KENMERK|N RECIBO|CONF#|INV|EREF|KREF"
        r"|PERS\.NR\.|AUSZAHLUNG|ECHEANCE)\b.*$",
        "",
    ),
)

_PROCESSOR_PREFIX: Final = (
    r"^(?:SQ ?\*|SQU\*|TST\* ?|PAYPAL ?\*|PP\*|ZETTLE_?\*|IZ ?\*|IZETTLE ?\*|CLOVER |SUMUP ?\*"
    r"|SUM ?UP\*|GOOGLE ?\*|APPLE PAY |APL\* ?|PY \*|SP \*|CKE\*|DNH\*|WPY\*|EB \*|FS \*|LS \*"
    r"|CRV\*|YOCO ?\*|SNAPSCAN ?\*|ZAPPER ?\*|PAYU ?\*|PAYFAST ?\*|MOLLIE ?\*|STRIPE ?\*"
    r"|ADYEN ?\*|KLARNA ?\*)\s*"
)
"""Processors and wallets in front of the merchant (also in ``data/descriptors.csv``, which
reads descriptors without a channel)."""

_UNKNOWN_PROCESSOR: Final = r"^[A-Z]{2,4} ?[*#] ?([A-Z]{3,})"
"""A processor the list above does not know: a code of two to four letters, a star (or a hash)
and a name ("WJWB *BLUE DOOR", "RKMH# CORNER CAFE"). Without this every merchant behind it would
share the code as its key; a brand that prints an item after its own name and a star
("AMAZON.COM*2K3", "NETFLIX*SUB") is longer or is in the directory."""

_LEGAL_SUFFIX: Final = (
    r"(?:\s+(?:GMBH & CO\.? KG|GMBH|MBH|AG|KG|LTD|LIMITED|PLC|INC|LLC|LLP|CORP|CORPORATION|CO"
    r"|BV|B\.V\.|NV|N\.V\.|SA|S\.A\.|SAU|SE|SL|SRL|SPA|S\.P\.A\.|SAS|SARL|OY|AB|AS|GROUP|HOLDINGS))+$"
)

_KEY_COLUMN: Final = "__tactful_sk"


@dataclass(frozen=True, slots=True)
class Alias:
    """One directory entry: a literal ``pattern`` that names ``merchant``."""

    pattern: str
    merchant: str
    category_detailed: str | None = None


_DIGIT_RUN: Final = r"\d{2,}"
"""A run of digits, which ``_shape`` folds to one "0" (a descriptor's dates, references and
store numbers); the directory's patterns are folded the same way."""
_SHAPE_DIGITS: Final = re.compile(_DIGIT_RUN)


def _tokens(text: str) -> str:
    out = "".join(c if c.isalnum() or c in "&+" else " " for c in text.upper().replace("'", ""))
    return " ".join(out.split())


def _key_of(name: str) -> str:
    return _tokens(name)


@dataclass(frozen=True)
class MerchantAliases:
    """The alias directory: ordered, validated, immutable. ``extended`` puts a bank's own first."""

    entries: tuple[Alias, ...]
    _frame: pl.DataFrame = field(init=False, repr=False, compare=False)
    _lookup: dict[str, tuple[str, str, str | None]] = field(init=False, repr=False, compare=False)
    _max_words: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        seen: dict[str, Alias] = {}
        for entry in self.entries:
            # read as the descriptor is: every run of two digits or more is one "0" by then
            # (``_shape``), so "BET365" and "MITRE 10" are looked up as "BET0" and "MITRE 0"
            pattern = _SHAPE_DIGITS.sub("0", _tokens(entry.pattern))
            if not pattern:
                raise ConfigError(f"alias {entry.merchant!r}: empty pattern")
            if not entry.merchant.strip():
                raise ConfigError(f"alias {entry.pattern!r}: empty merchant")
            if entry.category_detailed is not None and entry.category_detailed not in DETAILED:
                raise ConfigError(
                    f"alias {entry.pattern!r}: category_detailed {entry.category_detailed!r} "
                    "is not in the taxonomy"
                )
            seen.setdefault(pattern, entry)
        rows = sorted(seen.items(), key=lambda kv: -len(kv[0]))
        frame = pl.DataFrame(
            {
                "pattern": [f" {p} " for p, _ in rows],
                "merchant": [a.merchant for _, a in rows],
                "merchant_key": [_key_of(a.merchant) for _, a in rows],
                "merchant_category_detailed": [a.category_detailed for _, a in rows],
            },
            schema={
                "pattern": pl.String,
                "merchant": pl.String,
                "merchant_key": pl.String,
                "merchant_category_detailed": pl.String,
            },
        )
        object.__setattr__(self, "_frame", frame)
        lookup: dict[str, tuple[str, str, str | None]] = {}
        for p, a in rows:
            lookup.setdefault(p, (a.merchant, _key_of(a.merchant), a.category_detailed))
        object.__setattr__(self, "_lookup", lookup)
        object.__setattr__(self, "_max_words", max((p.count(" ") + 1 for p in lookup), default=0))

    @classmethod
    def default(cls) -> MerchantAliases:
        """The shipped directory of well-known US, UK and EU brands."""
        return _default_aliases()

    @classmethod
    def from_csv(cls, path: Path | str) -> MerchantAliases:
        """Read ``pattern,merchant,category_detailed`` rows; ``#`` starts a comment row."""
        with Path(path).open(newline="", encoding="utf-8") as handle:
            return cls(tuple(_read_aliases(handle, str(path))))

    @classmethod
    def from_records(cls, records: Iterable[tuple[str, str, str | None]]) -> MerchantAliases:
        return cls(tuple(Alias(p, m, c or None) for p, m, c in records))

    def extended(self, other: MerchantAliases) -> MerchantAliases:
        """``other``'s entries first (a bank's own aliases win), then these."""
        return MerchantAliases(other.entries + self.entries)

    def frame(self) -> pl.DataFrame:
        """pattern (padded), merchant, merchant_key, merchant_category_detailed."""
        return self._frame

    def category_of(self) -> dict[str, str]:
        """merchant_key -> the first directory category given for it."""
        out: dict[str, str] = {}
        for key, cat in self._frame.select("merchant_key", "merchant_category_detailed").rows():
            if cat is not None:
                out.setdefault(key, cat)
        return out


def _read_aliases(lines: Iterable[str], where: str) -> list[Alias]:
    out = []
    for number, row in enumerate(csv.DictReader(lines), start=2):
        pattern = (row.get("pattern") or "").strip()
        if not pattern or pattern.startswith("#"):
            continue
        merchant = (row.get("merchant") or "").strip()
        if not merchant:
            raise ConfigError(f"{where}:{number}: alias {pattern!r} has no merchant")
        category = (row.get("category_detailed") or "").strip() or None
        out.append(Alias(pattern, merchant, category))
    return out


@cache
def _default_aliases() -> MerchantAliases:
    text = resources.files("tactful.enrich").joinpath("data/merchants.csv").read_text("utf-8")
    return MerchantAliases(tuple(_read_aliases(text.splitlines(), "merchants.csv")))


@cache
def _places() -> tuple[str, str]:
    text = resources.files("tactful.enrich").joinpath("data/places.csv").read_text("utf-8")
    codes, cities = [], []
    for row in csv.DictReader(text.splitlines()):
        kind, name = (row.get("kind") or "").strip(), (row.get("name") or "").strip()
        if kind == "code":
            codes.append(name)
        elif kind == "city":
            cities.append(name)
    cities.sort(key=len, reverse=True)
    return "|".join(codes), "|".join(c.replace(" ", r"\s+") for c in cities)


def merchant_key_expr(name: pl.Expr) -> pl.Expr:
    """The grouping key of a display name: upper case, words only, legal suffixes dropped."""
    up = name.str.to_uppercase().str.replace_all("'", "", literal=True)
    up = up.str.replace(_LEGAL_SUFFIX, "")
    return up.str.replace_all(r"[^A-Z0-9&+À-Ý]+", " ").str.strip_chars().replace("", None)


def _display_fixes(name: pl.Expr) -> pl.Expr:
    return (
        name.str.to_titlecase()
        .str.replace(r" Llc$", " LLC")
        .str.replace(r" Bv$", " BV")
        .str.replace(r" Nv$", " NV")
        .str.replace(r" Gmbh", " GmbH")
        .str.replace(r" Plc$", " plc")
        .str.replace(r"'S\b", "'s")
    )


def _clean_shapes(shapes: pl.DataFrame, aliases: MerchantAliases) -> pl.DataFrame:
    """merchant / merchant_key / merchant_category_detailed for each distinct descriptor shape."""
    codes, cities = _places()
    # Eager frames get no common-subexpression elimination: each shared intermediate is
    # materialized once as a column instead of being recomputed in every expression using it.
    text = pl.col(_KEY_COLUMN).str.to_uppercase().str.strip_chars()
    for pattern, replacement in _BANK_BOILERPLATE:
        text = text.str.replace(pattern, replacement)
    cp_upper = pl.col("counterparty").str.to_uppercase().str.strip_chars()
    work = shapes.with_columns(text.alias("__text"), cp_upper.alias("__cp"))
    cp = pl.col("__cp")
    work = work.with_columns((cp.is_not_null() & (cp != "")).alias("__has_cp"))
    has_cp = pl.col("__has_cp")
    text = pl.when(has_cp).then(cp).otherwise(pl.col("__text"))
    work = work.with_columns(
        text.str.replace(_PROCESSOR_PREFIX, "").str.strip_chars().alias("__text")
    )
    text = pl.col("__text")
    tokens = (
        pl.lit(" ")
        + text.str.replace_all("'", "", literal=True)
        .str.replace_all(r"[^A-Z0-9&+]+", " ")
        .str.strip_chars()
        + pl.lit(" ")
    )
    alias_frame = aliases.frame()
    hit = tokens.str.extract_many(
        alias_frame["pattern"].to_list(), overlapping=False, leftmost=True
    ).list.first()

    fallback = (
        text.str.replace(_UNKNOWN_PROCESSOR, "$1")
        .str.replace(r"\s*\*.*$", "")
        .str.replace(
            r"\b(?:WWW\.)?([A-Z0-9-]+)\.(?:COM|CO\.UK|CO|NET|ORG|DE|FR|ES|NL|IT|EU|IO)\b\S*", "$1"
        )
        .str.replace_all(r"#\s*\S*", " ")
        .str.replace_all(r"(?:^|\s)\S*\d\S*", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars(" -./,*")
        .str.replace(rf" (?:{codes})$", "")
        .str.replace(rf"(?:^|\s)(?:{cities})$", "")
        .str.replace(rf" (?:{codes})$", "")
        .str.strip_chars(" -./,*")
    )
    cp_name = cp.str.replace_all(r"\s+", " ")
    fallback = pl.when(has_cp).then(cp_name).otherwise(fallback)
    no_merchant = pl.col("channel").is_in(NO_MERCHANT_CHANNELS) | (
        ~has_cp & pl.col("channel").is_in(COUNTERPARTY_CHANNELS)
    )
    out = work.with_columns(
        hit.alias("__hit"), fallback.alias("__fallback"), no_merchant.alias("__none")
    )
    out = out.join(
        alias_frame, left_on="__hit", right_on="pattern", how="left", maintain_order="left"
    )
    fb_display = _display_fixes(pl.col("__fallback"))
    merchant = pl.coalesce(pl.col("merchant"), fb_display.replace("", None))
    key = pl.coalesce(pl.col("merchant_key"), merchant_key_expr(pl.col("__fallback")))
    out = out.with_columns(merchant.alias("__merchant"), key.alias("__key"))
    out = out.with_columns((pl.col("__none") | pl.col("__key").is_null()).alias("__none"))
    none = pl.col("__none")
    return out.select(
        _KEY_COLUMN,
        "counterparty",
        "channel",
        pl.when(none).then(None).otherwise(pl.col("__merchant")).alias("merchant"),
        pl.when(none).then(None).otherwise(pl.col("__key")).alias("merchant_key"),
        pl.when(none)
        .then(None)
        .otherwise(pl.col("merchant_category_detailed"))
        .alias("merchant_category_detailed"),
    )


def _shape(description: pl.Expr) -> pl.Expr:
    return description.str.replace_all(_DIGIT_RUN, "0")


def _py_replacement(replacement: str) -> str:
    return re.sub(r"\$(\d+)", r"\\\1", replacement)


@cache
def _py_patterns() -> _PyPatterns:
    """The ``re`` twins of the Polars expressions above, for the one-row path."""
    codes, cities = _places()
    sub = re.compile
    return _PyPatterns(
        shape=_SHAPE_DIGITS,
        boilerplate=tuple((sub(p), _py_replacement(r)) for p, r in _BANK_BOILERPLATE),
        processor=sub(_PROCESSOR_PREFIX),
        not_token=sub(r"[^A-Z0-9&+]+"),
        fallback=(
            (sub(_UNKNOWN_PROCESSOR), r"\1", 1),
            (sub(r"\s*\*.*$"), "", 1),
            (
                sub(
                    r"\b(?:WWW\.)?([A-Z0-9-]+)\.(?:COM|CO\.UK|CO|NET|ORG|DE|FR|ES|NL|IT|EU|IO)\b\S*"
                ),
                r"\1",
                1,
            ),
            (sub(r"#\s*\S*"), " ", 0),
            (sub(r"(?:^|\s)\S*\d\S*"), " ", 0),
            (sub(r"\s+"), " ", 0),
        ),
        codes=sub(rf" (?:{codes})$"),
        cities=sub(rf"(?:^|\s)(?:{cities})$"),
        spaces=sub(r"\s+"),
        legal=sub(_LEGAL_SUFFIX),
        not_key=sub(r"[^A-Z0-9&+À-Ý]+"),
        display=(
            (sub(r" Llc$"), " LLC"),
            (sub(r" Bv$"), " BV"),
            (sub(r" Nv$"), " NV"),
            (sub(r" Gmbh"), " GmbH"),
            (sub(r" Plc$"), " plc"),
            (sub(r"'S\b"), "'s"),
        ),
    )


@dataclass(frozen=True, slots=True)
class _PyPatterns:
    shape: re.Pattern[str]
    boilerplate: tuple[tuple[re.Pattern[str], str], ...]
    processor: re.Pattern[str]
    not_token: re.Pattern[str]
    fallback: tuple[tuple[re.Pattern[str], str, int], ...]
    codes: re.Pattern[str]
    cities: re.Pattern[str]
    spaces: re.Pattern[str]
    legal: re.Pattern[str]
    not_key: re.Pattern[str]
    display: tuple[tuple[re.Pattern[str], str], ...]


def _one_to_one(c: str) -> bool:
    return len(c.upper()) == 1 and len(c.lower()) == 1 and c.upper().lower() == c.lower()


_LATIN: Final = frozenset(
    c for c in map(chr, range(0xC0, 0x180))
    if c.isalpha() and _one_to_one(c) and c not in "\u0131\u017f"  # dotless i, long s
)
"""The accented Latin letters of European merchant names and descriptors (é, ü, ø, ł, ż, ...)
whose upper and lower case are one letter each way: Python's ``str.upper`` and ``re`` and
Polars' Rust kernels treat them alike. Letters whose case changes length (ß -> SS, İ) or that
fold onto ASCII (ı, ſ) are left to the frame path."""


def plain_text(text: str | None) -> bool:
    """Printable ASCII and those Latin letters (or null): where Python's ``re``/``str`` and
    Polars' Rust regex and string kernels agree character for character, so the one-row Python
    path may run (``tests/enrich/test_categorize.py`` holds the two paths equal on such text)."""
    if text is None:
        return True
    if text.isascii():
        return text.isprintable()
    return text.isprintable() and all(c.isascii() or c in _LATIN for c in text)


def _py_key(name: str, rx: _PyPatterns) -> str | None:
    up = rx.legal.sub("", name.upper().replace("'", ""), count=1)
    return rx.not_key.sub(" ", up).strip() or None


def _normalize_py(
    description: str | None, counterparty: str | None, channel: str | None, aliases: MerchantAliases
) -> tuple[str | None, str | None, str | None]:
    """(merchant, merchant_key, merchant_category_detailed) of one row, the way ``normalize``
    computes them; only for ``plain_text`` inputs."""
    rx = _py_patterns()
    none = (None, None, None)
    if description is None:
        text = None
    else:
        text = rx.shape.sub("0", description).upper().strip()
        for pattern, replacement in rx.boilerplate:
            text = pattern.sub(replacement, text, count=1)
    cp = counterparty.upper().strip() if counterparty is not None else None
    has_cp = cp is not None and cp != ""
    if has_cp:
        text = cp
    if channel in NO_MERCHANT_CHANNELS or (not has_cp and channel in COUNTERPARTY_CHANNELS):
        return none
    if text is None:
        return none
    text = rx.processor.sub("", text, count=1).strip()
    words = rx.not_token.sub(" ", text.replace("'", "")).strip().split(" ")
    lookup, longest = aliases._lookup, aliases._max_words
    for j in range(len(words)):
        for k in range(min(longest, len(words) - j), 0, -1):
            entry = lookup.get(" ".join(words[j : j + k]))
            if entry is not None:
                return entry
    if has_cp:
        assert cp is not None  # noqa: S101 -- narrows a type; holds by construction
        fallback = rx.spaces.sub(" ", cp)
    else:
        fallback = text
        for pattern, replacement, count in rx.fallback:
            fallback = pattern.sub(replacement, fallback, count=count)
        fallback = fallback.strip(" -./,*")
        fallback = rx.codes.sub("", fallback, count=1)
        fallback = rx.cities.sub("", fallback, count=1)
        fallback = rx.codes.sub("", fallback, count=1)
        fallback = fallback.strip(" -./,*")
    display = fallback.title()
    for pattern, replacement in rx.display:
        display = pattern.sub(replacement, display, count=1)
    key = _py_key(fallback, rx)
    if key is None:
        return none
    return (display or None), key, None


def _one_row_columns(frame: pl.DataFrame) -> bool:
    return frame.height == 1 and all(
        frame.schema.get(c) == pl.String for c in ("description", "counterparty", "channel")
    )


def normalize(frame: pl.DataFrame, aliases: MerchantAliases | None = None) -> pl.DataFrame:
    """``frame`` with ``merchant``, ``merchant_key`` and ``merchant_category_detailed`` added.

    ``merchant_category_detailed`` is the alias directory's category for the merchant (null
    when the directory has none); ``categorize`` reads it.
    """
    aliases = aliases or MerchantAliases.default()
    drop = [
        c for c in ("merchant", "merchant_key", "merchant_category_detailed") if c in frame.columns
    ]
    if _one_row_columns(frame):
        row = frame.select("description", "counterparty", "channel").row(0)
        if all(plain_text(v) for v in row):
            merchant, key, category = _normalize_py(row[0], row[1], row[2], aliases)
            return frame.drop(drop).with_columns(
                pl.lit(merchant, dtype=pl.String).alias("merchant"),
                pl.lit(key, dtype=pl.String).alias("merchant_key"),
                pl.lit(category, dtype=pl.String).alias("merchant_category_detailed"),
            )
    base = frame.drop(drop)
    if base.height > 1:
        fast = _normalize_keyed(base, aliases)
        if fast is not None:
            out, keyed = fast
            _remember(out, keyed)
            return out
    base = base.with_columns(_shape(pl.col("description")).alias(_KEY_COLUMN))
    shapes = base.select(_KEY_COLUMN, "counterparty", "channel").unique()
    cleaned = _clean_shapes(shapes, aliases)
    out = base.join(
        cleaned,
        on=[_KEY_COLUMN, "counterparty", "channel"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )
    return out.drop(_KEY_COLUMN)


_SOURCE_COLUMNS: Final = ("description", "counterparty", "channel")
_MERCHANT_COLUMNS: Final = ("merchant", "merchant_key", "merchant_category_detailed")


@dataclass(frozen=True)
class ShapeKeys:
    """How ``normalize`` grouped a frame's rows, kept so ``categorize`` can evaluate the rules'
    text conditions once per group instead of once per row.

    ``distinct`` holds the distinct (description, counterparty, channel) of the frame, and
    ``shapes`` the distinct (description shape, counterparty, channel) with the merchant
    columns computed from them (its ``description`` column holds the shape). ``row_distinct``
    maps each row to its ``distinct`` row, ``row_shape`` to its ``shapes`` row and
    ``distinct_shape`` each ``distinct`` row to its ``shapes`` row."""

    distinct: pl.DataFrame
    shapes: pl.DataFrame
    row_distinct: pl.Series
    row_shape: pl.Series
    distinct_shape: pl.Series


def _dedupe(
    frame: pl.DataFrame, columns: list[str]
) -> tuple[pl.DataFrame, npt.NDArray[np.int64]] | None:
    """The distinct rows of ``frame[columns]`` and each row's index into them, by a 64-bit hash
    of the row; ``None`` when two different rows share a hash (checked, never assumed)."""
    keys = frame.select(columns).rechunk()  # a gather across many chunks is several times slower
    combined = reduce(
        operator.xor, (pl.col(c).hash(seed=i) for i, c in enumerate(columns))
    )  # cheaper than hashing a struct; collisions are caught below either way
    hashes = keys.select(combined.alias("h")).to_series().to_numpy()
    order = pl.Series(hashes).arg_sort().to_numpy()
    ordered = hashes[order]
    starts = np.empty(len(ordered), dtype=np.bool_)
    starts[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    # number the distinct rows by first appearance: the gather then reads the strings in
    # order, and the regexes run on the distinct rows much faster than in hash order
    firsts = order[starts]
    by_position = np.argsort(firsts)
    rank = np.empty(len(firsts), dtype=np.int64)
    rank[by_position] = np.arange(len(firsts), dtype=np.int64)
    inverse = np.empty(len(ordered), dtype=np.int64)
    inverse[order] = rank[np.cumsum(starts) - 1]
    distinct = keys[firsts[by_position]]
    if not distinct[inverse].equals(keys, null_equal=True):
        return None
    return distinct, inverse


def _normalize_keyed(
    base: pl.DataFrame, aliases: MerchantAliases
) -> tuple[pl.DataFrame, ShapeKeys] | None:
    """``normalize`` by two rounds of hashing: rows -> distinct descriptors -> distinct shapes,
    the cleaning on the shapes only, then one gather back to the rows."""
    if any(c not in base.columns for c in _SOURCE_COLUMNS):
        return None
    # One chunk per column: gathers and the column-wise work downstream (the rules, the
    # categories) run several times faster on aligned single-chunk columns.
    base = base.rechunk()
    first = _dedupe(base, list(_SOURCE_COLUMNS))
    if first is None:
        return None
    distinct, row_distinct = first
    shaped = distinct.select(
        _shape(pl.col("description")).alias(_KEY_COLUMN), "counterparty", "channel"
    )
    second = _dedupe(shaped, [_KEY_COLUMN, "counterparty", "channel"])
    if second is None:
        return None
    shapes, distinct_shape = second
    cleaned = _clean_shapes(shapes, aliases)
    row_shape = distinct_shape[row_distinct]
    idx = pl.Series("idx", row_shape, dtype=pl.Int64)
    merchant_cols = cleaned.select(_MERCHANT_COLUMNS)
    out = base.with_columns(merchant_cols[idx].get_columns())
    keyed = ShapeKeys(
        distinct=distinct,
        shapes=cleaned.rename({_KEY_COLUMN: "description"}),
        row_distinct=pl.Series("idx", row_distinct, dtype=pl.Int64),
        row_shape=idx,
        distinct_shape=pl.Series("idx", distinct_shape, dtype=pl.Int64),
    )
    return out, keyed


_KEYED: dict[int, tuple[weakref.ref[pl.DataFrame], ShapeKeys]] = {}


def _remember(frame: pl.DataFrame, keyed: ShapeKeys) -> None:
    key = id(frame)

    def forget(_: object, key: int = key) -> None:
        entry = _KEYED.get(key)
        if entry is not None and entry[0]() is None:
            del _KEYED[key]

    _KEYED[key] = (weakref.ref(frame, forget), keyed)


def shape_keys(frame: pl.DataFrame) -> ShapeKeys | None:
    """The ``ShapeKeys`` of a frame exactly as ``normalize`` returned it (else ``None``)."""
    entry = _KEYED.get(id(frame))
    if entry is None or entry[0]() is not frame:
        return None
    keyed = entry[1]
    if (
        frame.height != keyed.row_shape.len()
        or any(
            frame.schema.get(c) != keyed.shapes.schema.get(c)
            for c in ("counterparty", "channel", *_MERCHANT_COLUMNS)
        )
        or frame.schema.get("description") != keyed.distinct.schema.get("description")
    ):
        return None
    return keyed


def normalize_one(
    description: str,
    counterparty: str | None,
    aliases: MerchantAliases | None = None,
    *,
    channel: str = "card",
) -> tuple[str | None, str | None]:
    """(merchant, merchant_key) of one transaction, exactly as ``normalize`` would give them."""
    aliases = aliases or MerchantAliases.default()
    if plain_text(description) and plain_text(counterparty) and plain_text(channel):
        merchant, key, _ = _normalize_py(description, counterparty, channel, aliases)
        return merchant, key
    frame = pl.DataFrame(
        {"description": [description], "counterparty": [counterparty], "channel": [channel]},
        schema={"description": pl.String, "counterparty": pl.String, "channel": pl.String},
    )
    row = normalize(frame, aliases).row(0, named=True)
    return row["merchant"], row["merchant_key"]
