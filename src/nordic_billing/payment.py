# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The one record type every bank-file reader produces, and the one error they raise."""

from __future__ import annotations

import datetime as dt
from dataclasses import MISSING, asdict, dataclass, fields
from decimal import Decimal


def _fast_init(cls):
    """Give the frozen slots dataclass ``cls`` an ``__init__`` that stores each field through
    its slot descriptor.

    The same parameters, defaults and errors as the one ``dataclasses`` writes, which stores
    each field with ``object.__setattr__`` (the way round ``frozen``) and is about a third
    slower. Readers make one record per payment, so this is a good part of the time a large
    bank file takes to read (``bench/bench_bankfiles.py``). Only for classes without
    ``__post_init__`` or default factories.
    """
    params, body, namespace = [], [], {}
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__")
    for fld in fields(cls):
        if fld.default_factory is not MISSING or not fld.init:
            raise TypeError(f"{cls.__name__}.{fld.name} has a default factory or no init")
        namespace[f"_set_{fld.name}"] = getattr(cls, fld.name).__set__
        if fld.default is MISSING:
            params.append(fld.name)
        else:
            namespace[f"_default_{fld.name}"] = fld.default
            params.append(f"{fld.name}=_default_{fld.name}")
        body.append(f"    _set_{fld.name}(self, {fld.name})")
    code = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body) + "\n"
    exec(code, namespace)  # made of the field names only, as dataclasses makes its own
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init
    return cls


@_fast_init
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


@_fast_init
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
