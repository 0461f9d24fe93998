"""Turning a file's bytes into text without losing a line to a wrong encoding.

Bank exports come in UTF-8 (with or without a BOM), UTF-16 from spreadsheet tools, and Windows
or DOS code pages from older core systems. A file that is not valid UTF-8 is decoded with the
code page, of cp1252, cp1250, cp850, cp852 and cp437, whose reading looks most like bank text
(``best_codepage``); a file that mixes UTF-8 and a code page has each line decoded on its own,
so one mis-encoded line does not garble the rest.

Why not charset-normalizer: on short statements it read a cp852 (DOS Central European) file as
cp1250, turning ``Částka`` into ``¬ stka``, the silent loss the bank's testers met. A code page
decodes any byte, so the choice is by plausibility: letters of the European alphabets and the
punctuation bank text uses (``€ § ° „ “ – ’``) count for a reading, symbols, box-drawing and
control characters against it, a word whose accented letters belong to no one language counts
against it (cp1250 and cp1252 both decode every byte to a European letter, so only the words
tell Czech from French), and ties go to the more common code page (Windows before DOS).

>>> best_codepage("Částka Převod Šťastný".encode("cp852"))
'cp852'
>>> best_codepage("Überweisung Müller Straße 5 €".encode("cp1252"))
'cp1252'
>>> best_codepage("Datum zaúčtování;Zaúčtovaná částka;Měna účtu".encode("cp1250"))
'cp1250'
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    note: str = ""


CODEPAGES = ("cp1252", "cp1250", "cp850", "cp852", "cp437")
"""In order of preference when two read a file equally well."""

_COMMON = frozenset(
    "äöüßéèêëàâáíìîïóòôúùûñçåæøÄÖÜÉÈÀÁÍÓÚÑÇÅÆØ"
    "čřšžěůýťďňľĺŕłąęśźżćńőűăâîșțşţČŘŠŽĚŮÝŤĎŇĽŁĄĘŚŹŻĆŃŐŰ"
    "€£§°„“”‘’–—«»µ²³·\u00a0"
)
_FOREIGN = range(0x2500, 0x25A0)  # box drawing and blocks: DOS screens, not bank text


_ALPHABETS: tuple[frozenset[str], ...] = tuple(
    frozenset(letters)
    for letters in (
        "áčďéěíňóřšťúůýž",  # Czech
        "áäčďéíĺľňóôŕšťúýž",  # Slovak
        "ąćęłńóśźż",  # Polish
        "áéíóöőúüű",  # Hungarian
        "čćđšž",  # Croatian, Slovene, Serbian (Latin)
        "ăâîșțşţ",  # Romanian
        "äöüß",  # German
        "àâæçéèêëîïôœùûüÿ",  # French
        "áéíñóúü",  # Spanish
        "àèéìíîòóùú",  # Italian
        "áâãàçéêíóôõú",  # Portuguese
        "éëïóöüèà",  # Dutch
        "åæøäöé",  # Danish, Norwegian, Swedish
        "çğıöşü",  # Turkish
    )
)
"""The accented letters of one language each: a word whose accented letters no one language
has together is a misreading ("zaúètování", a Czech word read as cp1252, mixes the Spanish ú
with the French è; read as cp1250 it is "zaúčtování")."""
_WORD = re.compile(r"[^\W\d_]+")


def _words_score(text: str) -> int:
    """+1 for each word whose two or more accented letters one language has, -3 for each whose
    letters no language has together."""
    score = 0
    for word in _WORD.findall(text.lower()):
        accented = {c for c in word if not c.isascii()}
        if len(accented) < 2:
            continue
        score += 1 if any(accented <= alphabet for alphabet in _ALPHABETS) else -3
    return score


def _score(text: str) -> int:
    score = _words_score(text)
    for ch in text:
        if ch.isascii():
            continue
        if ch in _COMMON:
            score += 2
        elif ord(ch) in _FOREIGN or not ch.isprintable():
            score -= 5
        elif not ch.isalpha():
            score -= 3
    return score


def best_codepage(data: bytes) -> str:
    """The code page of ``CODEPAGES`` whose reading of ``data`` scores best (see above)."""
    best, best_score = CODEPAGES[0], None
    for page in CODEPAGES:
        try:
            text = data.decode(page)
        except UnicodeDecodeError:
            continue
        score = _score(text)
        if best_score is None or score > best_score:
            best, best_score = page, score
    return best


def _fallback(line: bytes, page: str = "cp1252") -> str:
    try:
        return line.decode(page)
    except UnicodeDecodeError:
        return line.decode("latin-1")


def decode(data: bytes, encoding: str | None = None) -> Decoded:
    """Decode ``data`` with ``encoding`` if given, else by BOM, UTF-8, then cp1252 per line."""
    if encoding:
        try:
            return Decoded(data.decode(encoding).lstrip("\ufeff"), encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise UnicodeError(f"cannot decode as {encoding}: {exc}") from exc
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return Decoded(data.decode("utf-16").lstrip("\ufeff"), "utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    bad = b"\n".join(ln for ln in lines if not _is_utf8(ln))
    page = best_codepage(bad)
    utf8_lines = bad_lines = 0
    out: list[str] = []
    for line in lines:
        try:
            text = line.decode("utf-8")
            if not line.isascii():
                utf8_lines += 1
        except UnicodeDecodeError:
            bad_lines += 1
            text = _fallback(line, page)
        out.append(text)
    if utf8_lines == 0:
        return Decoded(_fallback(data, page), page, f"not UTF-8: decoded as {page}")
    return Decoded(
        "\n".join(out), "mixed", f"mixed encodings: {bad_lines} line(s) not UTF-8 decoded as {page}"
    )


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
