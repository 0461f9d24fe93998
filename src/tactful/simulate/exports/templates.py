"""Descriptor templates: how each country's bank writes each kind of transaction.

The styles imitate real statement lines (Wells Fargo / Chase card lines in the US, "CARD 1234 ..."
in the UK, Sparkasse "REWE SAGT DANKE ...//Muenchen/DE" lines in Germany, "CARTE X1234" in
France, "COMPRA TARJ." in Spain, ING "BEA, Betaalpas" in the Netherlands). ``{field}`` names a
value computed per row by ``descriptors.py``; everything else is literal.
"""

from __future__ import annotations

from typing import Final

from tactful.simulate.base import rows as R

_CARD: Final = {
    "US": "PURCHASE AUTHORIZED ON {mmdd} {token} {city} {st} S{ref15} CARD {tail}",
    "GB": "CARD {tail} {token} {city} GB",
    "DE": "{token}//{city_title}/DE {iso}T{hms} KFN 1 VJ {exp}",
    "FR": "CARTE X{tail} {ddmm} {token}",
    "ES": "COMPRA TARJ. 5402XXXXXXXX{tail} {token}-{city}",
    "NL": "BEA, Betaalpas {token},PAS{tail} NR:{ref6}, {ddmmyy}/{hhmm} {city}",
}
_CARD_CREDIT: Final = {
    "US": "{token} {city} {st}",
    "GB": "{token} {city}",
    "DE": "{token} {city} DEU",
    "FR": "{token} {city}",
    "ES": "{token} {city}",
    "NL": "{token} {city} NLD",
}
_ONLINE: Final = {
    "US": "PURCHASE AUTHORIZED ON {mmdd} {token} {online} S{ref15} CARD {tail}",
    "GB": "CARD {tail} {token} {online}",
    "DE": "{token}//{online}/DE {iso}T{hms} KFN 1 VJ {exp}",
    "FR": "CARTE X{tail} {ddmm} {token}",
    "ES": "COMPRA TARJ. 5402XXXXXXXX{tail} {token}-{online}",
    "NL": "BEA, Betaalpas {token},PAS{tail} NR:{ref6}, {ddmmyy}/{hhmm} {online}",
}
_ONLINE_CREDIT: Final = {c: "{token} {online}" for c in _CARD}
_FOREIGN: Final = {
    "US": "PURCHASE INTL AUTHORIZED ON {mmdd} {token} {dest_city} {dest_cc} S{ref15} CARD {tail}",
    "GB": "CARD {tail} {token} {dest_city} {dest_cc}",
    "DE": "{token}//{dest_city}/{dest_cc} {iso}T{hms} KFN 1 VJ {exp}",
    "FR": "CARTE X{tail} {ddmm} {token} {dest_city}",
    "ES": "COMPRA TARJ. 5402XXXXXXXX{tail} {token}-{dest_city}",
    "NL": "BEA, Betaalpas {token},PAS{tail} NR:{ref6}, {ddmmyy}/{hhmm} {dest_city} {dest_cc}",
}
_FOREIGN_CREDIT: Final = {c: "{token} {dest_city} {dest_cc}" for c in _CARD}
_ATM: Final = {
    "US": (
        "ATM WITHDRAWAL AUTHORIZED ON {mmdd} {ref4} {city} {st} {ref15} ATM ID {ref6} CARD {tail}"
    ),
    "GB": "CASH {atm_op} {ddmon} {city} CARD {tail}",
    "DE": "GA NR{ref8} BLZ37040044 0/{ddmm}/{hhmm}UHR {city}",
    "FR": "RETRAIT DAB {ddmm} {hhmm} {city} CARTE X{tail}",
    "ES": "REINTEGRO CAJERO {city} TARJ. {tail}",
    "NL": "GEA, Betaalpas {atm_op},PAS{tail} NR:{ref6}, {ddmmyy}/{hhmm} {city}",
}
_DD: Final = {
    "US": "{cp} PPD ID: {ref10}",
    "GB": "DIRECT DEBIT {cp} {ref9}",
    "DE": "SEPA-LASTSCHRIFT {cp} VERTRAG {ref9}",
    "FR": "PRLV SEPA {cp} REF {ref9}",
    "ES": "RECIBO {cp} N RECIBO {ref9}",
    "NL": "SEPA INCASSO {cp} KENMERK {ref9}",
}
_SUB_DD: Final = _DD
_SO: Final = {
    "US": "ONLINE TRANSFER TO {cp} REF #{ref10}",
    "GB": "STANDING ORDER {cp} RENT",
    "DE": "DAUERAUFTRAG {cp} MIETE {mmyyyy}",
    "FR": "VIR PERM {cp} LOYER {mmyyyy}",
    "ES": "TRANSFERENCIA A {cp} ALQUILER {mmyyyy}",
    "NL": "PERIODIEKE OVERB. {cp} HUUR {mmyyyy}",
}
_RENT_US: Final = {c: "ZELLE PAYMENT TO {cp} CONF# {alnum10}" for c in _CARD}
_OWN_OUT: Final = {
    "US": "ONLINE TRANSFER TO SAV XXXXXX{ref4} REF #IB{alnum8}",
    "GB": "TRANSFER TO {ref4} SAVINGS",
    "DE": "UMBUCHUNG AUF KONTO {ref4}",
    "FR": "VIR INTERNE VERS {ref4}",
    "ES": "TRASPASO A CUENTA {ref4}",
    "NL": "OVERBOEKING NAAR SPAARREKENING {ref4}",
}
_OWN_IN: Final = {
    "US": "ONLINE TRANSFER FROM CHK XXXXXX{ref4} REF #IB{alnum8}",
    "GB": "TRANSFER FROM {ref4}",
    "DE": "UMBUCHUNG VON KONTO {ref4}",
    "FR": "VIR INTERNE DE {ref4}",
    "ES": "TRASPASO DE CUENTA {ref4}",
    "NL": "OVERBOEKING VAN BETAALREKENING {ref4}",
}
_SALARY: Final = {
    "US": "{cp} PAYROLL PPD ID: {ref10}",
    "GB": "{cp} SALARY BGC {ref7}",
    "DE": "LOHN/GEHALT {cp} {mmyyyy} PERS.NR. {ref6}",
    "FR": "VIR SEPA {cp} SALAIRE {mmyyyy}",
    "ES": "NOMINA {cp} {mmyyyy}",
    "NL": "SALARIS {cp} {mmyyyy}",
}
_PENSION: Final = {
    "US": "{cp} PPD ID: {ref10}",
    "GB": "{cp} {ref8}A",
    "DE": "RENTE {cp} {mmyyyy}",
    "FR": "VIR {cp} RETRAITE {mmyyyy}",
    "ES": "ABONO PENSION {cp}",
    "NL": "{cp} {mmyyyy}",
}
_BENEFIT: Final = {
    "US": "{cp} PPD ID: {ref10}",
    "GB": "{cp} {ref8}",
    "DE": "{cp} LEISTUNG {mmyyyy}",
    "FR": "VIR {cp} {mmyyyy}",
    "ES": "{cp} {mmyyyy}",
    "NL": "{cp} {mmyyyy}",
}
_GIG: Final = {
    "US": "{cp} EDI PAYMNTS PPD ID: {ref10}",
    "GB": "FASTER PAYMENT FROM {cp} REF {alnum10}",
    "DE": "GUTSCHRIFT {cp} AUSZAHLUNG {alnum10}",
    "FR": "VIR SEPA RECU {cp} {alnum10}",
    "ES": "TRANSFERENCIA DE {cp} {alnum10}",
    "NL": "OVERBOEKING VAN {cp} {alnum10}",
}
_INVOICE: Final = {
    "US": "ACH CREDIT {cp} INV {ref5}",
    "GB": "FASTER PAYMENT FROM {cp} INV {ref5}",
    "DE": "GUTSCHRIFT {cp} RECHNUNG {ref5}",
    "FR": "VIR SEPA RECU {cp} FACTURE {ref5}",
    "ES": "TRANSFERENCIA DE {cp} FACTURA {ref5}",
    "NL": "OVERBOEKING VAN {cp} FACTUUR {ref5}",
}
_SUPPORT: Final = {
    "US": "ZELLE PAYMENT FROM {cp} CONF# {alnum10}",
    "GB": "FASTER PAYMENT FROM {cp}",
    "DE": "GUTSCHRIFT {cp}",
    "FR": "VIR SEPA RECU {cp}",
    "ES": "TRANSFERENCIA DE {cp}",
    "NL": "OVERBOEKING VAN {cp}",
}
_TAX_REFUND: Final = {c: "{cp} {ref10}" for c in _CARD}
_FEE_OD: Final = {c: "OVERDRAFT FEE" for c in _CARD}
_FEE_FX: Final = {
    "US": "FOREIGN TRANSACTION FEE",
    "GB": "NON-STERLING TRANSACTION FEE",
    "DE": "AUSLANDSEINSATZENTGELT",
    "FR": "COMMISSION PAIEMENT HORS ZONE EURO",
    "ES": "COMISION COMPRA EXTRANJERO",
    "NL": "KOSTEN BETALING BUITENLAND",
}
_FEE_ATM: Final = {c: "NON-NETWORK ATM FEE" for c in _CARD}
_INT_OD: Final = {
    "US": "OVERDRAFT INTEREST CHARGE",
    "GB": "OVERDRAFT INTEREST",
    "DE": "SOLLZINSEN",
    "FR": "INTERETS DEBITEURS",
    "ES": "INTERESES DESCUBIERTO",
    "NL": "DEBETRENTE",
}
_INT_CREDIT: Final = {
    "US": "INTEREST PAYMENT",
    "GB": "INTEREST PAID",
    "DE": "HABENZINSEN",
    "FR": "INTERETS CREDITEURS",
    "ES": "ABONO INTERESES",
    "NL": "RENTEBIJSCHRIJVING",
}
_INT_CARD: Final = {
    "US": "INTEREST CHARGE ON PURCHASES",
    "GB": "INTEREST ON PURCHASES",
    "DE": "SOLLZINSEN KREDITKARTE",
    "FR": "INTERETS CARTE CREDIT",
    "ES": "INTERESES TARJETA",
    "NL": "RENTE CREDITCARD",
}
_INT_LOAN: Final = {
    "US": "LOAN INTEREST",
    "GB": "LOAN INTEREST",
    "DE": "DARLEHENSZINSEN",
    "FR": "INTERETS PRET",
    "ES": "INTERESES PRESTAMO",
    "NL": "RENTE LENING",
}
_CARD_PAY_OUT: Final = {
    "US": "CREDIT CARD AUTOPAY XXXXXX{ref4}",
    "GB": "CREDIT CARD REPAYMENT {ref4}",
    "DE": "KREDITKARTENABRECHNUNG {ref4}",
    "FR": "PRLV CARTE CREDIT {ref4}",
    "ES": "LIQUIDACION TARJETA CREDITO {ref4}",
    "NL": "AFLOSSING CREDITCARD {ref4}",
}
_CARD_PAY_IN: Final = {
    "US": "AUTOPAY PAYMENT - THANK YOU",
    "GB": "PAYMENT RECEIVED - THANK YOU",
    "DE": "ZAHLUNG ERHALTEN DANKE",
    "FR": "REMBOURSEMENT RECU MERCI",
    "ES": "PAGO RECIBIDO GRACIAS",
    "NL": "BETALING ONTVANGEN",
}
_LOAN_OUT: Final = {
    "US": "LOAN PAYMENT XXXXXX{ref4}",
    "GB": "LOAN REPAYMENT {ref4}",
    "DE": "DARLEHEN RATE {ref4}",
    "FR": "ECHEANCE PRET {ref4}",
    "ES": "CUOTA PRESTAMO {ref4}",
    "NL": "AFLOSSING LENING {ref4}",
}
_LOAN_IN: Final = {
    "US": "PAYMENT RECEIVED",
    "GB": "REPAYMENT RECEIVED",
    "DE": "ZAHLUNGSEINGANG RATE",
    "FR": "ECHEANCE RECUE",
    "ES": "CUOTA RECIBIDA",
    "NL": "AFLOSSING ONTVANGEN",
}
_SWEEP: Final = {
    "US": "ACCOUNT CLOSURE TRANSFER",
    "GB": "ACCOUNT CLOSURE TRANSFER",
    "DE": "KONTOAUFLOESUNG",
    "FR": "CLOTURE DE COMPTE",
    "ES": "CANCELACION DE CUENTA",
    "NL": "OPHEFFING REKENING",
}
_REFUND: Final = {
    "US": "CHARGEBACK CREDIT CLAIM {ref8}",
    "GB": "FRAUD REFUND CLAIM {ref8}",
    "DE": "GUTSCHRIFT REKLAMATION {ref8}",
    "FR": "REMBOURSEMENT FRAUDE {ref8}",
    "ES": "ABONO RECLAMACION {ref8}",
    "NL": "TERUGBOEKING FRAUDE {ref8}",
}
_ACH: Final = {**_DD, "US": "{cp} WEB PMTS PPD ID: {ref10}"}

_P2P_OUT: Final = {
    "US": "ZELLE PAYMENT TO {cp} CONF# {alnum10}",
    "GB": "FASTER PAYMENT TO {cp} REF {ref8}",
    "DE": "UEBERWEISUNG AN {cp}",
    "FR": "VIR SEPA EMIS VERS {cp}",
    "ES": "BIZUM ENVIADO A {cp}",
    "NL": "OVERBOEKING NAAR {cp}",
}
_DD_RETURN: Final = {
    "US": "RETURNED ITEM {cp} ACH RETURN R01 NSF",
    "GB": "UNPAID DIRECT DEBIT {cp}",
    "DE": "RUECKLASTSCHRIFT {cp} MANGELNDE DECKUNG",
    "FR": "REJET PRLV SEPA {cp} PROVISION INSUFFISANTE",
    "ES": "DEVOLUCION RECIBO {cp}",
    "NL": "STORNO INCASSO {cp}",
}
TEMPLATES: Final[dict[int, dict[str, str]]] = {
    R.D_CARD: _CARD,
    R.D_CARD_ONLINE: _ONLINE,
    R.D_FOREIGN: _FOREIGN,
    R.D_ATM: _ATM,
    R.D_DD: _DD,
    R.D_SO: _SO,
    R.D_OWN_OUT: _OWN_OUT,
    R.D_OWN_IN: _OWN_IN,
    R.D_SALARY: _SALARY,
    R.D_PENSION: _PENSION,
    R.D_BENEFIT: _BENEFIT,
    R.D_GIG: _GIG,
    R.D_INVOICE: _INVOICE,
    R.D_SUPPORT: _SUPPORT,
    R.D_TAX_REFUND: _TAX_REFUND,
    R.D_DIVIDEND: _TAX_REFUND,
    R.D_FEE_OD: _FEE_OD,
    R.D_FEE_FX: _FEE_FX,
    R.D_FEE_ATM: _FEE_ATM,
    R.D_INT_OD: _INT_OD,
    R.D_INT_CREDIT: _INT_CREDIT,
    R.D_INT_CARD: _INT_CARD,
    R.D_INT_LOAN: _INT_LOAN,
    R.D_CARD_PAY_OUT: _CARD_PAY_OUT,
    R.D_CARD_PAY_IN: _CARD_PAY_IN,
    R.D_LOAN_OUT: _LOAN_OUT,
    R.D_LOAN_IN: _LOAN_IN,
    R.D_SWEEP: _SWEEP,
    R.D_REFUND: _REFUND,
    R.D_SUB_CARD: _ONLINE,
    R.D_SUB_DD: _SUB_DD,
    R.D_RENT_US: _RENT_US,
    R.D_ACH: _ACH,
    R.D_P2P_OUT: _P2P_OUT,
    R.D_DD_RETURN: _DD_RETURN,
}
CREDIT_CARD_TEMPLATES: Final[dict[int, dict[str, str]]] = {
    R.D_CARD: _CARD_CREDIT,
    R.D_CARD_ONLINE: _ONLINE_CREDIT,
    R.D_FOREIGN: _FOREIGN_CREDIT,
    R.D_SUB_CARD: _ONLINE_CREDIT,
}
"""Card lines on a credit-card statement carry no debit-card framing."""
ATM_OPERATORS: Final = {
    "GB": ("NATWEST", "BARCLAYS", "LLOYDS BANK", "HSBC", "NOTEMACHINE"),
    "NL": ("ING BANK", "RABOBANK", "ABN AMRO", "GELDMAAT"),
}
