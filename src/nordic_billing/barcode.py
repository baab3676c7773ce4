# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Finnish bank barcode ("pankkiviivakoodi") in its virtual form ("virtuaaliviivakoodi").

Finance Finland's bank barcode guide defines 54 digits that a payer copies into, or scans with,
their bank's app: the payee's Finnish IBAN, the amount, the reference and the due date.

Version 4 (Finnish national reference)::

    4 | IBAN digits (16) | euros (6) | cents (2) | 000 | reference (20) | due date YYMMDD

Version 5 (RF creditor reference, ISO 11649)::

    5 | IBAN digits (16) | euros (6) | cents (2) | RF check digits (2) | RF body (21) | YYMMDD

Numbers are zero-padded on the left; a missing due date is ``000000`` and an amount of zero
leaves the amount to the payer. What the barcode cannot carry is refused with
:class:`BarcodeError`: an IBAN that is not Finnish, an amount above 999 999.99 euros, negative,
with fractions of a cent or in another currency, an invalid reference, an RF reference with
letters, a due date outside 2000-2099.

Printed, the 54 digits are a Code 128 barcode in code set C (two digits per symbol).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from .money import to_cents
from .references import FI, RF, InvalidReferenceError, compact

MAX_AMOUNT = Decimal("999999.99")
CENT = Decimal("0.01")


class BarcodeError(ValueError):
    """The invoice cannot be given a bank barcode; the message says why, in plain words."""


@dataclass(frozen=True)
class VirtualBarcode:
    """One virtual barcode and the parts it was made from, as printed next to it."""

    code: str
    version: int
    iban: str
    amount: Decimal
    reference: str
    due: date | None

    def __str__(self) -> str:
        return self.code


def _iban_digits(iban: str) -> str:
    """The 16 digits of a Finnish IBAN after ``FI``: check digits and the account number."""
    text = compact(iban or "")
    if not text.startswith("FI"):
        raise BarcodeError(
            f"The account {iban!r} is not a Finnish IBAN (FI...): the Finnish bank barcode "
            "only carries Finnish accounts."
        )
    if len(text) != 18 or not text[2:].isascii() or not text[2:].isdigit():
        raise BarcodeError(f"The account {iban!r} is not a Finnish IBAN: FI and 16 digits.")
    # ISO 13616: the account, then FI as 15 18, then the check digits, is 1 modulo 97.
    if int(f"{text[4:]}1518{text[2:4]}") % 97 != 1:
        raise BarcodeError(f"The IBAN {iban!r} has wrong check digits.")
    return text[2:]


def _amount_digits(amount: Decimal | int | str, currency: str) -> tuple[Decimal, str]:
    """Six digits of euros and two of cents."""
    if currency != "EUR":
        raise BarcodeError(f"The Finnish bank barcode is for euros only, not {currency}.")
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise BarcodeError(f"The amount {amount!r} is not a number.") from None
    if not value.is_finite() or value != value.quantize(CENT):
        raise BarcodeError(f"The amount {amount} has fractions of a cent.")
    if value < 0:
        raise BarcodeError(f"The amount {amount} is negative.")
    if value > MAX_AMOUNT:
        raise BarcodeError(
            f"The amount {value:.2f} EUR is too large for the bank barcode (at most 999 999.99)."
        )
    return value.quantize(CENT), f"{to_cents(value):08d}"


def _due_digits(due: date | None) -> str:
    if due is None:
        return "000000"
    if not 2000 <= due.year <= 2099:
        raise BarcodeError(f"The due date {due.isoformat()} is outside the years 2000-2099.")
    return due.strftime("%y%m%d")


def _reference_part(reference: str) -> tuple[int, str, str]:
    """The version, the 23 digits of the reference part and the compact reference."""
    text = compact(reference or "")
    if not text:
        raise BarcodeError("The invoice has no payment reference.")
    try:
        if text.startswith("RF"):
            rf = RF.validate(text)
            check, body = rf[2:4], rf[4:]
            if not body.isdigit():
                raise BarcodeError(
                    f"The RF reference {reference!r} holds letters: the bank barcode carries "
                    "digits only."
                )
            return 5, check + body.zfill(21), rf
        national = FI.validate(text)
    except InvalidReferenceError as error:
        raise BarcodeError(f"The payment reference is not valid: {error.message}") from None
    return 4, "000" + national.zfill(20), national


def virtual_barcode(
    iban: str,
    amount: Decimal | int | str,
    reference: str,
    due: date | None = None,
    currency: str = "EUR",
) -> VirtualBarcode:
    """The virtual barcode of a payment: version 4 for a Finnish national reference, version 5
    for an RF reference. Raises :class:`BarcodeError` for anything the barcode cannot carry."""
    account = _iban_digits(iban)
    value, amount_digits = _amount_digits(amount, currency)
    version, reference_digits, ref = _reference_part(reference)
    return VirtualBarcode(
        code=f"{version}{account}{amount_digits}{reference_digits}{_due_digits(due)}",
        version=version,
        iban="FI" + account,
        amount=value,
        reference=ref,
        due=due,
    )
