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
    payment (KTL correction flag, camt ``RvslInd``). ``archive_id`` is the bank's identity of the
    payment and is unique per ``account``.
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

    def as_json_dict(self) -> dict:
        """Plain JSON-able dict: amounts as strings, dates ISO."""
        data = asdict(self)
        data["amount"] = str(self.amount)
        for key in ("payment_date", "booking_date"):
            data[key] = data[key].isoformat() if data[key] else None
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
