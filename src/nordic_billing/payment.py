# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The one record type every bank-file reader produces, and the one error they raise."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Payment:
    """An incoming (or reversed) payment read from a bank file.

    ``amount`` is always positive; ``is_correction`` says that the record reverses an earlier
    payment (KTL correction flag, camt ``RvslInd``, a camt direct-debit return with ``RtrInf``).
    ``archive_id`` is the bank's identity of the payment and is unique per ``account`` (readers
    derive a stable one where a bank gives none, see :mod:`nordic_billing.bankfiles.camt`).

    ``reference_source`` says where ``reference`` came from: ``"structured"`` (the file's
    reference field), ``"message"`` (found with valid check digits in the free text, typed by the
    payer) or ``""`` (no reference). ``charges`` are bank charges booked on the account together
    with this payment and not part of ``amount`` (the fee of a direct-debit return);
    ``instructed_amount`` is the amount the payer ordered, when the bank gives it.
    ``return_reason`` is the ISO 20022 reason code of a direct-debit return.
    """

    account: str  # IBAN when the file gives one, else the BBAN as written in the file
    archive_id: str
    reference: str  # as written in the file, stripped; "" when the payer gave none
    amount: Decimal
    currency: str
    payment_date: dt.date | None
    booking_date: dt.date | None
    payer_name: str
    is_correction: bool
    source_format: str  # "ktl", "camt.054", "camt.053", "nets-ocr"
    source_line: str  # "line 12" or an element path, for messages
    message: str = ""  # unstructured remittance text, when present
    reference_source: str = ""  # "structured", "message" or "" (none)
    charges: Decimal = Decimal(0)
    instructed_amount: Decimal | None = None
    return_reason: str = ""

    def as_json_dict(self) -> dict:
        """Plain JSON-able dict: amounts as strings, dates ISO."""
        data = asdict(self)
        data["amount"] = str(self.amount)
        data["charges"] = str(self.charges)
        if self.instructed_amount is not None:
            data["instructed_amount"] = str(self.instructed_amount)
        for key in ("payment_date", "booking_date"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass(frozen=True, slots=True)
class FailedDebit:
    """A direct debit the payer's bank refused (KTL record ``5`` with a return code).

    No money came in: it is never a payment, and readers report it apart so that the member's
    invoice stays open and someone can follow it up. ``return_code`` is the bank's code as
    written in the file.
    """

    account: str
    archive_id: str
    reference: str
    amount: Decimal
    currency: str
    payment_date: dt.date | None
    booking_date: dt.date | None
    payer_name: str
    return_code: str
    source_format: str
    source_line: str

    def as_json_dict(self) -> dict:
        """Plain JSON-able dict: amounts as strings, dates ISO, and ``"failed_debit": true``."""
        data = asdict(self)
        data["amount"] = str(self.amount)
        for key in ("payment_date", "booking_date"):
            data[key] = data[key].isoformat() if data[key] else None
        data["failed_debit"] = True
        return data


class BankFileError(ValueError):
    """A bank file that cannot be read in full. Readers never return a partial result.

    ``location`` names the line (``"line 4"``) or element where the problem was found.
    """

    def __init__(self, message: str, location: str = "", source_format: str = ""):
        self.message = message
        self.location = location
        self.source_format = source_format
        prefix = f"{source_format}: " if source_format else ""
        where = f"{location}: " if location else ""
        super().__init__(f"{prefix}{where}{message}")
