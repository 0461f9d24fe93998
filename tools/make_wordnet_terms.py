"""Rebuild ``src/tactful/enrich/data/wordnet_terms.csv`` from WordNet 3.0's nouns.

The hand-written lexicon names the common words of each kind of business; the long tail of
English shop, food-place and goods words ("dispensary", "provisions", "haberdashery",
"chophouse") comes from a public thesaurus instead of anyone's memory. Each category of the
engine's taxonomy that names a kind of place or goods is given one or more WordNet noun senses
(``ROOTS``: a word and its sense number, as ``wn`` prints them); every word of a root's
hyponyms (the kinds of it, transitively) is a term of that category, under the most specific
root above it; for the roots that name goods rather than businesses (``SELF_ONLY``: garments)
only the root's own words. A word is kept only when it is unambiguous: every noun sense WordNet knows for
it lies under roots of one and the same category (so "jersey", an island and a breed of cattle
as well as a garment, is left out, and so is "store", which is also a supply), it is written
in lower case (no proper names), has five letters or more and no digits or hyphens; its plural
is written beside it. Words the hand-written lexicon or the MCC terms already hold are left to them.

    apt-get download wordnet-base && dpkg -x wordnet-base_*.deb wn
    python tools/make_wordnet_terms.py wn/usr/share/wordnet \
        src/tactful/enrich/data/wordnet_terms.csv

WordNet 3.0, Princeton University (WordNet 3.0 licence: use, copy, modify and distribute
for any purpose with the copyright notice kept); the output file's header names it.
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

from tactful.enrich.lexicon import Lexicon, _normal

SOURCE = (
    "WordNet 3.0 (Debian package wordnet-base 1:3.0-37), data.noun and index.noun; "
    "WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. "
    "Licence: WordNet 3.0 (use, copy, modify and distribute for any purpose without fee, "
    "with this notice kept)"
)

ROOTS: tuple[tuple[str, int, str], ...] = (
    ("grocery_store", 1, "FOOD_AND_DRINK_GROCERIES"),
    ("provisions", 1, "FOOD_AND_DRINK_GROCERIES"),
    ("grocer", 1, "FOOD_AND_DRINK_GROCERIES"),
    ("delicatessen", 2, "FOOD_AND_DRINK_GROCERIES"),
    ("butcher_shop", 1, "FOOD_AND_DRINK_GROCERIES"),
    ("fishmonger", 1, "FOOD_AND_DRINK_GROCERIES"),
    ("restaurant", 1, "FOOD_AND_DRINK_RESTAURANT"),
    ("coffee_shop", 1, "FOOD_AND_DRINK_COFFEE"),
    ("bakery", 1, "FOOD_AND_DRINK_COFFEE"),
    ("barroom", 1, "FOOD_AND_DRINK_BEER_WINE_AND_LIQUOR"),
    ("liquor_store", 1, "FOOD_AND_DRINK_BEER_WINE_AND_LIQUOR"),
    # goods, not places: their own words only (SELF_ONLY)
    ("garment", 1, "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES"),
    ("clothing", 1, "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES"),
    ("clothing_store", 1, "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES"),
    ("outfitter", 1, "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES"),
    ("outfitter", 2, "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES"),
    ("shoe_shop", 1, "GENERAL_MERCHANDISE_CLOTHING_AND_ACCESSORIES"),
    ("bookshop", 1, "GENERAL_MERCHANDISE_BOOKSTORES_AND_NEWSSTANDS"),
    ("department_store", 1, "GENERAL_MERCHANDISE_DEPARTMENT_STORES"),
    ("pet_shop", 1, "GENERAL_MERCHANDISE_PET_SUPPLIES"),
    ("toyshop", 1, "GENERAL_MERCHANDISE_GIFTS_AND_NOVELTIES"),
    ("hardware_store", 1, "HOME_IMPROVEMENT_HARDWARE"),
    ("drugstore", 1, "MEDICAL_PHARMACIES_AND_SUPPLEMENTS"),
    ("clinic", 1, "MEDICAL_PRIMARY_CARE"),
    ("clinic", 3, "MEDICAL_PRIMARY_CARE"),
    ("hospital", 1, "MEDICAL_OTHER_MEDICAL"),
    ("hospital", 2, "MEDICAL_OTHER_MEDICAL"),
    ("gas_station", 1, "TRANSPORTATION_GAS"),
    ("parking_lot", 1, "TRANSPORTATION_PARKING"),
    ("movie_theater", 1, "ENTERTAINMENT_TV_AND_MOVIES"),
    ("hotel", 1, "TRAVEL_LODGING"),
    ("barbershop", 1, "PERSONAL_CARE_HAIR_AND_BEAUTY"),
    ("beauty_parlor", 1, "PERSONAL_CARE_HAIR_AND_BEAUTY"),
    ("laundry", 2, "PERSONAL_CARE_LAUNDRY_AND_DRY_CLEANING"),
    ("gymnasium", 2, "PERSONAL_CARE_GYMS_AND_FITNESS_CENTERS"),
)
MIN_LETTERS = 5
SELF_ONLY = frozenset({"garment", "clothing"})
"""Roots whose kinds are articles, not businesses: a shop sign says "garments" or "clothing",
not "derby" or "bowler" (a hat, and a city and a surname), so only the root's own words count."""


class WordNet:
    """The noun part of a WordNet database directory: synsets, their hyponyms, and each
    word's senses in WordNet's order."""

    def __init__(self, folder: Path) -> None:
        self.words: dict[str, list[str]] = {}
        self.hyponyms: dict[str, list[str]] = defaultdict(list)
        self.gloss: dict[str, str] = {}
        for line in (folder / "data.noun").read_text("latin-1").splitlines():
            if line.startswith("  "):
                continue
            head, _, gloss = line.partition(" | ")
            f = head.split()
            offset, count = f[0], int(f[3], 16)
            self.words[offset] = [f[4 + 2 * i] for i in range(count)]
            self.gloss[offset] = gloss.strip()
            i = 4 + 2 * count
            for _ in range(int(f[i])):
                symbol, target, pos = f[i + 1], f[i + 2], f[i + 3]
                if symbol == "~" and pos == "n":  # hyponyms; instances are proper names
                    self.hyponyms[offset].append(target)
                i += 4
        self.senses: dict[str, list[str]] = {}
        for line in (folder / "index.noun").read_text("latin-1").splitlines():
            if line.startswith("  "):
                continue
            f = line.split()
            n_synsets, n_pointers = int(f[2]), int(f[3])
            self.senses[f[0]] = f[6 + n_pointers : 6 + n_pointers + n_synsets]

    def below(self, offset: str) -> set[str]:
        out: set[str] = set()
        stack = [offset]
        while stack:
            o = stack.pop()
            if o not in out:
                out.add(o)
                stack.extend(self.hyponyms[o])
        return out


def terms(wn: WordNet) -> dict[str, tuple[str, str]]:
    """word (as WordNet writes it) -> (category, root) for every unambiguous word."""
    # the most specific root above each synset: the root whose tree is smallest
    nearest: dict[str, tuple[int, str, str]] = {}
    for word, sense, category in ROOTS:
        root = wn.senses[word][sense - 1]
        tree = {root} if word in SELF_ONLY else wn.below(root)
        for o in tree:
            if o not in nearest or len(tree) < nearest[o][0]:
                nearest[o] = (len(tree), category, f"{word}.{sense}")
    found: dict[str, tuple[str, str]] = {}
    for offset in nearest:
        for word in wn.words[offset]:
            key = word.lower()
            if word != key or len(key.replace("_", "")) < MIN_LETTERS:
                continue
            if not key.replace("_", "").isalpha():  # no digits, no hyphens ("pull-in")
                continue
            categories = {nearest[o][1] if o in nearest else None for o in wn.senses[key]}
            if len(categories) == 1 and None not in categories:
                found[key] = (nearest[offset][1], nearest[offset][2])
    return found


def plural(word: str) -> str:
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def main(folder: Path, target: Path) -> int:
    wn = WordNet(folder)
    known = {
        _normal(t.term) for t in Lexicon.default().terms if not t.reason.startswith("wordnet:")
    }
    rows: dict[str, tuple[str, str]] = {}
    for word, (category, root) in sorted(terms(wn).items()):
        for form in (word, plural(word)):
            text = _normal(form.replace("_", " ").replace("-", " "))
            if text not in known and text not in rows:
                rows[text] = (category, root)
    with target.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["term", "category_detailed", "root"])
        out.writerow(
            [
                "# Words WordNet files, transitively, under a sense named for a category "
                "(tools/make_wordnet_terms.py ROOTS), kept when every noun sense of the word "
                "lies under roots of that one category; plurals beside them.",
                "",
                "",
            ]
        )
        out.writerow([f"# Derived from {SOURCE}.", "", ""])
        for text, (category, root) in sorted(rows.items()):
            out.writerow([text, category, root])
    sys.stdout.write(f"{len(rows)} terms -> {target}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
