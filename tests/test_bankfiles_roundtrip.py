# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Writers -> readers: what is written is read back unchanged, with valid totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nordic_billing.bankfiles import (
    KtlBatch,
    OcrAssignment,
    Payment,
    read_bank_file,
    read_payments,
    write_camt054,
    write_ktl,
    write_nets_ocr,
)

CREATED = dt.datetime(2026, 2, 3, 6, 30)


def payment(
    number: int,
    *,
    account: str = "47300010416310",
    reference: str = "1232",
    amount: str = "25.00",
    correction: bool = False,
    name: str = "MÄKINEN ANNA",
    message: str = "",
    paid: dt.date | None = dt.date(2026, 2, 1),
) -> Payment:
    return Payment(
        account=account,
        archive_id=f"2602{number:012d}",
        reference=reference,
        amount=Decimal(amount),
        currency="EUR",
        payment_date=paid,
        booking_date=dt.date(2026, 2, 2),
        payer_name=name,
        is_correction=correction,
        source_format="",
        source_line="",
        message=message,
    )


def vars_of(value: Payment) -> dict:
    """The fields of ``value``, to build a changed copy of a frozen payment."""
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


def essentials(payments: list[Payment]) -> list[tuple]:
    """What a writer carries: everything but where the record was read from."""
    return [
        (
            p.account,
            p.archive_id,
            p.reference,
            p.amount,
            p.currency,
            p.payment_date,
            p.booking_date,
            p.payer_name,
            p.is_correction,
            p.message,
        )
        for p in payments
    ]


# -- KTL ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"])
def test_ktl_round_trip_several_batches(newline: bytes) -> None:
    first = [payment(1), payment(2, amount="0.05"), payment(3, correction=True, paid=None)]
    second = [payment(4, account="15723500012345", reference="13013", amount="1234567.89")]
    data = write_ktl([KtlBatch(first, CREATED), KtlBatch(second, CREATED)], newline=newline)
    records = data.split(newline)
    assert all(len(record) == 90 for record in records[:-1]) and records[-1] == b""
    assert records[4] == b"9000002000000025050000010000000250000000000000000000".ljust(90)
    read = read_payments(data)
    assert essentials(read) == essentials(first + second)
    assert [p.source_line for p in read] == ["line 2", "line 3", "line 4", "line 7"]


def test_ktl_writer_cuts_long_names_and_pads_references() -> None:
    data = write_ktl([KtlBatch([payment(1, name="HÄMÄLÄINEN-VIRTANEN EEVA")], CREATED)])
    record = data.split(b"\r\n")[1].decode("latin-1")
    assert record[43:63] == "00000000000000001232"
    assert read_payments(data)[0].payer_name == "HÄMÄLÄINEN-V"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"currency": "SEK"}, "KTL carries euros only"),
        ({"amount": Decimal("1.005")}, "at most 2 decimals"),
        ({"reference": "RF111232"}, "reference 'RF111232' must be at most 20 digits"),
        ({"account": "FI2112345600000785"}, "account .* must be at most 14 digits"),
        ({"archive_id": "X" * 17}, "archive id .* longer than 16"),
        ({"booking_date": None}, "has no booking date"),
    ],
)
def test_ktl_writer_refuses_what_ktl_cannot_carry(bad: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_ktl([KtlBatch([Payment(**{**vars_of(payment(1)), **bad})], CREATED)])


def test_ktl_writer_needs_a_batch() -> None:
    with pytest.raises(ValueError, match="at least one batch"):
        write_ktl([])


names = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
    max_size=12,
).filter(lambda name: name == name.strip() and name.isprintable())
ktl_payments = st.builds(
    payment,
    st.integers(0, 10**11),
    reference=st.integers(1, 10**19).map(str),
    amount=st.integers(1, 10**9).map(lambda cents: str(Decimal(cents).scaleb(-2))),
    correction=st.booleans(),
    name=names,
    paid=st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), dt.date(2060, 12, 31))),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(ktl_payments, max_size=6), min_size=1, max_size=3))
def test_ktl_round_trip_property(batches: list[list[Payment]]) -> None:
    # An archive id is unique on its account within a file (the reader refuses a repeat).
    keys = [(p.account, p.archive_id, p.is_correction) for b in batches for p in b]
    assume(len(set(keys)) == len(keys))
    data = write_ktl([KtlBatch(batch, CREATED) for batch in batches])
    assert essentials(read_payments(data)) == essentials([p for b in batches for p in b])


# -- camt.054 -----------------------------------------------------------------------------------


def test_camt054_round_trip() -> None:
    payments = [
        payment(1, account="FI2112345600000785"),
        payment(2, account="FI2112345600000785", reference="RF111232", message="Jäsenmaksu"),
        payment(3, account="FI2112345600000785", reference="", message="line one\nline two"),
        payment(4, account="FI2112345600000785", correction=True, amount="9.99"),
        payment(5, account="FI2112345600000785", name="", paid=None),
    ]
    data = b"".join(write_camt054("FI2112345600000785", payments, entry_size=2))
    result = read_bank_file(data)
    assert result.format == "camt.054"
    assert essentials(result.payments) == essentials(payments)
    assert [p.source_line for p in result.payments][-1] == "Ntfctn[1]/Ntry[4]/NtryDtls/TxDtls[1]"
    assert data.count(b"<Ntry>") == 4  # two of 2, the correction alone, the last one
    assert b"<CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd>" in data
    assert b"<Issr>ISO</Issr></Tp><Ref>RF111232</Ref>" in data


def test_camt054_writer_refuses_what_it_cannot_write() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        list(write_camt054("FI2112345600000785", [payment(1, amount="0.00")]))
    undated = Payment(**{**vars_of(payment(1)), "booking_date": None})
    with pytest.raises(ValueError, match="has no booking date"):
        list(write_camt054("FI2112345600000785", [undated]))


# -- Nets OCR -----------------------------------------------------------------------------------


def test_nets_ocr_round_trip() -> None:
    payments = [
        payment(1, account="99991042764", reference="0000531", amount="1020.00"),
        payment(2, account="99991042764", reference="12345678905", message="Faktura 17"),
        payment(3, account="99991042764", reference="1234", correction=True, amount="3.00"),
    ]
    payments = [
        Payment(**{**vars_of(p), "currency": "NOK", "payer_name": "", "archive_id": f"00000000{i}"})
        for i, p in enumerate(payments, 1)
    ]
    data = write_nets_ocr([OcrAssignment("99991042764", payments)], dt.date(2026, 2, 2))
    assert all(len(line) == 80 for line in data.decode("latin-1").splitlines())
    read = read_payments(data)
    assert [p.archive_id for p in read] == [
        "000000001/0000001/0000001/0000001",
        "000000002/0000001/0000001/0000002",
        "000000003/0000001/0000001/0000003",
    ]
    assert [(p.reference, p.amount, p.is_correction, p.message) for p in read] == [
        ("0000531", Decimal("1020.00"), False, ""),
        ("12345678905", Decimal("25.00"), False, "Faktura 17"),
        ("1234", Decimal("3.00"), True, ""),
    ]
    assert {p.booking_date for p in read} == {dt.date(2026, 2, 2)}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reference": "RF111232"}, "KID 'RF111232' must be 1 to 25 digits"),
        ({"archive_id": "1234567890"}, "archive reference '1234567890' must be 1 to 9 digits"),
        ({"booking_date": None}, "has no booking"),
        ({"amount": Decimal("0.00")}, "must be positive"),
    ],
)
def test_nets_ocr_writer_refuses_what_it_cannot_write(change: dict, message: str) -> None:
    bad = Payment(**{**vars_of(payment(1, reference="1234")), "archive_id": "1", **change})
    with pytest.raises(ValueError, match=message):
        write_nets_ocr([OcrAssignment("99991042764", [bad])], dt.date(2026, 2, 2))
