"""Bank statement files, one per account: OFX 2.x and ISO 20022 camt.053.001.02.

What a statement can carry differs from the tabular export (docs/simulator.md, "Formats"):

- declined card attempts are never on a statement (they were not booked);
- OFX has no pending status: OFX files carry booked transactions only, ``LEDGERBAL`` is the
  booked balance and ``AVAILBAL`` includes pending card payments; camt.053 carries pending entries
  with ``<Sts>PDNG</Sts>`` and its closing booked balance (CLBD) excludes them;
- neither format carries an MCC; OFX ``NAME`` holds at most 32 characters, so the descriptor
  is cut at a word boundary and continues in ``MEMO`` (readers join the two);
- loans and mortgages go out as OFX ``CREDITLINE`` and investments as ``MONEYMRKT`` statements
  (OFX has no simpler fit); ``accounts.csv`` carries their real types.

Entry fragments are rendered for all transactions at once with Polars; only the per-file header
and footer are formatted per account.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

_ESC = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_OFX_TYPE = {
    "card": "POS",
    "online": "POS",
    "atm": "ATM",
    "transfer": "XFER",
    "direct_debit": "DIRECTDEBIT",
    "standing_order": "REPEATPMT",
    "fee": "FEE",
    "interest": "INT",
    "cash": "CASH",
    "check": "CHECK",
    "other": "OTHER",
}
_BKTX = {
    "card": ("PMNT", "CCRD", "POSD"),
    "online": ("PMNT", "CCRD", "POSD"),
    "atm": ("PMNT", "CCRD", "CWDL"),
    "transfer": ("PMNT", "ICDT", "ESCT"),
    "direct_debit": ("PMNT", "RDDT", "ESDD"),
    "standing_order": ("PMNT", "ICDT", "STDO"),
    "fee": ("ACMT", "MDOP", "CHRG"),
    "interest": ("ACMT", "MDOP", "INTR"),
    "cash": ("PMNT", "CNTR", "CDPT"),
    "check": ("PMNT", "ICHQ", "CCHQ"),
    "other": ("PMNT", "MCOP", "OTHR"),
}
_ACCTTYPE = {
    "checking": "CHECKING",
    "savings": "SAVINGS",
    "loan": "CREDITLINE",
    "mortgage": "CREDITLINE",
    "investment": "MONEYMRKT",
}


def _esc(col: pl.Expr) -> pl.Expr:
    for a, b in _ESC:
        col = col.str.replace_all(a, b, literal=True)
    return col


def _esc_text(text: str) -> str:
    for a, b in _ESC:
        text = text.replace(a, b)
    return text


def _decimal(minor: pl.Expr, signed: bool = True) -> pl.Expr:
    a = minor.abs()
    body = pl.concat_str(
        [(a // 100).cast(pl.Utf8), pl.lit("."), (a % 100).cast(pl.Utf8).str.zfill(2)]
    )
    if not signed:
        return body
    return pl.when(minor < 0).then(pl.concat_str([pl.lit("-"), body])).otherwise(body)


def _dec(minor: int, signed: bool = True) -> str:
    sign = "-" if minor < 0 and signed else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def _ofx_time(col: pl.Expr) -> pl.Expr:
    """2024-01-05T12:34:56+01:00 -> 20240105123456.000[+1] (whole-hour zones only)."""
    digits = pl.concat_str(
        [
            col.str.slice(0, 4),
            col.str.slice(5, 2),
            col.str.slice(8, 2),
            col.str.slice(11, 2),
            col.str.slice(14, 2),
            col.str.slice(17, 2),
        ]
    )
    hours = col.str.slice(19, 3).cast(pl.Int32)
    offset = pl.concat_str(
        [pl.when(hours < 0).then(pl.lit("-")).otherwise(pl.lit("+")), hours.abs().cast(pl.Utf8)]
    )
    return pl.concat_str([digits, pl.lit(".000["), offset, pl.lit("]")])


def _ofx_time_text(iso: str) -> str:
    h = int(iso[19:22])
    digits = f"{iso[0:4]}{iso[5:7]}{iso[8:10]}{iso[11:13]}{iso[14:16]}{iso[17:19]}"
    return f"{digits}.000[{'-' if h < 0 else '+'}{abs(h)}]"


def _name_memo(desc: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """NAME: the descriptor up to the last space within 32 characters; MEMO: the rest."""
    head = desc.str.slice(0, 33)
    cut = (
        pl.when(desc.str.len_chars() <= 32)
        .then(desc.str.len_chars())
        .otherwise(
            pl.when(head.str.contains(" "))
            .then(head.str.len_chars() - head.str.reverse().str.find(" ") - 1)
            .otherwise(32)
        )
    )
    name = desc.str.slice(0, cut)
    memo = desc.str.slice(cut).str.strip_chars_start(" ")
    return name, memo


def write_statements(out: Path, fmt: str, tx: pl.DataFrame, accounts: pl.DataFrame) -> int:
    """Write one statement file per account of ``accounts`` (which carries ``start_at``, the
    window's first second in the account holder's zone); returns the number of files."""
    out.mkdir(parents=True, exist_ok=True)
    rows = tx.filter(pl.col("status") != "declined")
    if fmt == "ofx":
        rows = rows.filter(pl.col("status") == "posted")
        frag = _ofx_entries(rows)
    else:
        frag = _camt_entries(rows)
    body = frag.group_by("account_id", maintain_order=True).agg(pl.col("x").str.join(""))
    bodies = dict(zip(body["account_id"].to_list(), body["x"].to_list(), strict=True))
    pending = (
        tx.filter(pl.col("status") == "pending")
        .group_by("account_id")
        .agg(pl.col("amount_minor").sum())
    )
    pend = dict(
        zip(pending["account_id"].to_list(), pending["amount_minor"].to_list(), strict=True)
    )
    flows = (
        tx.filter(pl.col("status") != "declined")
        .group_by("account_id")
        .agg(pl.col("amount_minor").sum())
    )
    flow = dict(zip(flows["account_id"].to_list(), flows["amount_minor"].to_list(), strict=True))
    count = 0
    for a in accounts.iter_rows(named=True):
        acct = a["account_id"]
        start_stamp, end_stamp = str(a["start_at"]), str(a["balance_as_of"])
        closing = int(a["balance_minor"])
        booked = closing - int(pend.get(acct, 0))
        opening = closing - int(flow.get(acct, 0))
        if fmt == "ofx":
            text = _ofx_file(a, bodies.get(acct, ""), booked, closing, start_stamp, end_stamp)
            (out / f"{acct}.ofx").write_text(text, encoding="utf-8")
        else:
            text = _camt_file(a, bodies.get(acct, ""), opening, booked, start_stamp, end_stamp)
            (out / f"{acct}.xml").write_text(text, encoding="utf-8")
        count += 1
    return count


def _ofx_entries(rows: pl.DataFrame) -> pl.DataFrame:
    name, memo = _name_memo(pl.col("description"))
    trntype = pl.col("channel").replace_strict(_OFX_TYPE, default="OTHER")
    trntype = (
        pl.when((pl.col("channel") == "transfer") & (pl.col("amount_minor") > 0))
        .then(pl.lit("DIRECTDEP"))
        .when((pl.col("channel").is_in(["card", "online"])) & (pl.col("amount_minor") > 0))
        .then(pl.lit("CREDIT"))
        .otherwise(trntype)
    )
    x = pl.concat_str(
        [
            pl.lit("<STMTTRN><TRNTYPE>"),
            trntype,
            pl.lit("</TRNTYPE><DTPOSTED>"),
            _ofx_time(pl.col("booked_at")),
            pl.lit("</DTPOSTED><TRNAMT>"),
            _decimal(pl.col("amount_minor")),
            pl.lit("</TRNAMT><FITID>"),
            pl.col("transaction_id"),
            pl.lit("</FITID><NAME>"),
            _esc(name),
            pl.lit("</NAME>"),
            pl.when(memo.str.len_chars() > 0)
            .then(pl.concat_str([pl.lit("<MEMO>"), _esc(memo), pl.lit("</MEMO>")]))
            .otherwise(pl.lit("")),
            pl.lit("</STMTTRN>\n"),
        ]
    )
    return rows.select("account_id", x.alias("x"))


def _ofx_file(
    a: dict[str, object], body: str, booked: int, available: int, start: str, end: str
) -> str:
    acct, ccy, kind = str(a["account_id"]), str(a["currency"]), str(a["account_type"])
    t_end = _ofx_time_text(end)
    tranlist = (
        f"<BANKTRANLIST><DTSTART>{_ofx_time_text(start)}</DTSTART><DTEND>{t_end}</DTEND>\n"
        f"{body}</BANKTRANLIST>"
    )
    bal = (
        f"<LEDGERBAL><BALAMT>{_dec(booked)}</BALAMT><DTASOF>{t_end}</DTASOF></LEDGERBAL>"
        f"<AVAILBAL><BALAMT>{_dec(available)}</BALAMT><DTASOF>{t_end}</DTASOF></AVAILBAL>"
    )
    status = "<STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
    if kind == "credit_card":
        msgs = (
            f"<CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>1</TRNUID>{status}<CCSTMTRS><CURDEF>{ccy}</CURDEF>"
            f"<CCACCTFROM><ACCTID>{acct}</ACCTID></CCACCTFROM>\n{tranlist}{bal}</CCSTMTRS></CCSTMTTRNRS>"
            f"</CREDITCARDMSGSRSV1>"
        )
    else:
        bank = (
            "123456780"
            if ccy == "USD"
            else acct[4:12]
            if acct[:2].isalpha() and len(acct) > 12
            else "TACTFUL"
        )
        msgs = (
            f"<BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID>{status}<STMTRS><CURDEF>{ccy}</CURDEF>"
            f"<BANKACCTFROM><BANKID>{bank}</BANKID><ACCTID>{acct}</ACCTID><ACCTTYPE>{_ACCTTYPE[kind]}</ACCTTYPE>"
            f"</BANKACCTFROM>\n{tranlist}{bal}</STMTRS></STMTTRNRS></BANKMSGSRSV1>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" '
        'NEWFILEUID="NONE"?>\n'
        f"<OFX><SIGNONMSGSRSV1><SONRS>{status}<DTSERVER>{t_end}</DTSERVER><LANGUAGE>ENG</LANGUAGE>"
        f"</SONRS></SIGNONMSGSRSV1>\n{msgs}</OFX>\n"
    )


def _camt_entries(rows: pl.DataFrame) -> pl.DataFrame:
    credit = pl.col("amount_minor") > 0
    dom = pl.col("channel").replace_strict({k: v[0] for k, v in _BKTX.items()}, default="PMNT")
    fam = pl.col("channel").replace_strict({k: v[1] for k, v in _BKTX.items()}, default="MCOP")
    sub = pl.col("channel").replace_strict({k: v[2] for k, v in _BKTX.items()}, default="OTHR")
    fam = pl.when(credit & (pl.col("channel") == "transfer")).then(pl.lit("RCDT")).otherwise(fam)
    party = (
        pl.when(pl.col("counterparty").fill_null("") == "")
        .then(pl.lit(""))
        .otherwise(
            pl.concat_str(
                [
                    pl.lit("<RltdPties>"),
                    pl.when(credit).then(pl.lit("<Dbtr><Nm>")).otherwise(pl.lit("<Cdtr><Nm>")),
                    _esc(pl.col("counterparty")),
                    pl.when(credit).then(pl.lit("</Nm></Dbtr>")).otherwise(pl.lit("</Nm></Cdtr>")),
                    pl.lit("</RltdPties>"),
                ]
            )
        )
    )
    x = pl.concat_str(
        [
            pl.lit('<Ntry><Amt Ccy="'),
            pl.col("currency"),
            pl.lit('">'),
            _decimal(pl.col("amount_minor"), False),
            pl.lit("</Amt><CdtDbtInd>"),
            pl.when(credit).then(pl.lit("CRDT")).otherwise(pl.lit("DBIT")),
            pl.lit("</CdtDbtInd><Sts>"),
            pl.when(pl.col("status") == "pending").then(pl.lit("PDNG")).otherwise(pl.lit("BOOK")),
            pl.lit("</Sts><BookgDt><DtTm>"),
            pl.col("booked_at"),
            pl.lit("</DtTm></BookgDt><ValDt><Dt>"),
            pl.col("value_at"),
            pl.lit("</Dt></ValDt><AcctSvcrRef>"),
            pl.col("transaction_id"),
            pl.lit("</AcctSvcrRef><BkTxCd><Domn><Cd>"),
            dom,
            pl.lit("</Cd><Fmly><Cd>"),
            fam,
            pl.lit("</Cd><SubFmlyCd>"),
            sub,
            pl.lit("</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><TxDtls>"),
            party,
            pl.lit("<RmtInf><Ustrd>"),
            _esc(pl.col("description").str.slice(0, 140)),
            pl.lit("</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n"),
        ]
    )
    return rows.select("account_id", x.alias("x"))


def _camt_bal(code: str, minor: int, ccy: str, date: str) -> str:
    ind = "DBIT" if minor < 0 else "CRDT"
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="{ccy}">{_dec(minor, False)}</Amt>'
        f"<CdtDbtInd>{ind}</CdtDbtInd><Dt><Dt>{date}</Dt></Dt></Bal>\n"
    )


def _camt_file(
    a: dict[str, object], body: str, opening: int, closing: int, start: str, end: str
) -> str:
    acct, ccy = str(a["account_id"]), str(a["currency"])
    ident = (
        f"<IBAN>{acct}</IBAN>"
        if acct[:2].isalpha() and acct[2:4].isdigit()
        else f"<Othr><Id>{_esc_text(acct)}</Id></Othr>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n<BkToCstmrStmt>\n'
        f"<GrpHdr><MsgId>STMT-{acct}</MsgId><CreDtTm>{end}</CreDtTm></GrpHdr>\n"
        f"<Stmt><Id>{acct}-{end[:10]}</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>{end}</CreDtTm>"
        f"<FrToDt><FrDtTm>{start}</FrDtTm><ToDtTm>{end}</ToDtTm></FrToDt>\n"
        f"<Acct><Id>{ident}</Id><Ccy>{ccy}</Ccy></Acct>\n"
        + _camt_bal("OPBD", opening, ccy, start[:10])
        + _camt_bal("CLBD", closing, ccy, end[:10])
        + body
        + "</Stmt>\n</BkToCstmrStmt>\n</Document>\n"
    )
