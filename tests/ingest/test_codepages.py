"""Code pages of non-UTF-8 exports, measured on hand-encoded text (named as such: no public
DOS-code-page bank export was found): every letter survives, none is dropped or changed."""

from __future__ import annotations

import pytest

from tactful.ingest.decode import decode

CZECH = "Datum;Popis;Částka\n01.03.2024;Platba kartou Žabka Łódź;-125,50\n" \
        "02.03.2024;Převod z účtu Šťastný;1 000,00\n"  # fmt: skip
GERMAN = "Buchungstag;Verwendungszweck;Betrag\n01.03.2024;Überweisung Müller Straße € „x“;" \
         "-125,50\n02.03.2024;Gehalt März;1.000,00\n"  # fmt: skip
GERMAN_DOS = "Buchungstag;Verwendungszweck;Betrag\n01.03.2024;Überweisung Müller Straße;-125,50\n"
# Czech whose every letter cp1252 also decodes to a letter (č -> è, ů -> ù, ř -> ø): only
# the words tell the code pages apart (a real export read as "zaúètování" was refused).
CZECH_HEADERS = "Datum provedení;Datum zaúčtování;Zaúčtovaná částka;Měna účtu\n" \
                "27.05.2018;27.05.2018;-1,00;CZK\n"  # fmt: skip
FRENCH = "Date;Libellé;Montant\n01.03.2024;Carte à Valère, crème brûlée;-12,50\n"


@pytest.mark.parametrize(
    ("text", "page", "read_as"),
    [
        (CZECH, "cp852", {"cp852"}),
        (CZECH, "cp1250", {"cp1250"}),
        (GERMAN, "cp1252", {"cp1252"}),
        (CZECH_HEADERS, "cp1250", {"cp1250"}),
        (FRENCH, "cp1252", {"cp1252"}),
        (GERMAN_DOS, "cp850", {"cp850", "cp852"}),  # the two read these letters alike
        (GERMAN_DOS, "cp437", {"cp437", "cp850", "cp852"}),
    ],
)
def test_a_code_page_file_keeps_every_letter(text: str, page: str, read_as: set[str]) -> None:
    decoded = decode(text.encode(page))
    assert decoded.text == text
    assert decoded.encoding in read_as
    assert decoded.note == f"not UTF-8: decoded as {decoded.encoding}"
