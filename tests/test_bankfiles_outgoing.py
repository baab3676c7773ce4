# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime as dt
from decimal import Decimal

from nordic_billing.bankfiles import Outgoing, read_bank_file, write_camt054
from nordic_billing.payment import Payment

IBAN = "FI2112345600000785"


def _payment(archive_id, amount):
    return Payment(
        account=IBAN,
        archive_id=archive_id,
        reference="13013",
        amount=Decimal(amount),
        currency="EUR",
        payment_date=None,
        booking_date=dt.date(2026, 11, 20),
        payer_name="Aino",
        is_correction=False,
        source_format="camt.054",
        source_line="",
    )


def test_outgoing_transfers_are_reported_apart_from_payments():
    payout = Outgoing(
        account=IBAN,
        archive_id="OUT-1",
        reference="10016",
        end_to_end_id="SET/2026/00001",
        creditor_name="Tampere Ski Club",
        amount=Decimal("125.50"),
        currency="EUR",
        booking_date=dt.date(2026, 11, 23),
        source_format="camt.054",
        source_line="",
    )
    data = b"".join(write_camt054(IBAN, [_payment("IN-1", "60.00")], outgoing=[payout]))
    result = read_bank_file(data)
    assert [p.archive_id for p in result.payments] == ["IN-1"]
    assert len(result.outgoing) == 1
    out = result.outgoing[0]
    assert (out.reference, out.end_to_end_id, out.creditor_name, out.amount) == (
        "10016",
        "SET/2026/00001",
        "Tampere Ski Club",
        Decimal("125.50"),
    )
    assert out.booking_date == dt.date(2026, 11, 23)


def test_fixture_has_no_outgoing(fixtures_dir):
    data = (fixtures_dir / "camt_054_credit_notoification_example_finland.xml").read_bytes()
    assert read_bank_file(data).outgoing == []
