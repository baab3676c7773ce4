# Copyright 2026 Nordic Billing contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""KTL "incoming reference payments" (viitesiirto) files: reader and writer.

The file is a sequence of batches, one per account: a batch record ``0``, payment records ``3``
(reference payment) or ``5`` (legacy direct debit, same layout), and a sum record ``9``. Records
are 90 ISO-8859-1 characters, ended by CR LF or LF.

The sum record carries a transaction count and total, a correction count and total, and the
count and total of failed direct debits (columns 36-52, blank in files that carry none). Bank
documentation is ambiguous on whether the transaction pair includes the correction records, so
the reader accepts either reading, but the numbers must agree with the records under one of
them; the correction pair and the failed direct-debit pair must always match exactly.
:func:`write_ktl` writes the transaction pair without the corrections.

A direct-debit record ``5`` with a return code in column 90 (anything but blank or ``0``) is a
debit the payer's bank refused: no money came in. It is reported as a :class:`FailedDebit`,
never as a payment, and is not part of the transaction pair of the sum record. A record with a
zero amount is refused: it is no payment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from nordic_billing.bankfiles.fixedwidth import (
    Field,
    Layout,
    check_encoding,
    digits,
    parse_date,
)
from nordic_billing.money import MoneyError, from_cents, to_cents
from nordic_billing.payment import BankFileError, FailedDebit, Payment

FORMAT = "ktl"
RECORD_LENGTH = 90

HEADER = Layout(
    "batch record",
    RECORD_LENGTH,
    (
        Field("record type", 1, 1, "0", "0"),
        digits("creation date", 2, 7),
        digits("creation time", 8, 11),
        Field("bank group", 12, 13),
        Field("service id", 14, 22),
        Field("currency code", 23, 23, "1", "1 (euro)"),
    ),
    FORMAT,
)
TRANSACTION = Layout(
    "payment record",
    RECORD_LENGTH,
    (
        Field("record type", 1, 1, "[35]", "3 or 5"),
        digits("account", 2, 15),
        digits("booking date", 16, 21),
        digits("payment date", 22, 27),
        Field("archive id", 28, 43),
        Field("reference", 44, 63),
        Field("payer name", 64, 75),
        Field("currency code", 76, 76, "1", "1 (euro)"),
        digits("amount", 78, 87),
        Field("correction flag", 88, 88, "[01]", "0 or 1"),
        Field("return code", 90, 90),
    ),
    FORMAT,
)
SUM = Layout(
    "sum record",
    RECORD_LENGTH,
    (
        Field("record type", 1, 1, "9", "9"),
        digits("transaction count", 2, 7),
        digits("transaction total", 8, 18),
        digits("correction count", 19, 24),
        digits("correction total", 25, 35),
        Field("failed direct debit count", 36, 41, "[0-9]{6}| {6}", "digits or blanks", True),
        Field("failed direct debit total", 42, 52, "[0-9]{11}| {11}", "digits or blanks", True),
    ),
    FORMAT,
)
_CACHE_SIZE = 4096


def _money(cents: int) -> str:
    return f"{from_cents(cents)}"


@dataclass
class _Batch:
    """Counts of one batch, checked against its sum record."""

    lineno: int
    count: int = 0
    total: int = 0
    corrections: int = 0
    correction_total: int = 0
    failed: int = 0
    failed_total: int = 0

    def check(self, fields: tuple[str, ...], lineno: int) -> None:
        """Raise unless the sum record ``fields`` agree with the records read."""
        count, total, corrections, correction_total = (int(value) for value in fields[1:5])
        failed, failed_total = (int(value.strip() or 0) for value in fields[5:7])
        where = f"sum record of the batch starting on line {self.lineno}"
        if failed != self.failed:
            raise SUM.error(
                f"{where} says {failed} failed direct debits, the batch has {self.failed}",
                lineno,
            )
        if failed_total != self.failed_total:
            raise SUM.error(
                f"{where} says failed direct debits total {_money(failed_total)}, the failed "
                f"direct-debit records add up to {_money(self.failed_total)}",
                lineno,
            )
        if corrections != self.corrections:
            raise SUM.error(
                f"{where} says {corrections} corrections, the batch has {self.corrections}",
                lineno,
            )
        if correction_total != self.correction_total:
            raise SUM.error(
                f"{where} says corrections total {_money(correction_total)}, "
                f"the correction records add up to {_money(self.correction_total)}",
                lineno,
            )
        plain = self.count - self.corrections, self.total - self.correction_total
        readings = {plain, (self.count, self.total)}
        if count not in {reading[0] for reading in readings}:
            failed_text = (
                f" (and {self.failed} failed direct debits, which are not payments)"
                if self.failed
                else ""
            )
            raise SUM.error(
                f"{where} says {count} transactions, the batch has {plain[0]} payments "
                f"and {self.corrections} corrections{failed_text}",
                lineno,
            )
        if (count, total) not in readings:
            raise SUM.error(
                f"{where} says transactions total {_money(total)}, the payment records add "
                f"up to {_money(plain[1])} (with corrections {_money(self.total)})",
                lineno,
            )


def iter_ktl(stream: BinaryIO) -> Iterator[Payment | FailedDebit]:
    """Yield the payments (and failed direct debits) of a KTL file as they are read.

    A :class:`BankFileError` can come after payments were yielded (a sum record at the end of a
    batch that does not match): see :func:`nordic_billing.bankfiles.iter_unchecked`.
    """
    batch: _Batch | None = None
    # The payment record is the hot path: counters in locals, dates and amounts memoised (a
    # bounded cache: fees repeat), regex inlined.
    count = total = corrections = correction_total = failed = failed_total = 0
    dates: dict[str, dt.date | None] = {"000000": None}
    amounts: dict[str, Decimal] = {}
    match_tx = TRANSACTION.regex.match
    for lineno, raw in enumerate(stream, 1):
        line = raw.rstrip(b"\r\n")
        if not line:
            continue
        text = line.decode("latin-1")
        kind = text[0]
        if kind in "35":
            if batch is None:
                raise TRANSACTION.error(
                    "payment record outside a batch (no batch record 0)", lineno
                )
            match = match_tx(text) if text.isprintable() else None
            fields = TRANSACTION.parse(text, line, lineno) if match is None else match.groups()
            _kind, account, booked_text, paid_text, archive_id, reference, name = fields[:7]
            amount_text, correction_flag, return_code = fields[8:11]
            amount = amounts.get(amount_text)
            if amount is None:
                cents = int(amount_text)
                if not cents:
                    raise TRANSACTION.error(
                        "amount is zero: a record without money is not a payment", lineno
                    )
                amount = from_cents(cents)
                if len(amounts) < _CACHE_SIZE:
                    amounts[amount_text] = amount
            booked = dates.get(booked_text)
            if booked is None:
                booked = dates[booked_text] = parse_date(
                    booked_text, "YYMMDD", "booking date", lineno, FORMAT
                )
            if paid_text in dates:
                paid = dates[paid_text]
            else:
                paid = dates[paid_text] = parse_date(
                    paid_text, "YYMMDD", "payment date", lineno, FORMAT
                )
            reference = reference.strip()
            if reference.isdigit():
                reference = reference.lstrip("0")
            if kind == "5" and return_code not in " 0":
                failed += 1
                failed_total += int(amount_text)
                yield FailedDebit(
                    account=account,
                    archive_id=archive_id.strip(),
                    reference=reference,
                    amount=amount,
                    currency="EUR",
                    payment_date=paid,
                    booking_date=booked,
                    payer_name=name.strip(),
                    return_code=return_code,
                    source_format=FORMAT,
                    source_line=f"line {lineno}",
                )
                continue
            count += 1
            total += int(amount_text)
            is_correction = correction_flag == "1"
            if is_correction:
                corrections += 1
                correction_total += int(amount_text)
            yield Payment(
                account=account,
                archive_id=archive_id.strip(),
                reference=reference,
                amount=amount,
                currency="EUR",
                payment_date=paid,
                booking_date=booked,
                payer_name=name.strip(),
                is_correction=is_correction,
                source_format=FORMAT,
                source_line=f"line {lineno}",
                reference_source="structured" if reference else "",
            )
        elif kind == "0":
            if batch is not None:
                raise HEADER.error(
                    f"batch record, but the batch starting on line {batch.lineno} "
                    "has no sum record",
                    lineno,
                )
            fields = HEADER.parse(text, line, lineno)
            parse_date(fields[1], "YYMMDD", "creation date", lineno, FORMAT)
            hour, minute = int(fields[2][:2]), int(fields[2][2:])
            if hour > 23 or minute > 59:
                raise HEADER.error(f"creation time {fields[2]!r} is not a valid HHMM", lineno)
            batch = _Batch(lineno)
            count = total = corrections = correction_total = failed = failed_total = 0
        elif kind == "9":
            if batch is None:
                raise SUM.error("sum record outside a batch (no batch record 0)", lineno)
            batch.count, batch.total = count, total
            batch.corrections, batch.correction_total = corrections, correction_total
            batch.failed, batch.failed_total = failed, failed_total
            batch.check(SUM.parse(text, line, lineno), lineno)
            batch = None
        else:
            check_encoding(text, line, lineno, FORMAT)
            raise TRANSACTION.error(
                f"unknown record type {kind!r} (expected 0 batch, 3 or 5 payment, 9 sum)", lineno
            )
    if batch is not None:
        raise BankFileError(
            f"the file ends inside the batch starting on line {batch.lineno}: no sum record 9",
            "end of file",
            FORMAT,
        )


@dataclass(frozen=True)
class KtlBatch:
    """One batch of a KTL file to write: the payments of one account.

    Each payment's ``account`` must be the 14-digit BBAN; its ``reference`` a Finnish national
    reference (digits). Payer names longer than the format's 12 characters are cut.
    ``failed_debits`` are written as direct-debit records ``5`` with their return code, after
    the payments.
    """

    payments: Iterable[Payment]
    created: dt.datetime
    service_id: str = "000000000"
    bank_group: str = "00"
    failed_debits: Iterable[FailedDebit] = ()


def _field(value: str, width: int, what: str, numeric: bool = False) -> str:
    if numeric:
        if not value.isdigit() or len(value) > width:
            raise ValueError(f"{what} {value!r} must be at most {width} digits")
        return value.zfill(width)
    if len(value) > width:
        raise ValueError(f"{what} {value!r} is longer than {width} characters")
    return value.ljust(width)


def _positive_cents(amount: Decimal) -> int:
    try:
        cents = to_cents(amount)
    except MoneyError:
        cents = 0
    if cents <= 0:
        raise ValueError(f"amount {amount} must be positive with at most 2 decimals")
    return cents


def _transaction_record(payment: Payment | FailedDebit) -> str:
    failed = isinstance(payment, FailedDebit)
    if failed and (len(payment.return_code) != 1 or payment.return_code in " 0"):
        raise ValueError(f"return code {payment.return_code!r} must be one character, not 0")
    if payment.currency != "EUR":
        raise ValueError(f"KTL carries euros only, not {payment.currency}")
    if payment.booking_date is None:
        raise ValueError(f"payment {payment.archive_id} has no booking date")
    paid = f"{payment.payment_date:%y%m%d}" if payment.payment_date else "000000"
    return (
        ("5" if failed else "3")
        + _field(payment.account, 14, "account", numeric=True)
        + f"{payment.booking_date:%y%m%d}"
        + paid
        + _field(payment.archive_id, 16, "archive id")
        + _field(payment.reference, 20, "reference", numeric=True)
        + payment.payer_name[:12].ljust(12)
        + "1"
        + "A"
        + _field(str(_positive_cents(payment.amount)), 10, "amount", numeric=True)
        + ("1" if not failed and payment.is_correction else "0")
        + "A"
        + (payment.return_code if failed else " ")
    )


def write_ktl(batches: Iterable[KtlBatch], newline: bytes = b"\r\n") -> bytes:
    """Write a KTL file with correct sum records; raises ValueError on data KTL cannot carry."""
    records = []
    for batch in batches:
        records.append(
            f"0{batch.created:%y%m%d%H%M}"
            + _field(batch.bank_group, 2, "bank group")
            + _field(batch.service_id, 9, "service id")
            + "1"
        )
        count = total = corrections = correction_total = 0
        for payment in batch.payments:
            records.append(_transaction_record(payment))
            cents = _positive_cents(payment.amount)
            if payment.is_correction:
                corrections += 1
                correction_total += cents
            else:
                count += 1
                total += cents
        failed = failed_total = 0
        for debit in batch.failed_debits:
            records.append(_transaction_record(debit))
            failed += 1
            failed_total += _positive_cents(debit.amount)
        if (
            max(count, corrections, failed) >= 10**6
            or max(total, correction_total, failed_total) >= 10**11
        ):
            raise ValueError(f"a batch of {count} payments ({_money(total)}) does not fit KTL")
        records.append(
            f"9{count:06d}{total:011d}{corrections:06d}{correction_total:011d}"
            f"{failed:06d}{failed_total:011d}"
        )
    if not records:
        raise ValueError("a KTL file needs at least one batch")
    text = "".join(record.ljust(RECORD_LENGTH) + "\n" for record in records)
    return text.encode("latin-1").replace(b"\n", newline)
