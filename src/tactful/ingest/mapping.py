"""The column mapping: how a bank's export headers and values map onto Tactful's records.

A mapping is a TOML file (``tactful ingest --mapping bank.toml``); without one, the default
aliases below recognise the headers of common bank exports (English, German, French, Dutch,
Spanish, Czech). Example::

    [source]                     # applies to every file
    timezone = "Europe/Berlin"   # zone of bare dates and naive timestamps
    decimal = ","                # "." or ","; inferred per column when absent
    encoding = "cp1252"          # inferred (UTF-8, UTF-16 with BOM, else cp1252) when absent
    delimiter = ";"              # sniffed when absent
    date_format = "%d.%m.%Y"     # strptime format; several common ones are tried when absent
    sign_column = "Af Bij"       # debit/credit indicator of an unsigned amount (Af/Bij, D/K, S/H)
    on_balance_mismatch = "flag" # a running balance that does not add up: "reject" (default)
                                 # refuses the file, "flag" loads it with a note

    [columns]                    # source header -> canonical field
    "Buchungstag" = "booked_at"
    "Umsatz" = "amount"

    [constants]                  # fields the file does not carry
    account_id = "DE89370400440532013000"
    currency = "EUR"

    [values.status]              # source value -> canonical value
    "PDNG" = "pending"

    [[files]]                    # overrides for files whose name matches a glob
    pattern = "cards_*.csv"
    kind = "transactions"
    columns = { "Card Tail" = "counterparty" }

Header matching ignores case, accents, spaces, ``_`` and ``-``. ``debit`` and ``credit`` are
accepted as two unsigned columns in place of a signed ``amount`` (the side that is blank or zero
is the empty one); ``sign`` is a debit/credit indicator column for an unsigned amount, whose
values may be mapped under ``[values.sign]`` to ``"debit"`` or ``"credit"``; ``balance_before``
is a running balance given before each row (``balance_after`` after it).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import tomllib
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from tactful.errors import ConfigError
from tactful.ingest.schema import RecordKind, SourceOptions, fields_of


def normalize_header(header: str) -> str:
    """Fold a header to a matching key: ``'Booking-Date '`` -> ``'bookingdate'``."""
    text = unicodedata.normalize("NFKD", header.strip().lstrip("\ufeff"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    # letters of any script: a Cyrillic or Greek header folded to nothing could be matched by
    # no alias and named in no mapping (Alfa-Bank: "Дата операции", "Приход")
    return re.sub(r"[\W_]", "", text.lower())


_ALIASES: dict[str, tuple[str, ...]] = {
    "transaction_id": (
        "transactionid",
        "txnid",
        "transid",
        "id",
        "reference",
        "ref",
        "fitid",
        "uniqueid",
        "transactionreference",
        "bankreference",
        "referenz",
        "idtransaction",
        "tid",
        "nodetransaction",
        "irasonr",
        "idtransakce",
    ),
    "account_id": (
        "accountid",
        "account",
        "accountnumber",
        "iban",
        "konto",
        "kontonummer",
        "compte",
        "numerodecompte",
        "rekening",
        "rekeningnummer",
        "cuenta",
        "acct",
        "ucet",
        "cislouctu",
        "auftragskonto",
        "saskaitosnr",
        "ibanbban",
        "номерсчета",
    ),
    "booked_at": (
        "bookedat",
        "bookingdate",
        "date",
        "transactiondate",
        "posteddate",
        "postingdate",
        "buchungstag",
        "buchungsdatum",
        "buchung",
        "data",
        "datum",
        "dateoperation",
        "datedecomptabilisation",
        "datecomptable",
        "datedoperation",
        "fecha",
        "fechaoperacion",
        "boekdatum",
        "transdate",
        "dtposted",
        "timestamp",
        "datetime",
        "time",
        "occurredat",
        "dateprocessed",
        "processeddate",
        "processingdate",
        "starteddate",
        "created",
        "datumverrichting",
        "uitvoeringsdatum",
        "belegdatum",
        "rundate",
        "bokforingsdag",
        "bokforingsdatum",
        "transaktionsdatum",
        "tranzakciodatuma",
        "datumprovedeni",
        "datumzauctovani",
        "датаоперации",
        "датапроводки",
    ),
    "value_at": (
        "valueat",
        "valuedate",
        "valuta",
        "valutadatum",
        "wertstellungstag",
        "datevaleur",
        "wertstellung",
        "fechavalor",
        "rentedatum",
        "dtuser",
        "completeddate",
        "datumverrekening",
        "erteknap",
    ),
    "amount": (
        "amount",
        "betrag",
        "umsatz",
        "montant",
        "bedrag",
        "importe",
        "transactionamount",
        "trnamt",
        "castka",
        "suma",
        "value",
        "sum",
        "buchungsbetrag",
        "belopp",
        "tranzakcioosszege",
        "kwota",
        "zauctovanacastka",
        "сумма",
        "суммаоперации",
    ),
    "amount_minor": ("amountminor", "amountcents", "amountinminorunits"),
    "debit": (
        "debit",
        "debitamount",
        "withdrawal",
        "withdrawals",
        "moneyout",
        "paidout",
        "soll",
        "lastschrift",
        "debet",
        "cargo",
        "ausgang",
        "addebiti",
        "addebito",
        "uscite",
        "расход",
    ),
    "credit": (
        "credit",
        "creditamount",
        "deposit",
        "deposits",
        "moneyin",
        "paidin",
        "haben",
        "gutschrift",
        "abono",
        "eingang",
        "accrediti",
        "accredito",
        "entrate",
        "приход",
    ),
    "currency": (
        "currency",
        "ccy",
        "curr",
        "wahrung",
        "wahrungscode",
        "devise",
        "valuta_code",
        "monn",
        "monnaie",
        "valutacode",
        "valiuta",
        "waehrung",
        "munt",
        "moneda",
        "buchungswahrung",
        "buchungswaehrung",
        "valutarekening",
        "devizanem",
        "tranzakciodevizaneme",
        "mena",
        "currencycode",
        "menauctu",
        "mena",
        "валюта",
        "валютаоперации",
    ),
    "description": (
        "description",
        "memo",
        "narrative",
        "details",
        "verwendungszweck",
        "libelle",
        "omschrijving",
        "concepto",
        "transactiondescription",
        "text",
        "remittanceinformation",
        "purpose",
        "particulars",
        "mededelingen",
        "paymentreference",
        "paaiskinimai",
        "name",
        "desc",
        "descripcion",
        "descrizione",
        "opis",
        "transactiondetails",
        "transaktionsbeschreibung",
        "omschrijving1",
        "transaktion",
        "buchungstext",
        "handelaar",
        "kozlemeny",
        "rubrik",
        "meddelande",
        "descrizioneoperazioni",
        "описаниеоперации",
        "назначениеплатежа",
        "bookingtext",
        "zprava",
    ),
    "counterparty": (
        "counterparty",
        "payee",
        "merchant",
        "beneficiary",
        "payer",
        "auftraggeber",
        "empfanger",
        "beguenstigter",
        "zahlungsempfanger",
        "tegenpartij",
        "naamtegenpartij",
        "beneficiario",
        "merchantname",
        "otherparty",
        "partnername",
        "naamomschrijving",
        "beguenstigterzahlungspflichtiger",
        "gavejas",
        "namn",
        "nazevprotiuctu",
    ),
    "mcc": ("mcc", "merchantcategorycode", "mcccode"),
    # Not "type": in a bank's statement "Type" is DEB/FPI, "Credit Transfer" or DEBIT/CREDIT,
    # never one of our channels (a transaction's Type column is read as a sign column when its
    # values are debit/credit words, else ignored).
    "channel": ("channel", "method", "paymentmethod"),
    "status": ("status", "state", "transactionstatus"),
    "balance_after": ("balance", "balanceafter", "runningbalance", "saldo", "solde", "kontostand"),
    "balance_after_minor": ("balanceafterminor",),
    "balance_before": ("balancebefore",),
    "sign": (
        "sign",
        "afbij",
        "bijaf",
        "creditdebet",
        "debetcredit",
        "creditdebit",
        "debitcredit",
        "dk",
        "dc",
        "cd",
        "kd",
        "sh",
        "sollhaben",
        "crdr",
        "drcr",
        "debitcreditindicator",
        "creditdebitindicator",
        "vorzeichen",
    ),
    "customer_id": (
        "customerid",
        "clientid",
        "customer",
        "client",
        "kundennummer",
        "partyid",
        "userid",
    ),
}


TRANSACTION_EXTRAS = ("debit", "credit", "sign", "balance_before")
"""Columns a transaction file may map that are not stored as such: two unsigned amount columns,
a debit/credit indicator for an unsigned amount, and a balance before each row (turned into
the amount's sign and the balance after it, see ``tabular.finish_frame``)."""

_KIND_ALIASES: dict[RecordKind, dict[str, tuple[str, ...]]] = {
    RecordKind.ACCOUNT: {
        "account_type": ("type", "accounttype", "kind", "producttype"),
        "balance": ("balance", "currentbalance", "ledgerbalance", "saldo"),
        "opened_on": ("opened", "opendate", "openedon", "dateopened", "date"),
        "closed_on": ("closed", "closedate", "closedon", "dateclosed"),
        "name": ("name", "accountname", "nickname"),
    },
    RecordKind.PRODUCT: {
        "kind": ("type", "producttype", "category"),
        "name": ("name", "productname", "title"),
    },
    RecordKind.EVENT: {
        "kind": ("type", "event", "eventtype", "eventname", "action"),
        "occurred_at": ("ts", "timestamp", "time", "datetime", "date", "at", "eventtime"),
        "session_id": ("session", "sessionid"),
        "duration_s": ("duration", "durations", "durationseconds", "seconds"),
        "feature": ("feature", "featurename", "screen", "page"),
        "attributes": ("attributes", "properties", "props", "payload", "data"),
    },
    RecordKind.CONSENT: {
        "purpose": ("purpose", "consentpurpose", "scope"),
        "status": ("status", "consentstatus", "state", "decision"),
        "at": ("at", "timestamp", "date", "time", "changedat", "recordedat"),
    },
    RecordKind.CUSTOMER: {
        "timezone": ("tz", "timezone", "zone"),
        "locale": ("locale", "language", "lang"),
        "region": ("region", "zone", "regulatoryzone", "jurisdiction"),
        "personalization_level": ("personalization", "personalisationlevel"),
        "channel_preferences": ("channels", "preferredchannels", "channelpreferences"),
    },
}


def alias_rank(field_name: str, header: str) -> int:
    """Where ``header`` stands among ``field_name``'s aliases (earlier: the likelier home of
    the field): of two description columns, ``Verwendungszweck`` holds the text and
    ``Buchungstext`` the kind of booking, ``Description`` the text and ``Name`` the payee."""
    aliases = _ALIASES.get(field_name, ())
    key = normalize_header(header)
    return aliases.index(key) if key in aliases else len(aliases)


@cache
def default_aliases(kind: RecordKind) -> dict[str, str]:
    """Normalized header -> canonical field of ``kind``.

    The kind's own canonical names win, then its specific aliases, then the common ones; an
    alias whose target is not a field of ``kind`` is left out, so ``type`` means the account
    type in an accounts file and the transaction channel in a transactions file.
    """
    own: set[str] = set()
    table: dict[str, str] = {}
    for spec in fields_of(kind):
        own.add(spec.name)
        table[normalize_header(spec.name)] = spec.name
        if spec.type == "money":
            own.add(spec.name + "_minor")
            table[normalize_header(spec.name + "_minor")] = spec.name + "_minor"
    if kind is RecordKind.TRANSACTION:
        own |= set(TRANSACTION_EXTRAS)
    for canonical, aliases in _KIND_ALIASES.get(kind, {}).items():
        for alias in aliases:
            table.setdefault(normalize_header(alias), canonical)
    for canonical, aliases in _ALIASES.items():
        if canonical in own:
            for alias in aliases:
                table.setdefault(normalize_header(alias), canonical)
    return table


def all_canonical_names() -> set[str]:
    names = set(TRANSACTION_EXTRAS)
    for kind in RecordKind:
        names |= set(default_aliases(kind).values())
    return names


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: RecordKind | None = None
    timezone: str | None = None
    decimal: Literal[".", ","] | None = None
    encoding: str | None = None
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    date_format: str | None = None
    day_first: bool | None = None
    sign_column: str | None = None
    on_balance_mismatch: Literal["reject", "flag"] | None = None


class _FileRule(_Options):
    pattern: str
    columns: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)


class _MappingFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: _Options = Field(default_factory=_Options)
    columns: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    files: list[_FileRule] = Field(default_factory=list)


class Mapping:
    """A parsed mapping file (or the defaults); ``for_file`` gives the rules for one file."""

    def __init__(self, spec: _MappingFile | None = None, origin: str = "<defaults>") -> None:
        self._spec = spec or _MappingFile()
        self.origin = origin
        self.account: str | None = None
        self.currency: str | None = None
        canonical = all_canonical_names()
        for source_header, target in self._all_column_targets():
            if target not in canonical and target != "ignore":
                raise ConfigError(
                    f"{origin}: column {source_header!r} maps to unknown field {target!r}"
                )

    def _all_column_targets(self) -> list[tuple[str, str]]:
        pairs = list(self._spec.columns.items())
        for rule in self._spec.files:
            pairs += list(rule.columns.items())
        return pairs

    @classmethod
    def load(cls, path: Path | None) -> Mapping:
        if path is None:
            return cls()
        try:
            raw: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read mapping file {path}: {exc}") from exc
        try:
            spec = _MappingFile.model_validate(raw)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"mapping file {path}: {where}: {first['msg']}") from exc
        return cls(spec, origin=str(path))

    def with_statement(self, *, account: str | None, currency: str | None) -> Mapping:
        """This mapping with the account and currency of statements that do not say them
        (``tactful ingest --account --currency``); a file's own column still wins."""
        out = Mapping(self._spec, self.origin)
        out.account = account.strip() if account and account.strip() else None
        out.currency = currency.strip().upper() if currency and currency.strip() else None
        return out

    def for_file(self, path: Path) -> FileMapping:
        spec = self._spec
        columns = {normalize_header(k): v for k, v in spec.columns.items()}
        constants = dict(spec.constants)
        values = {k: dict(v) for k, v in spec.values.items()}
        opts = spec.source.model_dump()
        for rule in spec.files:
            if fnmatch.fnmatch(path.name, rule.pattern) or fnmatch.fnmatch(str(path), rule.pattern):
                columns.update({normalize_header(k): v for k, v in rule.columns.items()})
                constants.update(rule.constants)
                for k, v in rule.values.items():
                    values.setdefault(k, {}).update(v)
                opts.update(
                    {
                        k: v
                        for k, v in rule.model_dump().items()
                        if k in _Options.model_fields and v is not None
                    }
                )
        if opts["sign_column"]:
            columns[normalize_header(opts["sign_column"])] = "sign"
        return FileMapping(
            account=self.account,
            currency=self.currency,
            on_balance_mismatch=opts["on_balance_mismatch"] or "reject",
            columns=columns,
            constants=constants,
            values=values,
            kind=opts["kind"],
            encoding=opts["encoding"],
            delimiter=opts["delimiter"],
            options=SourceOptions(
                decimal=opts["decimal"],
                timezone=opts["timezone"] or "UTC",
                currency=constants.get("currency"),
                date_format=opts["date_format"],
                day_first=opts["day_first"],
            ),
        )


class FileMapping:
    """The rules that apply to one file."""

    def __init__(
        self,
        *,
        columns: dict[str, str],
        constants: dict[str, str],
        values: dict[str, dict[str, str]],
        kind: RecordKind | None,
        encoding: str | None,
        delimiter: str | None,
        options: SourceOptions,
        account: str | None = None,
        currency: str | None = None,
        on_balance_mismatch: str = "reject",
    ) -> None:
        self.account = account
        self.currency = currency
        self.on_balance_mismatch = on_balance_mismatch
        self.columns = columns
        self.constants = constants
        self.values = values
        self.kind = kind
        self.encoding = encoding
        self.delimiter = delimiter
        self.options = options

    def _with(self, **changes: Any) -> FileMapping:
        kept: dict[str, Any] = {
            "columns": self.columns, "constants": self.constants, "values": self.values,
            "kind": self.kind, "encoding": self.encoding, "delimiter": self.delimiter,
            "options": self.options, "account": self.account, "currency": self.currency,
            "on_balance_mismatch": self.on_balance_mismatch,
        }  # fmt: skip
        return FileMapping(**{**kept, **changes})

    def with_constants(self, extra: dict[str, str]) -> FileMapping:
        """A copy with ``extra`` constants (what a statement says once: account, currency)."""
        constants = {**self.constants, **extra}
        return self._with(
            constants=constants,
            options=dataclasses.replace(self.options, currency=constants.get("currency")),
        )

    def with_values(self, field_name: str, extra: dict[str, str]) -> FileMapping:
        """A copy whose ``[values.<field_name>]`` also maps ``extra`` (the mapping's own
        entries win): what the reader learned from the file, e.g. that a blank sign is a debit."""
        return self._with(
            values={**self.values, field_name: {**extra, **self.values.get(field_name, {})}}
        )

    def canonical_name(self, header: str, kind: RecordKind) -> str | None:
        key = normalize_header(header)
        target = self.columns.get(key) or default_aliases(kind).get(key)
        if target is None and (bare := _CURRENCY_SUFFIX.sub("", header)) != header:
            # "Bedrag (EUR)", "Amount (EUR)": the currency is the file's, the column an amount.
            key = normalize_header(bare)
            target = self.columns.get(key) or default_aliases(kind).get(key)
        return None if target == "ignore" else target


_CURRENCY_SUFFIX = re.compile(
    r"\s*(?:\([A-Z]{3}\)|(?<=\s)(?:CHF|EUR|USD|GBP|SEK|NOK|DKK|PLN|CZK|HUF))\s*$"
)
"""A currency a money column's name ends in: "Bedrag (EUR)", ZKB's "Debit CHF"."""
