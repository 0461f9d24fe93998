"""Rebuild ``src/tactful/enrich/data/mcc_terms.csv`` from the public MCC list.

A word of the MCC descriptions is kept when every code whose description holds it maps (through
the engine's own ``data/mcc_categories.csv``) to one and the same detailed category; generic
words and the airline, car-rental and hotel brand codes (3000-3999) are left out.

    python tools/make_mcc_terms.py ../shared/data/mcc_codes/mcc_codes.csv \
        src/tactful/enrich/data/mcc_terms.csv

The source (github.com/greggles/mcc-codes, public domain) is described in the data set's
``SOURCE.md``; the output file's header names it.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import defaultdict
from pathlib import Path

from tactful.enrich.mcc import mcc_category

SOURCE = (
    "github.com/greggles/mcc-codes @ 16e8ab17db2111272f959482d39c0bb8b48b4a19 mcc_codes.csv "
    "(edited_description), public domain (Unlicense)"
)
STOP = frozenset(
    """AND THE FOR NOT ELSEWHERE CLASSIFIED OTHER STORES STORE SERVICES SERVICE SHOPS SHOP DEALERS
    DEALER SUPPLIES SUPPLY RETAIL WHOLESALE EQUIPMENT MISCELLANEOUS MISC SALES GENERAL
    SPECIALTY PRODUCTS ITEMS ACCESSORIES INCLUDING EXCEPT USED NEW TYPE RELATED WITH FROM
    OUTLETS OUTLET DIRECT MARKETING GOODS PARTS INC CENTERS CENTER ESTABLISHMENTS PLACES
    ORGANIZATIONS OFFICES AGENCIES ASSOCIATIONS MERCHANDISE CATALOG MERCHANT MERCHANTS
    COMPANIES CLUBS RENTAL REPAIR LEASING PERSONAL PROFESSIONAL BUSINESS SYSTEMS SOURCE COMPANY
    DATA CREDIT CARD CASH COST COSTS CHILDREN DAYS CITY CLUB DEFINED BELOW ACTION MEMBERSHIP
    NONDURABLE DURABLE VARIETY COMBINATION HOME PUBLIC LOCAL PRIVATE PAYMENT PAYMENTS
    TRANSACTIONS TRANSACTION FINANCIAL INSTITUTIONS INSTITUTION MANUAL AUTOMATED DEVICES FEES
    VEHICLES VEHICLE TRANSPORTATION MOTOR EXCLUDING ONLY OPERATIONS SUBURBAN BODY AGENTS ALLIED
    APPLICATIONS ARRANGEMENTS BUYING CENTRAL CLASSIFIES CONSUMER CONTINUITY COUNTRY COURSES
    CRYSTAL DEVELOPING DISTANCE DISTRIBUTION DUTY EXCEPTAPPLIANCES EXCLUDES FACILITIES FAST
    FOODS FORFIRST FORMAL FORTUNE FREE GCAS GERMANY GROUND GROUNDS HELP HOUSEHOLD HOUSES
    INFORMATION INTEGRATED LARGE LICENSED LINE LOCKER LONG MAIL MAKING MANAGEMENT MANAGERS
    MEDIA METALS MOBILE MONEY MOVIES NEEDLE NETWORK NOTIONS OPERATIVES OPERATORS ORDER ORDERS
    ORIGINAL OUTBOUND OWNED PERMITTED PIECE PLATE POOL POOLS PREMIUMS PREPARATION PREPARATIONS
    PRESENTMENT PREVIOUSLY PRICE PROCESSING PRODUCERS PRODUCTION PROFESSIONALSCHOOLS
    PROPRIETORS PUBLISHING PURCHASES QUICK RADIO READY REAL REFERRAL RELATIONS REPORTING
    RESERVATION RESTORATION SCHOOL SETTINGS SHOPPING SMALL SPECIAL SPORT STANDS STOCK STOP
    SUBSCRIPTION SWIMMING TAPE TELECOMMUNICATIONS TELEPHONE TELLERS TEMPORARY TERMINALS TICKETS
    TOOL TRACK TRANSFER TRAVELERS VALID VALIDFOR WAREHOUSE WITHOUT WOOD WIRE YARDS CURRENCY
    FOREIGN CHEQUES DISBURSEMENTS COIN CHIPS HORSE COVERING SANITARY CABLE GARDEN FLOWERS BOND
    CARSAND DOGS DOOR EMERGENCY ESTATE LEASES MARKETS OPTICAL HOSPITAL COSMETIC ANCILLARY
    DISPENSERS RACE DESIGN WEAR WOMEN INFANT PAPER PHOTO SHINE SALVAGE STAMP TENT MOVING LOTS
    GLASS RIDING SECONDHAND PAWN CRAFT HOBBY STONES PRECIOUS DRINKING AIDS DEBT CANDY
    """.split()  # noqa: SIM905 -- a word list reads best as words
)


def main(source: Path, target: Path) -> int:
    words: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    with source.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if 3000 <= int(row["mcc"]) <= 3999:
                continue  # airline, car-rental and hotel brand codes: their words are names
            category = mcc_category(row["mcc"])
            if category is None or category == "UNCATEGORIZED":
                continue
            for word in re.findall(r"[A-Za-z]+", row["edited_description"]):
                word = word.upper()
                if len(word) >= 4 and word not in STOP:
                    words[word][category].add(row["mcc"])
    kept = 0
    with target.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["term", "category_detailed", "mcc"])
        out.writerow([
            "# Words that name one category in the descriptions of the ISO 18245 merchant "
            "category codes: a word kept only when every code whose description holds it maps "
            "to that one category (data/mcc_categories.csv).", "", "",
        ])
        out.writerow([f"# Derived from {SOURCE}; codes 3000-3999 (airline, car-rental and "
                      "hotel brands) left out.", "", ""])
        for term in sorted(words):
            categories = words[term]
            if len(categories) == 1:
                ((category, codes),) = categories.items()
                out.writerow([term, category, " ".join(sorted(codes))])
                kept += 1
    return kept


if __name__ == "__main__":
    count = main(Path(sys.argv[1]), Path(sys.argv[2]))
    sys.stdout.write(f"{count} terms written to {sys.argv[2]}\n")
