# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Sales-invoice payloads per channel, checked against the contract and the sandbox."""

import datetime as dt
from decimal import Decimal

import pytest

from nordic_billing.openapi import Contract
from nordic_billing.procountor import Credentials, ProcountorClient
from nordic_billing.procountor_invoices import (
    InvoiceLine,
    Party,
    build_sales_invoice,
    channel_from_business_partner,
    invoice_problems,
    last_payment_date,
    paid_amount,
    reference_for_procountor,
)
from nordic_billing.sandbox.procountor import (
    DEFAULT_API_KEY,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    start_in_thread,
)

D = Decimal
MAIJA = Party(
    name="Maija Meikäläinen",
    customer_number="M-1001",
    email="maija@example.com",
    street="Esimerkkikatu 1",
    zip="00100",
    city="Helsinki",
    country="FI",
    language="fi_FI",
)
CONSUMER = Party(
    **{
        **MAIJA.__dict__,
        "email": "",
        "einvoice_address": "FI7429501800000014",
        "einvoice_operator": "NDEAFIHH",
    }
)
FEE = InvoiceLine("Jäsenmaksu 2027", D(1), D("45.00"))


def build(channel, party=MAIJA, **kwargs):
    kwargs.setdefault("number", "2026-0001")
    kwargs.setdefault("invoice_date", dt.date(2026, 11, 22))
    kwargs.setdefault("due_date", dt.date(2026, 12, 6))
    return build_sales_invoice(party=party, lines=[FEE], channel=channel, **kwargs)


@pytest.mark.parametrize(
    ("channel", "party", "remote", "method"),
    [
        ("email", MAIJA, "EMAIL", "BANK_TRANSFER"),
        ("paper", MAIJA, "MAIL", "BANK_TRANSFER"),
        ("einvoice", CONSUMER, "ELECTRONIC_INVOICE", "BANK_TRANSFER"),
        ("consumer_einvoice", CONSUMER, "ELECTRONIC_INVOICE", "BANK_TRANSFER"),
        ("direct_payment", MAIJA, "EMAIL", "DIRECT_PAYMENT"),
        ("direct_payment", CONSUMER, "MAIL", "DIRECT_PAYMENT"),
    ],
)
def test_every_channel_is_accepted_by_contract_and_sandbox(channel, party, remote, method):
    payload = build(channel, party)
    assert Contract.packaged().validate(payload, "Invoice") == []
    assert (payload["invoiceChannel"], payload["paymentInfo"]["paymentMethod"]) == (remote, method)
    with start_in_thread() as sandbox:
        credentials = Credentials(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_API_KEY)
        with ProcountorClient(credentials, sandbox.url, timeout=2) as client:
            created = client.create_invoice_once(payload)
            assert created.created
            assert client.approve_invoice(created.id)
            client.send_invoice(created.id)
            assert client.get_invoice(created.id)["status"] == "SENT"
        assert sandbox.state.violations == []


def test_consumer_einvoice_carries_address_and_operator_and_full_address():
    payload = build("consumer_einvoice", CONSUMER)
    counter = payload["counterParty"]
    assert counter["einvoiceAddress"] == {"address": "FI7429501800000014", "operator": "NDEAFIHH"}
    for address in (counter["counterPartyAddress"], payload["billingAddress"]):
        assert (address["street"], address["zip"], address["city"], address["country"]) == (
            "Esimerkkikatu 1",
            "00100",
            "Helsinki",
            "FINLAND",
        )
    assert payload["language"] == "FINNISH"
    assert payload["invoiceRows"][0]["vatStatus"] == 12


def test_missing_channel_data_is_named_before_sending():
    bare = Party(name="Matti", customer_number="M-2")

    def texts(*args):
        return [str(problem) for problem in invoice_problems(*args)]

    assert texts("email", bare) == ["the e-mail channel needs an e-mail address"]
    assert texts("paper", bare) == [
        "the paper channel needs the address (street, postal code, city)"
    ]
    assert texts("consumer_einvoice", MAIJA) == [
        "an e-invoice needs the e-invoice address",
        "an e-invoice needs the operator (intermediator) code",
    ]
    assert texts("fax", MAIJA) == ["unknown invoicing channel 'fax'"]
    assert [p.code for p in invoice_problems("email", MAIJA, "x" * 41)] == ["bad_number"]
    partial = Party(name="Matti", street="Katu 2", city="Oulu")
    [problem] = invoice_problems("paper", partial)
    assert (problem.code, problem.detail) == ("no_address", ("paper", "zip"))
    assert invoice_problems("direct_payment", partial)[0].detail == ("direct_payment", "zip")
    with pytest.raises(ValueError, match="e-mail address"):
        build("email", bare)
    with pytest.raises(ValueError, match="due date"):
        build("email", due_date=dt.date(2026, 11, 1))


def test_valid_references_are_kept_and_others_left_to_procountor():
    assert reference_for_procountor("20240 00068") == ("2024000068", "FI")
    assert reference_for_procountor("RF95 2024 0000 71") == ("RF952024000071", "RF")
    assert reference_for_procountor("INV/2026/0001") == ("", "FI")
    assert reference_for_procountor("2024000069") == ("", "FI")  # wrong check digit
    payload = build("email", reference="2024000068")
    assert payload["paymentInfo"]["bankReferenceCode"] == "2024000068"


def test_channel_read_back_from_the_partner_register():
    def partner(channel, address="", method="BANK_TRANSFER", kind="CUSTOMER"):
        return {
            "id": 7,
            "type": kind,
            "version": "2026-03-01T10:00:00.000",
            "invoicingInfo": {
                "customerNumber": "M-1001",
                "invoiceChannel": channel,
                "einvoiceAddress": address,
                "einvoiceOperator": "NDEAFIHH" if address else "",
            },
            "paymentInfo": {"paymentMethod": method},
        }

    consumer = channel_from_business_partner(
        partner("ELECTRONIC_INVOICE", "FI74 2950 1800 0000 14")
    )
    assert (consumer.channel, consumer.customer_number, consumer.einvoice_operator) == (
        "consumer_einvoice",
        "M-1001",
        "NDEAFIHH",
    )
    company = channel_from_business_partner(partner("ELECTRONIC_INVOICE", "003712345678"))
    assert company.channel == "einvoice"
    person = channel_from_business_partner(
        partner("ELECTRONIC_INVOICE", "003712345678", kind="PERSON")
    )
    assert person.channel == "consumer_einvoice"
    assert channel_from_business_partner(partner("EMAIL")).channel == "email"
    assert channel_from_business_partner(partner("MAIL")).channel == "paper"
    assert channel_from_business_partner(partner("MAIL", method="DIRECT_PAYMENT")).channel == (
        "direct_payment"
    )
    assert channel_from_business_partner(partner("NO_SENDING")).channel is None


def test_payment_events_sum_and_last_date():
    events = [
        {"amount": D("20"), "paymentDate": "2026-12-01", "status": "PAID"},
        {"amount": D("25"), "paymentDate": "2026-12-03", "status": "PAID"},
        {"amount": D("99"), "paymentDate": "2026-12-04", "status": "INVALIDATED"},
    ]
    assert paid_amount(events) == D("45")
    assert last_payment_date(events) == dt.date(2026, 12, 3)
    assert last_payment_date([]) is None
