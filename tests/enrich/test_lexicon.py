"""The category lexicon: words that name a kind of business, in many languages."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tactful.enrich.lexicon import NAME_FIELD_WIDTHS, PIECE_TAILS, Lexicon, Term, keyed_text
from tactful.errors import ConfigError

PHARMACY = "MEDICAL_PHARMACIES_AND_SUPPLEMENTS"
FUEL = "TRANSPORTATION_GAS"
PHONE = "RENT_AND_UTILITIES_TELEPHONE"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("CITY PHARMACY", PHARMACY),
        ("STADTAPOTHEKE KOELN", PHARMACY),  # inside a German compound
        ("FARMACIA SAN MARCO", PHARMACY),
        ("APTEKA POD ORLEM", PHARMACY),
        ("APOTEKET HJORTEN", PHARMACY),
        ("FUEL STOP N1", FUEL),
        ("ARAL TANKSTELLE", FUEL),
        ("GASOLINERA LOS PINOS", FUEL),
        ("STACJA PALIW ORLEN", FUEL),
        ("PREPAID AIRTIME", PHONE),
        ("AIRTIME TOPUP", PHONE),
        ("RECARGA MOVIL", PHONE),
        ("PREPAID ELECTRICITY", "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY"),
        ("NAIL BAR ROSA", "PERSONAL_CARE_HAIR_AND_BEAUTY"),  # longest at one position
        ("BAR ROSA", "FOOD_AND_DRINK_BEER_WINE_AND_LIQUOR"),
        ("KREDITKARTENABRECHNUNG", "LOAN_PAYMENTS_CREDIT_CARD_PAYMENT"),
        ("TAXICABS AND LIMOUSINES", "TRANSPORTATION_TAXIS_AND_RIDE_SHARES"),  # MCC words
        # ordinary words of shop signs, in several languages
        ("RIVERSIDE CANTEEN", "FOOD_AND_DRINK_RESTAURANT"),
        ("BETRIEBSKANTINE SIEMENS", "FOOD_AND_DRINK_RESTAURANT"),  # inside a German compound
        ("MENSA UNI KOELN", "FOOD_AND_DRINK_RESTAURANT"),
        ("CANTINE DU LYCEE", "FOOD_AND_DRINK_RESTAURANT"),
        ("FRITUUR DE HOEK", "FOOD_AND_DRINK_FAST_FOOD"),
        ("ELM HOMEWARES", "HOME_IMPROVEMENT_FURNITURE"),
        ("COUNTRY INNS", "TRAVEL_LODGING"),
        ("NATURAL REMEDIES", PHARMACY),
        # trade names that glue the kind of business to a generic word
        ("KLOOF FUELSTOP", FUEL),
        ("NORTH PETROLHUB", FUEL),
        ("ROSA BEAUTYBAR", "PERSONAL_CARE_HAIR_AND_BEAUTY"),
        ("CITY BURGERHOUSE", "FOOD_AND_DRINK_FAST_FOOD"),
        ("PIZZAHAUS ROMA", "FOOD_AND_DRINK_FAST_FOOD"),
        ("APOTHEKENECKE", PHARMACY),
    ],
)
def test_a_word_names_its_category(text: str, category: str) -> None:
    hit = Lexicon.default().lookup(text, credit=False)
    assert hit is not None and hit[0] == category


def test_the_reason_names_the_term_and_its_language_or_its_mcc() -> None:
    lexicon = Lexicon.default()
    assert lexicon.lookup("STADTAPOTHEKE", credit=False) == (PHARMACY, "lexicon:de:APOTHEKE")
    hit = lexicon.lookup("TAXICABS", credit=False)
    assert hit is not None and hit[1].startswith("mcc-term:TAXICABS (4121")


def test_direction_decides_what_a_word_means() -> None:
    lexicon = Lexicon.default()
    assert lexicon.lookup("ACME LTD SALARY", credit=True) == (
        "INCOME_WAGES", "lexicon:en:SALARY"
    )
    assert lexicon.lookup("ACME LTD SALARY", credit=False) is None
    assert lexicon.lookup("INTEREST", credit=True) == (
        "INCOME_INTEREST_EARNED", "lexicon:en:INTEREST"
    )
    assert lexicon.lookup("INTEREST", credit=False) == (
        "BANK_FEES_INTEREST_CHARGE", "lexicon:en:INTEREST"
    )


def test_the_leftmost_word_wins() -> None:
    hit = Lexicon.default().lookup("PIZZERIA NEXT TO THE PHARMACY", credit=False)
    assert hit == ("FOOD_AND_DRINK_FAST_FOOD", "lexicon:multi:PIZZERIA")


def test_a_banks_own_terms_come_first() -> None:
    own = Lexicon.from_records([("PHARMACY", "MEDICAL_OTHER_MEDICAL")])
    lexicon = Lexicon.default().extended(own)
    assert lexicon.lookup("CITY PHARMACY", credit=False) == (
        "MEDICAL_OTHER_MEDICAL", "lexicon:bank:PHARMACY"
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"term": " - "}, "lexicon term ' - ': empty after normalization"),
        (
            {"category_detailed": "FOOD_AND_DRINK_COFEE"},
            "lexicon term 'CAFE': category 'FOOD_AND_DRINK_COFEE' is not in the taxonomy",
        ),
        ({"match": "prefix"}, "lexicon term 'CAFE': match 'prefix' is not word/part"),
        ({"direction": "up"}, "lexicon term 'CAFE': direction 'up' is not in/out/any"),
    ],
)
def test_bad_terms_are_refused_with_the_reason(fields: dict[str, str], message: str) -> None:
    values = {"term": "CAFE", "category_detailed": "FOOD_AND_DRINK_COFFEE", **fields}
    with pytest.raises(ConfigError) as caught:
        Term(**values)
    assert str(caught.value) == message


def test_a_bad_row_of_a_banks_file_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(
        "term,language,category_detailed,match,direction\n"
        "KAFFEEBUDE,de,FOOD_AND_DRINK_COFFEE,word,any\n"
        "TEESTUBE,de,FOOD_AND_DRINK_TEA,word,any\n",
        "utf-8",
    )
    with pytest.raises(ConfigError, match=r"mine\.csv:3: lexicon term 'TEESTUBE': category"):
        Lexicon.from_csv(path)


def test_a_compound_is_read_by_its_head_and_a_written_term_wins() -> None:
    lexicon = Lexicon.default()
    assert lexicon.lookup("KLOOF BURGERHOUSE", credit=False) == (
        "FOOD_AND_DRINK_FAST_FOOD", "lexicon:en:BURGER+HOUSE"
    )
    hit = lexicon.lookup("GAMESTOP", credit=False)
    assert hit is not None and hit[1] == "lexicon:en:GAMESTOP"
    assert lexicon.match_one("KLOOF BURGERHOUSE", credit=False) == lexicon.lookup(
        "KLOOF BURGERHOUSE", credit=False
    )


@pytest.mark.parametrize(
    "text",
    [
        "KOFFIBAR",  # the generic word alone names nothing: the head must be a term
        "BARCLAYS",  # a head shorter than four letters is never read inside a word
        "INNSBRUCK HBF",
        "BURGERMEISTER PLATZ",  # a term at the start of a word without a trade suffix
    ],
)
def test_no_compound_without_a_known_head_and_a_trade_suffix(text: str) -> None:
    assert Lexicon.default().lookup(text, credit=False) is None


@pytest.mark.parametrize(
    ("text", "category", "reason"),
    [
        # a term of several words, its spaces squeezed out by a narrow name field
        ("ZORBLAX HEALTHCENTRE", "MEDICAL_PRIMARY_CARE", "lexicon:en:HEALTH CENTRE"),
        # the head of "ONLINE SHOP" before another generic trade word
        ("ZORBLAX ONLINESTORE", "GENERAL_MERCHANDISE_ONLINE_MARKETPLACES",
         "lexicon:en:ONLINE SHOP+STORE"),
        # word pieces: a term (or its singular) beginning an unknown word with a short rest
        ("ZORBLAX TRANSITCARD", "TRANSPORTATION_PUBLIC_TRANSIT", "lexicon:en:TRANSIT+piece"),
        ("ZORBLAX SNACKBOX", "FOOD_AND_DRINK_FAST_FOOD", "lexicon:en:SNACKS+piece"),
        # the generic word cut short by a card network's narrow name field
        ("ZORBLAX BURGERHOU DURBAN", "FOOD_AND_DRINK_FAST_FOOD", "lexicon:en:BURGER+piece"),
        ("ZORBLAX GAMESTOR", "ENTERTAINMENT_VIDEO_GAMES", "lexicon:en:GAME STORE+piece"),
    ],
)
def test_squeezed_terms_generic_heads_and_word_pieces(text: str, category: str,
                                                        reason: str) -> None:
    lexicon = Lexicon.default()
    assert lexicon.lookup(text, credit=False) == (category, reason)
    assert lexicon.match_one(text, credit=False) == (category, reason)


@pytest.mark.parametrize(
    "text",
    [
        "ACME MARKETING",  # only an inflection follows the piece
        "TRANSITIONS LTD",  # idem
        "ZORBLAX TRANSITCARDHOLDERS",  # the rest is no generic word, though it begins with one
        "ZORBLAX UNTRANSITBOX",  # a piece only begins a word
        "GENKGO STOCKHOLM",  # nor is a city (STOCKS + HOLM)
        # the rest is a word of its own that makes another word of the term
        "POWERBALL",  # a lottery, not electricity
        "WATERFALL CITY MIDRAND",  # a place, not a water bill
        "VA WATERFRONT CAPE TOWN",
        "VATTENFALL",  # an electricity company, not water
        "ZORBLAX MARKETWEB",  # online: another kind of business than a market
        "ZORBLAX PAPERWORK",  # a cut of WORKS that is a word of its own
        "ZORBLAX TRANSITCAR",  # idem, of CARD
    ],
)
def test_no_word_piece_where_the_rest_is_no_trade_word(text: str) -> None:
    lexicon = Lexicon.default()
    assert lexicon.lookup(text, credit=False) is None
    assert lexicon.match_one(text, credit=False) is None


def test_a_whole_term_anywhere_wins_over_a_piece_before_it() -> None:
    lexicon = Lexicon.default()
    assert lexicon.lookup("SNACKBOX APOTHEKE", credit=False) == lexicon.lookup(
        "APOTHEKE", credit=False
    )


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["BURGER", "TRANSIT", "SNACK", "POWER", "WATER", "MARKET", "BEAUTY"]),
    st.sampled_from([*PIECE_TAILS, "BALL", "FALL", "FRONT", "ING", "WEB", "X"])
    | st.text(alphabet="ABCDEHIKLNOPRSTUX", min_size=0, max_size=7),
    st.integers(min_value=0, max_value=7),
)
def test_a_piece_is_read_only_before_a_generic_word_or_its_cut(
    head: str, tail: str, cut: int
) -> None:
    """The frame's regex and the one-row path agree; a piece is read only before a word of
    ``PIECE_TAILS`` or its first three letters or more, and always before a whole one."""
    rest = tail[: max(cut, 3)] if tail in PIECE_TAILS else tail
    text = f"ZORBLAX {head}{rest} 4410"
    lexicon = Lexicon.default()
    hit = lexicon.lookup(text, credit=False)
    assert lexicon.match_one(text, credit=False) == hit
    if hit is not None and hit[1].endswith("+piece"):
        assert any(len(rest) >= 3 and t.startswith(rest) for t in PIECE_TAILS), (text, hit)
    if rest in PIECE_TAILS:
        assert hit is not None, text


@pytest.mark.parametrize(
    ("text", "category", "reason"),
    [
        # the long tail of shop and clothing words, from WordNet
        ("ZORBLAX PROVISIONS", "FOOD_AND_DRINK_GROCERIES", "wordnet:provisions.1:PROVISIONS"),
        ("ZORBLAX CHOPHOUSE", "FOOD_AND_DRINK_RESTAURANT", "wordnet:restaurant.1:CHOPHOUSE"),
        ("ZORBLAX GARMENTS", "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES",
         "wordnet:garment.1:GARMENTS"),
    ],
)
def test_wordnet_words_name_kinds_of_shops(text: str, category: str, reason: str) -> None:
    lexicon = Lexicon.default()
    assert lexicon.lookup(text, credit=False) == (category, reason)
    assert lexicon.match_one(text, credit=False) == (category, reason)


@pytest.mark.parametrize("text", ["JERSEY CITY NJ", "NEW JERSEY TURNPIKE", "GENERAL STORES INC"])
def test_a_wordnet_word_with_another_sense_is_left_out(text: str) -> None:
    """"jersey" is a garment, an island and a breed of cattle: no category for it."""
    hit = Lexicon.default().lookup(text, credit=False)
    assert hit is None or not hit[1].startswith("wordnet:"), hit


def test_the_wordnet_terms_name_their_source() -> None:
    text = (Path(__file__).parents[2] / "src/tactful/enrich/data/wordnet_terms.csv").read_text(
        "utf-8"
    )
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in text


@pytest.mark.parametrize(
    ("key", "rest", "category"),
    [
        ("BREAMOOWAIND GREENGROC", "SAN ANTONIO TX", "FOOD_AND_DRINK_GROCERIES"),  # 22: Mastercard
        ("BREAMOOWAIND DISPENSAR", "", "MEDICAL_PHARMACIES_AND_SUPPLEMENTS"),
        ("ZORBLAX BLAXZORB OUTFITTE", "LEEDS",  # 25: Visa
         "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES"),
    ],
)
def test_a_name_cut_by_the_card_networks_field_ends_in_the_start_of_a_term(
    key: str, rest: str, category: str
) -> None:
    assert len(key) in NAME_FIELD_WIDTHS
    text = keyed_text(key, rest)
    lexicon = Lexicon.default()
    hit = lexicon.lookup(text, credit=False)
    assert hit is not None and hit[0] == category and hit[1].endswith("+cut"), hit
    assert lexicon.match_one(text, credit=False) == hit


@pytest.mark.parametrize(
    ("key", "rest"),
    [
        ("ZORB GREENGROC", "LEEDS"),  # the name does not fill the field: not cut
        ("ACME INTERN", "SERVICES"),
        ("ACME HOLDINGS INTERN L", ""),  # INTERN is not the last word
        ("ACME HOLDINGS PHARMXYZ", ""),  # a full field, but its last word begins no term
    ],
)
def test_no_cut_term_outside_a_full_name_field(key: str, rest: str) -> None:
    lexicon = Lexicon.default()
    text = keyed_text(key, rest)
    hit = lexicon.lookup(text, credit=False)
    assert hit is None or not hit[1].endswith("+cut"), hit
    assert lexicon.match_one(text, credit=False) == hit


@settings(max_examples=80, deadline=None)
@given(
    st.text(alphabet="ABDEGILMNOPRSTUVXZ ", min_size=3, max_size=30),
    st.text(alphabet="ABCDEGILMNOPRSTUY ", min_size=0, max_size=12),
)
def test_cut_terms_read_the_same_in_the_frame_and_one_row(key: str, rest: str) -> None:
    key = " ".join(key.split())
    text = keyed_text(key or None, rest)
    lexicon = Lexicon.default()
    assert lexicon.match_one(text, credit=False) == lexicon.lookup(text, credit=False)
