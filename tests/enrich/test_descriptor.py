"""The descriptor reader: the channel a raw descriptor names, and its own words."""

from __future__ import annotations

import polars as pl
import pytest

from tactful.enrich.descriptor import (
    clean_descriptor,
    descriptor_patterns,
    fill_from_descriptor,
    infer_channel,
)


@pytest.mark.parametrize(
    ("description", "amount", "channel", "words"),
    [
        # South Africa
        ("POS PURCHASE 12/03 SQ *BLUE DOOR BAKERY 4410 CAPE TOWN", -4500, "card",
         "BLUE DOOR BAKERY CAPE TOWN"),
        ("DEBIT ORDER DISCOVERY LIFE 1234567", -45000, "direct_debit", "DISCOVERY LIFE"),
        ("CARD PURCHASE 2024-03-01 YOCO *MAMAS KITCHEN", -9000, "card", "MAMAS KITCHEN"),
        ("MONTHLY ACCOUNT FEE", -6900, "fee", "MONTHLY ACCOUNT FEE"),
        ("ATM CASH WITHDRAWAL 08:14 SANDTON", -100000, "atm", "SANDTON"),
        # a fee for what the bank did, whatever merchant follows; a deposit without a fee is cash
        ("INTERNATIONAL PROCESSING ONLINE PURCHASE FEE: STEAMGAMES.COM", -100, "fee",
         "INTERNATIONAL PROCESSING ONLINE PURCHASE FEE STEAMGAMES COM"),
        ("CASH DEPOSIT FEE 0412 SANDTON BRANCH", -130, "fee", "FEE SANDTON BRANCH"),
        ("CASH DEPOSIT SANDTON BRANCH", 250000, "atm", "SANDTON BRANCH"),
        # US / UK
        ("PURCHASE AUTHORIZED ON 01/11 BLUE HOUSE PUB MINNEAPOLIS MN S537099504534620 CARD 2353",
         -3077, "card", "BLUE HOUSE PUB MINNEAPOLIS MN"),
        ("CARD PAYMENT TO ZETTLE_*OLD MILL TEAROOM ON 12 MAR", -650, "card", "OLD MILL TEAROOM"),
        ("DIRECT DEBIT BRITISH GAS 88812345", -8000, "direct_debit", "BRITISH GAS"),
        ("FASTER PAYMENTS RECEIVED ACME WIDGETS LTD SALARY", 250000, "transfer",
         "ACME WIDGETS LTD SALARY"),
        ("LOAN INTEREST", -14717, "interest", "LOAN INTEREST"),
        # UK banks' own layouts: a card line with the card's last digits and the day, Barclays'
        # "ON 16 JUL CLP" tail, an app payment, and a foreign card payment whose note names a fee
        ("9730 28APR24 C    CASTLE VENDING    ARMAGH GB", -150, "card",
         "CASTLE VENDING ARMAGH GB"),
        ("Baba Jaga  ON 16 JUL CLP BABA JAGA", -1200, "card", "BABA JAGA"),
        ("JUSTERINI   BROOKSCAVE BRISTOL      VIA MOBILE - PYMT FP 31/07/25 10", -5000,
         "transfer", "JUSTERINI BROOKSCAVE BRISTOL"),
        ("NAO POOL CLUB SPAIN AMOUNT IN EUR 50.00 ON 06 AUG VISA RATE 1.147 FINAL GBP AMOUNT "
         "43.59 INCLUDES NON-STERLING TRANSACTION FEE 1.20", -4479, "card", "NAO POOL CLUB SPAIN"),
        ("NON-STERLING TRANSACTION FEE", -120, "fee", "NON STERLING TRANSACTION FEE"),
        # Germany
        ("Kartenzahlung Stadtapotheke Köln 12.03.2025 14:22", -1290, "card",
         "STADTAPOTHEKE KÖLN"),
        ("SEPA-LASTSCHRIFT VODAFONE GMBH VERTRAG 398830733", -3999, "direct_debit",
         "VODAFONE GMBH"),
        ("GA NR32662849 BLZ37040044 0/24/06/08.24UHR BERLIN", -10000, "atm", "BERLIN"),
        ("BAR GRUENE HIRSCH//Berlin/DE 2025-01-11T23:38:14 KFN 1 VJ 2809", -2802, "card",
         "BAR GRUENE HIRSCH"),
        # France, Spain, Netherlands, Italy, Poland
        ("PRLV SEPA FREE MOBILE ECHEANCE 0325", -1999, "direct_debit", "FREE MOBILE ECHEANCE"),
        ("CARTE X4350 11/06 PHARMACIE DU MARCHE", -1550, "card", "PHARMACIE DU MARCHE"),
        ("COMPRA TARJ. 5402XXXXXXXX1725 GASOLINERA SUR-VALENCIA", -5000, "card",
         "GASOLINERA SUR VALENCIA"),
        ("BEA, Betaalpas BRUIN CAFE HET TULP,PAS2282 NR:704901, 13.01.25/00.06 DEN HAAG", -714,
         "card", "BRUIN CAFE HET TULP DEN HAAG"),
        ("ADDEBITO SDD ENEL ENERGIA 0012345", -7000, "direct_debit", "ENEL ENERGIA"),
        ("PRZELEW PRZYCHODZACY WYNAGRODZENIE ACME SP ZOO", 500000, "transfer",
         "WYNAGRODZENIE ACME SP ZOO"),
        # no wrapper at all: a debit is a card payment, a credit a transfer
        ("HAPPY DONUTS", -450, "card", "HAPPY DONUTS"),
        ("J SMITH", 5000, "transfer", "J SMITH"),
    ],
)
def test_channel_and_words_of_a_descriptor(
    description: str, amount: int, channel: str, words: str
) -> None:
    assert infer_channel(description, amount) == channel
    assert clean_descriptor(description) == words


def test_every_shipped_pattern_compiles_and_names_a_known_channel() -> None:
    patterns = descriptor_patterns()
    assert len(patterns) > 50
    assert {p.language for p in patterns} >= {"en", "de", "fr", "es", "nl", "it", "pt", "pl"}


def _frame(rows: list[tuple[str, int, str | None, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "description": pl.String,
            "amount_minor": pl.Int64,
            "channel": pl.String,
            "counterparty": pl.String,
        },
        orient="row",
    )


def test_fill_keeps_known_channels_and_reads_unknown_ones() -> None:
    frame = _frame(
        [
            ("DEBIT ORDER DISCOVERY LIFE 1234567", -45000, None, None),
            ("DEBIT ORDER DISCOVERY LIFE 1234567", -45000, "other", None),
            ("DEBIT ORDER DISCOVERY LIFE 1234567", -45000, "transfer", None),
            ("OVERBOEKING VAN TEMPER BV BSHEEDQYVN", 10177, None, None),
            ("ONLINE TRANSFER FROM CHK XXXXXX5671 REF #IBBSHGP8NW", 12500, None, None),
            ("TAKEALOT ONLINE", -30000, None, "TAKEALOT.COM"),
        ]
    )
    out = fill_from_descriptor(frame)
    assert out["channel"].to_list() == [
        "direct_debit", "direct_debit", "transfer", "transfer", "standing_order", "card",
    ]
    assert out["counterparty"].to_list() == [
        "DISCOVERY LIFE",  # a direct debit names its creditor
        "DISCOVERY LIFE",
        None,  # the bank said transfer: nothing is guessed
        "TEMPER BV",  # what follows the legal form is a reference
        None,  # an own-account move has no counterparty
        "TAKEALOT.COM",  # the bank's own counterparty is kept
    ]


def test_a_frame_whose_channels_are_all_known_is_returned_as_is() -> None:
    frame = _frame([("KARTENZAHLUNG REWE", -100, "card", None)])
    assert fill_from_descriptor(frame) is frame
