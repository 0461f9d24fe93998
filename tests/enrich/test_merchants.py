"""Descriptor -> merchant, as real banks print them."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tactful.enrich.merchants import MerchantAliases, normalize, normalize_one
from tactful.errors import ConfigError

CASES = [
    # (bank style, description, counterparty, channel, merchant, key)
    (
        "Wells Fargo",
        "PURCHASE AUTHORIZED ON 09/08 STARBUCKS STORE 16310 HOUSTON TX S724111212682055 CARD 6241",
        None,
        "card",
        "Starbucks",
        "STARBUCKS",
    ),
    (
        "Wells Fargo",
        "PURCHASE AUTHORIZED ON 08/12 WHOLEFDS 03253 HOUSTON TX S335114632230399 CARD 5612",
        None,
        "card",
        "Whole Foods Market",
        "WHOLE FOODS MARKET",
    ),
    (
        "Wells Fargo",
        "PURCHASE AUTHORIZED ON 10/20 AMZN Mktp US*Z4SXLJG1U Amzn.com/bill WA S3692642 CARD 1111",
        None,
        "online",
        "Amazon",
        "AMAZON",
    ),
    (
        "Wells Fargo",
        "PURCHASE AUTHORIZED ON 05/07 SQ *BLUE BOTTLE COFFEE SAN DIEGO CA S79921 CARD 1234",
        None,
        "card",
        "Blue Bottle Coffee",
        "BLUE BOTTLE COFFEE",
    ),
    ("Chase", "WAL-MART #2729 SAN ANTONIO TX", None, "card", "Walmart", "WALMART"),
    ("Chase", "MCDONALD'S F24120 SAN ANTONIO TX", None, "card", "McDonald's", "MCDONALDS"),
    (
        "Chase",
        "TST* SILVER TABLE SUSHI SEATTLE WA",
        None,
        "card",
        "Silver Table Sushi",
        "SILVER TABLE SUSHI",
    ),
    (
        "BofA",
        "COMED ELEC PYMT WEB PMTS PPD ID: 1514420568",
        "COMED ELEC PYMT",
        "direct_debit",
        "ComEd",
        "COMED",
    ),
    ("BofA", "UBER *TRIP HELP.UBER.COM", None, "online", "Uber", "UBER"),
    ("BofA", "UBER *EATS HELP.UBER.COM", None, "online", "Uber Eats", "UBER EATS"),
    (
        "Barclays",
        "CARD 1235 PRET A MANGER CARDIFF GB",
        None,
        "card",
        "Pret A Manger",
        "PRET A MANGER",
    ),
    ("HSBC", "CARD 7520 SAINSBURYS S/MKTS LONDON GB", None, "card", "Sainsbury's", "SAINSBURYS"),
    (
        "Monzo",
        "CARD 8840 ZETTLE_*OAK TABLE CAFE LONDON GB",
        None,
        "card",
        "Oak Table Cafe",
        "OAK TABLE CAFE",
    ),
    ("Revolut", "AMAZON.CO.UK*W8T17HSTH", None, "online", "Amazon", "AMAZON"),
    (
        "Lloyds",
        "DIRECT DEBIT THAMES WATER 527948932",
        "THAMES WATER",
        "direct_debit",
        "Thames Water",
        "THAMES WATER",
    ),
    (
        "Sparkasse",
        "LIDL DIENSTL 7404//Hamburg/DE 2025-07-05T15:03:26 KFN 1 VJ 2805",
        None,
        "card",
        "Lidl",
        "LIDL",
    ),
    (
        "Deutsche Bank",
        "SEPA-LASTSCHRIFT VODAFONE GMBH VERTRAG 398830733",
        "VODAFONE GMBH",
        "direct_debit",
        "Vodafone",
        "VODAFONE",
    ),
    (
        "Deutsche Bank",
        "APOTHEKE ECKE//Hamburg/DE 2025-05-03T17:32:07 KFN 1 VJ 2806",
        None,
        "card",
        "Apotheke Ecke",
        "APOTHEKE ECKE",
    ),
    (
        "ING",
        "BEA, Betaalpas ZARA 0982,PAS2282 NR:440982, 08.06.25/14.00 DEN HAAG",
        None,
        "card",
        "Zara",
        "ZARA",
    ),
    (
        "ING",
        "SEPA INCASSO ZIGGO SERVICES BV KENMERK 010223309",
        "ZIGGO SERVICES BV",
        "direct_debit",
        "Ziggo",
        "ZIGGO",
    ),
    ("BNP", "CARTE X9479 03/08 CARREFOUR CITY", None, "card", "Carrefour", "CARREFOUR"),
    (
        "BNP",
        "PRLV SEPA EDF CLIENTS PARTICULIERS REF 017548713",
        "EDF CLIENTS PARTICULIERS",
        "direct_debit",
        "EDF",
        "EDF",
    ),
    (
        "Santander",
        "COMPRA TARJ. 5402XXXXXXXX8865 FARMACIA CARMEN-ZARAGOZA",
        None,
        "card",
        "Farmacia Carmen",
        "FARMACIA CARMEN",
    ),
    (
        "Santander",
        "COMPRA TARJ. 5402XXXXXXXX7153 SUMUP *PANADERIA BAR OLIVO-MALAGA",
        None,
        "card",
        "Panaderia Bar Olivo",
        "PANADERIA BAR OLIVO",
    ),
    (
        "payroll",
        "SILVERLINE LOGISTICS LTD SALARY BGC 6803161",
        "SILVERLINE LOGISTICS LTD",
        "transfer",
        "Silverline Logistics Ltd",
        "SILVERLINE LOGISTICS",
    ),
    (
        "payroll",
        "LOHN/GEHALT GRANITE RETAIL GMBH & CO KG 09/2025",
        "GRANITE RETAIL GMBH & CO KG",
        "transfer",
        "Granite Retail GmbH & Co Kg",
        "GRANITE RETAIL",
    ),
    (
        "South Africa",
        "POS PURCHASE 14/05 WOOLWORTHS FOOD 1123 ROSEBANK",
        None,
        "card",
        "Woolworths",
        "WOOLWORTHS",
    ),
    ("South Africa", "POS PURCHASE 11/03 DIS-CHEM PHARMACY WOODMEAD", None, "card", "Dis-Chem",
     "DIS CHEM"),
    ("interest", "HABENZINSEN", None, "interest", None, None),
    ("fee", "OVERDRAFT FEE", None, "fee", None, None),
    ("own transfer", "UMBUCHUNG AUF KONTO 3680", None, "standing_order", None, None),
]


@pytest.mark.parametrize(
    ("description", "counterparty", "channel", "merchant", "key"),
    [c[1:] for c in CASES],
    ids=[f"{c[0]}: {c[1][:30]}" for c in CASES],
)
def test_descriptor_to_merchant(
    description: str, counterparty: str | None, channel: str, merchant: str | None, key: str | None
) -> None:
    assert normalize_one(description, counterparty, channel=channel) == (merchant, key)


def _frame(rows: list[tuple[str, str | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"description": pl.String, "counterparty": pl.String, "channel": pl.String},
        orient="row",
    )


def test_frame_version_agrees_with_normalize_one_on_the_table() -> None:
    rows = [(c[1], c[2], c[3]) for c in CASES]
    out = normalize(_frame(rows))
    assert list(zip(out["merchant"], out["merchant_key"], strict=True)) == [
        (c[4], c[5]) for c in CASES
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="ABCDEFGHIJ 0123456789*#/-.&'", min_size=0, max_size=40),
            st.none() | st.text(alphabet="ABCDE LTDGMBH", min_size=0, max_size=15),
            st.sampled_from(["card", "online", "transfer", "direct_debit", "fee"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_normalize_one_equals_the_frame_version(rows: list[tuple[str, str | None, str]]) -> None:
    out = normalize(_frame(rows))
    for (d, cp, ch), m, k in zip(rows, out["merchant"], out["merchant_key"], strict=True):
        assert normalize_one(d, cp, channel=ch) == (m, k)


def test_frame_keeps_its_rows_and_order() -> None:
    rows = [
        ("STARBUCKS 1", None, "card"),
        ("HABENZINSEN", None, "interest"),
        ("STARBUCKS 2", None, "card"),
    ]
    out = normalize(_frame(rows))
    assert out["description"].to_list() == [r[0] for r in rows]


def test_a_bank_can_add_its_own_aliases_which_win(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text("pattern,merchant,category_detailed\nSTARBUCKS,Starbucks Reserve,\n", "utf-8")
    aliases = MerchantAliases.default().extended(MerchantAliases.from_csv(path))
    assert normalize_one("STARBUCKS 1234 SEATTLE WA", None, aliases) == (
        "Starbucks Reserve",
        "STARBUCKS RESERVE",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pattern,merchant,category_detailed\nFOO,,\n", "bank.csv:2: alias 'FOO' has no merchant"),
        (
            "pattern,merchant,category_detailed\nFOO,Foo,FOOD_AND_DRINK_PIZZA\n",
            "alias 'FOO': category_detailed 'FOOD_AND_DRINK_PIZZA' is not in the taxonomy",
        ),
    ],
)
def test_bad_alias_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bank.csv"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as err:
        MerchantAliases.from_csv(path)
    assert str(err.value).endswith(message)


def test_default_directory_categories_are_valid() -> None:
    assert len(MerchantAliases.default().entries) > 500


@pytest.mark.parametrize(
    ("description", "key"),
    [
        ("YOCO *MAMAS KITCHEN", "MAMAS KITCHEN"),  # South African card readers
        ("SNAPSCAN *JOES BURGERS", "JOES BURGERS"),
        ("CRV*BLUE LAGOON CAFE", "BLUE LAGOON CAFE"),
        ("PAYFAST *HAPPY HOUND", "HAPPY HOUND"),
        ("IZETTLE *OLD MILL", "OLD MILL"),
    ],
)
def test_more_processors_are_not_the_merchant(description: str, key: str) -> None:
    assert normalize_one(description, None)[1] == key


def test_a_brand_with_digits_in_its_name_is_found() -> None:
    """Descriptors have their digit runs folded before the look-up; the directory's patterns
    are folded the same way ("BET365" was never found)."""
    assert normalize_one("BET365  ON 12 AUG BCC bet365", None)[1] == "BET365"
    assert normalize_one("MICROSOFT 365 MSBILL.INFO", None)[0] == "Microsoft 365"


@pytest.mark.parametrize(
    ("description", "merchant", "category"),
    [
        # Australia and New Zealand
        ("COLES 0784 DEE WHY AU", "Coles", "FOOD_AND_DRINK_GROCERIES"),
        ("COLES EXPRESS 1234 MANLY AU", "Coles Express", "TRANSPORTATION_GAS"),
        ("countdown karori wellington", "Countdown", "FOOD_AND_DRINK_GROCERIES"),
        ("pak n save kilbirnie kilbirnie nz", "Pak'nSave", "FOOD_AND_DRINK_GROCERIES"),
        ("DAN MURPHY'S 1237 MANLY VALE AU", "Dan Murphy's", "FOOD_AND_DRINK_BEER_WINE_AND_LIQUOR"),
        ("TRANSPORTFORNSW TAP SYDNEY AU", "Transport for NSW", "TRANSPORTATION_PUBLIC_TRANSIT"),
        ("LINKT SYDNEY SYDNEY AU", "Linkt", "TRANSPORTATION_TOLLS"),
        ("mitre 10 mega np new plymouth nz", "Mitre 10", "HOME_IMPROVEMENT_HARDWARE"),
    ],
)
def test_australian_and_new_zealand_chains(description: str, merchant: str, category: str) -> None:
    assert normalize_one(description, None)[0] == merchant
    assert MerchantAliases.default().category_of()[normalize_one(description, None)[1]] == category


@pytest.mark.parametrize(
    ("description", "key"),
    [
        # a processor nobody listed: a short code, a star or hash, then the merchant
        ("PURCHASE AUTHORIZED ON 01/17 WJWB *ZORBLAX EATERY SAN ANTONIO TX", "ZORBLAX EATERY"),
        ("GJKW*BLUE DOOR CAFE", "BLUE DOOR CAFE"),
        ("RKMH# CORNER DELI", "CORNER DELI"),
        # a merchant's own reference after its name and a star stays the merchant's
        ("ZORBLAXIA*SBWTRQHF 828-128-7000", "ZORBLAXIA"),
        ("UBER *TRIP HELP.UBER.COM", "UBER"),
    ],
)
def test_an_unknown_processor_code_is_not_the_merchant(description: str, key: str) -> None:
    assert normalize_one(description, None)[1] == key
    frame = normalize(
        pl.DataFrame(
            {"description": [description] * 2, "counterparty": [None] * 2,
             "channel": ["card"] * 2},
            schema={"description": pl.String, "counterparty": pl.String, "channel": pl.String},
        )
    )
    assert frame["merchant_key"].to_list() == [key, key]


@pytest.mark.parametrize(
    ("description", "merchant", "category"),
    [
        ("SUPERSPAR 4410 LONEHILL", "SuperSpar", "FOOD_AND_DRINK_GROCERIES"),
        # Spar's European shops stay convenience stores
        ("SPAR 4410 BELFAST", "Spar", "GENERAL_MERCHANDISE_CONVENIENCE_STORES"),
        ("CHECKERS HYPER 0221 MENLYN", "Checkers", "FOOD_AND_DRINK_GROCERIES"),
        # namesakes abroad: the longer name wins at the same place
        ("CHECKERS DRIVE IN 1234 TAMPA FL", "Checkers Drive-In", "FOOD_AND_DRINK_FAST_FOOD"),
        ("PEP 3012 KHAYELITSHA", "PEP", "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES"),
        ("PEP BOYS 0123 PHILADELPHIA PA", "Pep Boys", "GENERAL_SERVICES_AUTOMOTIVE"),
        ("MR PRICE HOME 0921 EASTGATE", "Mr Price Home", "HOME_IMPROVEMENT_FURNITURE"),
        ("GAME STORES 0312 CANAL WALK", "Game", "GENERAL_MERCHANDISE_SUPERSTORES"),
        # an ordinary word of a chain's name names no chain alone
        ("KRUGER GAME LODGE", "Kruger Game Lodge", None),
        ("MOMENTUM CYCLES", "Momentum Cycles", None),
    ],
)
def test_a_south_african_chain_is_told_from_its_namesakes(
    description: str, merchant: str, category: str | None
) -> None:
    out = normalize(_frame([(description, None, "card")]))
    assert out.select("merchant", "merchant_category_detailed").row(0) == (merchant, category)
