# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Sales invoices for Procountor to send, by the channel the customer chose, and back again.

Our invoicing channels and what Procountor needs for each (``POST /invoices``):

===================  ======================  ====================  ============================
channel              ``invoiceChannel``      ``paymentMethod``     data needed
===================  ======================  ====================  ============================
``email``            EMAIL                   BANK_TRANSFER         e-mail address
``paper``            MAIL                    BANK_TRANSFER         street, postal code, city
``einvoice``         ELECTRONIC_INVOICE      BANK_TRANSFER         e-invoice address + operator,
                                                                   street, postal code, city
``consumer_einvoice`` ELECTRONIC_INVOICE     BANK_TRANSFER         the same (the consumer's
                                                                   address and bank's operator)
``direct_payment``   EMAIL, or MAIL          DIRECT_PAYMENT        e-mail, or else the address
                     without e-mail
===================  ======================  ====================  ============================

:func:`invoice_problems` lists what is missing before anything is sent;
:func:`build_sales_invoice` makes the payload (our invoice number goes to
``originalInvoiceNumber``, the key by which an invoice whose upload outcome is unknown is found
again). :func:`channel_from_business_partner` reads the channel a customer has in Procountor's
register (after an e-invoice order, say) back into our terms.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from nordic_billing import references
from nordic_billing.money import to_decimal

NO_VAT_HANDLING = 12
CHANNELS = ("email", "paper", "einvoice", "consumer_einvoice", "direct_payment")
ORIGINAL_NUMBER_MAX_LENGTH = 40
NAME_MAX_LENGTH = 80

_REMOTE_CHANNEL = {
    "email": "EMAIL",
    "paper": "MAIL",
    "einvoice": "ELECTRONIC_INVOICE",
    "consumer_einvoice": "ELECTRONIC_INVOICE",
}
# ISO 3166 codes of the countries our customers live in -> Procountor's country names.
COUNTRIES = {
    "AX": "ALAND_ISLANDS",
    "DE": "GERMANY",
    "DK": "DENMARK",
    "EE": "ESTONIA",
    "FI": "FINLAND",
    "IS": "ICELAND",
    "LT": "LITHUANIA",
    "LV": "LATVIA",
    "NO": "NORWAY",
    "SE": "SWEDEN",
}
LANGUAGES = {
    "da": "DANISH",
    "en": "ENGLISH",
    "et": "ESTONIAN",
    "fi": "FINNISH",
    "nb": "NORWEGIAN",
    "nn": "NORWEGIAN",
    "no": "NORWEGIAN",
    "sv": "SWEDISH",
}
_ADDRESS_LABELS = {"street": "street", "zip": "postal code", "city": "city"}
# An IBAN-shaped e-invoice address (a consumer's bank account) as opposed to an OVT code.
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{8,30}$")


@dataclass(frozen=True)
class Party:
    """The customer as the invoice names it."""

    name: str
    customer_number: str = ""
    email: str = ""
    street: str = ""
    zip: str = ""
    city: str = ""
    country: str = ""  # ISO 3166 alpha-2
    business_id: str = ""
    einvoice_address: str = ""
    einvoice_operator: str = ""
    language: str = ""  # e.g. "fi" or "fi_FI"


@dataclass(frozen=True)
class InvoiceLine:
    product: str
    quantity: Decimal
    unit_price: Decimal  # without VAT
    vat_percent: Decimal = Decimal(0)
    vat_status: int | None = NO_VAT_HANDLING
    discount_percent: Decimal = Decimal(0)
    product_code: str = ""
    unit: str = "PIECE"


@dataclass(frozen=True)
class Problem:
    """Something that keeps an invoice from going out.

    ``code`` names the case for a user interface to say in the user's language (with
    ``detail``: the channel, the missing address parts); ``text`` says it in English.
    """

    code: str
    text: str
    detail: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class PartnerChannel:
    """A customer's invoicing channel as Procountor's register has it, in our terms."""

    partner_id: int
    customer_number: str
    channel: str | None  # None: a channel we do not send by (EDIFACT, NO_SENDING)
    email: str
    einvoice_address: str
    einvoice_operator: str
    version: str


def remote_channel(channel: str, party: Party) -> tuple[str, str]:
    """``(invoiceChannel, paymentMethod)`` for one of our channels."""
    if channel == "direct_payment":
        return ("EMAIL" if party.email else "MAIL"), "DIRECT_PAYMENT"
    try:
        return _REMOTE_CHANNEL[channel], "BANK_TRANSFER"
    except KeyError:
        raise ValueError(f"unknown invoicing channel {channel!r}") from None


def invoice_problems(channel: str, party: Party, number: str = "x") -> list[Problem]:
    """What keeps an invoice to ``party`` from going out by ``channel`` (empty: nothing).

    Codes: ``unknown_channel``, ``no_name``, ``bad_number``, ``no_email``, ``no_address``
    (detail: the channel, then the missing parts: street, zip, city), ``no_einvoice_address``,
    ``no_einvoice_operator``.
    """
    if channel not in CHANNELS:
        return [Problem("unknown_channel", f"unknown invoicing channel {channel!r}", (channel,))]
    problems = []
    if not party.name.strip():
        problems.append(Problem("no_name", "the customer has no name"))
    if not number or len(number) > ORIGINAL_NUMBER_MAX_LENGTH:
        problems.append(
            Problem(
                "bad_number",
                f"the invoice number must have 1 to {ORIGINAL_NUMBER_MAX_LENGTH} characters",
            )
        )
    invoice_channel, _method = remote_channel(channel, party)
    if invoice_channel == "EMAIL" and not party.email:
        problems.append(Problem("no_email", "the e-mail channel needs an e-mail address"))
    if invoice_channel in ("MAIL", "ELECTRONIC_INVOICE"):
        missing = [
            part
            for part, value in (("street", party.street), ("zip", party.zip), ("city", party.city))
            if not value.strip()
        ]
        if missing:
            labels = ", ".join(_ADDRESS_LABELS[part] for part in missing)
            problems.append(
                Problem(
                    "no_address",
                    f"the {channel} channel needs the address ({labels})",
                    (channel, *missing),
                )
            )
    if invoice_channel == "ELECTRONIC_INVOICE":
        if not party.einvoice_address.strip():
            problems.append(
                Problem("no_einvoice_address", "an e-invoice needs the e-invoice address")
            )
        if not party.einvoice_operator.strip():
            problems.append(
                Problem(
                    "no_einvoice_operator", "an e-invoice needs the operator (intermediator) code"
                )
            )
    return problems


def reference_for_procountor(reference: str) -> tuple[str, str]:
    """``(bankReferenceCode, bankReferenceCodeType)`` from our invoice's payment reference.

    A valid Finnish or RF reference is kept, so that the member pays with the reference our
    books know; anything else gives ``""`` and Procountor makes a Finnish reference itself.
    """
    text = references.compact(reference or "")
    if text.startswith("RF") and references.RF.check(text):
        return text, "RF"
    if text.isdigit() and references.FI.check(text):
        return text, "FI"
    return "", "FI"


def build_sales_invoice(
    *,
    number: str,
    invoice_date: dt.date,
    due_date: dt.date,
    party: Party,
    lines: Iterable[InvoiceLine],
    channel: str,
    currency: str = "EUR",
    reference: str = "",
    additional_information: str = "",
) -> dict:
    """The ``POST /invoices`` payload; raises ``ValueError`` naming every problem found."""
    lines = list(lines)
    problems = [str(p) for p in invoice_problems(channel, party, number)]
    if not lines:
        problems.append("the invoice has no lines")
    if due_date < invoice_date:
        problems.append("the due date is before the invoice date")
    if problems:
        raise ValueError("; ".join(problems))
    invoice_channel, payment_method = remote_channel(channel, party)
    address = _address(party)
    counter_party: dict = {"counterPartyAddress": address}
    for key, value in (
        ("customerNumber", party.customer_number),
        ("email", party.email),
        ("identifier", party.business_id),
    ):
        if value:
            counter_party[key] = value
    if invoice_channel == "ELECTRONIC_INVOICE":
        counter_party["einvoiceAddress"] = {
            "address": party.einvoice_address.strip(),
            "operator": party.einvoice_operator.strip(),
        }
    code, code_type = reference_for_procountor(reference)
    payload = {
        "type": "SALES_INVOICE",
        "date": invoice_date.isoformat(),
        "originalInvoiceNumber": number,
        "counterParty": counter_party,
        "billingAddress": dict(address),
        "paymentInfo": {
            "paymentMethod": payment_method,
            "currency": currency,
            "dueDate": due_date.isoformat(),
            "currencyRate": 1,
            "bankReferenceCode": code,
            "bankReferenceCodeType": code_type,
        },
        "extraInfo": {"accountingByRow": False, "unitPricesIncludeVat": False},
        "discountPercent": 0,
        "invoiceChannel": invoice_channel,
        "invoiceRows": [_row(line) for line in lines],
    }
    language = LANGUAGES.get((party.language or "").split("_")[0].lower())
    if language:
        payload["language"] = language
    if additional_information:
        payload["additionalInformation"] = additional_information[:10000]
    return payload


def channel_from_business_partner(partner: Mapping) -> PartnerChannel:
    """The channel of a business partner read with ``GET /businesspartners/{id}``.

    Direct payment is a payment method in Procountor; an e-invoice address shaped like an IBAN is
    a consumer's (the consumer's bank is the operator), any other (an OVT code) a company's.
    """
    invoicing = partner.get("invoicingInfo") or {}
    payment = partner.get("paymentInfo") or {}
    remote = invoicing.get("invoiceChannel")
    address = str(invoicing.get("einvoiceAddress") or "")
    channel: str | None
    if payment.get("paymentMethod") == "DIRECT_PAYMENT":
        channel = "direct_payment"
    elif remote == "ELECTRONIC_INVOICE":
        compact = address.replace(" ", "").upper()
        consumer = partner.get("type") == "PERSON" or bool(_IBAN.match(compact))
        channel = "consumer_einvoice" if consumer else "einvoice"
    elif remote == "EMAIL":
        channel = "email"
    elif remote in ("MAIL", "PAPER_INVOICE"):
        channel = "paper"
    else:
        channel = None
    return PartnerChannel(
        partner_id=int(partner["id"]),
        customer_number=str(invoicing.get("customerNumber") or ""),
        channel=channel,
        email=str(invoicing.get("email") or ""),
        einvoice_address=address,
        einvoice_operator=str(invoicing.get("einvoiceOperator") or ""),
        version=str(partner.get("version") or ""),
    )


_VOID_EVENT_STATUSES = frozenset({"INVALIDATED", "PAYMENT_TRANSACTION_REMOVED", "DELETED"})


def paid_amount(events: Iterable[Mapping]) -> Decimal:
    """What the payment events of an invoice add up to (invalidated events left out)."""
    return sum(
        (
            to_decimal(e.get("amount"))
            for e in events
            if e.get("status") not in _VOID_EVENT_STATUSES
        ),
        Decimal(0),
    )


def last_payment_date(events: Iterable[Mapping]) -> dt.date | None:
    """Date of the latest payment that counts (invalidated events left out)."""
    dates = [
        dt.date.fromisoformat(e["paymentDate"])
        for e in events
        if e.get("paymentDate") and e.get("status") not in _VOID_EVENT_STATUSES
    ]
    return max(dates) if dates else None


def _address(party: Party) -> dict:
    address = {"name": party.name.strip()[:NAME_MAX_LENGTH]}
    for key, value, limit in (
        ("street", party.street, 80),
        ("zip", party.zip, 20),
        ("city", party.city, 40),
    ):
        if value and value.strip():
            address[key] = value.strip()[:limit]
    country = COUNTRIES.get((party.country or "").upper())
    if country:
        address["country"] = country
    return address


def _row(line: InvoiceLine) -> dict:
    row = {
        "product": line.product.strip() or "-",
        "quantity": line.quantity,
        "unit": line.unit,
        "unitPrice": line.unit_price,
        "discountPercent": line.discount_percent,
        "vatPercent": line.vat_percent,
    }
    if line.vat_status is not None:
        row["vatStatus"] = line.vat_status
    if line.product_code:
        row["productCode"] = line.product_code
    return row
