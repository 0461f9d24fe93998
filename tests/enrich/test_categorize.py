"""Categorization precedence (user > rule > directory > MCC > model), MCC coverage, one row."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tactful.enrich.categorize import categorize
from tactful.enrich.classifier import TextCategorizer
from tactful.enrich.frames import CATEGORY_COLUMNS, TRANSACTIONS
from tactful.enrich.mcc import mcc_category
from tactful.enrich.merchants import normalize
from tactful.enrich.rules import RuleSet
from tactful.enrich.taxonomy import DETAILED, UNCATEGORIZED

SHARED_MCC = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mcc_codes" / "mcc_codes.csv"
)


def _tx(
    description: str,
    *,
    mcc: str | None = None,
    channel: str = "card",
    amount: int = -1000,
    counterparty: str | None = None,
    customer: str = "C1",
) -> dict[str, Any]:
    return {
        "id": f"T{abs(hash((description, mcc, amount, customer))) % 10**9}",
        "account_id": "A1",
        "customer_id": customer,
        "account_type": "checking",
        "booked_at": datetime(2025, 5, 1, tzinfo=UTC),
        "booked_on": date(2025, 5, 1),
        "amount_minor": amount,
        "currency": "EUR",
        "description": description,
        "counterparty": counterparty,
        "mcc": mcc,
        "channel": channel,
        "status": "posted",
    }


def _frame(*rows: dict[str, Any]) -> pl.DataFrame:
    return normalize(pl.DataFrame(list(rows), schema=dict(TRANSACTIONS)))


class _Always(TextCategorizer):
    """A stand-in model that answers one category with a fixed confidence."""

    def __init__(self, label: str, confidence: float) -> None:
        super().__init__()
        self.label, self.confidence = label, confidence

    def predict(self, texts: Any) -> Any:
        import numpy as np

        return [self.label] * len(texts), np.full(len(texts), self.confidence)

    def predict_one(self, text: str) -> tuple[str, float]:
        return self.label, self.confidence


def test_output_columns_follow_the_frame_contract() -> None:
    out = categorize(_frame(_tx("STARBUCKS 1234 SEATTLE WA", mcc="5814")))
    for name, dtype in CATEGORY_COLUMNS.items():
        assert out.schema[name] == dtype


def test_precedence_user_beats_rule_beats_directory_beats_mcc_beats_model() -> None:
    rows = _frame(
        _tx("CORNER SHOP 12 LONDON GB", mcc="5411"),  # mcc only
        _tx("STARBUCKS 1234 LONDON GB", mcc="5814"),  # directory beats MCC's fast food
        _tx("MYSTERY THING LONDON GB"),  # nothing -> model
        _tx("LOCAL GYM CLUB LONDON GB", mcc="5411"),  # bank rule beats MCC
        _tx("STARBUCKS 99 LONDON GB", mcc="5814", customer="C2"),  # the customer's own choice
    )
    bank = RuleSet.from_records(
        [
            {
                "id": "gym",
                "category_detailed": "PERSONAL_CARE_GYMS_AND_FITNESS_CENTERS",
                "conditions": [{"field": "merchant_key", "operator": "contains", "value": "GYM"}],
            }
        ]
    )
    overrides = pl.DataFrame(
        {
            "customer_id": ["C2"],
            "merchant_key": ["STARBUCKS"],
            "category_detailed": ["FOOD_AND_DRINK_RESTAURANT"],
        }
    )
    out = categorize(
        rows,
        rules=bank,
        overrides=overrides,
        classifier=_Always("GENERAL_MERCHANDISE_GIFTS_AND_NOVELTIES", 0.9),
    )
    assert out.select("category_detailed", "category_source").rows() == [
        ("FOOD_AND_DRINK_GROCERIES", "mcc"),
        ("FOOD_AND_DRINK_COFFEE", "rule"),
        ("GENERAL_MERCHANDISE_GIFTS_AND_NOVELTIES", "model"),
        ("PERSONAL_CARE_GYMS_AND_FITNESS_CENTERS", "rule"),
        ("FOOD_AND_DRINK_RESTAURANT", "user"),
    ]
    assert out["category"].to_list()[0] == "FOOD_AND_DRINK"
    assert out["category_confidence"].to_list() == [0.9, 0.95, 0.9, 1.0, 1.0]


def test_model_below_threshold_leaves_the_row_uncategorized() -> None:
    out = categorize(
        _frame(_tx("MYSTERY THING LONDON GB")),
        classifier=_Always("INCOME_WAGES", 0.3),
        threshold=0.5,
    )
    assert out.select(
        "category", "category_detailed", "category_source", "category_confidence"
    ).rows() == [(UNCATEGORIZED, UNCATEGORIZED, "uncategorized", 0.0)]


@pytest.mark.parametrize(("label", "amount"), [
    ("TRANSFER_IN_OTHER_TRANSFER_IN", -2500),
    ("INCOME_WAGES", -2500),
    ("TRANSFER_OUT_OTHER_TRANSFER_OUT", 2500),
])
def test_model_guess_against_the_money_direction_is_refused(label: str, amount: int) -> None:
    """A payment out is never a transfer in (the model, unsure of a new line such as "BIZUM
    ENVIADO A ...", had called 24,000 outgoing person-to-person payments TRANSFER_IN; a rule
    reads Bizum now, so a line no rule reads stands in for it)."""
    frame = _frame(
        _tx("PAGO INMEDIATO J GARCIA", channel="transfer", amount=amount),
        _tx("PAGO INMEDIATO M LOPEZ", channel="transfer", amount=amount * 2),
    )
    model = _Always(label, 0.9)
    out = categorize(frame, classifier=model, threshold=0.5)
    assert out["category_source"].to_list() == ["uncategorized"] * 2
    one = categorize(frame.head(1), classifier=model, threshold=0.5)
    assert one["category_source"].to_list() == ["uncategorized"]


def test_a_refund_keeps_the_merchants_category() -> None:
    out = categorize(_frame(_tx("CORNER SHOP 12 LONDON GB", mcc="5411", amount=+1500)))
    assert out["category_detailed"].to_list() == ["FOOD_AND_DRINK_GROCERIES"]


def test_one_row_real_time_path() -> None:
    out = categorize(
        _frame(_tx("PURCHASE AUTHORIZED ON 09/08 STARBUCKS STORE 16310 HOUSTON TX S7241 CARD 6241"))
    )
    assert out.select("merchant", "category_detailed").row(0) == (
        "Starbucks",
        "FOOD_AND_DRINK_COFFEE",
    )


@pytest.mark.parametrize(
    ("code", "detailed"),
    [
        ("3058", "TRAVEL_FLIGHTS"),
        ("3390", "TRAVEL_RENTAL_CARS"),
        ("3750", "TRAVEL_LODGING"),
        ("5411", "FOOD_AND_DRINK_GROCERIES"),
        ("5812", "FOOD_AND_DRINK_RESTAURANT"),
        ("5912", "MEDICAL_PHARMACIES_AND_SUPPLEMENTS"),
        ("6011", "TRANSFER_OUT_WITHDRAWAL"),
        ("7995", "ENTERTAINMENT_CASINOS_AND_GAMBLING"),
        ("8398", "GOVERNMENT_AND_NON_PROFIT_DONATIONS"),
        ("9311", "GOVERNMENT_AND_NON_PROFIT_TAX_PAYMENT"),
        ("6012", UNCATEGORIZED),
        ("ZZZZ", None),
    ],
)
def test_mcc_mapping(code: str, detailed: str | None) -> None:
    assert mcc_category(code) == detailed


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED_MCC.exists(), reason=f"shared MCC list not found at {SHARED_MCC}")
def test_every_published_mcc_maps_to_a_category() -> None:
    codes = pl.read_csv(SHARED_MCC, schema_overrides={"mcc": pl.String})["mcc"].to_list()
    mapped = {code: mcc_category(code) for code in codes}
    unmapped = sorted(c for c, d in mapped.items() if d is None)
    assert unmapped == []
    assert all(d in DETAILED or d == UNCATEGORIZED for d in mapped.values())
    ambiguous = sorted(c for c, d in mapped.items() if d == UNCATEGORIZED)
    print(
        f"MCC coverage: {len(codes) - len(ambiguous)}/{len(codes)} mapped; "
        f"deliberately UNCATEGORIZED: {', '.join(ambiguous)}"
    )
    assert ambiguous == ["5967", "6012", "7273"]


ONE_ROW_DESCRIPTORS = [
    (
        "PURCHASE AUTHORIZED ON 09/08 STARBUCKS STORE 16310 HOUSTON TX S724111212682055 CARD 6241",
        None,
        "card",
    ),
    (
        "PURCHASE AUTHORIZED ON 05/07 SQ *BLUE BOTTLE COFFEE SAN DIEGO CA S79921 CARD 1234",
        None,
        "card",
    ),
    ("MCDONALD'S F24120 SAN ANTONIO TX", None, "card"),
    ("TST* SILVER TABLE SUSHI SEATTLE WA", None, "card"),
    ("COMED ELEC PYMT WEB PMTS PPD ID: 1514420568", "COMED ELEC PYMT", "direct_debit"),
    ("UBER *EATS HELP.UBER.COM", None, "online"),
    ("CARD 8840 ZETTLE_*OAK TABLE CAFE LONDON GB", None, "card"),
    ("AMAZON.CO.UK*W8T17HSTH", None, "online"),
    ("DIRECT DEBIT THAMES WATER 527948932", "THAMES WATER", "direct_debit"),
    ("LIDL DIENSTL 7404//Hamburg/DE 2025-07-05T15:03:26 KFN 1 VJ 2805", None, "card"),
    ("SEPA-LASTSCHRIFT VODAFONE GMBH VERTRAG 398830733", "VODAFONE GMBH", "direct_debit"),
    ("BEA, Betaalpas ZARA 0982,PAS2282 NR:440982, 08.06.25/14.00 DEN HAAG", None, "card"),
    (
        "PRLV SEPA EDF CLIENTS PARTICULIERS REF 017548713",
        "EDF CLIENTS PARTICULIERS",
        "direct_debit",
    ),
    ("COMPRA TARJ. 5402XXXXXXXX7153 SUMUP *PANADERIA BAR OLIVO-MALAGA", None, "card"),
    ("SILVERLINE LOGISTICS LTD SALARY BGC 6803161", "SILVERLINE LOGISTICS LTD", "transfer"),
    ("STANDING ORDER M BROWN RENT", "M BROWN", "standing_order"),
    ("MONTHLY ACCOUNT FEE", None, "fee"),
    ("HABENZINSEN", None, "interest"),
    ("CASH WITHDRAWAL ATM 1234", None, "atm"),
    ("UMBUCHUNG AUF KONTO 3680", None, "standing_order"),
    ("MYSTERY THING LONDON GB", None, "card"),
    # accented Latin letters take the one-row path too, and must agree with the frame path
    ("INTERMARCHE PARIS", None, "card"),  # the directory's name is accented: Intermarché
    ("CB BOULANGERIE DUPRÉ 12/05 LYON", None, "card"),
    ("SEPA-LASTSCHRIFT STADTWERKE MÜNCHEN", "Stadtwerke München", "direct_debit"),
    ("ŻABKA KRAKÓW 1234", None, "card"),
    ("KØBMAND HANSEN ÅRHUS", None, "card"),
    ("STRAßE 5 CAFÉ", None, "card"),  # ß upper-cases to SS: the frame path answers
    # no channel: the lexicon and the model answer on the one-row path too
    ("POS PURCHASE 12/03 SQ *BLUE DOOR BAKERY CAPE TOWN", None, None),
    ("KARTENZAHLUNG STADTAPOTHEKE KÖLN 12.03.2025 14:22", None, None),
    ("DEBIT ORDER DISCOVERY INSURANCE 1234567", "DISCOVERY INSURANCE", "other"),
    ("PRZELEW WYNAGRODZENIE ACME SP ZOO", None, "other"),
    ("QWXOR PLOMB 4711", None, None),
    ("CARD 1234 NAIL BAR ROSA LEEDS GB", None, "card"),
]


def _one_row_cases() -> list[dict[str, Any]]:
    rows = []
    for i, (description, counterparty, channel) in enumerate(ONE_ROW_DESCRIPTORS):
        for amount, mcc in ((-1000, None), (2500, "5411"), (-95000, "5814"), (0, "6012")):
            rows.append(
                _tx(
                    description,
                    mcc=mcc,
                    channel=channel,
                    amount=amount - i,
                    counterparty=counterparty,
                    customer=f"C{i % 3}",
                )
            )
    rows.append(_tx("CHARGEBACK CREDIT CLAIM 00000010", channel="other", amount=4500))
    rows.append(_tx("CAFÉ MÜLLER BERLIN", mcc="5814"))
    rows.append(_tx("CAFÉ\u200bMÜLLER", mcc="5814"))  # not printable: the frame path answers
    return rows


@pytest.mark.parametrize("with_model", [False, True])
def test_one_row_path_equals_the_frame_path(with_model: bool) -> None:
    rows = _one_row_cases()
    overrides = pl.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "merchant_key": ["STARBUCKS", "LIDL"],
            "category_detailed": [
                "FOOD_AND_DRINK_RESTAURANT",
                "GENERAL_MERCHANDISE_OTHER_GENERAL_MERCHANDISE",
            ],
        }
    )
    bank = RuleSet.from_records(
        [
            {
                "id": "big-debit",
                "category_detailed": "RENT_AND_UTILITIES_RENT",
                "conditions": [
                    {"field": "amount_minor", "operator": "lt", "value": -90000},
                    {"field": "merchant_key", "operator": "regex", "value": "^(ZARA|EDF)$"},
                ],
            },
            {
                "id": "munich-power",
                "category_detailed": "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY",
                "conditions": [
                    {"field": "description", "operator": "regex", "value": r"\bmünchen\b"},
                ],
            },
            {
                "id": "bakeries",
                "category_detailed": "FOOD_AND_DRINK_COFFEE",
                "conditions": [
                    {"field": "merchant", "operator": "contains", "value": ["dupré", "Café"]},
                ],
            },
        ]
    )
    model = _Always("GENERAL_MERCHANDISE_GIFTS_AND_NOVELTIES", 0.7) if with_model else None
    kwargs: dict[str, Any] = {"rules": bank, "overrides": overrides, "classifier": model}
    whole = categorize(_frame(*rows), **kwargs)
    for i, row in enumerate(rows):
        one = categorize(_frame(row), **kwargs)
        assert one.columns == whole.columns
        assert one.row(0) == whole.row(i), row["description"]


_LETTERS = "ABCDEZÉÈÊÄÖÜØÅÆÇÑŁŻŚĆÓÍÚÞéèäöüøåæçñłżśćóíúþabcz"
_TEXT = st.text(alphabet=_LETTERS + "0123456789 *-./&'", min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(description=_TEXT, counterparty=st.one_of(st.none(), _TEXT))
def test_accented_text_gets_the_frame_paths_answer(description: str,
                                                   counterparty: str | None) -> None:
    """The one-row path answers for accented Latin text; whatever the text, it agrees with the
    frame path, through normalization and rules that match on letters, words and case."""
    bank = RuleSet.from_records([
        {"id": "word", "category_detailed": "FOOD_AND_DRINK_COFFEE", "conditions": [
            {"field": "description", "operator": "regex", "value": r"\bÉ\w+"}]},
        {"id": "case", "category_detailed": "GENERAL_MERCHANDISE_BOOKSTORES_AND_NEWSSTANDS",
         "conditions": [{"field": "counterparty", "operator": "contains", "value": "øå"}]},
        {"id": "start", "category_detailed": "TRAVEL_LODGING", "conditions": [
            {"field": "merchant_key", "operator": "starts_with", "value": "żó"}]},
    ])
    row = _tx(description, counterparty=counterparty)
    other = _tx("PLAIN OTHER ROW", amount=-5)
    whole = categorize(
        normalize(pl.DataFrame([row, other], schema=dict(TRANSACTIONS))), rules=bank)
    one = categorize(_frame(row), rules=bank)
    assert one.row(0) == whole.row(0)
