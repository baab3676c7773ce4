# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Settlement payouts as a pain.001 SEPA credit-transfer file: version .09 or .03.

``pain.001.001.09`` is the default; ``pain.001.001.03`` is still made for a bank that has not
moved yet (banks retire it in November 2026). The two differ only in what this module writes
in three places: the namespace, the execution date (``ReqdExctnDt/Dt`` in .09, the date itself
in .03) and the BIC element (``FinInstnId/BICFI`` in .09, ``FinInstnId/BIC`` in .03).

One group header and one payment information block (debtor, execution date) with one
``CdtTrfTxInf`` per transfer. The creditor reference goes in ``RmtInf/Strd/CdtrRefInf``: a
Finnish national reference with ``Tp/CdOrPrtry/Cd`` ``SCOR`` and no ``Issr``, an RF reference
(ISO 11649, recognised by its ``RF`` prefix) with ``Issr`` ``ISO``; without a reference the
message goes in ``RmtInf/Ustrd``. ``NbOfTxs`` and ``CtrlSum`` are computed, in the group header
and the payment information block.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree
from stdnum import bic as stdnum_bic
from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

PAIN_001_001_09 = "pain.001.001.09"
PAIN_001_001_03 = "pain.001.001.03"
VERSIONS = (PAIN_001_001_09, PAIN_001_001_03)
DEFAULT_VERSION = PAIN_001_001_09
_CENT = Decimal("0.01")
_MAX_AMOUNT = Decimal("999999999.99")
_ID = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]{1,35}\Z")  # SEPA character set, Max35Text


class PayoutError(ValueError):
    """Payout data that cannot go into a valid credit-transfer file."""


@dataclass(frozen=True)
class Transfer:
    """One credit transfer to a beneficiary."""

    creditor_name: str
    iban: str
    amount: Decimal
    end_to_end_id: str
    reference: str = ""  # Finnish national or RF creditor reference
    message: str = ""  # unstructured text, sent only without a reference (SEPA allows one)
    bic: str = ""


@dataclass(frozen=True)
class PayoutBatch:
    """Transfers from one debtor account on one execution date."""

    msg_id: str
    debtor_name: str
    debtor_iban: str
    debtor_bic: str
    execution_date: dt.date
    transfers: Sequence[Transfer]
    created: dt.datetime | None = None  # CreDtTm; now when None
    currency: str = "EUR"


def _fi_reference_valid(value: str) -> bool:
    """Finnish national reference: 4-20 digits, 7-3-1 weighted check digit last."""
    if not value.isdigit() or not 4 <= len(value) <= 20:
        return False
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(value[:-1])))
    return (10 - total % 10) % 10 == int(value[-1])


def _text(value: str, what: str, limit: int) -> str:
    value = " ".join(value.split())
    if not value:
        raise PayoutError(f"{what} is empty")
    if len(value) > limit:
        raise PayoutError(f"{what} {value!r} is longer than {limit} characters")
    return value


def _identifier(value: str, what: str) -> str:
    if not _ID.match(value):
        raise PayoutError(f"{what} {value!r} must be 1-35 characters of the SEPA character set")
    return value


# IBAN lengths of the SEPA countries. stdnum.iban is not used: it reads its country table as a
# package resource, which Odoo 19's import hooks make unreadable inside an Odoo process.
IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GI": 23, "GL": 18, "GR": 27,
    "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19,
    "SK": 24, "SM": 27, "VA": 22,
}  # fmt: skip


def _iban(value: str, what: str) -> str:
    compact = re.sub(r"\s+", "", value or "").upper()
    country, problem = compact[:2], ""
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", compact):
        problem = "it is not two letters, two check digits and the account number"
    elif country not in IBAN_LENGTHS:
        problem = f"{country} is not a SEPA country"
    elif len(compact) != IBAN_LENGTHS[country]:
        problem = f"a {country} IBAN has {IBAN_LENGTHS[country]} characters, not {len(compact)}"
    elif not mod_97_10.is_valid(compact[4:] + compact[:4]):
        problem = "the check digits do not match"
    if problem:
        raise PayoutError(f"{what} {value!r} is not a valid IBAN: {problem}")
    return compact


def _bic(value: str, what: str) -> str:
    try:
        return stdnum_bic.validate(value)
    except ValueError as exc:
        raise PayoutError(f"{what} {value!r} is not a valid BIC: {exc}") from None


def _amount(value: Decimal, what: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise PayoutError(f"{what} {value!r} must be a Decimal")
    if value <= 0 or value > _MAX_AMOUNT:
        raise PayoutError(f"{what} {value} must be between 0.01 and {_MAX_AMOUNT}")
    if value != value.quantize(_CENT):
        raise PayoutError(f"{what} {value} has more than 2 decimals")
    return value.quantize(_CENT)


def _reference(value: str, what: str) -> tuple[str, bool]:
    """The compact reference and whether it is RF (ISO 11649)."""
    compact = "".join(value.split()).upper()
    if compact.startswith("RF"):
        if not iso11649.is_valid(compact):
            raise PayoutError(f"{what} {value!r} is not a valid RF creditor reference")
        return compact, True
    if not _fi_reference_valid(compact):
        raise PayoutError(f"{what} {value!r} is not a valid Finnish reference")
    return compact, False


class _Writer:
    """Elements of one pain.001 version's namespace."""

    def __init__(self, version: str) -> None:
        self.namespace = f"urn:iso:std:iso:20022:tech:xsd:{version}"

    def sub(
        self, parent: etree._Element, tag: str, text: str | None = None, **attrib: str
    ) -> etree._Element:
        element = etree.SubElement(parent, f"{{{self.namespace}}}{tag}", attrib)
        if text is not None:
            element.text = text
        return element

    def path(self, parent: etree._Element, path: str, text: str) -> etree._Element:
        for tag in path.split("/"):
            parent = self.sub(parent, tag)
        parent.text = text
        return parent


def build_pain001(batch: PayoutBatch, version: str = DEFAULT_VERSION) -> bytes:
    """The pain.001 document of ``version`` (:data:`VERSIONS`) for ``batch`` (UTF-8); raises
    :class:`PayoutError`."""
    if version not in VERSIONS:
        raise PayoutError(f"pain.001 version {version!r} is not one of {', '.join(VERSIONS)}")
    msg_id = _identifier(batch.msg_id, "MsgId")
    debtor = _text(batch.debtor_name, "debtor name", 70)
    debtor_iban = _iban(batch.debtor_iban, "debtor IBAN")
    debtor_bic = _bic(batch.debtor_bic, "debtor BIC")
    if not re.fullmatch("[A-Z]{3}", batch.currency):
        raise PayoutError(f"currency {batch.currency!r} is not an ISO 4217 code")
    if not batch.transfers:
        raise PayoutError("a payout batch needs at least one transfer")
    created = batch.created or dt.datetime.now().replace(microsecond=0)
    total = Decimal(0)
    seen: set[str] = set()
    rows = []
    for number, transfer in enumerate(batch.transfers, 1):
        what = f"transfer {number}"
        end_to_end = _identifier(transfer.end_to_end_id, f"{what} end-to-end id")
        if end_to_end in seen:
            raise PayoutError(f"{what}: end-to-end id {end_to_end!r} is used twice")
        seen.add(end_to_end)
        amount = _amount(transfer.amount, f"{what} amount")
        total += amount
        reference = (
            _reference(transfer.reference, f"{what} reference") if transfer.reference else None
        )
        message = ""
        if reference is None:
            message = _text(transfer.message, f"{what} message (there is no reference)", 140)
        rows.append(
            (
                end_to_end,
                amount,
                _text(transfer.creditor_name, f"{what} creditor name", 70),
                _iban(transfer.iban, f"{what} IBAN"),
                _bic(transfer.bic, f"{what} BIC") if transfer.bic else "",
                reference,
                message,
            )
        )

    xml = _Writer(version)
    _sub, _path = xml.sub, xml.path
    bic_tag = "BICFI" if version == PAIN_001_001_09 else "BIC"
    root = etree.Element(f"{{{xml.namespace}}}Document", nsmap={None: xml.namespace})
    initiation = _sub(root, "CstmrCdtTrfInitn")
    header = _sub(initiation, "GrpHdr")
    _sub(header, "MsgId", msg_id)
    _sub(header, "CreDtTm", created.isoformat(timespec="seconds"))
    _sub(header, "NbOfTxs", str(len(rows)))
    _sub(header, "CtrlSum", str(total))
    _path(header, "InitgPty/Nm", debtor)
    info = _sub(initiation, "PmtInf")
    _sub(info, "PmtInfId", msg_id)
    _sub(info, "PmtMtd", "TRF")
    _sub(info, "NbOfTxs", str(len(rows)))
    _sub(info, "CtrlSum", str(total))
    _path(info, "PmtTpInf/SvcLvl/Cd", "SEPA")
    if version == PAIN_001_001_09:
        _path(info, "ReqdExctnDt/Dt", batch.execution_date.isoformat())
    else:
        _sub(info, "ReqdExctnDt", batch.execution_date.isoformat())
    _path(info, "Dbtr/Nm", debtor)
    _path(info, "DbtrAcct/Id/IBAN", debtor_iban)
    _path(info, f"DbtrAgt/FinInstnId/{bic_tag}", debtor_bic)
    _sub(info, "ChrgBr", "SLEV")
    for end_to_end, amount, name, iban, bic, reference, message in rows:
        tx = _sub(info, "CdtTrfTxInf")
        _path(tx, "PmtId/EndToEndId", end_to_end)
        _sub(_sub(tx, "Amt"), "InstdAmt", str(amount), Ccy=batch.currency)
        if bic:
            _path(tx, f"CdtrAgt/FinInstnId/{bic_tag}", bic)
        _path(tx, "Cdtr/Nm", name)
        _path(tx, "CdtrAcct/Id/IBAN", iban)
        remittance = _sub(tx, "RmtInf")
        if reference is None:
            _sub(remittance, "Ustrd", message)
            continue
        value, is_rf = reference
        creditor_ref = _path(remittance, "Strd/CdtrRefInf/Tp/CdOrPrtry/Cd", "SCOR")
        ref_type = creditor_ref.getparent().getparent()
        if is_rf:
            _sub(ref_type, "Issr", "ISO")
        _sub(ref_type.getparent(), "Ref", value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
