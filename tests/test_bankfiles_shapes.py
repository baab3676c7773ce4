# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Shapes of bank files that real banks send, one file made for each (see fixtures/SOURCES.md).

Every test here reads its own fixture and fails on a reader that mishandles the shape: a payment
dropped, a total counted as a payment, a failed debit taken for money received, a valid file
refused.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from nordic_billing.bankfiles import (
    BankFileError,
    FailedDebit,
    KtlBatch,
    LumpSum,
    Outgoing,
    Payment,
    iter_unchecked,
    read_bank_file,
    read_payments,
    write_ktl,
)
from nordic_billing.references import reference_in_text

FIXTURES = Path(__file__).parent / "fixtures"


def refused(name: str, pattern: str) -> BankFileError:
    with pytest.raises(BankFileError, match=pattern) as info:
        read_bank_file(FIXTURES / name)
    return info.value


# -- KTL ----------------------------------------------------------------------------------------


def test_ktl_failed_direct_debits_are_reported_apart() -> None:
    """Two direct debits with a return code (column 90) are failed debits, not payments; the
    collected debit (code 0) and the reference payment are payments; the sum record's failed
    pair (columns 36-52) checks the failed ones."""
    result = read_bank_file(FIXTURES / "ktl_failed_direct_debits.svm")
    assert [(p.archive_id, p.amount) for p in result.payments] == [
        ("2612020001RF0001", Decimal("60.00")),
        ("2612020002DD0001", Decimal("60.00")),
    ]
    assert result.failed_debits == [
        FailedDebit(
            account="47300010416310",
            archive_id="2612020003DD0002",
            reference="2024000068",
            amount=Decimal("60.00"),
            currency="EUR",
            payment_date=dt.date(2026, 12, 1),
            booking_date=dt.date(2026, 12, 2),
            payer_name="MAKINEN J",
            return_code="1",
            source_format="ktl",
            source_line="line 4",
        ),
        FailedDebit(
            account="47300010416310",
            archive_id="2612020004DD0003",
            reference="123453",
            amount=Decimal("35.00"),
            currency="EUR",
            payment_date=dt.date(2026, 12, 1),
            booking_date=dt.date(2026, 12, 2),
            payer_name="NIEMINEN L",
            return_code="2",
            source_format="ktl",
            source_line="line 5",
        ),
    ]
    assert result.failed_debits[0].as_json_dict()["failed_debit"] is True


def test_ktl_failed_direct_debit_sums_are_checked() -> None:
    data = (FIXTURES / "ktl_failed_direct_debits.svm").read_bytes()
    lines = data.split(b"\r\n")
    lines[5] = lines[5][:35] + b"000001" + lines[5][41:]  # says one failed debit, not two
    with pytest.raises(BankFileError, match="says 1 failed direct debits, the batch has 2"):
        read_bank_file(b"\r\n".join(lines))
    # A bank that leaves columns 36-52 blank has no failed debits to report: a file with some
    # is refused, and the message says they are not payments.
    lines = data.split(b"\r\n")
    lines[5] = lines[5][:35] + b" " * 17 + lines[5][52:]
    with pytest.raises(BankFileError, match="says 0 failed direct debits, the batch has 2"):
        read_bank_file(b"\r\n".join(lines))


def test_ktl_failed_direct_debits_round_trip() -> None:
    failed = read_bank_file(FIXTURES / "ktl_failed_direct_debits.svm").failed_debits
    data = write_ktl(
        [KtlBatch(payments=[], created=dt.datetime(2026, 12, 2, 8), failed_debits=failed)]
    )
    result = read_bank_file(data)
    assert (result.payments, [d.archive_id for d in result.failed_debits]) == (
        [],
        ["2612020003DD0002", "2612020004DD0003"],
    )


def test_ktl_same_archive_id_twice_is_refused() -> None:
    error = refused("ktl_same_archive_id_twice.svm", "archive id '2612020001RF0001' .* twice")
    assert error.location == "line 3"


def test_ktl_zero_amount_is_refused() -> None:
    error = refused("ktl_zero_amount.svm", "amount is zero")
    assert error.location == "line 3"


# -- camt.053 -----------------------------------------------------------------------------------


def test_camt053_single_detail_without_amount_is_one_payment() -> None:
    result = read_bank_file(FIXTURES / "camt053_single_detail_without_amount.xml")
    assert result.lump_sums == []
    assert [(p.archive_id, p.amount, p.reference, p.payer_name) for p in result.payments] == [
        ("2612020001SINGLE", Decimal("60.00"), "13013", "VIRTANEN MATTI")
    ]


def test_camt053_batch_whose_detail_holds_the_total_is_a_lump_sum() -> None:
    result = read_bank_file(FIXTURES / "camt053_batch_detail_holds_total.xml")
    assert result.payments == []
    assert [(s.archive_id, s.amount, s.transaction_count) for s in result.lump_sums] == [
        ("2612020001BATCH86", Decimal("5160.00"), 86)
    ]


def test_camt053_without_acctsvcrref_derives_stable_ids() -> None:
    """Entries without AcctSvcrRef: the outgoing debit needs no id to be read; incoming
    payments get one from NtryRef, TxId, EndToEndId or the statement id and position."""
    source = FIXTURES / "camt053_without_acctsvcrref.xml"
    result = read_bank_file(source)
    assert [(o.archive_id, o.amount) for o in result.outgoing] == [
        ("EndToEndId:PAYOUT-7/2026-12-02/250.00", Decimal("250.00"))
    ]
    assert [(p.archive_id, p.amount) for p in result.payments] == [
        ("NtryRef:NR-0001", Decimal("60.00")),
        ("TxId:TX-778", Decimal("45.00")),
        ("EndToEndId:INV-2026-17/2026-12-02/30.00", Decimal("30.00")),
        ("STMT-NOREF-20261202/5", Decimal("12.00")),
        ("NtryRef:NR-0002/1", Decimal("40.00")),
        ("NtryRef:NR-0002/2", Decimal("30.00")),
    ]
    assert read_bank_file(source) == result  # the same ids on every reading


def test_camt053_direct_debit_return_reverses_the_payment() -> None:
    """A DBIT with return information and no RvslInd: a correction of the 60.00 collected
    earlier, with the bank's 2.50 fee as charges, not an outgoing transfer."""
    result = read_bank_file(FIXTURES / "camt053_direct_debit_return.xml")
    assert result.outgoing == []
    [payment] = result.payments
    assert (
        payment.is_correction,
        payment.amount,
        payment.charges,
        payment.instructed_amount,
        payment.return_reason,
        payment.reference,
        payment.archive_id,
    ) == (
        True,
        Decimal("60.00"),
        Decimal("2.50"),
        Decimal("60.00"),
        "AM04",
        "13013",
        "2612020001RTRN01",
    )


# -- camt.053 and camt.054 ----------------------------------------------------------------------


def test_same_payment_has_the_same_id_in_camt053_and_camt054() -> None:
    statement = read_payments(FIXTURES / "camt053_single_transaction.xml")
    notification = read_payments(FIXTURES / "camt054_single_transaction.xml")
    assert [p.archive_id for p in statement] == [p.archive_id for p in notification]
    assert [p.archive_id for p in statement] == ["2612020001SAME01"]


def test_camt054_same_archive_id_twice_is_refused() -> None:
    refused("camt054_same_archive_id_twice.xml", "archive id '2612020001DUP' .* twice")


def test_camt054_short_decimals_are_valid() -> None:
    payments = read_payments(FIXTURES / "camt054_short_decimals.xml")
    assert [p.amount for p in payments] == [Decimal("0.10"), Decimal("0.37"), Decimal("5.00")]


def test_camt054_zero_amount_is_refused() -> None:
    error = refused("camt054_zero_amount.xml", "amount is zero")
    assert "TxDtls[2]" in error.location


def test_camt054_reference_typed_in_the_message() -> None:
    payments = read_payments(FIXTURES / "camt054_reference_in_message.xml")
    assert [(p.reference, p.reference_source) for p in payments] == [
        ("13013", "message"),
        ("RF18539007547034", "message"),
        ("", ""),  # a phone number is no reference
        ("1232", "structured"),  # the structured reference wins over the message
    ]


def test_camt054_charges_and_instructed_amount_are_kept() -> None:
    [payment] = read_payments(FIXTURES / "camt054_charges.xml")
    assert (payment.amount, payment.charges, payment.instructed_amount, payment.is_correction) == (
        Decimal("58.50"),
        Decimal("1.50"),
        Decimal("60.00"),
        False,
    )
    assert payment.as_json_dict()["charges"] == "1.50"


def test_camt054_details_without_amounts_say_so() -> None:
    """Transactions without amounts do not "add up to" anything: the message says what is
    missing."""
    error = refused(
        "camt054_details_without_amounts.xml", "TxDtls without an amount in an entry of several"
    )
    assert "add up" not in str(error)


def test_unchecked_reading_yields_every_kind() -> None:
    kinds = {type(item) for item in iter_unchecked(FIXTURES / "ktl_failed_direct_debits.svm")}
    assert kinds == {Payment, FailedDebit}
    kinds = {type(item) for item in iter_unchecked(FIXTURES / "camt053_without_acctsvcrref.xml")}
    assert kinds == {Payment, Outgoing}
    kinds = {type(i) for i in iter_unchecked(FIXTURES / "camt053_batch_detail_holds_total.xml")}
    assert kinds == {LumpSum}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("13013", "13013"),
        ("Viite: 20240 00068", "2024000068"),
        ("viitenumero 2024000068 kiitos", "2024000068"),
        ("jasenmaksu RF95 2024 0000 71", "RF952024000071"),
        ("jasenmaksu 13013 ja 1232", ""),  # bare numbers inside text: not taken
        ("13014", ""),  # wrong check digit
        ("RF96 2024 0000 71", ""),
        ("", ""),
    ],
)
def test_reference_in_text(text: str, found: str) -> None:
    assert reference_in_text(text) == found


def test_command_line_reports_failed_debits_as_notes(capsys: pytest.CaptureFixture[str]) -> None:
    from nordic_billing.cli import main

    status = main(["bank-file", str(FIXTURES / "ktl_failed_direct_debits.svm")])
    out, err = capsys.readouterr()
    assert status == 0
    assert len(out.splitlines()) == 2  # the two payments
    assert err.count("failed direct debit") == 2
    assert "no money came in, not a payment" in err


def test_camt_entry_with_several_entry_details_counts_every_batch() -> None:
    """ISO 20022 allows several NtryDtls in one entry, each with its own Btch: the batch counts
    add up, and the transactions are numbered across them."""
    data = (FIXTURES / "camt054_reference_in_message.xml").read_bytes()
    head, _sep, rest = data.partition(b"<NtryDtls>")
    details, _sep, tail = rest.partition(b"</NtryDtls>")
    txs = details.split(b"</TxDtls>")[:-1]
    split = (
        b"<NtryDtls><Btch><NbOfTxs>1</NbOfTxs></Btch>" + txs[0] + b"</TxDtls></NtryDtls>"
        b"<NtryDtls><Btch><NbOfTxs>3</NbOfTxs></Btch>"
        + b"</TxDtls>".join(txs[1:])
        + b"</TxDtls></NtryDtls>"
    )
    payments = read_payments(head + split + tail)
    assert [p.amount for p in payments] == [
        Decimal("60.00"),
        Decimal("45.00"),
        Decimal("35.00"),
        Decimal("25.00"),
    ]


def test_payment_records_behave_as_frozen_dataclasses() -> None:
    """Payment and FailedDebit store their fields through their slots (faster): construction,
    defaults, errors, immutability, equality, hashing, replace and pickling are unchanged."""
    import dataclasses
    import pickle

    values = {
        "account": "A",
        "archive_id": "1",
        "reference": "13013",
        "amount": Decimal("1.00"),
        "currency": "EUR",
        "payment_date": None,
        "booking_date": dt.date(2026, 1, 2),
        "payer_name": "X",
        "is_correction": False,
        "source_format": "ktl",
        "source_line": "line 2",
    }
    payment = Payment(**values)
    assert payment == Payment(*values.values())
    assert (payment.message, payment.charges, payment.instructed_amount) == ("", 0, None)
    assert hash(payment) == hash(Payment(**values))
    assert dataclasses.replace(payment, charges=Decimal("2.50")).charges == Decimal("2.50")
    assert pickle.loads(pickle.dumps(payment)) == payment
    with pytest.raises(dataclasses.FrozenInstanceError):
        payment.amount = Decimal(2)  # type: ignore[misc]
    with pytest.raises(TypeError, match="source_line"):
        Payment(**{k: v for k, v in values.items() if k != "source_line"})
    with pytest.raises(TypeError, match="unexpected keyword"):
        Payment(**values, colour="red")
    assert Payment.__init__.__qualname__ == "Payment.__init__"


def test_nets_ocr_zero_amount_is_refused() -> None:
    error = refused("nets_ocr_zero_amount.txt", "amount is zero")
    assert error.location == "line 3"
